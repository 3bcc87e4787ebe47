"""What records' own signed entries say of them: their class and the data keys they were written with.

The ``data_keys`` rows name a key's record and class, but nobody signs them: whoever can edit the
database could relabel a safeguarding record's key as another class, or file one record's key under
another record. Whatever decides from a key's record or class (who may erase it, which keys an
erasure destroys, which keys a reader role's first key is given) asks this module instead, which
reads the records' entries and checks each against its signer's key.

The services' checked reader (``projections.checked.load``) is not used here: it also requires
each entry to be sealed into the log, and a reader role's first key is caught up inside the unit
that writes the records' first entries (set-up), before they are sealed; and ``ledger`` does not
import ``projections``. Sealing is ``verify``'s to check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, select

from ledger import envelope
from ledger.errors import VerificationFailed
from ledger.mapper import check_signed
from ledger.registry import Registry

#: What a refusal on a doctored row tells the person to do.
HINT = "nothing was written: run `ledger verify --trust trust.json` and restore the rows from a backup"


@dataclass
class SignedRecord:
    """One record as its signed entries describe it."""

    record_class: str | None = None
    keys: list[str] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class StoredEntry:
    """One checked entry of those records, with the row it was read from."""

    record: str
    row: int
    entry: envelope.Envelope


def read(conn: Connection, events: Table, registry: Registry, record_ids: list[str],
         entries: list[StoredEntry] | None = None) -> dict[str, SignedRecord]:
    """Each record's class (its first entry's) and keys (its entries' ``data_key``), every entry
    checked against its signer's key; a record missing a version is refused. ``entries``, when
    given, receives each checked entry (erasure scrubs them)."""
    signed: dict[str, SignedRecord] = {r: SignedRecord() for r in record_ids}
    for item in _checked(conn, events, registry, record_ids):
        facts = signed[item.record]
        version = int(item.entry.header["version"])
        if version == 1:
            facts.record_class = str(item.entry.header["record_class"])
        facts.versions.add(version)
        key_id = str(item.entry.header["data_key"])
        if key_id not in facts.keys:
            facts.keys.append(key_id)
        facts.subjects.update(item.entry.header.get("subjects") or [])
        if entries is not None:
            entries.append(item)
    for record, facts in signed.items():
        gone = [v for v in range(1, max(facts.versions, default=0) + 1) if v not in facts.versions]
        if gone:
            raise VerificationFailed(f"record {record} lacks version(s) {', '.join(map(str, gone))} in the log", HINT)
    return signed


def _checked(conn: Connection, events: Table, registry: Registry, record_ids: list[str]) -> Iterator[StoredEntry]:
    stored = conn.execute(select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic,
                                 events.c.state)
                          .where(events.c.originator_id.in_([uuid.UUID(r) for r in record_ids]))
                          .order_by(events.c.originator_id, events.c.originator_version))
    for row in stored:
        record = str(row.originator_id)
        entry = envelope.parse(bytes(row.state))
        check_signed(entry, record, int(row.originator_version), str(row.topic), registry)
        yield StoredEntry(record, int(row.id), entry)
