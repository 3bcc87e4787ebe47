"""The trust file: what an auditor is given out of band, and nothing more."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ledger import checkpoint
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

    @classmethod
    def load(cls, path: Path) -> Trust:
        """Read and check a trust file; InvalidInput names what is wrong."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no trust file at {path}", "ask the ledger's administrator for trust.json") from None
        except ValueError:
            raise InvalidInput(f"{path} is not a trust file (not JSON)") from None
        try:
            name, public = checkpoint.parse_verifier_key(document["ledger_key"])
            trust = cls(
                ledger_id=str(document["ledger_id"]),
                origin=str(document["origin"]),
                ledger_public_key=public,
                first_admin=str(document["first_admin"]),
                first_admin_key=str(document["first_admin_key"]),
                first_admin_public_key=bytes.fromhex(document["first_admin_public_key"]),
            )
        except (KeyError, ValueError, TypeError, checkpoint.CheckpointError) as exc:
            raise InvalidInput(f"{path} is not a valid trust file: {exc}", "ask for a fresh copy") from None
        if name != trust.origin or len(trust.first_admin_public_key) != 32:
            raise InvalidInput(f"{path} is inconsistent: key name and origin differ")
        return trust
