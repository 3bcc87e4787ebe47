"""The entry index: every entry's clear facts, who it is about, what it links to.

This is the timeline's index. One row per entry with when it happened (and
how precisely that is known), when and by whom (with the roles they held at
that moment) it was recorded, its record, event type and clear claims; plus
the pseudonymous subjects it names, the other records its claims point at,
and short ids (``inc-1a2b3c4d``) resolved to record ids.

Roles "at the time" are replayed here from the same signed headers the
write-side registry uses (``ledger.registry.role_change``), so a rebuild gives
the same answer whatever has changed since.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Index,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from ledger.domain.base import record_id
from ledger.registry import role_change
from ledger.schema import BIG
from projections.checked import occurrence
from projections.base import KNOWN_KINDS, SHORT_ID_PATTERN, Entry, Projection, dumps, metadata

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

entries = Table(
    "proj_entries",
    metadata,
    Column("notification_id", BIG, primary_key=True, autoincrement=False),
    Column("leaf_index", BIG, nullable=True),
    Column("aggregate", String(36), nullable=False),
    Column("version", BIG, nullable=False),
    Column("topic", Text, nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("record_class", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_key", String(64), nullable=False),
    Column("actor_roles", String(200), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("happened_at", String(40), nullable=False),
    Column("precision", String(16), nullable=False),
    Column("happened_until", String(40), nullable=True),
    Column("late", Boolean, nullable=False),
    Column("claims", Text, nullable=True),
    Column("erased_at", String(40), nullable=True),
    Column("erased_by", BIG, nullable=True),
    Column("erasure_rule", String(200), nullable=True),
    Index("ix_proj_entries_aggregate", "aggregate", "version"),
    Index("ix_proj_entries_recorded", "recorded_at"),
    Index("ix_proj_entries_happened", "happened_at"),
    Index("ix_proj_entries_type", "event_type"),
)

entry_subjects = Table(
    "proj_entry_subjects",
    metadata,
    Column("notification_id", BIG, primary_key=True, autoincrement=False),
    Column("subject", String(64), primary_key=True),
    Column("recorded_at", String(40), nullable=False),
    Index("ix_proj_entry_subjects_subject", "subject", "recorded_at"),
)

entry_links = Table(
    "proj_entry_links",
    metadata,
    Column("notification_id", BIG, primary_key=True, autoincrement=False),
    Column("ref", String(64), primary_key=True),
    Column("aggregate", String(36), nullable=False),
    Index("ix_proj_entry_links_ref", "ref"),
    Index("ix_proj_entry_links_aggregate", "aggregate"),
)

aliases = Table(
    "proj_aliases",
    metadata,
    Column("alias", String(64), primary_key=True),
    Column("aggregate", String(36), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
)

actor_roles = Table(
    "proj_actor_roles",
    metadata,
    Column("actor_id", String(64), primary_key=True),
    Column("roles", Text, nullable=False),
    Column("active", Boolean, nullable=False),
)


def references(value: Any) -> set[str]:
    """Every record id or short id found in a claim value (lists and dicts too)."""
    found: set[str] = set()
    if isinstance(value, str):
        text = value.strip().lower()
        if UUID_PATTERN.match(text) or SHORT_ID_PATTERN.match(text):
            found.add(text)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for item in value.values():
            found |= references(item)
    return found


def own_alias(entry: Entry) -> tuple[str, str] | None:
    """The short id a record is known by, and its kind (see ``Entry.own_alias``)."""
    return entry.own_alias


class EntriesProjection(Projection):
    """One row per entry, with its subjects, links and the record's short id.

    Rows are buffered and written with one multi-row statement per table per
    batch (flushed early when an erasure in the batch needs them in place).
    """

    name = "entries"
    description = "every entry's clear facts: the timeline index"
    tables = (entries, entry_subjects, entry_links, aliases, actor_roles)

    def __init__(self) -> None:
        self._roles: dict[str, tuple[list[str], bool]] = {}
        self._changed: set[str] = set()
        self._rows: dict[Table, list[dict[str, Any]]] = {}
        self._names: dict[str, dict[str, Any]] = {}

    def begin(self, conn: Connection, batch: list[Entry]) -> None:
        self._roles = {
            r.actor_id: (json.loads(r.roles), bool(r.active)) for r in conn.execute(select(actor_roles))
        }
        self._changed = set()
        self._rows = {entries: [], entry_subjects: [], entry_links: []}
        self._names = {}

    def _flush(self, conn: Connection) -> None:
        for table, rows in self._rows.items():
            if rows:
                conn.execute(insert(table), rows)
                rows.clear()
        if self._names:
            wanted = sorted(self._names)
            known: set[str] = set()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                known |= {str(a) for (a,) in conn.execute(select(aliases.c.alias).where(aliases.c.alias.in_(chunk)))}
            fresh = [self._names[a] for a in wanted if a not in known]
            if fresh:
                conn.execute(insert(aliases), fresh)
            self._names = {}

    def end(self, conn: Connection) -> None:
        self._flush(conn)
        for actor_id in sorted(self._changed):
            held, active = self._roles[actor_id]
            conn.execute(delete(actor_roles).where(actor_roles.c.actor_id == actor_id))
            conn.execute(insert(actor_roles).values(actor_id=actor_id, roles=json.dumps(held), active=active))

    def _replay_roles(self, header: dict[str, Any]) -> None:
        change = role_change(header)
        if change is None:
            return
        staff_id, kind, named = change
        held, active = self._roles.get(staff_id, ([], True))
        if kind == "registered":
            held = named
        elif kind == "granted":
            held = sorted(set(held) | set(named))
        elif kind == "removed":
            held = [r for r in held if r not in named]
        else:
            active = False
        self._roles[staff_id] = (held, active)
        self._changed.add(staff_id)

    def process(self, conn: Connection, entry: Entry) -> None:
        header = entry.header
        actor = str(header["actor"])
        before = self._roles.get(actor)
        self._replay_roles(header)
        held = (before or self._roles.get(actor) or ([], True))[0]
        recorded_at = entry.recorded_at
        happened_at, precision, until, late = occurrence(header, recorded_at)
        claims = entry.claims
        nid = entry.notification_id
        self._rows[entries].append({
            "notification_id": nid,
            "leaf_index": entry.leaf_index,
            "aggregate": entry.aggregate,
            "version": entry.version,
            "topic": str(header["topic"]),
            "event_type": entry.event_type,
            "kind": entry.kind,
            "record_class": str(header["record_class"]),
            "actor": actor,
            "actor_key": str(header.get("actor_key", "")),
            "actor_roles": ",".join(held),
            "recorded_at": recorded_at,
            "happened_at": happened_at,
            "precision": precision,
            "happened_until": until,
            "late": late,
            "claims": dumps(claims) if claims else None,
        })
        for subject in sorted({str(s) for s in header.get("subjects") or []}):
            self._rows[entry_subjects].append({"notification_id": nid, "subject": subject, "recorded_at": recorded_at})
        named = own_alias(entry)
        for ref in sorted(references(claims) - {entry.aggregate, named[0] if named else ""}):
            self._rows[entry_links].append({"notification_id": nid, "ref": ref, "aggregate": entry.aggregate})
        if named is not None and named[0] not in self._names:
            self._names[named[0]] = {"alias": named[0], "aggregate": entry.aggregate, "kind": named[1]}

    def erase(self, conn: Connection, records: list[str], erasure: Entry) -> None:
        """Unlink erased records from people and other records; keep a bare marker row.

        The marker (record, type, times, who recorded it) is what the signed
        header still says; the claims, subjects and links go, and an erased
        person's id is removed from every entry that named them.
        """
        self._flush(conn)
        erased = entries.c.aggregate.in_(records)
        ids = select(entries.c.notification_id).where(erased)
        conn.execute(delete(entry_subjects).where(entry_subjects.c.notification_id.in_(ids)))
        conn.execute(delete(entry_links).where(entry_links.c.notification_id.in_(ids)))
        names = [a for (a,) in conn.execute(select(aliases.c.alias).where(aliases.c.aggregate.in_(records)))]
        if names:
            conn.execute(delete(entry_subjects).where(entry_subjects.c.subject.in_(names)))
        claims = erasure.claims
        rule = claims.get("basis") or claims.get("rule") or claims.get("ground")
        conn.execute(
            update(entries)
            .where(erased)
            .values(
                claims=None,
                erased_at=erasure.recorded_at,
                erased_by=erasure.notification_id,
                erasure_rule=str(rule)[:200] if rule else None,
            )
        )


def reset_signed(conn: Connection, aggregates: list[str], reset_keys: set[str]) -> dict[str, str]:
    """Record id -> who signed some of its entries with a key set by a reset (for registers)."""
    if not aggregates or not reset_keys:
        return {}
    found: dict[str, set[str]] = {}
    for start in range(0, len(aggregates), 500):
        rows = conn.execute(select(entries.c.aggregate, entries.c.actor).where(
            entries.c.aggregate.in_(aggregates[start:start + 500]), entries.c.actor_key.in_(sorted(reset_keys))))
        for aggregate, actor in rows:
            found.setdefault(str(aggregate), set()).add(str(actor))
    return {a: "entries by " + ", ".join(sorted(who)) + " signed with a reset key" for a, who in found.items()}


def resolve(conn: Connection, ref: str) -> str | None:
    """The record id behind a short id or record id, if the index knows it."""
    text = ref.strip().lower()
    if UUID_PATTERN.match(text):
        try:
            text = str(uuid.UUID(text))
        except ValueError:
            return None
        found = conn.execute(select(entries.c.aggregate).where(entries.c.aggregate == text).limit(1)).first()
        return text if found else None
    row = conn.execute(select(aliases.c.aggregate).where(aliases.c.alias == ref.strip())).first()
    if row is not None:
        return str(row[0])
    candidates = [str(record_id(kind, ref.strip())) for kind in KNOWN_KINDS]
    found = conn.execute(select(entries.c.aggregate).where(entries.c.aggregate.in_(candidates)).limit(1)).first()
    return str(found[0]) if found else None


def aliases_of(conn: Connection, aggregates: list[str]) -> dict[str, str]:
    """Record id -> its short id, for those that have one."""
    if not aggregates:
        return {}
    rows = conn.execute(select(aliases.c.aggregate, aliases.c.alias).where(aliases.c.aggregate.in_(aggregates)))
    found: dict[str, str] = {}
    for aggregate, alias in rows:
        found.setdefault(str(aggregate), str(alias))
    return found
