"""The access log register: who read or exported which record, when.

Built from the clear header of each ``AccessRecord.Recorded`` entry (claims
``reader``, ``action``, ``records``). Why they did it is in the entry's
encrypted body: the register query returns the entry so the read side can
decrypt the reason for readers allowed to see it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Index, String, Table, delete, insert, select

from ledger.schema import BIG
from projections.base import Entry, Projection, metadata

ACCESS_EVENT = "AccessRecord.Recorded"

access = Table(
    "proj_access",
    metadata,
    Column("notification_id", BIG, primary_key=True, autoincrement=False),
    Column("record", String(64), primary_key=True),
    Column("access_record", String(36), nullable=False),
    Column("reader", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Index("ix_proj_access_record", "record", "recorded_at"),
    Index("ix_proj_access_reader", "reader", "recorded_at"),
    Index("ix_proj_access_recorded", "recorded_at"),
)


class AccessLogProjection(Projection):
    """One row per record read or exported, per access entry."""

    name = "access_log"
    description = "who read or exported which record, and when"
    tables = (access,)

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []

    def begin(self, conn: Connection, batch: list[Entry]) -> None:
        self._rows = []

    def end(self, conn: Connection) -> None:
        if self._rows:
            conn.execute(insert(access), self._rows)
        self._rows = []

    def process(self, conn: Connection, entry: Entry) -> None:
        if entry.event_type != ACCESS_EVENT:
            return
        claims = entry.claims
        listed = claims.get("records") or []
        read = sorted({str(r) for r in listed}) if isinstance(listed, list) else [str(listed)]
        self._rows.extend(
            [
                {
                    "notification_id": entry.notification_id,
                    "record": record,
                    "access_record": entry.aggregate,
                    "reader": str(claims.get("reader") or entry.header["actor"]),
                    "action": str(claims.get("action") or "read"),
                    "recorded_at": entry.recorded_at,
                }
                for record in (read or [""])
            ]
        )

    def erase(self, conn: Connection, records: list[str], erasure: Entry) -> None:
        """An erased access entry leaves the register."""
        self.end(conn)
        conn.execute(delete(access).where(access.c.access_record.in_(records)))


def access_rows(
    conn: Connection,
    records: list[str] | None = None,
    reader: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Access rows, newest first, optionally for some records, a reader or a period."""
    query = select(access)
    if records is not None:
        query = query.where(access.c.record.in_(records))
    if reader:
        query = query.where(access.c.reader == reader)
    if since:
        query = query.where(access.c.recorded_at >= since)
    if until:
        query = query.where(access.c.recorded_at < until)
    query = query.order_by(access.c.recorded_at.desc(), access.c.notification_id.desc(), access.c.record)
    return [dict(r._mapping) for r in conn.execute(query)]
