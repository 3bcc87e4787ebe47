"""Crypto-shredding: destroy a record's keys, scrub its bodies and files.

Runs inside the unit that appends the erasure entry, so the shredding and
its signed record commit together. Headers and signatures stay: every leaf,
proof and checkpoint remains valid, and ``verify`` accepts the empty bodies
because the erasure entry names the record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, select, text, update

from ledger import envelope, keystore
from ledger.schema import attachments, data_keys, key_wraps


@dataclass(frozen=True)
class Shredded:
    """What one erasure destroyed."""

    keys: list[str]
    entries: int
    files: int
    subjects: list[str]
    record_class: str | None


def shred(conn: Connection, events: Table, record_id: str, now: str) -> Shredded:
    """Destroy every wrap of ``record_id``'s data keys and scrub its entries."""
    keys = keystore.keys_of_record(conn, record_id)
    record_class = keystore.record_class_of(conn, record_id)
    if keys:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(keys)))
        conn.execute(update(data_keys).where(data_keys.c.key_id.in_(keys)).values(destroyed_at=now))
    scrubbed, subjects = 0, set[str]()
    rows = conn.execute(
        select(events.c.id, events.c.state).where(events.c.originator_id == uuid.UUID(record_id))
    ).all()
    for row in rows:
        entry = envelope.parse(bytes(row.state))
        subjects.update(entry.header.get("subjects") or [])
        if not entry.erased:
            conn.execute(update(events).where(events.c.id == row.id).values(state=entry.without_body().to_bytes()))
            scrubbed += 1
    files = conn.execute(delete(attachments).where(attachments.c.record_id == record_id)).rowcount or 0
    return Shredded(keys, scrubbed, int(files), sorted(subjects), record_class)


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
