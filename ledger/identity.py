"""Actor key files: an Ed25519 signing key and an X25519 reading key per actor.

Private keys live outside the database, in ``<keys dir>/<actor>/<key id>.json``,
encrypted under the actor's passphrase (scrypt + AES-GCM). Only public keys
reach the ledger, through signed ``KeyRegistered`` events.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ledger import crypto, files
from ledger.errors import AuthenticationFailed, InvalidInput, NotFound

KEY_FILE_VERSION = 1


@dataclass(frozen=True)
class PublicKeys:
    """The public half of an actor's key pair, as registered in the ledger."""

    key_id: str
    public_key: bytes
    agreement_key: bytes


@dataclass(frozen=True)
class KeyPair:
    """An unlocked actor key: signs entries and opens wraps addressed to it."""

    actor_id: str
    key_id: str
    signing_key: bytes
    agreement_private: bytes

    @property
    def public(self) -> PublicKeys:
        """The public keys to register."""
        return PublicKeys(
            self.key_id,
            crypto.signing_public_key(self.signing_key),
            crypto.agreement_public_key(self.agreement_private),
        )


def key_id_of(public_key: bytes) -> str:
    """A short stable fingerprint of an Ed25519 public key."""
    return "k" + crypto.tagged_hash("key-id", public_key).hex()[:20]


def generate(actor_id: str) -> KeyPair:
    """Create a fresh key pair for ``actor_id``."""
    signing = crypto.new_signing_key()
    return KeyPair(
        actor_id, key_id_of(crypto.signing_public_key(signing)), signing, crypto.new_agreement_key()
    )


def _context(actor_id: str, key_id: str) -> bytes:
    return f"policy-ledger key file/{actor_id}/{key_id}".encode()


def check_passphrase(passphrase: str) -> None:
    """Refuse passphrases too short to protect a key."""
    if len(passphrase) < 8:
        raise InvalidInput(
            "passphrase is too short", "use at least 8 characters (a few words is better)"
        )


def save(keys_dir: Path, pair: KeyPair, passphrase: str) -> Path:
    """Write ``pair`` encrypted under ``passphrase``; returns the file's path."""
    check_passphrase(passphrase)
    folder = keys_dir / pair.actor_id
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{pair.key_id}.json"
    secret = pair.signing_key + pair.agreement_private
    document = {
        "version": KEY_FILE_VERSION,
        "actor": pair.actor_id,
        "key_id": pair.key_id,
        "public_key": pair.public.public_key.hex(),
        "agreement_key": pair.public.agreement_key.hex(),
        "locked": crypto.lock_with_passphrase(
            passphrase, secret, _context(pair.actor_id, pair.key_id)
        ),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    return path


def load(keys_dir: Path, actor_id: str, key_id: str, passphrase: str) -> KeyPair:
    """Unlock the key file of ``actor_id``/``key_id`` with ``passphrase``."""
    path = keys_dir / actor_id / f"{key_id}.json"
    try:
        locked = files.read_json(path, "key file")["locked"]
    except NotFound:
        raise NotFound(
            f"no key file for {actor_id} (key {key_id}) in {keys_dir}",
            "run the command on the machine that holds this person's key, "
            "or set --keys/LEDGER_KEYS to the folder holding it",
        ) from None
    except (InvalidInput, KeyError, TypeError):
        raise AuthenticationFailed(f"key file {path} is damaged") from None
    try:
        secret = crypto.unlock_with_passphrase(passphrase, locked, _context(actor_id, key_id))
    except crypto.CryptoError:
        raise AuthenticationFailed(
            f"wrong passphrase for {actor_id}",
            "check the passphrase (LEDGER_PASSPHRASE when scripted) and try again",
        ) from None
    return KeyPair(actor_id, key_id, secret[:32], secret[32:])
