"""The access log: every read or export of personal data is itself an entry.

So "who viewed this record, when and why" is answered by the ledger itself.
The header names the records read (as subjects and claims); the reason is in
the encrypted body, since a reason can itself mention people.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import require_text


class AccessRecord(Aggregate):
    """One act of reading or exporting records."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("action", "records", "reader")
        action: str
        records: list[str]
        reader: str
        reason: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.reader} {self.action} {len(self.records)} record(s): {self.reason}"

    @classmethod
    def record(cls, reader: str, action: str, records: list[str], subjects: list[str], reason: str) -> AccessRecord:
        """Note that ``reader`` did ``action`` (read, export…) on ``records`` for ``reason``."""
        return cls._create(
            cls.Recorded,
            id=uuid.uuid4(),
            action=action,
            records=sorted(set(records)),
            reader=reader,
            reason=require_text("reason", reason, 2000),
            record_class="access_log",
            subjects=sorted(set(subjects)),
        )

    def __init__(self, action: str, records: list[str], reader: str, reason: str) -> None:
        self.action = action
        self.records = records
        self.reader = reader
        self.reason = reason
