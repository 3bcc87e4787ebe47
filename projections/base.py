"""What every projection shares: its tables, the entry it is fed, the contract.

A projection is a read model in SQL tables of the ledger's own database,
built only from the CLEAR headers of the log (no key is needed, so any
command can bring it up to date before it reads). The runner feeds it
entries in notification order and records the position it reached in the
same transaction as the rows it wrote, so each entry is applied exactly once
even across crashes.

Projection tables live in their own ``MetaData`` (``metadata`` below) and are
created on demand: the write side's schema does not know about them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from sqlalchemy import Column, Connection, MetaData, String, Table, delete

from ledger.domain.base import record_id
from ledger.roles import event_name
from ledger.schema import BIG

metadata = MetaData()

#: The name of the event that erases records (its claim ``records`` lists them).
ERASURE_EVENT = "Erasure.Recorded"

SHORT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,11}-[0-9a-f]{8,32}$")

#: Kinds tried when matching a short id to its record (``record_id(kind, short
#: id)`` is how every aggregate id is made) besides those named by the entry.
KNOWN_KINDS = (
    "incident", "approval", "alert", "subject", "staff", "policy", "ack", "import-batch",
    "monitoring-check", "hold", "retention-rule",
)

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BIG, nullable=False),
    Column("processed", BIG, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("schema", String(64), nullable=False),
)


def utc(value: str) -> str:
    """An ISO date-time normalised to fixed-width UTC, so strings sort as times."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Entry:
    """One stored event as a projection sees it: its position and clear header."""

    notification_id: int
    leaf_index: int | None
    header: dict[str, Any]
    erased: bool

    @property
    def aggregate(self) -> str:
        """The record (aggregate id) the entry belongs to."""
        return str(self.header["aggregate"])

    @property
    def version(self) -> int:
        """The entry's version within its record."""
        return int(self.header["version"])

    @cached_property
    def event_type(self) -> str:
        """``Aggregate.Event``, the key of the permission table."""
        return event_name(str(self.header["topic"]))

    @property
    def kind(self) -> str:
        """The aggregate class name, e.g. ``Incident``."""
        return self.event_type.split(".", 1)[0]

    @cached_property
    def claims(self) -> dict[str, Any]:
        """The clear facts the event class chose to lift into the header."""
        value = self.header.get("claims") or {}
        return dict(value) if isinstance(value, dict) else {}

    @cached_property
    def recorded_at(self) -> str:
        """When the entry was written (normalised UTC)."""
        return utc(str(self.header["recorded_at"]))

    @cached_property
    def own_alias(self) -> tuple[str, str] | None:
        """The short id the record is known by and its kind, from its first entry.

        A clear claim (``inc_id``, ``request_id``, ``label``…) names the record
        itself when the record's id is ``record_id(kind, value)``, the
        convention of every aggregate. The check is exact, so a claim naming
        another record (``alert_id`` on an incident) is never taken for the
        record's own id.
        """
        if self.version != 1:
            return None
        snake = re.sub(r"(?<!^)(?=[A-Z])", "-", self.kind).lower()
        likely = [self.kind.lower(), snake, str(self.header.get("record_class") or "")]
        aggregate = uuid.UUID(self.aggregate)
        for key, value in sorted(self.claims.items()):
            if not isinstance(value, str) or not value or len(value) > 64:
                continue
            if not (key.endswith("_id") or key == "label" or SHORT_ID_PATTERN.match(value)):
                continue
            for kind in [key.removesuffix("_id"), *likely, *KNOWN_KINDS]:
                if kind and record_id(kind, value) == aggregate:
                    return value, self.kind
        return None

    @property
    def erased_records(self) -> list[str]:
        """Records this entry erases (empty unless it is an erasure entry)."""
        if self.event_type != ERASURE_EVENT:
            return []
        records = self.claims.get("records") or []
        return [str(r) for r in records] if isinstance(records, list) else [str(records)]


def dumps(value: Any) -> str:
    """Stable JSON for claim columns (so a rebuild stores identical text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Projection:
    """A read model: its name, its tables, and how each entry changes them.

    Subclasses set ``name`` and ``tables`` and implement ``process``; they
    override ``erase`` when their rows can hold personal data. ``begin`` and
    ``end`` bracket each batch (for caches that must be written back).
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    description: ClassVar[str] = ""
    #: Bump when ``process`` changes what it writes: the runner then rebuilds.
    version: ClassVar[int] = 1

    @classmethod
    def schema(cls) -> str:
        """A fingerprint of this projection's table definitions and version.

        Stored with its position: when the code's tables (or version) differ
        from those the rows were built with, the runner rebuilds the projection.
        """
        parts = [f"version {cls.version}"]
        for table in cls.tables:
            parts.append(table.name)
            parts += [f"{c.name}:{c.type!r}:{c.nullable}:{c.primary_key}" for c in table.columns]
            parts += sorted(f"{i.name}:{','.join(c.name for c in i.columns)}:{i.unique}" for i in table.indexes)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    def begin(self, conn: Connection, batch: list[Entry]) -> None:
        """Called before a batch of entries (those this projection will get), in its transaction."""

    def process(self, conn: Connection, entry: Entry) -> None:
        """Apply one entry to this projection's rows."""
        raise NotImplementedError

    def erase(self, conn: Connection, records: list[str], erasure: Entry) -> None:
        """Remove rows holding personal data of ``records`` (erasure reached the log)."""

    def end(self, conn: Connection) -> None:
        """Called after a batch, before the position is recorded."""

    def clear(self, conn: Connection) -> None:
        """Delete every row (children first)."""
        for table in reversed(self.tables):
            conn.execute(delete(table))
