"""Comparing the read models with a fresh replay of the log: drift is named, never trusted.

Every projection is rebuilt from the log into a scratch SQLite file, up to the
position the stored projection says it reached, and the two are compared
table by table in primary-key order. A row that differs, is missing or
should not be there is named with its table and key; ``ledger projections
rebuild`` repairs them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, create_engine, select

from ledger.clock import iso
from ledger.store import Ledger
from projections import runner
from projections.base import Projection, metadata

#: Differences named per table before the rest are only counted.
SHOWN_PER_TABLE = 10


@dataclass(frozen=True)
class Drift:
    """One difference between a stored read model and the replay."""

    table: str
    key: tuple[Any, ...]
    problem: str

    def describe(self) -> str:
        """One line naming the table, the row (its primary key) and what is wrong."""
        if not self.key:
            return f"{self.table}: {self.problem}"
        return f"{self.table}: the row ({', '.join(map(str, self.key))}) {self.problem}"


def audit(ledger: Ledger) -> list[Drift]:
    """Every difference between the stored projections and a replay of the log up to their positions."""
    runner.ensure_tables(ledger.engine)
    with ledger.engine.connect() as conn:
        reached = {name: position for name, (position, _) in runner._positions(conn).items()}
    projections = [cls() for cls in runner.PROJECTIONS if cls.name in reached]
    if not projections:
        return []
    with tempfile.TemporaryDirectory(prefix="ledger-audit-") as folder:
        scratch = create_engine(f"sqlite:///{Path(folder) / 'replay.db'}")
        try:
            metadata.create_all(scratch)
            _replay(ledger, scratch.connect(), projections, reached)
            with ledger.engine.connect() as live, scratch.connect() as replayed:
                return [d for p in projections for t in p.tables for d in _compare(live, replayed, t)]
        finally:
            scratch.dispose()


def _replay(ledger: Ledger, scratch: Connection, projections: list[Projection], reached: dict[str, int]) -> None:
    events = ledger.app.events_table
    start, end = 0, max(reached.values())
    now = iso(ledger.now())
    known: dict[str, tuple[int, int]] = {}
    with ledger.engine.connect() as live:
        while start < end:
            batch = runner._read_batch(live, events, start, runner.BATCH)
            if not batch:
                break
            with scratch.begin():
                for projection in projections:
                    mine = [e for e in batch if e.notification_id <= reached[projection.name]]
                    if mine:
                        runner._apply(scratch, [projection], mine, known, now)
                        known[projection.name] = (mine[-1].notification_id, 0)
            start = batch[-1].notification_id
    scratch.close()


def _rows(conn: Connection, table: Table) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    keys = list(table.primary_key.columns) or list(table.columns)
    for row in conn.execute(select(table).order_by(*keys)).yield_per(2000):
        yield tuple(row._mapping[c.name] for c in keys), tuple(_plain(v) for v in row)


def _plain(value: Any) -> Any:
    return bool(value) if isinstance(value, bool) else value


def _compare(live: Connection, replayed: Connection, table: Table) -> list[Drift]:
    found: list[Drift] = []
    stored, fresh = _rows(live, table), _rows(replayed, table)
    a, b = next(stored, None), next(fresh, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            found.append(Drift(table.name, a[0], "is not produced by a replay of the log (added or altered)"))  # type: ignore[index]
            a = next(stored, None)
        elif a is None or b[0] < a[0]:
            found.append(Drift(table.name, b[0], "is missing (deleted from the read model)"))
            b = next(fresh, None)
        else:
            if a[1] != b[1]:
                columns = [c.name for c, x, y in zip(table.columns, a[1], b[1]) if x != y]
                found.append(Drift(table.name, a[0], f"differs from a replay of the log in {', '.join(columns)}"))
            a, b = next(stored, None), next(fresh, None)
    if len(found) > SHOWN_PER_TABLE:
        rest = len(found) - SHOWN_PER_TABLE
        found = found[:SHOWN_PER_TABLE] + [Drift(table.name, (), f"… and {rest} more differences")]
    return found
