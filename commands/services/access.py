"""Recording reads: the service every command that shows personal data calls."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.domain.access import AccessRecord
from ledger.store import Unit


def record_access(
    work: Unit, reader: str, action: str, records: Iterable[str], subjects: Iterable[str], reason: str
) -> None:
    """Append an access entry in the same unit (the unit must be writing)."""
    work.save(AccessRecord.record(reader, action, list(records), list(subjects), reason))
