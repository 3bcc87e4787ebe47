"""Entries as a reader sees them: loaded from the log and checked, never taken from the index.

The read models only *select* what to show. Every fact a person reads about
an entry (when it was recorded, when it happened and how precisely, who
recorded it, what kind of entry it is, which version of its record) comes
from the stored entry itself, whose signature is checked here against the
key the registry (replayed from signed entries) registered to its signer.
Where the index says something else, or lacks the entry, the row says so;
where a record's versions are not 1, 2, 3… the missing ones are named.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from ledger import envelope
from ledger.errors import VerificationFailed
from ledger.registry import Registry, role_change, staff_aggregate
from ledger.roles import event_name
from ledger.schema import merkle_leaves
from projections.base import utc

#: Recorded more than this long after it happened: flagged as late.
LATE_AFTER = dt.timedelta(hours=24)

CHUNK = 500


@dataclass
class LogEntry:
    """One stored entry, parsed and checked."""

    notification_id: int
    leaf: int | None
    aggregate: str
    version: int
    topic: str
    state: bytes
    header: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    reset: dict[str, Any] | None = None
    drift: list[str] = field(default_factory=list)
    #: The roles its signer held when it was signed (comma-joined), once :func:`signer_roles` ran.
    roles: str | None = None
    #: Whether its body was scrubbed by an erasure (set by :func:`check` once parsed).
    erased: bool = False

    @property
    def checked(self) -> bool:
        """Parsed, and signed by a key the registry registered to its signer."""
        return not self.problem

    @property
    def event_type(self) -> str:
        """``Aggregate.Event``."""
        return event_name(self.topic)

    @property
    def kind(self) -> str:
        """The aggregate class name."""
        return self.event_type.split(".", 1)[0]

    @property
    def claims(self) -> dict[str, Any]:
        """The signed clear claims."""
        value = self.header.get("claims") or {}
        return value if isinstance(value, dict) else {}

    @property
    def actor(self) -> str:
        """Who signed it."""
        return str(self.header.get("actor", ""))

    @property
    def recorded_at(self) -> str:
        """When it was recorded (normalised UTC)."""
        return utc(str(self.header["recorded_at"])) if self.header.get("recorded_at") else ""

    @property
    def signed_with(self) -> str:
        """What the reader must be told about the key that signed it (a reset key says so)."""
        return signed_with(self.reset)

    @property
    def record_class(self) -> str:
        """Its record class."""
        return str(self.header.get("record_class", ""))

    def occurrence(self) -> tuple[str, str, str | None, bool]:
        """(happened at, precision, until, late), from the signed header."""
        return occurrence(self.header, self.recorded_at)


def signed_with(reset: dict[str, Any] | None) -> str:
    """The marker every view shows beside an entry signed with a key set by a reset."""
    if not reset:
        return ""
    return f"a reset key (proposed by {reset['proposed_by']}, approved by {reset['approved_by']})"


def occurrence(header: dict[str, Any], recorded_at: str) -> tuple[str, str, str | None, bool]:
    """(happened at, precision, until, late) from a header's ``occurred_at``.

    Without an occurrence the entry happened when it was recorded (a decision,
    an acknowledgement). Late means recorded more than 24 hours after the
    latest moment it can have happened: the end of a range, the end of the day
    for day precision, else the stated time.
    """
    occurred = header.get("occurred_at")
    if not isinstance(occurred, dict) or not occurred.get("at"):
        return recorded_at, "recorded", None, False
    at = utc(str(occurred["at"]))
    precision = str(occurred.get("precision") or "exact")
    until = utc(str(occurred["until"])) if occurred.get("until") else None
    latest = dt.datetime.fromisoformat(until or at)
    if until is None and precision == "day":
        latest += dt.timedelta(days=1)
    late = dt.datetime.fromisoformat(recorded_at) - latest > LATE_AFTER
    return at, precision, until, late


def check(entry: LogEntry, registry: Registry) -> None:
    """Parse ``entry`` and check its signature against the registry (sets ``problem``)."""
    try:
        sealed = envelope.parse(entry.state)
    except VerificationFailed as exc:
        entry.problem = f"the stored entry is unreadable: {exc}"
        return
    entry.header = sealed.header
    entry.erased = sealed.erased
    if (sealed.header.get("aggregate"), sealed.header.get("version"), sealed.header.get("topic")) != (
            entry.aggregate, entry.version, entry.topic):
        entry.problem = "the stored entry belongs to another record or version (moved or swapped)"
        return
    actor, key_id = str(sealed.header.get("actor")), str(sealed.header.get("actor_key"))
    if actor == registry.recovery_actor:
        public = registry.recovery_signing_public()
    else:
        fact = registry.keys.get(key_id)
        public = fact.public if fact is not None and fact.owner == actor else None
        entry.reset = fact.reset if fact is not None else None
    if public is None:
        entry.problem = f"signed by key {key_id}, which the registry does not give to {actor}"
        return
    try:
        envelope.verify_signature(sealed, public)
    except VerificationFailed:
        entry.problem = "its signature does not verify: the stored entry was altered"


def load(conn: Connection, events: Table, registry: Registry, aggregates: Iterable[str]) -> dict[str, list[LogEntry]]:
    """Every stored entry of these records, in version order, each checked."""
    ids = sorted({uuid.UUID(a) for a in aggregates})
    found: dict[str, list[LogEntry]] = {}
    for start in range(0, len(ids), CHUNK):
        for entry in load_where(conn, events, registry, events.c.originator_id.in_(ids[start:start + CHUNK])):
            found.setdefault(entry.aggregate, []).append(entry)
    for entries in found.values():
        entries.sort(key=lambda e: e.version)
    return found


def checked_entries(conn: Connection, events: Table, registry: Registry, condition: Any,
                    batch: int = 2000) -> Iterator[LogEntry]:
    """The entries matching ``condition``, in log order, each checked against its signer's key
    and sealed into the log. Services that decide from clear headers (what is due for erasure,
    which alerts wait, who acknowledged) read them here: an entry anyone with the database wrote
    or rewrote stops the reading, naming it, instead of deciding anything."""
    last = -1
    while True:
        rows = conn.execute(
            select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state,
                   merkle_leaves.c.leaf_index)
            .select_from(events.outerjoin(merkle_leaves, merkle_leaves.c.notification_id == events.c.id))
            .where(condition, events.c.id > last).order_by(events.c.id).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            entry = LogEntry(int(row.id), None if row.leaf_index is None else int(row.leaf_index),
                             str(row.originator_id), int(row.originator_version), str(row.topic), bytes(row.state))
            check(entry, registry)
            if entry.checked and entry.leaf is None:
                entry.problem = "it was never sealed: written into the database outside the ledger"
            if not entry.checked:
                raise VerificationFailed(
                    f"the stored entry {entry.event_type} v{entry.version} of record {entry.aggregate} fails its "
                    f"checks: {entry.problem}",
                    "nothing was decided from it: run `ledger verify --trust trust.json` and restore the row",
                )
            yield entry
        last = int(rows[-1].id)


def signer_roles(conn: Connection, events: Table, registry: Registry, shown: Iterable[LogEntry]) -> None:
    """Set each entry's ``roles``: what its signer held just before it, from their own staff record.

    The signers' staff records are loaded and checked like any other entries,
    and their role changes (registered, granted, removed) replayed in log
    order up to each entry; an entry or change not sealed into the log counts
    for nothing. The read model's ``actor_roles`` is never consulted.
    """
    shown = list(shown)
    actors = {e.actor for e in shown if e.header}
    staff = load(conn, events, registry, [staff_aggregate(a) for a in actors])
    changes: dict[str, list[tuple[int, str, list[str]]]] = {}
    for items in staff.values():
        for item in items:
            change = role_change(item.header) if item.checked else None
            if change is not None and item.leaf is not None and change[0] in actors:
                changes.setdefault(change[0], []).append((item.leaf, change[1], change[2]))
    for entry in shown:
        held: list[str] = []
        for leaf, kind, named in sorted(changes.get(entry.actor, [])):
            if entry.leaf is not None and leaf >= entry.leaf:
                break
            if kind == "registered":
                held = sorted(named)
            elif kind == "granted":
                held = sorted(set(held) | set(named))
            elif kind == "removed":
                held = [r for r in held if r not in named]
        entry.roles = ",".join(held)


def load_where(conn: Connection, events: Table, registry: Registry, condition: Any) -> list[LogEntry]:
    """The stored entries matching ``condition`` (on the events table), each checked."""
    rows = conn.execute(
        select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state,
               merkle_leaves.c.leaf_index)
        .select_from(events.outerjoin(merkle_leaves, merkle_leaves.c.notification_id == events.c.id))
        .where(condition)
    ).all()
    found = []
    for row in rows:
        entry = LogEntry(int(row.id), None if row.leaf_index is None else int(row.leaf_index),
                         str(row.originator_id), int(row.originator_version), str(row.topic), bytes(row.state))
        check(entry, registry)
        if entry.leaf is None and not entry.problem:
            entry.problem = "it was never sealed: written into the database outside the ledger"
        found.append(entry)
    return found


def missing_versions(entries: list[LogEntry]) -> list[int]:
    """Versions of one record absent from the log below its highest one."""
    have = {e.version for e in entries}
    return [v for v in range(1, max(have, default=0) + 1) if v not in have]


#: Index columns compared with the signed entry, and how to read the entry's value.
COMPARED = ("recorded_at", "actor", "topic", "version", "happened_at", "precision", "happened_until")


def compare(entry: LogEntry, row: Any | None) -> None:
    """Note in ``entry.drift`` where the index row disagrees with the signed entry."""
    if row is None:
        entry.drift.append("missing from the read model")
        return
    if not entry.header:
        return
    happened, precision, until, _ = entry.occurrence()
    signed = {
        "recorded_at": entry.recorded_at, "actor": entry.actor, "topic": entry.topic, "version": entry.version,
        "happened_at": happened, "precision": precision, "happened_until": until,
    }
    differs = [name for name in COMPARED if str(getattr(row, name)) != str(signed[name])]
    if entry.roles is not None and str(row.actor_roles) != entry.roles:
        differs.append("actor_roles")
    if differs:
        entry.drift.append("the read model differs from the log in " + ", ".join(differs))
