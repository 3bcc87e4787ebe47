"""Bringing projections up to date: poll the log, apply, track, in one transaction.

SQLite has no push subscription, so projections poll the event table in
notification order from the position each one recorded. Every batch runs in
ONE transaction that writes the projections' rows and their new positions
together: a crash anywhere loses the whole batch and the next run redoes it,
so each entry is applied exactly once. Catch-ups are serialised (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL transaction-level advisory lock) and read
the positions only once they hold the lock, so two commands catching up at
the same moment never apply a batch twice.

Notification ids can have gaps on PostgreSQL; that is harmless here because
positions only ever move forward past ids that were read, and writers commit
in id order (the event table is locked while they append).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, insert, inspect, select, text, update

from ledger import envelope, localtime, progress
from ledger.clock import iso
from ledger.errors import NotFound, VerificationFailed
from ledger.schema import merkle_leaves
from ledger.store import Ledger
from projections.access_log import AccessLogProjection
from projections.actions import ActionsProjection
from projections.base import Entry, Projection, metadata, positions
from projections.entries import EntriesProjection
from projections.records import RecordsProjection

BATCH = 2000
_LOCK_KEY = 0x5072_6F6A  # "Proj": the advisory lock that serialises catch-ups on PostgreSQL

#: Every projection the ledger maintains, in the order batches feed them.
#: Workflows add theirs with :func:`register`.
PROJECTIONS: list[type[Projection]] = [EntriesProjection, RecordsProjection, AccessLogProjection, ActionsProjection]

#: Engines whose tables exist (weakly held: a new engine may reuse a closed one's ``id``).
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def register(cls: type[Projection]) -> type[Projection]:
    """Add a projection class (usable as a decorator); names must be unique."""
    if any(p.name == cls.name for p in PROJECTIONS if p is not cls):
        raise ValueError(f"a projection named {cls.name!r} is already registered")
    if cls not in PROJECTIONS:
        PROJECTIONS.append(cls)
    return cls


def names() -> list[str]:
    """Names of every registered projection."""
    return [p.name for p in PROJECTIONS]


def _select(only: Sequence[str] | None) -> list[Projection]:
    if only:
        unknown = sorted(set(only) - set(names()))
        if unknown:
            raise NotFound(
                f"no projection named {', '.join(unknown)}",
                f"projections are: {', '.join(names())}",
            )
    return [p() for p in PROJECTIONS if not only or p.name in only]


def ensure_tables(engine: Engine) -> None:
    """Create the projection tables if they are missing (once per engine).

    Done under the catch-up lock (SQLite's write lock taken up front, a
    PostgreSQL advisory lock): a first read while a writer commits then waits
    its turn instead of failing with "database is locked" when its read
    snapshot goes stale, and two first reads never race to create a table.
    """
    if engine in _ready:
        return
    with _locked(engine) as conn:
        inspector = inspect(conn)
        if inspector.has_table(positions.name):
            have = {c["name"] for c in inspector.get_columns(positions.name)}
            if have != {c.name for c in positions.columns}:
                # Tables from an older layout of the read side: derived data, so start again.
                metadata.drop_all(conn, checkfirst=True)
        metadata.create_all(conn, checkfirst=True)
    _ready.add(engine)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the catch-up lock (and, on SQLite, the write lock)."""
    with engine.connect() as conn:
        conn.execution_options(ledger_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            yield conn


def _positions(conn: Connection) -> dict[str, tuple[int, int]]:
    return {r.name: (int(r.position), int(r.processed)) for r in conn.execute(select(positions))}


def _reset(conn: Connection, projection: Projection) -> None:
    """Drop and recreate a projection's tables and forget its position."""
    for table in reversed(projection.tables):
        table.drop(conn, checkfirst=True)
    for table in projection.tables:
        table.create(conn, checkfirst=True)
    conn.execute(delete(positions).where(positions.c.name == projection.name))


def _upgrade(engine: Engine, projections: list[Projection]) -> None:
    """Rebuild from scratch any projection whose tables changed since its rows were made."""
    with _locked(engine) as conn:
        stored = {r.name: r.schema for r in conn.execute(select(positions.c.name, positions.c.schema))}
        for projection in projections:
            if projection.name in stored and stored[projection.name] != projection.schema():
                _reset(conn, projection)


def _track(conn: Connection, name: str, position: int, processed: int, known: bool, now: str) -> None:
    """Record how far ``name`` got (and when, ``now`` by the ledger's clock), in the batch's transaction."""
    schema = next(p.schema() for p in PROJECTIONS if p.name == name)
    values = {"position": position, "processed": processed, "updated_at": now, "schema": schema}
    if known:
        conn.execute(update(positions).where(positions.c.name == name).values(**values))
    else:
        conn.execute(insert(positions).values(name=name, **values))


def _read_batch(conn: Connection, events: Table, start: int, size: int) -> list[Entry]:
    rows = conn.execute(
        select(events.c.id, events.c.state, merkle_leaves.c.leaf_index)
        .select_from(events.outerjoin(merkle_leaves, merkle_leaves.c.notification_id == events.c.id))
        .where(events.c.id > start)
        .order_by(events.c.id)
        .limit(size)
    ).all()
    batch = []
    for row in rows:
        try:
            parsed = envelope.parse(bytes(row.state))
        except VerificationFailed as exc:
            raise VerificationFailed(
                f"entry {row.id} cannot be indexed: {exc}",
                "the stored log is damaged: run `ledger verify` and restore from backup",
            ) from None
        leaf = int(row.leaf_index) if row.leaf_index is not None else None
        batch.append(Entry(int(row.id), leaf, parsed.header, parsed.erased))
    return batch


def _apply(conn: Connection, projections: list[Projection], batch: list[Entry],
           known: dict[str, tuple[int, int]], now: str) -> int:
    done = 0
    for projection in projections:
        position, processed = known.get(projection.name, (0, 0))
        todo = [e for e in batch if e.notification_id > position]
        if not todo:
            continue
        projection.begin(conn, todo)
        for entry in todo:
            projection.process(conn, entry)
            erased = entry.erased_records
            if erased:
                projection.erase(conn, erased, entry)
        projection.end(conn)
        _track(conn, projection.name, todo[-1].notification_id, processed + len(todo), projection.name in known, now)
        done = max(done, len(todo))
    return done


def catch_up(ledger: Ledger, only: Sequence[str] | None = None, batch: int = BATCH, quiet_for: float = 2.0) -> int:
    """Bring projections up to the end of the log; returns how many entries were applied.

    At a terminal a progress bar shows once the work has taken ``quiet_for`` seconds.
    """
    ensure_tables(ledger.engine)
    projections = _select(only)
    _upgrade(ledger.engine, projections)
    events = ledger.app.events_table
    total = 0
    shown = None
    try:
        while True:
            with _locked(ledger.engine) as conn:
                known = _positions(conn)
                start = min(known.get(p.name, (0, 0))[0] for p in projections)
                entries = _read_batch(conn, events, start, batch)
                if not entries:
                    return total
                if shown is None and progress.shown():
                    lag = conn.execute(select(func.count()).select_from(events).where(events.c.id > start)).scalar_one()
                    shown = progress.bar(int(lag), "projections", delay=quiet_for)
                total += _apply(conn, projections, entries, known, iso(ledger.now()))
            if shown is not None:
                shown.update(len(entries))
    finally:
        if shown is not None:
            shown.close()


def rebuild(ledger: Ledger, only: Sequence[str] | None = None, batch: int = BATCH) -> int:
    """Drop one or all projections' tables and replay the whole log into them."""
    ensure_tables(ledger.engine)
    projections = _select(only)
    with _locked(ledger.engine) as conn:
        for projection in projections:
            _reset(conn, projection)
    return catch_up(ledger, [p.name for p in projections], batch, quiet_for=0)


def status(ledger: Ledger) -> list[dict[str, Any]]:
    """Each projection's position, entries processed, lag behind the log, and when it last moved
    (in the federation's time zone)."""
    zone = ledger.timezone()
    ensure_tables(ledger.engine)
    events = ledger.app.events_table
    with ledger.engine.connect() as conn:
        known = _positions(conn)
        updated = {r.name: r.updated_at for r in conn.execute(select(positions.c.name, positions.c.updated_at))}
        latest = conn.execute(select(func.max(events.c.id))).scalar_one_or_none() or 0
        rows = []
        for cls in PROJECTIONS:
            position, processed = known.get(cls.name, (0, 0))
            lag = conn.execute(select(func.count()).select_from(events).where(events.c.id > position)).scalar_one()
            rows.append({
                "name": cls.name,
                "position": position,
                "log_end": int(latest),
                "processed": processed,
                "lag": int(lag),
                "updated_at": localtime.local_or_none(updated.get(cls.name), zone),
                "description": cls.description,
            })
    return rows
