"""Crypto-shredding: destroy a record's keys, scrub its bodies and files.

Runs inside the unit that appends the erasure entry, so the shredding and
its signed record commit together. Headers and signatures stay: every leaf,
proof and checkpoint remains valid, and ``verify`` accepts the empty bodies
because the erasure entry names the record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Table, bindparam, delete, select, text, update

from ledger import envelope
from ledger.schema import attachments, data_keys, key_wraps


@dataclass(frozen=True)
class Shredded:
    """What one erasure destroyed."""

    keys: list[str]
    entries: int
    files: int
    subjects: list[str]
    record_class: str | None


#: Records shredded per statement (bounds the ``IN`` lists).
CHUNK = 500


def shred_all(conn: Connection, events: Table, record_ids: list[str], now: str) -> dict[str, Shredded]:
    """Destroy every wrap of these records' data keys, scrub their entries and delete their
    files: a few statements per table, whatever their number."""
    found: dict[str, Shredded] = {}
    for start in range(0, len(record_ids), CHUNK):
        found.update(_shred_chunk(conn, events, record_ids[start:start + CHUNK], now))
    return found


def _shred_chunk(conn: Connection, events: Table, record_ids: list[str], now: str) -> dict[str, Shredded]:
    keys: dict[str, list[str]] = {r: [] for r in record_ids}
    classes: dict[str, str] = {}
    rows = conn.execute(
        select(data_keys.c.record_id, data_keys.c.key_id, data_keys.c.record_class, data_keys.c.destroyed_at)
        .where(data_keys.c.record_id.in_(record_ids))
        .order_by(data_keys.c.created_at, data_keys.c.key_id)
    )
    for record, key_id, record_class, destroyed in rows:
        classes.setdefault(str(record), str(record_class))  # the class it was created with (as record_class_of)
        if destroyed is None:
            keys[str(record)].append(str(key_id))
    live = [k for r in record_ids for k in keys[r]]
    if live:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(live)))
        conn.execute(update(data_keys).where(data_keys.c.key_id.in_(live)).values(destroyed_at=now))
    scrubbed = {r: 0 for r in record_ids}
    subjects: dict[str, set[str]] = {r: set() for r in record_ids}
    bodies = []
    stored = conn.execute(select(events.c.id, events.c.originator_id, events.c.state)
                          .where(events.c.originator_id.in_([uuid.UUID(r) for r in record_ids])))
    for row in stored:
        record = str(row.originator_id)
        entry = envelope.parse(bytes(row.state))
        subjects[record].update(entry.header.get("subjects") or [])
        if not entry.erased:
            bodies.append({"row": row.id, "scrubbed": entry.without_body().to_bytes()})
            scrubbed[record] += 1
    if bodies:
        conn.execute(update(events).where(events.c.id == bindparam("row")).values(state=bindparam("scrubbed")), bodies)
    files: dict[str, int] = {r: 0 for r in record_ids}
    for (record,) in conn.execute(select(attachments.c.record_id).where(attachments.c.record_id.in_(record_ids))):
        files[str(record)] += 1
    if any(files.values()):
        conn.execute(delete(attachments).where(attachments.c.record_id.in_(record_ids)))
    return {r: Shredded(keys[r], scrubbed[r], files[r], sorted(subjects[r]), classes.get(r)) for r in record_ids}


def purge_free_space(conn: Connection, dialect: str, tables: list[str]) -> None:
    """After commit: push scrubbed bytes out of the database files.

    SQLite runs with ``secure_delete`` (freed pages are zeroed); this also
    truncates the write-ahead log so old page images leave it. PostgreSQL
    rewrites the key wrap table (small) so destroyed wraps leave its files,
    and vacuums the others so dead row versions are reclaimed.
    """
    if dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    conn.execute(text(f"VACUUM FULL {key_wraps.name}"))
    for table in tables:
        conn.execute(text(f'VACUUM "{table}"'))
