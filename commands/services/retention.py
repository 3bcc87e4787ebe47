"""Legal holds and erasure on request or under a rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    if is_held(work, target):
        raise RuleViolation(f"record {target} is under a legal hold", "release the hold first (`ledger hold release`)")
    done = erasure.shred(work.conn, work.ledger.app.events_table, target, work.now)
    if done.entries == 0 and not done.keys:
        raise RuleViolation(f"record {target} is already erased")
    work.save(Erasure.record(target, done.record_class or "", basis, done.keys, done.entries, reason, done.subjects))
    if done.record_class == "subject":
        school_directory.unlist_everywhere(work, done.subjects, "their record was erased")
    return Erased(target, done.record_class, basis, done.keys, done.entries, done.files)


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
