"""Exports: every evidence bundle handed out is itself an entry (chain of custody).

The header says, in clear, what left the ledger: the record or person the
bundle is about, the leaf indexes of the entries it holds, the checkpoint
they were proved against, which redactions were applied and the SHA-256 of
the bundle file. Anyone holding a bundle can therefore find the entry that
recorded its export. Why it was exported is in the encrypted body (a reason
can itself mention people).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import new_short_id, record_id, require_text
from ledger.errors import InvalidInput

REDACTIONS = ("pupils", "reporters")


def export_record_id(export_id: str) -> uuid.UUID:
    """The aggregate id of export ``export_id``."""
    return record_id("export", export_id)


class EvidenceExport(Aggregate):
    """One evidence bundle written for a third party."""

    class Exported(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "export_id", "target", "record", "entries", "checkpoint_size", "redacted", "sha256", "size",
        )
        export_id: str
        target: str
        record: str | None
        entries: list[int]
        checkpoint_size: int
        redacted: list[str]
        sha256: str
        size: int
        reason: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            redacted = f", redacting {' and '.join(self.redacted)}" if self.redacted else ""
            return (
                f"exported {len(self.entries)} entries about {self.target} as an evidence bundle "
                f"(sha256 {self.sha256[:16]}…, {self.size} bytes, checkpoint {self.checkpoint_size}{redacted}): "
                f"{self.reason}"
            )

    @staticmethod
    def create_id(export_id: str) -> uuid.UUID:
        return export_record_id(export_id)

    @classmethod
    def record(
        cls,
        target: str,
        record: str | None,
        entries: list[int],
        checkpoint_size: int,
        redacted: list[str],
        sha256: str,
        size: int,
        reason: str,
        subjects: list[str],
    ) -> EvidenceExport:
        """Record that a bundle holding ``entries`` about ``target`` was written."""
        unknown = sorted(set(redacted) - set(REDACTIONS))
        if unknown:
            raise InvalidInput(f"unknown redaction {', '.join(unknown)}", f"redactions are: {', '.join(REDACTIONS)}")
        if not entries:
            raise InvalidInput("an export holds at least one entry")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidInput("the bundle hash must be a SHA-256 in lower-case hex")
        export_id = new_short_id("exp")
        return cls._create(
            cls.Exported,
            id=export_record_id(export_id),
            export_id=export_id,
            target=target,
            record=record,
            entries=sorted(set(entries)),
            checkpoint_size=checkpoint_size,
            redacted=sorted(set(redacted)),
            sha256=sha256,
            size=size,
            reason=require_text("reason", reason, 2000),
            record_class="export",
            subjects=sorted(set(subjects)),
        )

    def __init__(
        self,
        export_id: str,
        target: str,
        record: str | None,
        entries: list[int],
        checkpoint_size: int,
        redacted: list[str],
        sha256: str,
        size: int,
        reason: str | None,
        subjects: list[str],
    ) -> None:
        self.export_id = export_id
        self.target = target
        self.target_record = record
        self.entries = entries
        self.checkpoint_size = checkpoint_size
        self.redacted = redacted
        self.sha256 = sha256
        self.size = size
        self.reason = reason
