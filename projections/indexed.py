"""Lists served from the read models, their facts from checked entries.

A list command (incidents, approvals, acknowledgements, holds, filtering
decisions, the retention plan) must not scan the whole log at a million
entries. The entry index (``proj_entries``, indexed by event type) *selects*
which records or entries a list covers; what a person then reads comes from
the stored entries themselves, loaded by id and signature-checked here (or
replayed by the store's checked ``get``), never from the index's copy.

So the index is trusted only to be complete: a row removed from it would hide
a record from a list until ``ledger verify`` (which replays the log and
compares every projection) or ``ledger projections rebuild`` puts it back.
That is the threat model's "read models select, entries speak" rule.
The write side never uses this module: its rule checks read the log.
"""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, select

from ledger.errors import VerificationFailed
from ledger.registry import Registry
from ledger.roles import event_name
from projections.checked import CHUNK, LogEntry, load_where
from projections.entries import entries


def started_by(conn: Connection, event_types: Iterable[str]) -> list[str]:
    """Records with an entry of one of ``event_types`` (``Aggregate.Event``), oldest first.

    Sorted here, not by ``ORDER BY``: with table statistics (``ANALYZE``) SQLite would rather
    walk the whole table in id order than sort what the event-type index finds."""
    rows = conn.execute(
        select(entries.c.notification_id, entries.c.aggregate).where(entries.c.event_type.in_(sorted(set(event_types))))
    )
    return list(dict.fromkeys(str(aggregate) for _, aggregate in sorted(rows)))


def checked_entries(conn: Connection, events: Table, registry: Registry, event_types: Iterable[str]) -> list[LogEntry]:
    """Every entry of ``event_types`` the index lists, oldest first, each loaded from the
    log and checked; an entry that fails its checks stops the list (run ``ledger verify``)."""
    ids = sorted(int(n) for (n,) in conn.execute(
        select(entries.c.notification_id).where(entries.c.event_type.in_(sorted(set(event_types))))
    ))
    found: list[LogEntry] = []
    for start in range(0, len(ids), CHUNK):
        for entry in load_where(conn, events, registry, events.c.id.in_(ids[start:start + CHUNK])):
            if entry.problem:
                raise VerificationFailed(f"entry {entry.notification_id} of record {entry.aggregate}: {entry.problem}",
                                         "run `ledger verify` and restore from a backup")
            found.append(entry)
    missing = set(ids) - {e.notification_id for e in found}
    if missing:
        raise VerificationFailed(f"{len(missing)} entries the index lists are missing from the log",
                                 "run `ledger verify`")
    return sorted(found, key=lambda e: e.notification_id)


def types_of(*created: type) -> list[str]:
    """The ``Aggregate.Event`` names of event classes, as the entry index stores them."""
    return [event_name(get_topic(cls)) for cls in created]
