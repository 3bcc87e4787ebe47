"""The read side for commands: fresh projections, timelines, registers.

Every read brings the projections up to date first (SQLite cannot push, so
they poll the log). Reads that show personal data take a reason and append
an access-log entry in the same unit, naming the records shown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from commands.services.access import record_access
from ledger import localtime
from ledger.clock import iso
from ledger.domain.base import require_text
from ledger.errors import InvalidInput, LedgerError, NotPermitted
from ledger.store import Actor, Ledger, Unit
from ledger.text import check_id
from projections import runner, workflow_registers  # noqa: F401 - registers its registers
from projections import registers as register_index
from projections.records import records
from projections.timeline import Selection, Timeline, build, happened

#: Records named by one access-log entry; a longer timeline is logged in several.
ACCESS_CHUNK = 200


def ensure_current(ledger: Ledger) -> int:
    """Bring every projection up to the end of the log (call before any read)."""
    return runner.catch_up(ledger)


def projection_status(ledger: Ledger) -> list[dict[str, Any]]:
    """Each projection's position and lag, as they are now (no catch-up first)."""
    return runner.status(ledger)


def rebuild(ledger: Ledger, name: str | None = None) -> list[dict[str, Any]]:
    """Drop and replay one projection (or all); their status afterwards."""
    runner.rebuild(ledger, [name] if name else None)
    return [r for r in runner.status(ledger) if not name or r["name"] == name]


def period(start: str, end: str, zone: dt.tzinfo) -> tuple[str, str]:
    """``--from``/``--to``, typed in local time, as a half-open UTC interval (stored form);
    a date is a whole local day, so a date ``--to`` includes that day."""
    begin = localtime.moment("--from", start, zone)
    if localtime.is_date(end):
        finish = localtime.end_of_day(localtime.date("--to", end), zone)
    else:
        finish = localtime.moment("--to", end, zone)
    return iso(begin), iso(finish)


def as_of_moment(value: str, zone: dt.tzinfo) -> str:
    """``--as-of``, typed in local time: a date-time, or a date meaning the end of that local day."""
    if localtime.is_date(value):
        moment = localtime.end_of_day(localtime.date("--as-of", value), zone) - dt.timedelta(microseconds=1)
    else:
        moment = localtime.moment("--as-of", value, zone)
    return iso(moment)


def _log_access(work: Unit, actor: Actor, found: Timeline, reason: str) -> None:
    records = found.records
    for start in range(0, len(records), ACCESS_CHUNK):
        chunk = records[start : start + ACCESS_CHUNK]
        subjects = sorted({s for r in chunk for s in found.record_subjects.get(r, ())})
        record_access(work, actor.actor_id, "read", chunk, subjects, reason)


def timeline(
    ledger: Ledger,
    actor: Actor,
    reason: str,
    incident: str | None = None,
    person: str | None = None,
    start: str | None = None,
    end: str | None = None,
    categories: Sequence[str] = (),
    as_of: str | None = None,
    family: bool = False,
) -> Timeline:
    """The merged chronology of one incident (or record), person or period (a person's with
    their linked family's records when ``family``).

    Entries the actor's keys cannot open are listed as withheld. The read is
    recorded in the access log with ``reason``, naming every record shown.
    """
    reason = require_text("reason", reason, 2000)
    incident = check_id("record id", incident) if incident is not None else None
    if person is not None:
        from commands.services.directory import resolve  # it reads through this module

        person = check_id("person id", resolve(ledger, actor, person))
    if (start is None) != (end is None):
        raise InvalidInput("a period needs both --from and --to", "e.g. --from 2025-01-01 --to 2025-03-31")
    zone = ledger.timezone()
    begin, finish = period(start, end, zone) if start is not None and end is not None else (None, None)
    selection = Selection(
        incident=incident, person=person, start=begin, end=finish,
        categories=tuple(categories), as_of=as_of_moment(as_of, zone) if as_of else None, family=family,
    )
    if selection.as_of and localtime.local_date(selection.as_of, zone).isoformat() > ledger.today():
        raise InvalidInput(f"--as-of {as_of} is after today", "give a moment up to now: what was known then")
    selection.check()
    ensure_current(ledger)
    with ledger.unit(actor, write=True) as work:
        found = build(work.conn, ledger.app.events_table, work.ctx.ledger_id, actor.keyring, selection,
                      actor.actor_id, work.now, work.registry)
        if found.rows:
            _log_access(work, actor, found, reason)
    from commands.services.directory import labels

    found.names = labels(ledger, actor, {str(r["recorded_by"]) for r in found.rows} | set(found.family))
    return found


def register(
    ledger: Ledger, actor: Actor, name: str, reason: str | None = None, **options: Any
) -> list[dict[str, Any]]:
    """The rows of register ``name`` as ``actor`` may see them.

    A register showing decrypted content needs a reason and is logged; one
    that can describe its records does so when given a reason, and logs it.
    """
    chosen = register_index.get(name)
    if chosen.shows_personal_data:
        reason = require_text("reason", reason, 2000)
    describe = chosen.describes and reason is not None
    if describe:
        reason = require_text("reason", reason, 2000)
    elif reason is not None and not chosen.shows_personal_data:
        raise InvalidInput(f"the {name} register shows no text a reason would unlock",
                           "leave out --reason")
    logged = chosen.shows_personal_data or describe
    ensure_current(ledger)
    registry = ledger.registry()
    with ledger.unit(actor, write=logged) as work:
        ctx = register_index.RegisterContext(
            conn=work.conn, events=ledger.app.events_table, ledger_id=work.ctx.ledger_id,
            reader_id=actor.actor_id, reader_roles=actor.roles, keyring=actor.keyring, now=work.now,
            load=lambda aggregate: work.get(object, uuid.UUID(aggregate), "record", redacted=True),
            options={k: v for k, v in options.items() if v not in (None, "")} | ({"describe": True} if describe else {}),
            reset_keys=frozenset(k.key_id for k in registry.keys.values() if k.reset),
            registry=registry,
            zone=localtime.zone_named(registry.timezone),
        )
        rows = chosen.rows(ctx)
        if logged and rows and reason:
            shown = sorted({str(r["access_record"]) for r in rows if r.get("access_record")})
            for start in range(0, len(shown), ACCESS_CHUNK):
                record_access(work, actor.actor_id, "read", shown[start : start + ACCESS_CHUNK], [], reason)
    if chosen.describes:
        for row in rows:
            row.pop("access_record", None)
    return rows


def register_names() -> list[str]:
    """Names of every register."""
    return sorted(register_index.REGISTERS)


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Bring the read models up to date, read the registers, and reconstruct a timeline."""
    yield "Read side:"
    applied = ensure_current(ledger)
    yield f"  projections caught up from the log ({applied} entries indexed from their clear headers)"
    head, dsl = actors["head"], actors["dsl"]
    for name in ("incidents", "approvals", "acknowledgements"):
        try:
            rows = register(ledger, head, name)
        except LedgerError as exc:
            yield f"  register {name:<16} {exc.message}"
            continue
        yield f"  register {name:<16} {len(rows)} row(s) for head"
    with ledger.engine.connect() as conn:  # the fullest safeguarding case: the richest chronology
        latest = conn.execute(
            select(records.c.alias).where(records.c.kind == "Incident", records.c.record_class == "safeguarding")
            .order_by(records.c.events.desc(), records.c.created_at, records.c.alias).limit(1)
        ).scalar_one_or_none()
    if latest is None:
        yield "  (no safeguarding incident yet: no timeline to show)"
        return
    found = timeline(ledger, dsl, "demo: preparing the strategy meeting", incident=latest)
    late = sum(1 for r in found.rows if r["late"])
    yield f"  timeline of {latest} for dsl: {len(found.rows)} entries, {late} recorded late; the read is in the access log"
    for row in found.rows[:6]:
        yield f"    {happened(row):<20}  {row['recorded_by']:<10} {row['what'][:70]}"
    try:
        timeline(ledger, actors["teacher-1"], "demo: what may a teacher see?", incident=latest)
    except NotPermitted as refused:
        yield f"  teacher-1 asks for the same chronology: refused ({refused.message})"
    yield f"  try: ledger --as dsl timeline --incident {latest} --reason \"case review\" --format html --out case.html"
