"""Crypto-shredding: destroy a record's keys, scrub its bodies and files.

Runs inside the unit that appends the erasure entry, so the shredding and
its signed record commit together. Headers and signatures stay: every leaf,
proof and checkpoint remains valid, and ``verify`` accepts the empty bodies
because the erasure entry names the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, bindparam, delete, or_, select, text, update

from ledger import signed_records
from ledger.errors import VerificationFailed
from ledger.registry import Registry
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


def shred_all(conn: Connection, events: Table, registry: Registry, record_ids: list[str],
              now: str) -> dict[str, Shredded]:
    """Destroy every wrap of these records' data keys, scrub their entries and delete their
    files: a few statements per table, whatever their number.

    What is erased is decided from the records' own signed entries, each checked against its
    signer's key: a record's class is that of its first entry, and its keys are those its entries
    name (header ``data_key``). The ``data_keys`` rows are not trusted for either: whoever can edit
    them would otherwise choose the class an erasure is judged by (and so who may erase), or point
    another record's key at an erased one and have it destroyed. A key row that claims one of these
    records although none of its entries used that key stops the erasure, naming both, before
    anything is destroyed.
    """
    found: dict[str, Shredded] = {}
    for start in range(0, len(record_ids), CHUNK):
        found.update(_shred_chunk(conn, events, registry, record_ids[start:start + CHUNK], now))
    return found


def _shred_chunk(conn: Connection, events: Table, registry: Registry, record_ids: list[str],
                 now: str) -> dict[str, Shredded]:
    stored: list[signed_records.StoredEntry] = []
    signed = signed_records.read(conn, events, registry, record_ids, stored)
    scrubbed = {r: 0 for r in record_ids}
    bodies = []
    for item in stored:
        if not item.entry.erased:
            bodies.append({"row": item.row, "scrubbed": item.entry.without_body().to_bytes()})
            scrubbed[item.record] += 1
    ours = {k: r for r, facts in signed.items() for k in facts.keys}
    rows = conn.execute(select(data_keys.c.record_id, data_keys.c.key_id, data_keys.c.destroyed_at)
                        .where(or_(data_keys.c.record_id.in_(record_ids), data_keys.c.key_id.in_(sorted(ours)))))
    destroyed: set[str] = set()
    for record, key_id, was_destroyed in rows:
        if str(record) in signed and ours.get(str(key_id)) != str(record):
            raise VerificationFailed(
                f"data key {key_id} is filed under record {record}, but no signed entry of record {record} "
                "was written with it (data_keys row moved?): erasing the record would destroy another "
                "record's key", signed_records.HINT)
        if was_destroyed is not None:
            destroyed.add(str(key_id))
    keys = {r: [k for k in facts.keys if k not in destroyed] for r, facts in signed.items()}
    live = [k for r in record_ids for k in keys[r]]
    if live:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(live)))
        conn.execute(update(data_keys).where(data_keys.c.key_id.in_(live)).values(destroyed_at=now))
    if bodies:
        conn.execute(update(events).where(events.c.id == bindparam("row")).values(state=bindparam("scrubbed")), bodies)
    files: dict[str, int] = {r: 0 for r in record_ids}
    for (record,) in conn.execute(select(attachments.c.record_id).where(attachments.c.record_id.in_(record_ids))):
        files[str(record)] += 1
    if any(files.values()):
        conn.execute(delete(attachments).where(attachments.c.record_id.in_(record_ids)))
    return {r: Shredded(keys[r], scrubbed[r], files[r], sorted(signed[r].subjects), signed[r].record_class)
            for r in record_ids}


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
