"""All cryptography in one place: bytes in, bytes out, failure is an exception.

This is the only module that imports ``cryptography.hazmat``. Every signature,
hash and key derivation takes a domain-separation label so that bytes signed or
hashed for one purpose can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

KEY_BYTES = 32
NONCE_BYTES = 12
SIGNATURE_BYTES = 64


class CryptoError(Exception):
    """A cryptographic check failed (bad signature, tag, wrap or key)."""


def _label(domain: str) -> bytes:
    return b"policy-ledger/" + domain.encode("ascii") + b"\x00"


# -- hashing ---------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    """Plain SHA-256 (used where a standard format fixes the input, e.g. RFC 9162)."""
    return hashlib.sha256(data).digest()


def tagged_hash(domain: str, data: bytes) -> bytes:
    """SHA-256 over a domain-separated message."""
    return hashlib.sha256(_label(domain) + data).digest()


def random_key() -> bytes:
    """A fresh 256-bit symmetric key."""
    return os.urandom(KEY_BYTES)


# -- Ed25519 signing -------------------------------------------------------


def new_signing_key() -> bytes:
    """A new Ed25519 private key as 32 raw bytes."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def signing_public_key(private_key: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a raw private key."""
    return (
        Ed25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


@lru_cache(maxsize=64)
def _private(private_key: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(private_key)


@lru_cache(maxsize=4096)
def _public(public_key: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key)


def sign(private_key: bytes, domain: str, message: bytes) -> bytes:
    """Ed25519 signature over ``domain`` || 0x00 || ``message``."""
    return _private(private_key).sign(_label(domain) + message)


def verify(public_key: bytes, domain: str, message: bytes, signature: bytes) -> None:
    """Raise CryptoError unless ``signature`` is valid for ``domain``/``message``."""
    verify_raw(public_key, _label(domain) + message, signature)


def sign_raw(private_key: bytes, message: bytes) -> bytes:
    """Ed25519 over exactly ``message``: for formats that fix their own framing
    (C2SP signed notes, the bundle's SHA256SUMS checked by openssl)."""
    return _private(private_key).sign(message)


def verify_raw(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise CryptoError unless ``signature`` is a valid Ed25519 signature."""
    try:
        _public(public_key).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise CryptoError("signature does not verify") from exc


def public_key_pem(public_key: bytes) -> bytes:
    """A raw Ed25519 public key as SubjectPublicKeyInfo PEM (for openssl)."""
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- X25519 key agreement and wrapping -------------------------------------


def new_agreement_key() -> bytes:
    """A new X25519 private key as 32 raw bytes."""
    return X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def agreement_public_key(private_key: bytes) -> bytes:
    """The raw X25519 public key of a raw private key."""
    return (
        X25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _wrap_key(shared: bytes, ephemeral_public: bytes, recipient: bytes, context: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral_public + recipient,
        info=_label("wrap") + context,
    ).derive(shared)


def seal_to(recipient_public: bytes, secret: bytes, context: bytes) -> bytes:
    """Encrypt ``secret`` to an X25519 public key (ECDH + HKDF + AES-GCM).

    ``context`` is bound as associated data, so a wrap cannot be moved to
    another key id or recipient. Output: ephemeral public key || nonce || ct.
    """
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    kek = _wrap_key(shared, ephemeral_public, recipient_public, context)
    nonce = os.urandom(NONCE_BYTES)
    return ephemeral_public + nonce + AESGCM(kek).encrypt(nonce, secret, context)


def open_sealed(recipient_private: bytes, sealed: bytes, context: bytes) -> bytes:
    """Reverse of :func:`seal_to`; raises CryptoError on any mismatch."""
    if len(sealed) < 32 + NONCE_BYTES + 16:
        raise CryptoError("sealed key is truncated")
    ephemeral_public, nonce, ct = sealed[:32], sealed[32:44], sealed[44:]
    private = X25519PrivateKey.from_private_bytes(recipient_private)
    recipient_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        kek = _wrap_key(shared, ephemeral_public, recipient_public, context)
        return AESGCM(kek).decrypt(nonce, ct, context)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("this key cannot open that wrapped key") from exc


def wrap_under(kek: bytes, key: bytes) -> bytes:
    """AES key wrap (RFC 3394) of ``key`` under a batch/epoch key."""
    return aes_key_wrap(kek, key)


def unwrap_under(kek: bytes, wrapped: bytes) -> bytes:
    """Reverse of :func:`wrap_under`; raises CryptoError on a wrong key."""
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError) as exc:
        raise CryptoError("wrapped key does not unwrap under this key") from exc


# -- symmetric encryption ----------------------------------------------------


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """AES-256-GCM with a random 96-bit nonce. Output: nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def decrypt(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """Reverse of :func:`encrypt`; raises CryptoError on any tampering or wrong key."""
    if len(sealed) < NONCE_BYTES + 16:
        raise CryptoError("ciphertext is truncated")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("ciphertext does not decrypt under this key") from exc


# -- passphrase protection of key files --------------------------------------

#: scrypt cost for new key files: OWASP's floor (N=2^17, r=8, p=1; 128 MiB, about 0.3 s here).
SCRYPT_N = 2**17
#: Costs a key file may name when it is opened: anything else is damage or an attempt to
#: make opening it take all the memory (2^20 is 1 GiB).
SCRYPT_N_ACCEPTED = frozenset(2**e for e in range(10, 21))


def lock_with_passphrase(passphrase: str, secret: bytes, context: bytes) -> dict[str, str | int]:
    """Encrypt ``secret`` under a key derived from ``passphrase`` (scrypt)."""
    salt = os.urandom(16)
    kek = Scrypt(salt=salt, length=KEY_BYTES, n=SCRYPT_N, r=8, p=1).derive(
        passphrase.encode("utf-8")
    )
    return {
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "salt": salt.hex(),
        "sealed": encrypt(kek, secret, context).hex(),
    }


def unlock_with_passphrase(passphrase: str, locked: dict[str, str | int], context: bytes) -> bytes:
    """Reverse of :func:`lock_with_passphrase`; CryptoError on a wrong passphrase."""
    try:
        salt = bytes.fromhex(str(locked["salt"]))
        sealed = bytes.fromhex(str(locked["sealed"]))
        n = int(locked["n"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CryptoError("key file is damaged") from exc
    if n not in SCRYPT_N_ACCEPTED or len(salt) != 16:
        raise CryptoError("key file is damaged (its key derivation cost is out of range)")
    kek = Scrypt(salt=salt, length=KEY_BYTES, n=n, r=8, p=1).derive(
        passphrase.encode("utf-8")
    )
    return decrypt(kek, sealed, context)
