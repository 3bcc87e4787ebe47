"""The record index: one row per record with its latest clear state.

Registers (incidents, approvals, acknowledgements…) are queries over this
table and the entry index: each record's kind (aggregate class), record
class, short id, when it was opened and last changed, and the latest value
of every clear claim its entries carried (``status``, ``category``, …). It is
generic: a workflow gets a register by choosing good clear claim names, not
by writing a projection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean, Column, Connection, Index, String, Table, Text, bindparam, delete, insert, select, update,
)

from ledger.schema import BIG
from projections.base import Entry, Projection, dumps, metadata
from projections.checked import occurrence
from projections.entries import own_alias

records = Table(
    "proj_records",
    metadata,
    Column("aggregate", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("record_class", String(64), nullable=False),
    Column("alias", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("happened_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("last_event", String(128), nullable=False),
    Column("events", BIG, nullable=False),
    Column("status", String(64), nullable=True),
    Column("category", String(64), nullable=True),
    Column("claims", Text, nullable=True),
    Column("erased_at", String(40), nullable=True),
    #: An alert that ever named an incident (``Alert.Linked``/``Unlinked`` carry ``incident_id``):
    #: its retention follows the incident, so the plan decides it from its signed entries.
    Column("linked", Boolean, nullable=False),
    Index("ix_proj_records_kind", "kind", "status"),
    # The retention plan's selections: current rows of a class dated before a bound.
    Index("ix_proj_records_class_happened", "record_class", "erased_at", "happened_at"),
    Index("ix_proj_records_class_created", "record_class", "erased_at", "created_at"),
    Index("ix_proj_records_linked", "linked", "erased_at"),
    Index("ix_proj_records_alias", "alias"),
)

#: How many current (not erased) records each class has, kept with the rows (the plan's counts).
record_classes = Table(
    "proj_record_classes",
    metadata,
    Column("record_class", String(64), primary_key=True),
    Column("current", BIG, nullable=False),
)


@dataclass
class _State:
    row: dict[str, Any]
    claims: dict[str, Any] = field(default_factory=dict)
    new: bool = False
    #: Whether the row was counted current in ``proj_record_classes`` when loaded.
    counted: bool = False


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:64]


class RecordsProjection(Projection):
    """Latest clear state of every record."""

    name = "records"
    description = "one row per record: kind, short id, latest clear claims"
    tables = (records, record_classes)

    def __init__(self) -> None:
        self._cache: dict[str, _State] = {}
        self._absent: set[str] = set()

    def begin(self, conn: Connection, batch: list[Entry]) -> None:
        self._cache = {}
        self._absent = set()
        self._fetch(conn, sorted({e.aggregate for e in batch}))

    def _fetch(self, conn: Connection, wanted: list[str]) -> None:
        """Load these records' rows into the cache (one query per 500), noting those absent."""
        for start in range(0, len(wanted), 500):
            for row in conn.execute(select(records).where(records.c.aggregate.in_(wanted[start : start + 500]))):
                data = dict(row._mapping)
                self._cache[data["aggregate"]] = _loaded(data)
        self._absent |= set(wanted) - set(self._cache)

    def _load(self, conn: Connection, aggregate: str) -> _State | None:
        if aggregate not in self._cache:
            if aggregate in self._absent:
                return None
            row = conn.execute(select(records).where(records.c.aggregate == aggregate)).first()
            if row is None:
                return None
            self._cache[aggregate] = _loaded(dict(row._mapping))
        return self._cache[aggregate]

    def process(self, conn: Connection, entry: Entry) -> None:
        state = self._load(conn, entry.aggregate)
        if state is None:
            happened_at, _, _, _ = occurrence(entry.header, entry.recorded_at)
            named = own_alias(entry)
            state = _State(
                {
                    "aggregate": entry.aggregate,
                    "kind": entry.kind,
                    "record_class": str(entry.header["record_class"]),
                    "alias": named[0] if named else None,
                    "created_at": entry.recorded_at,
                    "created_by": str(entry.header["actor"]),
                    "happened_at": happened_at,
                    "events": 0,
                    "erased_at": None,
                },
                new=True,
            )
            self._cache[entry.aggregate] = state
            self._absent.discard(entry.aggregate)
        if state.row["erased_at"] is None:
            state.claims.update(entry.claims)
        state.row["updated_at"] = entry.recorded_at
        state.row["last_event"] = entry.event_type
        state.row["events"] = int(state.row["events"]) + 1

    def end(self, conn: Connection) -> None:
        fresh, changed = [], []
        counts: dict[str, int] = {}
        for aggregate in sorted(self._cache):
            state = self._cache[aggregate]
            row = dict(state.row)
            erased = row["erased_at"] is not None
            row["claims"] = None if erased or not state.claims else dumps(state.claims)
            row["status"] = "erased" if erased else _text(state.claims.get("status"))
            row["category"] = None if erased else _text(state.claims.get("category"))
            row["linked"] = not erased and row["kind"] == "Alert" and "incident_id" in state.claims
            change = int(not erased) - int(state.counted)
            if change:
                counts[row["record_class"]] = counts.get(row["record_class"], 0) + change
            if state.new:
                fresh.append(row)
            else:
                row["key"] = row.pop("aggregate")
                changed.append(row)
        if fresh:
            conn.execute(insert(records), fresh)
        if changed:
            conn.execute(update(records).where(records.c.aggregate == bindparam("key")), changed)
        _count(conn, counts)
        self._cache = {}
        self._absent = set()

    def erase(self, conn: Connection, record_ids: list[str], erasure: Entry) -> None:
        """Keep only that the record existed and when it was erased."""
        self._fetch(conn, [a for a in record_ids if a not in self._cache and a not in self._absent])
        for aggregate in record_ids:
            state = self._load(conn, aggregate)
            if state is not None:
                state.claims = {}
                state.row["erased_at"] = erasure.recorded_at

    def clear(self, conn: Connection) -> None:
        self._cache = {}
        self._absent = set()
        conn.execute(delete(records))
        conn.execute(delete(record_classes))


def _loaded(data: dict[str, Any]) -> _State:
    return _State(data, json.loads(data["claims"]) if data["claims"] else {}, counted=data["erased_at"] is None)


def _count(conn: Connection, changes: dict[str, int]) -> None:
    """Add ``changes`` (class -> records that became current, less those erased) to the counts."""
    if not changes:
        return
    have = {str(c) for (c,) in conn.execute(
        select(record_classes.c.record_class).where(record_classes.c.record_class.in_(sorted(changes))))}
    fresh = [{"record_class": c, "current": n} for c, n in sorted(changes.items()) if c not in have]
    moved = [{"key": c, "change": n} for c, n in sorted(changes.items()) if c in have]
    if fresh:
        conn.execute(insert(record_classes), fresh)
    if moved:
        conn.execute(update(record_classes).where(record_classes.c.record_class == bindparam("key"))
                     .values(current=record_classes.c.current + bindparam("change")), moved)


def current_counts(conn: Connection) -> dict[str, int]:
    """Current (not erased) records per class, as the read model counts them."""
    return {str(c): int(n) for c, n in conn.execute(select(record_classes.c.record_class, record_classes.c.current))}


def record_rows(conn: Connection, kinds: tuple[str, ...] = (), classes: tuple[str, ...] = (),
                erased_too: bool = False) -> list[dict[str, Any]]:
    """Current (not erased, unless ``erased_too``) records of the given kinds or record classes, claims decoded."""
    query = select(records) if erased_too else select(records).where(records.c.erased_at.is_(None))
    if kinds:
        query = query.where(records.c.kind.in_(kinds))
    if classes:
        query = query.where(records.c.record_class.in_(classes))
    rows = []
    for row in conn.execute(query.order_by(records.c.created_at, records.c.aggregate)):
        data = dict(row._mapping)
        data["claims"] = json.loads(data["claims"]) if data["claims"] else {}
        rows.append(data)
    return rows
