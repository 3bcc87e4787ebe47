"""The trust file: what an auditor is given out of band, and nothing more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import checkpoint, files, witness
from ledger.errors import InvalidInput, NotFound


#: Default for ``witness_max_age_days``: a governor's machine may be off over a weekend
#: and a half-term holiday week, not longer.
DEFAULT_MAX_AGE_DAYS = 7


@dataclass(frozen=True)
class Trust:
    """The ledger's identity and the keys verification starts from."""

    ledger_id: str
    origin: str
    ledger_public_key: bytes
    first_admin: str
    first_admin_key: str
    first_admin_public_key: bytes
    recovery_key_id: str
    recovery_agreement_key: bytes
    recovery_signing_key: bytes
    permission_table: str
    #: Witnesses (name, Ed25519 public key) whose cosignatures count, how many must cosign a
    #: checkpoint for it to cover the entries before it, and how old an entry may be before
    #: one must have. Empty in trust files written before witnesses existed: nothing to check.
    witnesses: tuple[tuple[str, bytes], ...] = ()
    witness_quorum: int = 0
    witness_max_age: dt.timedelta = dt.timedelta(days=DEFAULT_MAX_AGE_DAYS)

    @property
    def bootstrap(self) -> tuple[str, str, bytes]:
        """The first admin, who signs the ledger's first entries before any key is registered."""
        return self.first_admin, self.first_admin_key, self.first_admin_public_key

    @classmethod
    def load(cls, path: Path) -> Trust:
        """Read and check a trust file; InvalidInput names what is wrong."""
        try:
            document = files.read_json(path, "trust file", "ask for a fresh copy")
        except NotFound:
            raise NotFound(f"no trust file at {path}", "ask the ledger's administrator for trust.json") from None
        try:
            name, public = checkpoint.parse_verifier_key(document["ledger_key"])
            trust = cls(
                ledger_id=str(document["ledger_id"]),
                origin=str(document["origin"]),
                ledger_public_key=public,
                first_admin=str(document["first_admin"]),
                first_admin_key=str(document["first_admin_key"]),
                first_admin_public_key=bytes.fromhex(document["first_admin_public_key"]),
                recovery_key_id=str(document["recovery_key"]["key_id"]),
                recovery_agreement_key=bytes.fromhex(document["recovery_key"]["agreement_key"]),
                recovery_signing_key=bytes.fromhex(document["recovery_key"]["signing_key"]),
                permission_table=str(document["permission_table"]["digest"]),
                **witness_settings(document),
            )
        except (KeyError, ValueError, TypeError, checkpoint.CheckpointError, witness.WitnessError) as exc:
            raise InvalidInput(f"{path} is not a valid trust file: {exc}", "ask for a fresh copy") from None
        if name != trust.origin or any(
            len(k) != 32 for k in (trust.first_admin_public_key, trust.recovery_agreement_key, trust.recovery_signing_key)
        ):
            raise InvalidInput(f"{path} is inconsistent: key name and origin differ")
        return trust


def witness_settings(document: dict[str, Any]) -> dict[str, Any]:
    """The witness fields of a trust file (none in older ones)."""
    keys = document.get("witnesses", [])
    if not isinstance(keys, list):
        raise ValueError("witnesses must be a list of witness keys")
    parsed = tuple(witness.parse_verifier_key(str(k)) for k in keys)
    if len({name for name, _ in parsed}) != len(parsed):
        raise ValueError("two witnesses share a name")
    if len({public for _, public in parsed}) != len(parsed):
        raise ValueError("two witnesses share a key: one key holder would count twice toward the quorum")
    quorum = document.get("witness_quorum", 1 if parsed else 0)
    days = document.get("witness_max_age_days", DEFAULT_MAX_AGE_DAYS)
    if not isinstance(quorum, int) or isinstance(quorum, bool) or not (1 if parsed else 0) <= quorum <= len(parsed):
        raise ValueError(f"witness_quorum must be between 1 and the number of witnesses ({len(parsed)})")
    if not isinstance(days, (int, float)) or isinstance(days, bool) or not 0 < days <= 366:
        raise ValueError("witness_max_age_days must be a number of days between 0 and 366")
    return {"witnesses": parsed, "witness_quorum": quorum, "witness_max_age": dt.timedelta(days=days)}


def witness_fields(keys: list[str], quorum: int, max_age_days: float) -> dict[str, Any]:
    """The trust file's witness fields, checked the way :meth:`Trust.load` reads them."""
    document = {"witnesses": keys, "witness_quorum": quorum, "witness_max_age_days": max_age_days}
    witness_settings(document)
    return document
