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
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, select

from ledger import localtime, roles
from ledger.clock import iso
from ledger.domain.access import AccessRecord
from ledger.errors import NotFound
from ledger.keystore import KeyRing
from ledger.registry import Registry
from projections import checked
from projections.access_log import access_rows
from projections.entries import reset_signed, actor_roles, aliases_of, resolve
from projections.reading import SHOWN, Reader, load_states
from projections.records import record_rows, records


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

    def may_read(self, record_class: str) -> bool:
        """Whether the reader holds a role that reads ``record_class``."""
        return bool(self.reader_roles & set(roles.READERS.get(record_class, ())))

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
    rows = []
    for row in found_rows:
        nid = int(row["notification_id"])
        if nid not in reasons:
            opened = opener.open(states[nid], row["access_record"], 1, get_topic(AccessRecord.Recorded))
            reasons[nid] = str(getattr(opened.event, "reason", "")) if opened.status == SHOWN else f"({opened.status})"
        rows.append({
            "when": ctx.local(row["recorded_at"]),
            "reader": row["reader"],
            "action": row["action"],
            "record": names.get(row["record"], row["record"]),
            "kind": kinds.get(row["record"], ""),
            "why": reasons[nid],
            "signed_with": "a reset key" if str(row["access_record"]) in marks else "",
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
    covered = set(roles.WRITERS.get("PolicyAcknowledgement.Recorded", roles.ROLES))
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
    for staff in ctx.conn.execute(select(actor_roles).where(actor_roles.c.active.is_(True)).order_by(actor_roles.c.actor_id)):
        held = set(json.loads(staff.roles))
        if not held & covered or not (sees_all or staff.actor_id == ctx.reader_id):
            continue
        when = acks.get((staff.actor_id, label))
        since = max(effective, ctx.local_date(joined[staff.actor_id]) if staff.actor_id in joined else effective)
        previous = [str(v["claims"]["label"]) for v in older if (staff.actor_id, str(v["claims"]["label"])) in acks]
        rows.append({
            "staff_id": staff.actor_id,
            "roles": ",".join(sorted(held)),
            "version": label,
            "effective_on": effective,
            "acknowledged": when is not None,
            "acknowledged_at": ctx.local(when),
            "how": ("" if not when else f"assisted: paper form entered by {assisted[(staff.actor_id, label)]}"
                    if (staff.actor_id, label) in assisted else "own key"),
            "outstanding_since": "" if when else since,
            "days_outstanding": "" if when else max(0, days_between(since, ctx.today)),
            "previous_acknowledged": previous[-1] if previous else "",
        })
    return rows


add(Register("acknowledgements", "Acknowledgements of the policy version in force", _acknowledgements))
