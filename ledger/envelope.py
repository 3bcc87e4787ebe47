"""The entry envelope: a clear signed header, an encrypted body.

Stored bytes (``state`` of an event row)::

    b"PLE1" || u32be(len(header)) || header || signature(64) || body

``header`` is canonical JSON holding everything verification and retention
need (no personal data); ``signature`` is Ed25519 by the actor's key over the
domain-separated header; ``body`` is AES-256-GCM (nonce || ciphertext) of the
event's own fields under the record's data key, with the entry's identity as
associated data. The header commits to the body through ``body_hash`` and to
the data key through ``key_commitment``. An erased entry keeps its header and
signature and has an empty body.

The Merkle leaf is ``u32be(len(header)) || header || signature``: the body is
not in it, so scrubbing a body leaves every proof valid.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from ledger import canonical, crypto
from ledger.errors import InvalidInput, VerificationFailed

MAGIC = b"PLE1"
ENVELOPE_VERSION = 1
SIGNATURE_DOMAIN = "entry/v1"
COMMITMENT_DOMAIN = "key-commitment/v1"
AAD_DOMAIN = "body-aad/v1"

REQUIRED_HEADER_FIELDS = (
    "v", "ledger", "aggregate", "version", "topic", "class_version",
    "recorded_at", "actor", "actor_key", "record_class", "subjects",
    "data_key", "key_commitment", "body_hash",
)

#: The JSON type every header field must have (optional ones may be absent; ``occurred_at`` may be null).
HEADER_TYPES: dict[str, tuple[type, ...]] = {
    "v": (int,), "ledger": (str,), "aggregate": (str,), "version": (int,), "topic": (str,),
    "class_version": (int,), "recorded_at": (str,), "actor": (str,), "actor_key": (str,),
    "record_class": (str,), "subjects": (list,), "data_key": (str,), "key_commitment": (str,),
    "body_hash": (str,), "claims": (dict,), "lifted": (list,), "occurred_at": (dict, type(None)),
}


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the exact stored pieces plus the decoded header."""

    header_bytes: bytes
    header: dict[str, Any]
    signature: bytes
    body: bytes

    @property
    def leaf_data(self) -> bytes:
        """The bytes hashed into the Merkle tree for this entry."""
        return struct.pack(">I", len(self.header_bytes)) + self.header_bytes + self.signature

    @property
    def erased(self) -> bool:
        """True once the body has been scrubbed by erasure."""
        return not self.body

    def to_bytes(self) -> bytes:
        """The stored form: exactly the bytes that were signed, plus the body."""
        return MAGIC + self.leaf_data + self.body

    def without_body(self) -> Envelope:
        """The same entry with its body scrubbed (used by erasure)."""
        return Envelope(self.header_bytes, self.header, self.signature, b"")


def key_commitment(data_key_id: str, data_key: bytes) -> str:
    """Hash that binds a data key to its id (AES-GCM alone is not committing)."""
    return crypto.tagged_hash(COMMITMENT_DOMAIN, data_key_id.encode() + b"\x00" + data_key).hex()


def body_aad(header: dict[str, Any]) -> bytes:
    """Associated data binding a body to its entry's identity."""
    identity = {k: header[k] for k in ("ledger", "aggregate", "version", "topic", "data_key")}
    return crypto.tagged_hash(AAD_DOMAIN, canonical.dumps(identity))


def seal(
    header_fields: dict[str, Any],
    body: dict[str, Any],
    data_key_id: str,
    data_key: bytes,
    signing_key: bytes,
) -> Envelope:
    """Encrypt ``body``, complete the header and sign it."""
    header = dict(header_fields)
    header["v"] = ENVELOPE_VERSION
    header["data_key"] = data_key_id
    header["key_commitment"] = key_commitment(data_key_id, data_key)
    ciphertext = crypto.encrypt(data_key, canonical.dumps(body), body_aad(header))
    header["body_hash"] = crypto.sha256(ciphertext).hex()
    missing = [f for f in REQUIRED_HEADER_FIELDS if f not in header]
    if missing:
        raise InvalidInput(f"envelope header lacks {', '.join(missing)}")
    header_bytes = canonical.dumps(header)
    signature = crypto.sign(signing_key, SIGNATURE_DOMAIN, header_bytes)
    return Envelope(header_bytes, header, signature, ciphertext)


def parse(state: bytes) -> Envelope:
    """Split stored bytes into their parts; VerificationFailed if malformed."""
    if len(state) < 8 or state[:4] != MAGIC:
        raise VerificationFailed("entry is not an envelope (bad magic)")
    (length,) = struct.unpack(">I", state[4:8])
    end = 8 + length
    if len(state) < end + crypto.SIGNATURE_BYTES:
        raise VerificationFailed("entry is truncated")
    header_bytes = state[8:end]
    try:
        header = canonical.loads(header_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise VerificationFailed("entry header is not valid JSON") from None
    if not isinstance(header, dict) or any(f not in header for f in REQUIRED_HEADER_FIELDS):
        raise VerificationFailed("entry header lacks required fields")
    wrong = sorted(name for name, kinds in HEADER_TYPES.items() if name in header and (
        not isinstance(header[name], kinds) or (int in kinds and isinstance(header[name], bool))))
    if wrong:
        raise VerificationFailed(f"entry header field {', '.join(wrong)} has the wrong type")
    signature = state[end : end + crypto.SIGNATURE_BYTES]
    return Envelope(header_bytes, header, signature, state[end + crypto.SIGNATURE_BYTES :])


def verify_signature(envelope: Envelope, public_key: bytes) -> None:
    """Raise VerificationFailed unless the header is signed by ``public_key``."""
    try:
        crypto.verify(public_key, SIGNATURE_DOMAIN, envelope.header_bytes, envelope.signature)
    except crypto.CryptoError:
        raise VerificationFailed("signature does not verify") from None


def check_body_hash(envelope: Envelope) -> None:
    """Raise VerificationFailed unless the body matches the signed body hash."""
    if crypto.sha256(envelope.body).hex() != envelope.header["body_hash"]:
        raise VerificationFailed("body does not match the signed body hash")


def check_key_commitment(envelope: Envelope, data_key: bytes) -> None:
    """Raise VerificationFailed unless ``data_key`` is the key the header commits to."""
    if key_commitment(envelope.header["data_key"], data_key) != envelope.header["key_commitment"]:
        raise VerificationFailed("data key does not match the key commitment")


def open_body(envelope: Envelope, data_key: bytes) -> dict[str, Any]:
    """Check and decrypt the body; VerificationFailed on any mismatch."""
    if envelope.erased:
        raise VerificationFailed("entry was erased: its body no longer exists")
    check_body_hash(envelope)
    check_key_commitment(envelope, data_key)
    try:
        plaintext = crypto.decrypt(data_key, envelope.body, body_aad(envelope.header))
    except crypto.CryptoError:
        raise VerificationFailed("body does not decrypt for this entry") from None
    body = canonical.loads(plaintext)
    if not isinstance(body, dict):
        raise VerificationFailed("body is not an object")
    return body
