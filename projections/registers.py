"""Registers: the lists the Headteacher and DSL work from, built on the indexes.

A :class:`Register` is a name, a title and a function from a
:class:`RegisterContext` to rows. Workflows plug theirs in with :func:`add`;
each reads the record index (which records exist, of what kind and class)
and, where the rules live in the domain, the record's clear state (replayed
from signed headers only, exactly as the write side checks its rules), so a
register and the command that enforces a rule can never disagree.

Rows show pseudonymous ids and clear facts. A register that shows decrypted
content (the access log's reasons) says so with ``shows_personal_data``: the
read side then asks for a reason and records the read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, or_, select

from ledger import envelope, localtime
from ledger.schema import merkle_leaves
from ledger.clock import iso
from ledger.domain.access import AccessRecord
from ledger.errors import NotFound
from ledger.keystore import KeyRing
from ledger.registry import Registry
from ledger.roles import Permissions
from projections import checked
from projections.access_log import access_rows
from projections.entries import reset_signed, aliases_of, resolve
from projections.reading import SHOWN, Reader, load_states
from projections.records import record_rows, records


#: Clear claims of a record's first entry that give its short id.
ALIAS_CLAIMS = ("inc_id", "request_id")


@dataclass(frozen=True)
class RegisterContext:
    """What a register may use: the connection, the reader, the clock and the federation's
    time zone, options."""

    conn: Connection
    events: Table
    ledger_id: str
    reader_id: str
    reader_roles: frozenset[str]
    keyring: KeyRing | None
    now: str
    load: Callable[[str], Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    reset_keys: frozenset[str] = frozenset()
    registry: Registry | None = None

    @property
    def describing(self) -> bool:
        """Whether rows carry a one-line description (the reader gave a reason; the read is logged)."""
        return bool(self.option("describe")) and self.registry is not None

    def headlines(self, aggregates: list[str]) -> dict[str, str]:
        """Record -> one line saying what it is, from its checked, signed first entry.

        A record the reader may not open, or whose first entry fails its
        checks, gets a bracketed word saying so, never the index's text.
        """
        if not self.describing or not aggregates or self.registry is None:
            return {}
        logged = checked.load(self.conn, self.events, self.registry, aggregates)
        opener = Reader(self.conn, self.ledger_id, self.keyring)
        found: dict[str, str] = {}
        for aggregate in aggregates:
            first = next((e for e in logged.get(aggregate, []) if e.version == 1), None)
            if first is None or not first.checked:
                found[aggregate] = "(not verified)"
                continue
            opened = opener.open(first.state, aggregate, 1, first.topic)
            headline = getattr(opened.event, "headline", None) if opened.status == SHOWN else None
            found[aggregate] = one_line(str(headline())) if callable(headline) else f"({opened.status})"
        return found
    zone: dt.tzinfo = localtime.UTC

    def reset_marks(self, aggregates: list[str]) -> dict[str, str]:
        """Record id -> a note when some of its entries were signed with a key set by a reset."""
        return reset_signed(self.conn, aggregates, set(self.reset_keys))

    @property
    def today(self) -> str:
        """Today's date in the federation's time zone, as YYYY-MM-DD."""
        return localtime.today(self.now, self.zone)

    def local(self, moment: str | None) -> dt.datetime | None:
        """A stored (UTC) moment in the federation's time zone; None for none."""
        return localtime.local_or_none(moment, self.zone)

    def local_date(self, moment: str) -> str:
        """The local date (YYYY-MM-DD) of a stored (UTC) moment."""
        return localtime.today(moment, self.zone)

    def moment(self, name: str, typed: str) -> str:
        """A date or time a person typed for this register, in local time, in the stored form."""
        return iso(localtime.moment(name, typed, self.zone))

    @property
    def permissions(self) -> Permissions | None:
        """The permission table in force: adopted by signed entries, replayed by the registry."""
        return self.registry.permissions if self.registry is not None else None

    def signed_records(self, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every record of ``kinds`` the log holds, each from its first entry, checked.

        Which records exist, their class, when and by whom they were made come
        from the signed first entry, never from the record index (anyone with
        the database can delete or relabel its rows): a record the index lacks
        is still listed, and says so in ``read_model``; one whose first entry
        fails its checks says that. Records whose entries' bodies were erased
        are left out, as the index leaves them out.
        """
        if self.registry is None:
            return []
        events = self.events
        query = (
            select(events.c.id, events.c.originator_id, events.c.topic, events.c.state, merkle_leaves.c.leaf_index)
            .select_from(events.outerjoin(merkle_leaves, merkle_leaves.c.notification_id == events.c.id))
            .where(events.c.originator_version == 1, or_(*(events.c.topic.like(f"%:{k}.%") for k in kinds)))
            .order_by(events.c.id)
        )
        indexed = {r["aggregate"]: r for r in record_rows(self.conn, kinds=kinds, erased_too=True)}
        found = []
        for row in self.conn.execute(query):
            first = checked.LogEntry(int(row.id), None if row.leaf_index is None else int(row.leaf_index),
                                     str(row.originator_id), 1, str(row.topic), bytes(row.state))
            checked.check(first, self.registry)
            if first.leaf is None and first.checked:
                first.problem = "it was never sealed: written into the database outside the ledger"
            index = indexed.get(first.aggregate)
            if first.checked and envelope.parse(first.state).erased:
                continue
            claims = first.claims
            found.append({
                "aggregate": first.aggregate,
                "alias": next((str(claims[k]) for k in ALIAS_CLAIMS if claims.get(k)), None)
                or (index["alias"] if index else None),
                "record_class": first.record_class,
                "created_at": first.recorded_at or (index["created_at"] if index else ""),
                "created_by": first.actor,
                "claims": claims,
                "problem": first.problem,
                "read_model": "" if index and index["erased_at"] is None and index["record_class"] == first.record_class
                else "the read model lacks this record or says otherwise: run `ledger projections rebuild`",
            })
        return found

    def may_read(self, record_class: str) -> bool:
        """Whether the reader holds a role that reads ``record_class`` under the table in force
        (the roles the registry gives them, never a read-model row or this software's own table)."""
        perms = self.permissions
        if perms is None or self.registry is None:
            return False
        return bool(self.registry.roles_of(self.reader_id) & set(perms.readers_of(record_class)))

    def option(self, name: str) -> Any:
        """An option's value, or None."""
        return self.options.get(name)


@dataclass(frozen=True)
class Register:
    """One named register and how to build its rows.

    ``shows_personal_data``: every read needs a reason and is logged.
    ``describes``: given a reason, rows carry a one-line description of
    each record the reader may open (and that read is logged).
    """

    name: str
    title: str
    rows: Callable[[RegisterContext], list[dict[str, Any]]]
    shows_personal_data: bool = False
    describes: bool = False


#: How long a register's description may be before it is cut.
HEADLINE_CHARS = 80


def one_line(text: str, limit: int = HEADLINE_CHARS) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


REGISTERS: dict[str, Register] = {}


def add(register: Register) -> Register:
    """Make a register available under its name."""
    REGISTERS[register.name] = register
    return register


def get(name: str) -> Register:
    """The register called ``name``; NotFound naming the others."""
    try:
        return REGISTERS[name]
    except KeyError:
        raise NotFound(f"no register named {name!r}", f"registers are: {', '.join(sorted(REGISTERS))}") from None


def days_between(start: str, end: str) -> int:
    """Whole days from ``start`` to ``end`` (dates or date-times)."""
    return (dt.date.fromisoformat(end[:10]) - dt.date.fromisoformat(start[:10])).days


# -- access log ---------------------------------------------------------------------


def _access(ctx: RegisterContext) -> list[dict[str, Any]]:
    """Who read or exported which record, when, and (for readers of the log) why."""
    only = None
    if ctx.option("record"):
        found = resolve(ctx.conn, str(ctx.option("record")))
        if found is None:
            raise NotFound(f"no record {ctx.option('record')!r} in the ledger")
        only = [found]
    since = ctx.moment("--from", str(ctx.option("since"))) if ctx.option("since") else None
    until = ctx.moment("--to", str(ctx.option("until"))) if ctx.option("until") else None
    reader = ctx.option("reader")
    if not ctx.may_read("access_log"):
        reader = ctx.reader_id
    found_rows = access_rows(ctx.conn, only, reader, since, until)
    listed = sorted({r["record"] for r in found_rows if r["record"]})
    names = aliases_of(ctx.conn, listed)
    kinds: dict[str, str] = {}
    for start in range(0, len(listed), 500):
        query = select(records.c.aggregate, records.c.kind).where(records.c.aggregate.in_(listed[start : start + 500]))
        kinds.update({str(a): str(k) for a, k in ctx.conn.execute(query)})
    states = load_states(ctx.conn, ctx.events, [r["notification_id"] for r in found_rows])
    marks = ctx.reset_marks(sorted({str(r["access_record"]) for r in found_rows}))
    opener = Reader(ctx.conn, ctx.ledger_id, ctx.keyring)
    reasons: dict[int, str] = {}
    signed: dict[int, checked.LogEntry] = {}
    rows = []
    for row in found_rows:
        nid = int(row["notification_id"])
        if nid not in reasons:
            signed[nid] = entry = checked.LogEntry(nid, None, str(row["access_record"]), 1,
                                                   get_topic(AccessRecord.Recorded), states.get(nid, b""))
            if ctx.registry is not None:
                checked.check(entry, ctx.registry)
            opened = opener.open(entry.state, row["access_record"], 1, entry.topic) if entry.checked else None
            reasons[nid] = (f"NOT VERIFIED: {entry.problem}" if opened is None else
                            str(getattr(opened.event, "reason", "")) if opened.status == SHOWN else f"({opened.status})")
        entry = signed[nid]
        facts = (entry.actor, entry.claims.get("action"), entry.recorded_at) if entry.checked else ("", "", "")
        # who read what, and when, as the signed entry says; the index only chose the row
        drift = facts != (row["reader"], row["action"], row["recorded_at"]) or (
            entry.checked and str(row["record"]) not in [str(r) for r in entry.claims.get("records") or []])
        rows.append({
            "when": ctx.local(facts[2] or None),
            "reader": facts[0],
            "action": facts[1],
            "record": names.get(row["record"], row["record"]),
            "kind": kinds.get(row["record"], ""),
            "why": reasons[nid],
            "signed_with": "a reset key" if str(row["access_record"]) in marks else "",
            "read_model": "the read model differs from the log: run `ledger projections rebuild`" if drift else "",
            "access_record": row["access_record"],
        })
    return rows


add(Register("access", "Access log: who read or exported which record, when, why", _access, shows_personal_data=True))


# -- acknowledgements ------------------------------------------------------------------


def _current_policy(ctx: RegisterContext) -> dict[str, Any]:
    versions = [r for r in record_rows(ctx.conn, kinds=("PolicyVersion",)) if r["claims"].get("effective_on")]
    in_force = [v for v in versions if str(v["claims"]["effective_on"]) <= ctx.today]
    if not in_force:
        raise NotFound(f"no policy version is in effect on {ctx.today}", "`ledger policy list` shows the versions")
    return max(in_force, key=lambda v: str(v["claims"]["effective_on"]))


def _acknowledgements(ctx: RegisterContext) -> list[dict[str, Any]]:
    """Who has and has not acknowledged the version in force, and since when."""
    current = _current_policy(ctx)
    label, effective = str(current["claims"]["label"]), str(current["claims"]["effective_on"])
    perms = ctx.permissions
    covered = set(perms.writers_of("PolicyAcknowledgement.Recorded")) if perms else set()
    acks: dict[tuple[str, str], str] = {}
    assisted: dict[tuple[str, str], str] = {}
    for ack in record_rows(ctx.conn, kinds=("PolicyAcknowledgement",)):
        claims = ack["claims"]
        key = (str(claims.get("staff_id")), str(claims.get("policy_version")))
        acks[key] = ack["created_at"]
        if claims.get("assisted"):
            assisted[key] = str(claims.get("entered_by"))
    joined = {r["alias"]: r["created_at"] for r in record_rows(ctx.conn, kinds=("StaffMember",)) if r["alias"]}
    older = sorted(
        (r for r in record_rows(ctx.conn, kinds=("PolicyVersion",))
         if str(r["claims"].get("effective_on", "")) < effective),
        key=lambda r: str(r["claims"]["effective_on"]),
    )
    sees_all = ctx.may_read("acknowledgement")
    rows = []
    staff_now = sorted(ctx.registry.staff.values(), key=lambda f: f.staff_id) if ctx.registry else []
    for staff in (f for f in staff_now if f.active):  # who is staff, and their roles: signed entries only
        held = set(staff.roles)
        if not held & covered or not (sees_all or staff.staff_id == ctx.reader_id):
            continue
        when = acks.get((staff.staff_id, label))
        since = max(effective, ctx.local_date(joined[staff.staff_id]) if staff.staff_id in joined else effective)
        previous = [str(v["claims"]["label"]) for v in older if (staff.staff_id, str(v["claims"]["label"])) in acks]
        rows.append({
            "staff_id": staff.staff_id,
            "roles": ",".join(sorted(held)),
            "version": label,
            "effective_on": effective,
            "acknowledged": when is not None,
            "acknowledged_at": ctx.local(when),
            "how": ("" if not when else f"assisted: paper form entered by {assisted[(staff.staff_id, label)]}"
                    if (staff.staff_id, label) in assisted else "own key"),
            "outstanding_since": "" if when else since,
            "days_outstanding": "" if when else max(0, days_between(since, ctx.today)),
            "previous_acknowledged": previous[-1] if previous else "",
        })
    return rows


add(Register("acknowledgements", "Acknowledgements of the policy version in force", _acknowledgements))
