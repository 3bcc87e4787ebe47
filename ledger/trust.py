"""The trust file: what an auditor is given out of band, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger import checkpoint, files
from ledger.errors import InvalidInput, NotFound


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
            )
        except (KeyError, ValueError, TypeError, checkpoint.CheckpointError) as exc:
            raise InvalidInput(f"{path} is not a valid trust file: {exc}", "ask for a fresh copy") from None
        if name != trust.origin or any(
            len(k) != 32 for k in (trust.first_admin_public_key, trust.recovery_agreement_key, trust.recovery_signing_key)
        ):
            raise InvalidInput(f"{path} is inconsistent: key name and origin differ")
        return trust
