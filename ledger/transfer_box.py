#!/usr/bin/env python3
"""Open a child protection file another school's policy-ledger sent, and sign a receipt for it.

Needs only Python 3.9+ and ``cryptography``, with ``verify_bundle.py`` beside this file (both are
in policy-ledger's scripts/ folder; the sending school can give them to you). No policy-ledger.

    python3 transfer_box.py keygen --out DIR --school "Elm Academy" --name "Dee Lead"
        makes the receiving DSL's key pair: DIR/transfer-key.json (private, locked with a
        passphrase) and DIR/transfer-key.pub.json (give this to the sending school; read its
        fingerprint to them by phone).
    python3 transfer_box.py open FILE.transfer --key DIR/transfer-key.json --out BUNDLE.zip \\
        --receipt RECEIPT.json [--passphrase-from-phone] [--trust trust.json]
    python3 transfer_box.py open FILE.transfer --passphrase-from-phone --school "Elm Academy" \\
        --name "Dee Lead" --out BUNDLE.zip --receipt RECEIPT.json
        decrypts FILE (with your key, or the passphrase the sending DSL gave you by phone), checks
        the evidence bundle inside exactly as verify_bundle.py does, checks the sending ledger's
        signature on the file, writes the bundle and, only when every check passed, a receipt
        signed with your key for the sending school to record. Exit 0 when it verifies, 1 when a
        check fails (nothing but the report is written), 2 when the file cannot be opened.
        With no key of your own (a file sealed with a passphrase), give --school and --name: the
        receipt is signed with a one-off key made for it and then forgotten. That key proves
        nothing about who you are; what binds the receipt is its proof of opening (only someone
        who had the passphrase can make it) and the school it names, which the sending ledger
        checks against the school the pupil left for.

Passphrases are read from LEDGER_TRANSFER_PASSPHRASE (your key file's) and
LEDGER_TRANSFER_PHONE_PASSPHRASE (the one given by phone), else asked for without echo.

Formats. A sealed file is ``PLT1 || u32be(len) || header || signature(64) || nonce(12) || ct``:
``header`` is canonical JSON naming the transfer, the sending ledger, the SHA-256 of the bundle
inside and how its content key is wrapped (X25519 + HKDF-SHA256 + AES-256-GCM to the receiver's
key, or scrypt from a passphrase); ``signature`` is Ed25519 by the sending ledger's key over
``policy-ledger/transfer-header/v1 0x00 || header``; ``ct`` is the bundle zip under AES-256-GCM
with the content key, associated data ``policy-ledger/transfer-body/v1 0x00 || header``. A
receipt is ``{"receipt": TEXT, "signature": HEX}``: TEXT is canonical JSON (transfer, both
hashes, receiver, their Ed25519 key, when received, what verified, and ``opened``: SHA-256 of
``policy-ledger/transfer-opened/v1 0x00 || content key``, which only someone who opened the file
can compute), signed with the receiver's key over ``policy-ledger/transfer-receipt/v1 0x00 || TEXT``.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

try:  # inside policy-ledger
    from ledger import verify_bundle as checker
except ImportError:  # pragma: no cover - standalone, beside verify_bundle.py
    import verify_bundle as checker  # type: ignore[no-redef]

MAGIC = b"PLT1"
SEALED_FORMAT = "policy-ledger/child-file-transfer/v1"
KEY_FORMAT = "policy-ledger/transfer-key/v1"
PUBLIC_FORMAT = "policy-ledger/transfer-public-key/v1"
RECEIPT_FORMAT = "policy-ledger/transfer-receipt/v1"
#: scrypt cost for a new key file or a passphrase transfer (OWASP's floor: 128 MiB).
SCRYPT_N = 2**17
SCRYPT_N_ACCEPTED = frozenset(2**e for e in range(10, 21))
MAX_SEALED_BYTES = checker.MAX_TOTAL_BYTES + 1024 * 1024
MAX_SMALL_FILE = 1024 * 1024


class Unopenable(Exception):
    """The file cannot be opened (not a sealed transfer, wrong key or passphrase, damaged)."""


def label(domain: str) -> bytes:
    """The domain separation prefix policy-ledger uses: ``policy-ledger/DOMAIN 0x00``."""
    return b"policy-ledger/" + domain.encode("ascii") + b"\x00"


def canonical(document: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _grouped(digest: str) -> str:
    return ":".join(digest[i:i + 4] for i in range(0, 20, 4))


def fingerprint(public_key_hex: str) -> str:
    """A short, readable name for a receiving DSL's public key, to read out by phone."""
    return _grouped(sha256_hex(bytes.fromhex(public_key_hex)))


def ledger_fingerprint(public_key_hex: str) -> str:
    """The sending ledger's key, to read out by phone: the first 20 hex digits of the SHA-256 of the
    key in DER, the fingerprint the verifier prints in full (and `openssl pkey -pubin -outform DER |
    sha256sum` gives), in the same groups of four as :func:`fingerprint`."""
    der = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _grouped(sha256_hex(der))


def opened_proof(content_key: bytes) -> str:
    """What a receipt shows to prove its signer opened the file."""
    return sha256_hex(label("transfer-opened/v1") + content_key)


def opened_commitment(content_key: bytes) -> str:
    """What the sending ledger records (in clear) to check a receipt's ``opened`` against."""
    return sha256_hex(bytes.fromhex(opened_proof(content_key)))


# -- key wrapping (the same construction as policy-ledger's key wraps) ---------------------------


def wrap_context(transfer_id: str, bundle_sha256: str) -> bytes:
    return f"transfer:{transfer_id}:{bundle_sha256}".encode("ascii")


def _kek(shared: bytes, ephemeral_public: bytes, recipient: bytes, context: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient,
                info=label("wrap") + context).derive(shared)


def unwrap_x25519(private: bytes, sealed: bytes, context: bytes) -> bytes:
    if len(sealed) < 32 + 12 + 16:
        raise Unopenable("the wrapped key is truncated")
    key = X25519PrivateKey.from_private_bytes(private)
    mine = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        shared = key.exchange(X25519PublicKey.from_public_bytes(sealed[:32]))
        return AESGCM(_kek(shared, sealed[:32], mine, context)).decrypt(sealed[32:44], sealed[44:], context)
    except (InvalidTag, ValueError):
        raise Unopenable("this key cannot open the file: it was sealed to another key") from None


def scrypt_key(passphrase: str, salt: bytes, n: int) -> bytes:
    if n not in SCRYPT_N_ACCEPTED or len(salt) != 16:
        raise Unopenable("the key derivation cost or salt is out of range (damaged file?)")
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


def lock(passphrase: str, secret: bytes, context: bytes, n: int | None = None) -> dict[str, Any]:
    """``secret`` encrypted under a key derived from ``passphrase`` (scrypt, AES-256-GCM)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    cost = n or SCRYPT_N
    sealed = AESGCM(scrypt_key(passphrase, salt, cost)).encrypt(nonce, secret, context)
    return {"kdf": "scrypt", "n": cost, "salt": salt.hex(), "sealed": (nonce + sealed).hex()}


def unlock(passphrase: str, locked: dict[str, Any], context: bytes) -> bytes:
    try:
        salt, sealed, n = bytes.fromhex(locked["salt"]), bytes.fromhex(locked["sealed"]), int(locked["n"])
    except (KeyError, TypeError, ValueError):
        raise Unopenable("the passphrase lock is damaged") from None
    try:
        return AESGCM(scrypt_key(passphrase, salt, n)).decrypt(sealed[:12], sealed[12:], context)
    except (InvalidTag, ValueError):
        raise Unopenable("wrong passphrase (or the file was altered)") from None


# -- the receiving DSL's key pair -------------------------------------------------------------


@dataclass(frozen=True)
class ReceiverKey:
    """The receiving DSL's keys: X25519 to open files, Ed25519 to sign receipts."""

    school: str
    name: str
    agreement_private: bytes
    signing_private: bytes

    @property
    def agreement_public(self) -> str:
        return X25519PrivateKey.from_private_bytes(self.agreement_private).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    @property
    def signing_public(self) -> str:
        return Ed25519PrivateKey.from_private_bytes(self.signing_private).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    def public_document(self) -> dict[str, str]:
        return {"format": PUBLIC_FORMAT, "school": self.school, "name": self.name,
                "agreement_key": self.agreement_public, "signing_key": self.signing_public}


def _raw(key: Any) -> bytes:
    return bytes(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption()))


def new_receiver_key(school: str, name: str) -> ReceiverKey:
    return ReceiverKey(school, name, _raw(X25519PrivateKey.generate()), _raw(Ed25519PrivateKey.generate()))


def _write_new(path: Path, data: bytes) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)


def keygen(folder: Path, school: str, name: str, passphrase: str) -> tuple[Path, Path]:
    """Write a new key pair into ``folder`` (refusing to replace one): (private file, public file)."""
    if not school.strip() or not name.strip():
        raise ValueError("give the school's name and the DSL's name")
    if len(passphrase) < 8:
        raise ValueError("choose a passphrase of at least 8 characters for the key file")
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "transfer-key.json", folder / "transfer-key.pub.json"
    for path in (private, public):
        if path.exists():
            raise ValueError(f"{path} already exists: keep it, or move it away first")
    key = new_receiver_key(school.strip(), name.strip())
    locked = lock(passphrase, key.agreement_private + key.signing_private, KEY_FORMAT.encode())
    _write_new(private, canonical({**key.public_document(), "format": KEY_FORMAT, "locked": locked}) + b"\n")
    _write_new(public, canonical(key.public_document()) + b"\n")
    return private, public


def _small_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SMALL_FILE + 1)
        document = checker.strict_json(data) if len(data) <= MAX_SMALL_FILE else None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise Unopenable(f"cannot read {what} {path}: {exc}") from None
    if not isinstance(document, dict):
        raise Unopenable(f"{path} is not {what}")
    return document


def load_receiver_key(path: Path, passphrase: str) -> ReceiverKey:
    document = _small_json(path, "a transfer key file")
    if document.get("format") != KEY_FORMAT:
        raise Unopenable(f"{path} is not a private transfer key file (made by `keygen`)")
    secret = unlock(passphrase, document.get("locked") or {}, KEY_FORMAT.encode())
    key = ReceiverKey(str(document.get("school")), str(document.get("name")), secret[:32], secret[32:64])
    if (key.agreement_public, key.signing_public) != (document.get("agreement_key"), document.get("signing_key")):
        raise Unopenable(f"{path} is damaged: its public keys are not its private keys'")
    return key


def load_public_key(path: Path) -> dict[str, str]:
    """A receiving DSL's public key file, checked for shape."""
    document = _small_json(path, "a transfer public key file")
    if document.get("format") != PUBLIC_FORMAT:
        raise Unopenable(f"{path} is not a transfer public key file (`transfer-key.pub.json` from keygen)")
    for name in ("agreement_key", "signing_key"):
        value = str(document.get(name) or "")
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise Unopenable(f"{path}: its {name} is not a 32-byte key in hex")
    try:
        X25519PublicKey.from_public_bytes(bytes.fromhex(document["agreement_key"]))
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(document["signing_key"]))
    except ValueError:
        raise Unopenable(f"{path}: not valid public keys") from None
    return {k: str(document.get(k) or "") for k in ("school", "name", "agreement_key", "signing_key")}


# -- sealed files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A sealed transfer file, parsed (nothing checked yet)."""

    header_bytes: bytes
    header: dict[str, Any]
    signature: bytes
    body: bytes
    sha256: str


def pack(header: dict[str, Any], signature: bytes, body: bytes) -> bytes:
    encoded = canonical(header)
    return MAGIC + struct.pack(">I", len(encoded)) + encoded + signature + body


def parse(data: bytes) -> Sealed:
    if len(data) < 8 or data[:4] != MAGIC:
        raise Unopenable("not a sealed child protection file (bad magic)")
    end = 8 + struct.unpack(">I", data[4:8])[0]
    if len(data) < end + 64 + 12 + 16:
        raise Unopenable("the sealed file is truncated")
    try:
        header = checker.strict_json(data[8:end])
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unopenable(f"the sealed file's header is malformed: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != SEALED_FORMAT:
        raise Unopenable("not a sealed child protection file (unknown format)")
    return Sealed(data[8:end], header, data[end:end + 64], data[end + 64:], sha256_hex(data))


def read_sealed(path: Path) -> Sealed:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SEALED_BYTES + 1)
    except OSError as exc:
        raise Unopenable(f"cannot read {path}: {exc}") from None
    if len(data) > MAX_SEALED_BYTES:
        raise Unopenable(f"{path} is larger than any bundle may be")
    return parse(data)


def content_key(sealed: Sealed, key: ReceiverKey | None = None, passphrase: str | None = None) -> bytes:
    """The key that opens ``sealed``: with the receiver's key, or the passphrase given by phone."""
    header = sealed.header
    try:
        context = wrap_context(str(header["transfer_id"]), str(header["bundle_sha256"]))
        method = header["method"]
        if method == "x25519":
            if key is None:
                raise Unopenable("this file was sealed to the receiving DSL's key: give --key")
            if header["recipient"]["agreement_key"] != key.agreement_public:
                raise Unopenable("this file was sealed to another key than yours (fingerprint "
                                 f"{fingerprint(str(header['recipient']['agreement_key']))})")
            return unwrap_x25519(key.agreement_private, bytes.fromhex(header["wrapped_key"]), context)
        if method == "passphrase":
            if passphrase is None:
                raise Unopenable("this file was sealed with a passphrase: give --passphrase-from-phone")
            return unlock(passphrase, header["wrapped_key"], context)
    except (KeyError, TypeError, ValueError, UnicodeEncodeError):
        raise Unopenable("the sealed file's header is malformed") from None
    raise Unopenable(f"unknown sealing method {method!r}")


def decrypt(sealed: Sealed, key: bytes) -> bytes:
    body = sealed.body
    try:
        return AESGCM(key).decrypt(body[:12], body[12:], label("transfer-body/v1") + sealed.header_bytes)
    except (InvalidTag, ValueError):
        raise Unopenable("the sealed file was altered: its contents do not decrypt") from None


def seal(header: dict[str, Any], bundle: bytes, key: bytes, sign: Any) -> bytes:
    """A sealed file: ``sign(header_bytes)`` is the sending ledger's signature."""
    encoded = canonical(header)
    nonce = os.urandom(12)
    body = nonce + AESGCM(key).encrypt(nonce, bundle, label("transfer-body/v1") + encoded)
    return pack(header, sign(encoded), body)


# -- who the file is about ---------------------------------------------------------------------

INTRODUCED = "ChildFileTransfer.ChildIntroduced"


def _named(person: dict[str, Any]) -> str:
    roles = ", ".join(str(r) for r in person.get("roles") or [])
    who = str(person.get("name") or "") or str(person.get("id") or "someone")
    return f"{who} ({roles})" if roles else who


def introduction(child: dict[str, Any], from_schools: list[str], sender: dict[str, Any],
                 authors: list[dict[str, Any]]) -> str:
    """How a file names its child and authors: ``the child protection file of Jo Evans (born …), …``."""
    name = str(child.get("name") or child.get("id") or "an unnamed child")
    born = f" (born {child['date_of_birth']})" if child.get("date_of_birth") else ""
    school = child.get("school") or ", ".join(str(s) for s in from_schools)
    formerly = f", formerly of {school}" if school else ""
    wrote = "; ".join(_named(a) for a in authors) or "nobody named"
    return f"the child protection file of {name}{born}{formerly}; sent by {_named(sender)}; written by {wrote}"


def _about(files: dict[str, bytes], transfer_id: str) -> dict[str, Any]:
    """The last signed introduction of this transfer in a checked bundle (its plaintext, which the
    verifier checked against the signed entry), or nothing."""
    found: dict[str, Any] = {}
    for row in checker.load_json(files, "entries/index.json")["entries"]:
        if row.get("event") == INTRODUCED and row.get("plaintext") in files:
            body = checker.strict_json(files[str(row["plaintext"])])
            if isinstance(body, dict) and body.get("transfer_id", transfer_id) == transfer_id:
                found = body
    return found


# -- opening and checking ----------------------------------------------------------------------


@dataclass
class Opened:
    """A sealed file opened and checked: the bundle, the verifier's report, the transfer checks."""

    sealed: Sealed
    key: bytes
    bundle: bytes
    report: Any
    checks: list[str] = field(default_factory=list)
    trust: dict[str, Any] = field(default_factory=dict)
    entries: int = 0
    #: Who the file is about and who wrote it, from the signed introduction inside (only when it verified).
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.report.ok)

    @property
    def fingerprint(self) -> str:
        try:
            return ledger_fingerprint(str(self.trust.get("ledger_public_key")))
        except ValueError:
            return "unknown (no ledger key in the trust file)"


def check(sealed: Sealed, key: bytes, trust_file: Path | None = None, wording: Any = None) -> Opened:
    """Decrypt, then verify exactly as an export bundle, then check the sending ledger signed the
    header and that the header names this bundle and this ledger."""
    bundle = decrypt(sealed, key)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.zip"
        path.write_bytes(bundle)
        try:
            report = checker.verify(path, trust_file, wording=wording)
            files = checker.read_bundle(path)
        except checker.Unreadable as exc:
            raise Unopenable(f"the bundle inside is unreadable: {exc}") from None
    report.source = f"{sealed.header.get('transfer_id')} (sealed file sha256 {sealed.sha256[:16]}…)"
    opened = Opened(sealed, key, bundle, report)
    c = report.check("the sealed file is the sending ledger's, and names this bundle")
    try:
        trust = checker.strict_json(checker._read_trust(trust_file) if trust_file else files["trust.json"])
        opened.trust = trust
        opened.entries = len(checker.load_json(files, "entries/index.json")["entries"])
        public = bytes.fromhex(str(trust["ledger_public_key"]))
        header = sealed.header
        if not checker.ed25519_ok(public, label("transfer-header/v1") + sealed.header_bytes, sealed.signature):
            c.fail("the sealed file's header is not signed by the sending ledger's key")
        elif header.get("bundle_sha256") != sha256_hex(bundle):
            c.fail("the header names another bundle than the one inside")
        elif header.get("from_ledger") != trust.get("ledger_id"):
            c.fail("the header names another ledger than the bundle's")
        else:
            c.done += 1
    except (OSError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        c.fail(f"cannot check the header: {type(exc).__name__}: {exc}")
    opened.checks = [x.title for x in report.checks if x.done and not x.problems]
    if opened.ok:
        try:
            opened.about = _about(files, str(sealed.header.get("transfer_id")))
        except (KeyError, TypeError, ValueError, UnicodeDecodeError):
            opened.about = {}
    return opened


def introduced(opened: Opened) -> str:
    """What a checked file says it is (nothing for a file that did not verify or names no one)."""
    about = opened.about if opened.ok else {}
    if not about.get("child"):
        return ""
    return introduction(about["child"], list(about.get("from_schools") or []), dict(about.get("sender") or {}),
                        list(about.get("authors") or []))


def receipt(opened: Opened, key: ReceiverKey, received_at: datetime) -> bytes:
    """A signed receipt for a file that opened and verified."""
    if not opened.ok:
        raise ValueError("a receipt is only written for a file that verified")
    if received_at.tzinfo is None:
        raise ValueError("the time received must carry its zone")
    header = opened.sealed.header
    body = {
        "format": RECEIPT_FORMAT, "transfer_id": header["transfer_id"], "from_ledger": header["from_ledger"],
        "bundle_sha256": header["bundle_sha256"], "sealed_sha256": opened.sealed.sha256,
        "receiver": key.name, "receiver_school": key.school, "receiver_key": key.signing_public,
        "received_at": received_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "verified": opened.checks, "entries": opened.entries, "opened": opened_proof(opened.key),
    }
    text = canonical(body).decode("utf-8")
    signature = Ed25519PrivateKey.from_private_bytes(key.signing_private).sign(
        label("transfer-receipt/v1") + text.encode("utf-8"))
    return canonical({"receipt": text, "signature": signature.hex()}) + b"\n"


# -- command line ------------------------------------------------------------------------------


def _passphrase(variable: str, prompt: str, confirm: bool = False) -> str:
    """From ``variable``, else asked for without echo (twice for a new one)."""
    value = os.environ.get(variable)
    if value is not None:
        return value
    try:
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again, to confirm: ") != value:
            raise ValueError("the two passphrases do not match: nothing was written, run it again")
    except EOFError:
        raise ValueError(f"no terminal to ask for the passphrase: set {variable}") from None
    return value


def _receipt_key(args: argparse.Namespace, sealed: Sealed) -> ReceiverKey:
    """Your key; or, for a file sealed with a passphrase and no key given, a one-off key for the receipt."""
    if args.key is not None:
        return load_receiver_key(args.key, _passphrase("LEDGER_TRANSFER_PASSPHRASE", "Passphrase of your key file: "))
    if sealed.header.get("method") != "passphrase":
        raise Unopenable("this file was sealed to the receiving DSL's key: give --key")
    if not (args.school and args.school.strip() and args.name and args.name.strip()):
        raise ValueError("with no --key, give --school (your school) and --name (yours): the receipt names them")
    return new_receiver_key(args.school.strip(), args.name.strip())


def _open_command(args: argparse.Namespace) -> int:
    sealed = read_sealed(args.file)
    key = _receipt_key(args, sealed)
    phone = _passphrase("LEDGER_TRANSFER_PHONE_PASSPHRASE", "Passphrase given by phone: ") \
        if args.passphrase_from_phone else None
    opened = check(sealed, content_key(sealed, key, phone), args.trust)
    print("\n".join(opened.report.lines()))
    if opened.ok and introduced(opened):
        print(checker.printable(f"This is {introduced(opened)}."))
    if not opened.ok:
        print("No receipt was written: tell the sending school what failed.", file=sys.stderr)
        return 1
    for path, data in ((args.out, opened.bundle), (args.receipt, receipt(opened, key, datetime.now(timezone.utc)))):
        _write_new(path, data)
    print(f"sending ledger key fingerprint: {opened.fingerprint} (compare with the sending school's)", file=sys.stderr)
    if args.key is None:
        print(f"the receipt names {key.name} ({key.school}) and is signed with a one-off key: it shows you opened "
              "the file, not who you are", file=sys.stderr)
    print(f"bundle written to {args.out}; receipt written to {args.receipt}: send it to the sending school",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open a child protection file sent by policy-ledger.")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("keygen", help="make the receiving DSL's key pair")
    make.add_argument("--out", type=Path, required=True, help="folder for transfer-key.json and .pub.json")
    make.add_argument("--school", required=True, help="your school's name")
    make.add_argument("--name", required=True, help="your name (the receiving DSL)")
    open_ = sub.add_parser("open", help="decrypt and check a sealed file, and sign a receipt")
    open_.add_argument("file", type=Path, help="the sealed file (.transfer)")
    open_.add_argument("--key", type=Path, help="your transfer-key.json (not needed for a passphrase file)")
    open_.add_argument("--school", help="with no --key: your school's name, for the receipt")
    open_.add_argument("--name", help="with no --key: your name (the receiving DSL), for the receipt")
    open_.add_argument("--passphrase-from-phone", action="store_true", help="the file was sealed with a passphrase")
    open_.add_argument("--out", type=Path, required=True, help="where to write the evidence bundle (zip)")
    open_.add_argument("--receipt", type=Path, required=True, help="where to write the signed receipt")
    open_.add_argument("--trust", type=Path, help="the sending ledger's trust file, obtained separately")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            for target in (args.out / "transfer-key.json", args.out / "transfer-key.pub.json"):
                if target.exists():
                    raise ValueError(f"{target} already exists: keep it, or move it away first")
            passphrase = _passphrase("LEDGER_TRANSFER_PASSPHRASE", "New passphrase for the key file: ", confirm=True)
            private, public = keygen(args.out, args.school, args.name, passphrase)
            document = load_public_key(public)
            print(f"{private} (private: keep it), {public} (give it to the sending school)")
            print(f"fingerprint to read out by phone: {fingerprint(document['agreement_key'])}")
            return 0
        for target in (args.out, args.receipt):
            if target.exists():
                raise ValueError(f"{target} already exists: choose another name")
        return _open_command(args)
    except (Unopenable, ValueError, OSError) as exc:
        print(checker.printable(f"Error: {exc}"), file=sys.stderr)
        if "passphrase" in str(exc) and "wrong" in str(exc):
            print("Hint: check the passphrase with the sending DSL by phone (it is case-sensitive, spaces count); "
                  "nothing was written", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
