"""Legal holds and erasure on request or under a rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from commands.services import readside, school_directory
from commands.services.records import resolve
from ledger import erasure, localtime
from ledger.domain.base import require_text
from ledger.domain.retention import Erasure, LegalHold, hold_record_id
from ledger.errors import InvalidInput, NotFound, RuleViolation
from ledger.schema import attachments, key_wraps
from ledger.store import Actor, Ledger, Unit
from projections import indexed

#: Lawful grounds for erasure on request (besides a retention rule).
GROUNDS = (
    "malicious-allegation",
    "data-subject-request",
    "recorded-in-error",
    "unlawfully-held",
    "court-order",
)


@dataclass(frozen=True)
class Erased:
    """One record's erasure."""

    record: str
    record_class: str | None
    basis: str
    keys: list[str]
    entries: int
    files: int


def is_held(work: Unit, target: str) -> bool:
    """Whether an active legal hold covers ``target`` (from signed headers)."""
    hold_id = hold_record_id(target)
    if not work.exists(hold_id):
        return False
    hold: LegalHold = work.get(LegalHold, hold_id, "legal hold", redacted=True)
    return hold.active


def place_hold(ledger: Ledger, actor: Actor, ref: str, reason: str) -> str:
    """Block erasure of a record until the hold is released."""
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        target = str(resolve(work, ref))
        hold_id = hold_record_id(target)
        if work.exists(hold_id):
            hold: LegalHold = work.get(LegalHold, hold_id, "legal hold", redacted=True)
            hold.renew(reason)
        else:
            hold = LegalHold.place(target, reason)
        work.save(hold)
    return target


def release_hold(ledger: Ledger, actor: Actor, ref: str, reason: str) -> str:
    """Lift a legal hold."""
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        target = str(resolve(work, ref))
        if not work.exists(hold_record_id(target)):
            raise NotFound(f"{ref} is not on hold", "`ledger hold list` shows active holds")
        hold: LegalHold = work.get(LegalHold, hold_record_id(target), "legal hold", redacted=True)
        hold.release(reason)
        work.save(hold)
    return target


def list_holds(ledger: Ledger) -> list[dict[str, Any]]:
    """Records with an active hold (from signed clear headers; no personal data).

    The entry index picks the holds' entries; each is loaded from the log and checked.
    """
    readside.ensure_current(ledger)
    registry = ledger.registry()
    zone = localtime.zone_named(registry.timezone)
    state: dict[str, dict[str, Any]] = {}
    with ledger.unit() as work:
        held = indexed.checked_entries(work.conn, ledger.app.events_table, registry,
                                       indexed.types_of(LegalHold.Placed, LegalHold.Released, LegalHold.Renewed))
        for entry in held:
            header, name, key = entry.header, entry.event_type, entry.aggregate
            if name == "LegalHold.Placed":
                state[key] = {"record": header["claims"]["target"],
                              "since": localtime.local(header["recorded_at"], zone),
                              "placed_by": header["actor"], "active": True}
            elif key in state:
                state[key]["active"] = name != "LegalHold.Released"
                if name == "LegalHold.Renewed":
                    state[key].update(since=localtime.local(header["recorded_at"], zone), placed_by=header["actor"])
    return [{k: v for k, v in h.items() if k != "active"} for h in state.values() if h["active"]]


def erase_in(work: Unit, target: str, basis: str, reason: str) -> Erased:
    """Shred ``target`` and record it, inside an open writing unit."""
    return erase_all_in(work, [target], basis, reason)[0]


def erase_all_in(work: Unit, targets: list[str], basis: str, reason: str) -> list[Erased]:
    """Shred ``targets`` (all erased on one ``basis``) inside an open writing unit, and record
    them in one signed erasure entry per record class (so one data key and one signature
    serve a whole batch); nothing is erased if any is held or already erased."""
    held = held_among(work, targets)
    if held:
        raise RuleViolation(f"record {held[0]} is under a legal hold", "release the hold first (`ledger hold release`)")
    done = erasure.shred_all(work.conn, work.ledger.app.events_table, targets, work.now)
    for target in targets:
        if done[target].entries == 0 and not done[target].keys:
            raise RuleViolation(f"record {target} is already erased")
    by_class: dict[str, list[str]] = {}
    for target in targets:
        by_class.setdefault(done[target].record_class or "", []).append(target)
    for record_class, named in by_class.items():
        work.save(Erasure.record(
            named, record_class, basis, [k for t in named for k in done[t].keys], sum(done[t].entries for t in named),
            reason, [s for t in named for s in done[t].subjects]))
    subjects = sorted({s for t in by_class.get("subject", []) for s in done[t].subjects})
    if subjects:
        school_directory.unlist_everywhere(work, subjects, "their record was erased")
    return [Erased(t, done[t].record_class, basis, done[t].keys, done[t].entries, done[t].files) for t in targets]


def held_among(work: Unit, targets: list[str]) -> list[str]:
    """Those of ``targets`` an active legal hold covers (each hold loaded from its signed entries)."""
    holds = {hold_record_id(t): t for t in targets}
    table = work.ledger.app.events_table
    existing: set[uuid.UUID] = set()
    wanted = sorted(holds)
    for start in range(0, len(wanted), 500):
        existing |= {uuid.UUID(str(r)) for (r,) in work.conn.execute(
            select(table.c.originator_id).where(table.c.originator_id.in_(wanted[start:start + 500])).distinct())}
    found = []
    for hold_id in sorted(existing):
        hold: LegalHold = work.get(LegalHold, hold_id, "legal hold", redacted=True)
        if hold.active:
            found.append(holds[hold_id])
    return sorted(found)


def erase(ledger: Ledger, actor: Actor, ref: str, ground: str, reason: str) -> Erased:
    """Erase one record on a lawful ground (Headteacher or admin only)."""
    if ground not in GROUNDS:
        raise InvalidInput(f"unknown ground {ground!r}", f"grounds are: {', '.join(GROUNDS)}")
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        result = erase_in(work, str(resolve(work, ref)), f"ground:{ground}", reason)
    purge(ledger)
    return result


def purge(ledger: Ledger) -> None:
    """After erasures: drop the records' rows from the read models now (not at the
    next read), then push scrubbed bytes out of the database files."""
    readside.ensure_current(ledger)
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        erasure.purge_free_space(
            conn, ledger.engine.dialect.name, [ledger.app.events_table.name, attachments.name, key_wraps.name]
        )
