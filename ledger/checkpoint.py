"""Checkpoints (C2SP tlog-checkpoint) as Ed25519 signed notes (C2SP signed-note),
and proofs as text (C2SP tlog-proof, plus a small consistency-proof form).

Checkpoint body (the note text), every line ending in U+000A::

    <origin>                 non-empty
    <tree size>              ASCII decimal, no leading zeros ("0" for empty)
    <base64 root hash>       standard base64 of exactly 32 bytes
    [<extension line>...]    optional, each non-empty

Signed note: the body, one blank line, then one or more signature lines
``— <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>``
(em dash U+2014, space). The Ed25519 key id is the first 4 bytes of
``SHA-256(key name || 0x0A || 0x01 || public key)`` and the signature covers the
body bytes (UTF-8, final newline included). Verifier keys are written
``<name>+<hex8 key id>+<base64(0x01 || public key)>``. Signatures from keys the
verifier does not know are ignored; at least one valid signature from the
expected key is required and a failing one from that key rejects the note.

Inclusion proof text (C2SP tlog-proof v1)::

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]     optional, not authenticated
    index <N>                        decimal, no leading zeros
    <base64 hash>                    zero or more, leaf sibling first
    <blank line>
    <signed checkpoint, verbatim>

Consistency proof text (this project's own form, no signature: it is checked
against two checkpoints that are)::

    policy-ledger/consistency-proof@v1
    size1 <N>
    size2 <M>
    <base64 hash>                    zero or more, in RFC 9162 PROOF order

Every failure raises :class:`CheckpointError` with a message saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.crypto import CryptoError, sha256, sign_raw, signing_public_key, verify_raw

ED25519_TYPE = b"\x01"
KEY_ID_SIZE = 4
PUBLIC_KEY_SIZE = 32
PRIVATE_KEY_SIZE = 32
SIGNATURE_SIZE = 64
HASH_SIZE = 32
MAX_SIGNATURES = 64
MAX_SIZE = 2**64 - 1
MAX_PROOF_HASHES = 128
SIGNATURE_PREFIX = "\u2014 "
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
#: This ledger's extension lines: when the checkpoint was signed (ISO UTC, never
#: earlier than the one before), and the digest of the key and role registry
#: replayed from the entries it covers.
TIME_EXTENSION = "policy-ledger/time"
REGISTRY_EXTENSION = "policy-ledger/registry"
CONSISTENCY_HEADER = "policy-ledger/consistency-proof@v1"

_DECIMAL = re.compile(r"(0|[1-9][0-9]*)")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")

NoteSignature = tuple[str, bytes, bytes]


class CheckpointError(Exception):
    """A checkpoint, signed note, verifier key or proof text is malformed or fails to verify."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and RFC 9162 root hash.

    ``extensions`` holds optional extension lines (not recommended by the spec;
    kept so that a parsed checkpoint re-serialises to the signed bytes).
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"tree size must be an integer in [0, 2^64), got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        for line in self.extensions:
            _check_line("extension line", line)

    def extension(self, name: str) -> str | None:
        """The value of extension line ``<name> <value>``, if the checkpoint has one."""
        prefix = name + " "
        for line in self.extensions:
            if line.startswith(prefix):
                return line[len(prefix):]
        return None

    @property
    def time(self) -> str | None:
        """When the ledger signed it (this project's ``policy-ledger/time`` line)."""
        return self.extension(TIME_EXTENSION)

    @property
    def registry(self) -> str | None:
        """The registry digest it commits to (``policy-ledger/registry`` line)."""
        return self.extension(REGISTRY_EXTENSION)

    def body(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` plus any extension lines."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


# -- keys ----------------------------------------------------------------------


#: The kinds of Ed25519 key a verifier key string can carry, by its type byte.
KEY_KINDS = {b"\x01": "signed-note key (type 0x01)", b"\x04": "cosigner key (type 0x04)"}


def key_id(name: str, public_key: bytes, key_type: bytes = ED25519_TYPE) -> bytes:
    """The 4-byte key id of an Ed25519 key: SHA-256(name || 0x0A || type || key)[:4]."""
    _check_key_name(name)
    _check_public_key(public_key)
    return sha256(name.encode("utf-8") + b"\n" + key_type + public_key)[:KEY_ID_SIZE]


def verifier_key(name: str, public_key: bytes, key_type: bytes = ED25519_TYPE) -> str:
    """The C2SP verifier key string ``<name>+<hex8 key id>+<base64(type || key)>``."""
    return f"{name}+{key_id(name, public_key, key_type).hex()}+{_b64(key_type + public_key)}"


def parse_verifier_key(text: str, key_type: bytes = ED25519_TYPE) -> tuple[str, bytes]:
    """Parse a verifier key string of ``key_type`` into ``(name, public_key)``; the key id must match."""
    if not isinstance(text, str):
        raise CheckpointError("verifier key must be a string")
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("verifier key must be <name>+<hex key id>+<base64 key>")
    name, hex_id, encoded = parts
    _check_key_name(name)
    if not _HEX8.fullmatch(hex_id):
        raise CheckpointError("verifier key id must be 8 hexadecimal digits")
    raw = _unb64(encoded, "verifier key")
    wanted = KEY_KINDS[key_type]
    if raw[:1] != key_type and raw[:1] in KEY_KINDS:
        raise CheckpointError(f"{name!r} is a {KEY_KINDS[raw[:1]]}, not a {wanted}")
    if len(raw) != 1 + PUBLIC_KEY_SIZE or raw[:1] != key_type:
        raise CheckpointError(f"verifier key is not a {wanted} followed by a 32-byte Ed25519 key")
    public_key = raw[1:]
    if key_id(name, public_key, key_type) != bytes.fromhex(hex_id):
        raise CheckpointError("verifier key id does not match its name and public key")
    return name, public_key


# -- signed notes ------------------------------------------------------------------


def sign_checkpoint(cp: Checkpoint, name: str, private_key: bytes) -> str:
    """Sign ``cp`` as a signed note with the Ed25519 ``private_key`` under key ``name``."""
    return sign_note(cp.body(), name, private_key)


def sign_note(text: str, name: str, private_key: bytes) -> str:
    """Sign any note ``text`` (non-empty, ending in a newline) with one Ed25519 key."""
    if not isinstance(text, str) or not text.endswith("\n") or text == "\n":
        raise CheckpointError("note text must be non-empty and end with a newline")
    _check_note_characters(text)
    if not isinstance(private_key, bytes) or len(private_key) != PRIVATE_KEY_SIZE:
        raise CheckpointError("Ed25519 private key must be 32 raw bytes")
    public_key = signing_public_key(private_key)
    signature = sign_raw(private_key, text.encode("utf-8"))
    return text + "\n" + _signature_line(name, key_id(name, public_key), signature)


def parse_signed_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and ``(key name, key id, signature)`` lines.

    Checks the structure only; no signature is verified here.
    """
    _check_note_characters(text)
    separator = text.rfind("\n\n")
    if separator < 0:
        raise CheckpointError("signed note has no blank line before its signatures")
    body, block = text[: separator + 1], text[separator + 2 :]
    if body == "\n":
        raise CheckpointError("signed note text is empty")
    if not block:
        raise CheckpointError("signed note has no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    return body, [_parse_signature_line(line) for line in lines]


def open_checkpoint(text: str, name: str, public_key: bytes, expected_origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint against one trusted key and parse its body strictly.

    Requires at least one valid signature by (``name``, ``public_key``); any
    signature by that key that fails rejects the note; other keys' signatures
    are ignored. With ``expected_origin``, the origin line must equal it.
    """
    cp = parse_checkpoint_body(verify_note(text, name, public_key))
    if expected_origin is not None and cp.origin != expected_origin:
        raise CheckpointError(f"checkpoint origin {cp.origin!r} is not the expected {expected_origin!r}")
    return cp


def verify_note(text: str, name: str, public_key: bytes) -> str:
    """Verify a signed note against one trusted Ed25519 key and return its text.

    Signatures whose (key name, key id) is not this key's are ignored; at least
    one must be this key's, and every one of this key's must verify.
    """
    wanted = key_id(name, public_key)
    body, signatures = parse_signed_note(text)
    mine = [sig for sig_name, sig_id, sig in signatures if sig_name == name and sig_id == wanted]
    if not mine:
        raise CheckpointError(f"note has no signature by key {name!r} ({wanted.hex()})")
    for signature in mine:
        _verify_signature(public_key, body, signature, name)
    return body


def parse_checkpoint_body(body: str) -> Checkpoint:
    """Parse a checkpoint note text strictly (does not verify any signature)."""
    if not isinstance(body, str) or not body.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint text needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if any(not line for line in lines):
        raise CheckpointError("checkpoint text must not contain empty lines")
    size = _parse_decimal(size_text, "tree size")
    root = _unb64(root_text, "root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash must decode to {HASH_SIZE} bytes, got {len(root)}")
    return Checkpoint(origin, size, root, tuple(extensions))


# -- proof texts ----------------------------------------------------------------------


def format_inclusion_proof(
    index: int, proof_hashes: Sequence[bytes], signed_checkpoint_text: str, extra: bytes | None = None
) -> str:
    """A C2SP tlog-proof v1 text: index, inclusion hashes and the signed checkpoint."""
    _check_count("index", index)
    _check_signed_checkpoint(signed_checkpoint_text)
    lines = [PROOF_HEADER]
    if extra is not None:
        if not isinstance(extra, bytes):
            raise CheckpointError("extra data must be bytes")
        lines.append("extra " + _b64(extra))
    lines.append(f"index {index}")
    lines.extend(_format_hashes(proof_hashes))
    return "".join(line + "\n" for line in lines) + "\n" + signed_checkpoint_text


def parse_inclusion_proof(text: str) -> tuple[int, list[bytes], str]:
    """Parse a tlog-proof text into ``(index, hashes, signed checkpoint text)``.

    The optional ``extra`` line is validated and dropped; use
    :func:`parse_inclusion_proof_extra` to read it. The checkpoint's structure
    is checked but its signatures are not: pass it to :func:`open_checkpoint`.
    """
    index, hashes, signed, _ = parse_inclusion_proof_extra(text)
    return index, hashes, signed


def parse_inclusion_proof_extra(text: str) -> tuple[int, list[bytes], str, bytes | None]:
    """Like :func:`parse_inclusion_proof` but also returns the unauthenticated extra data."""
    if not isinstance(text, str):
        raise CheckpointError("proof must be text")
    head, separator, signed = text.partition("\n\n")
    if not separator:
        raise CheckpointError("proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise CheckpointError(f"proof must start with {PROOF_HEADER!r}")
    rest = lines[1:]
    extra: bytes | None = None
    if rest and rest[0].startswith("extra "):
        extra = _unb64(rest.pop(0)[len("extra ") :], "extra data")
    if not rest or not rest[0].startswith("index "):
        raise CheckpointError("proof is missing its 'index N' line")
    index = _parse_decimal(rest[0][len("index ") :], "index")
    hashes = _parse_hashes(rest[1:])
    _check_signed_checkpoint(signed)
    return index, hashes, signed, extra


def format_consistency_proof(size1: int, size2: int, hashes: Sequence[bytes]) -> str:
    """The consistency proof text form documented in this module's docstring."""
    _check_count("size1", size1)
    _check_count("size2", size2)
    if size1 > size2:
        raise CheckpointError(f"size1 {size1} is greater than size2 {size2}")
    lines = [CONSISTENCY_HEADER, f"size1 {size1}", f"size2 {size2}", *_format_hashes(hashes)]
    return "".join(line + "\n" for line in lines)


def parse_consistency_proof(text: str) -> tuple[int, int, list[bytes]]:
    """Parse a consistency proof text into ``(size1, size2, hashes)``."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("consistency proof must be text ending with a newline")
    lines = text[:-1].split("\n")
    if lines[0] != CONSISTENCY_HEADER:
        raise CheckpointError(f"consistency proof must start with {CONSISTENCY_HEADER!r}")
    if len(lines) < 3 or not lines[1].startswith("size1 ") or not lines[2].startswith("size2 "):
        raise CheckpointError("consistency proof needs 'size1 N' and 'size2 M' lines")
    size1 = _parse_decimal(lines[1][len("size1 ") :], "size1")
    size2 = _parse_decimal(lines[2][len("size2 ") :], "size2")
    if size1 > size2:
        raise CheckpointError(f"size1 {size1} is greater than size2 {size2}")
    return size1, size2, _parse_hashes(lines[3:])


# -- helpers ----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 (padding required, no stray characters)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64") from exc
    if _b64(raw) != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _parse_decimal(text: str, what: str) -> int:
    if len(text) > 20:  # 2^64 - 1 has 20 digits; longer text would also trip Python's int() limit
        raise CheckpointError(f"{what} is larger than 2^64 - 1")
    if not _DECIMAL.fullmatch(text):
        raise CheckpointError(f"{what} must be decimal digits without leading zeros, got {text!r}")
    value = int(text)
    if value > MAX_SIZE:
        raise CheckpointError(f"{what} is larger than 2^64 - 1")
    return value


def _check_count(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SIZE:
        raise CheckpointError(f"{what} must be an integer in [0, 2^64), got {value!r}")


def _check_line(what: str, line: str) -> None:
    if not isinstance(line, str) or not line:
        raise CheckpointError(f"{what} must be a non-empty string")
    if "\n" in line or _CONTROL.search(line):
        raise CheckpointError(f"{what} must not contain newlines or control characters")


def _check_key_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError("key name must be a non-empty string")
    if "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise CheckpointError(f"key name {name!r} must not contain spaces, '+' or control characters")


def _check_public_key(public_key: bytes) -> None:
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_SIZE:
        raise CheckpointError(f"Ed25519 public key must be {PUBLIC_KEY_SIZE} bytes")


def _check_note_characters(text: str) -> None:
    if not isinstance(text, str):
        raise CheckpointError("signed note must be text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError("signed note is not valid UTF-8") from exc
    if _CONTROL.search(text):
        raise CheckpointError("signed note contains control characters")
    if not text.endswith("\n"):
        raise CheckpointError("signed note must end with a newline")


def _check_signed_checkpoint(text: str) -> None:
    """Structure of a signed checkpoint: a signed note whose text is a checkpoint."""
    body, _ = parse_signed_note(text)
    parse_checkpoint_body(body)


def _signature_line(name: str, kid: bytes, signature: bytes) -> str:
    _check_key_name(name)
    return f"{SIGNATURE_PREFIX}{name} {_b64(kid + signature)}\n"


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointError("signature line must start with an em dash and a space")
    parts = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise CheckpointError("signature line must be '— <key name> <base64 signature>'")
    name, encoded = parts
    _check_key_name(name)
    raw = _unb64(encoded, "signature")
    if len(raw) <= KEY_ID_SIZE:
        raise CheckpointError("signature is too short to hold a key id and a signature")
    return name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:]


def _verify_signature(public_key: bytes, body: str, signature: bytes, name: str) -> None:
    if len(signature) != SIGNATURE_SIZE:
        raise CheckpointError(f"signature by {name!r} is not a {SIGNATURE_SIZE}-byte Ed25519 signature")
    try:
        verify_raw(public_key, body.encode("utf-8"), signature)
    except CryptoError as exc:
        raise CheckpointError(f"signature by {name!r} does not verify") from exc


def _format_hashes(hashes: Sequence[bytes]) -> list[str]:
    if len(hashes) > MAX_PROOF_HASHES:
        raise CheckpointError(f"proof has more than {MAX_PROOF_HASHES} hashes")
    for item in hashes:
        if not isinstance(item, bytes) or len(item) != HASH_SIZE:
            raise CheckpointError(f"proof hashes must be {HASH_SIZE} bytes")
    return [_b64(item) for item in hashes]


def _parse_hashes(lines: Sequence[str]) -> list[bytes]:
    if len(lines) > MAX_PROOF_HASHES:
        raise CheckpointError(f"proof has more than {MAX_PROOF_HASHES} hashes")
    hashes = []
    for position, line in enumerate(lines):
        item = _unb64(line, f"proof hash {position}")
        if len(item) != HASH_SIZE:
            raise CheckpointError(f"proof hash {position} is not {HASH_SIZE} bytes")
        hashes.append(item)
    return hashes


# -- shared with the cosignature formats (ledger.witness), which reuse this grammar ------------

signature_line = _signature_line
parse_signature_line = _parse_signature_line
check_signed_checkpoint = _check_signed_checkpoint
format_hashes = _format_hashes
parse_hashes = _parse_hashes
check_key_name = _check_key_name
check_count = _check_count
decode_base64 = _unb64
