"""Checks on filtering and monitoring: block/allow decisions and periodic reviews.

Targets, reasons, findings and actions are encrypted ("monitoring_check"
records); listings show only the clear header facts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from commands.services.access import record_access
from ledger import localtime
from ledger.domain.base import new_short_id, parse_date, require_text
from ledger.domain.monitoring import FilterDecision, FilteringReview, check_record_id, check_record_ref
from ledger.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.store import Actor, Ledger
from projections import checked, indexed, runner

T = TypeVar("T")

#: The DfE standards ask for a review at least once a year.
REVIEW_INTERVAL = dt.timedelta(days=365)


def parse_period(value: str) -> tuple[str, str]:
    """``START..END`` (ISO dates) as a pair of normalised dates."""
    start, sep, end = value.partition("..")
    if not sep:
        raise InvalidInput(f"period {value!r} is not START..END", "write it as 2024-09-01..2025-08-31")
    return parse_date("period start", start.strip()), parse_date("period end", end.strip())


def record_decision(
    ledger: Ledger,
    actor: Actor,
    kind: str,
    target: str,
    reason: str,
    category: str | None = None,
    supersedes: str | None = None,
) -> str:
    """Record a decision to block or allow ``target``, and why; returns its id."""
    check_id = new_short_id("mc")
    with ledger.unit(actor, write=True) as work:
        if supersedes is not None:
            aggregate_id = check_record_id(check_record_ref("superseded check id", supersedes))
            if not work.exists(aggregate_id):
                raise NotFound(f"no filtering decision {supersedes!r}", "`ledger monitoring check list` shows them")
            work.get(FilterDecision, aggregate_id, "filtering decision", redacted=True)
            if supersedes in _superseded(_headers(ledger, FilterDecision.Recorded, work.conn)):
                raise RuleViolation(
                    f"{supersedes} was already superseded",
                    "supersede the decision that replaced it (`ledger monitoring check list`)",
                )
        work.save(FilterDecision.record(check_id, kind, target, reason, work.now, category, supersedes))
    return check_id


def record_review(
    ledger: Ledger, actor: Actor, period: str, outcome: str, findings: str, actions: str | None = None
) -> str:
    """Record a periodic review of filtering and monitoring; returns its id."""
    start, end = parse_period(period)
    check_id = new_short_id("mr")
    with ledger.unit(actor, write=True) as work:
        work.save(FilteringReview.record(check_id, start, end, outcome, findings, work.now, work.today, actions))
    return check_id


def _headers(ledger: Ledger, cls: type[Any], conn: Connection | None = None) -> list[dict[str, Any]]:
    """Clear headers of every ``cls`` entry from the log, oldest first (on ``conn`` when inside
    a unit): what a writer's rule check reads."""
    if conn is None:
        with ledger.engine.connect() as own:
            return _headers(ledger, cls, own)
    table = ledger.app.events_table
    return [e.header for e in checked.checked_entries(conn, table, ledger.registry(), table.c.topic == get_topic(cls))]


def _superseded(headers: list[dict[str, Any]]) -> dict[str, str]:
    """Superseded decision id -> the decision that replaced it."""
    return {h["claims"]["supersedes"]: h["claims"]["check_id"] for h in headers if h["claims"]["supersedes"]}


def _listed(ledger: Ledger, cls: type[Any]) -> list[dict[str, Any]]:
    """Signed headers of every ``cls`` entry, oldest first, for a list: picked from the entry
    index (after a catch-up), each loaded from the log and checked."""
    runner.catch_up(ledger)
    registry = ledger.registry()
    with ledger.engine.connect() as conn:
        return [e.header for e in indexed.checked_entries(conn, ledger.app.events_table, registry,
                                                          indexed.types_of(cls))]


def list_decisions(ledger: Ledger) -> list[dict[str, Any]]:
    """Every block/allow decision: id, when, by whom, kind, category, what it replaced (no target text)."""
    headers = _listed(ledger, FilterDecision.Recorded)
    replaced_by = _superseded(headers)
    zone = ledger.timezone()
    return [
        {
            "id": h["claims"]["check_id"], "decided_at": localtime.local(h["occurred_at"]["at"], zone),
            "decided_by": h["actor"],
            "kind": h["claims"]["kind"], "category": h["claims"]["category"],
            "supersedes": h["claims"]["supersedes"], "superseded_by": replaced_by.get(h["claims"]["check_id"]),
        }
        for h in headers
    ]


def list_reviews(ledger: Ledger) -> list[dict[str, Any]]:
    """Every review: id, when, by whom, period, outcome and when the next one is due."""
    rows = []
    zone = ledger.timezone()
    for h in _listed(ledger, FilteringReview.Recorded):
        at = localtime.local(h["occurred_at"]["at"], zone)
        rows.append({
            "id": h["claims"]["check_id"], "reviewed_at": at, "reviewed_by": h["actor"],
            "period_start": h["claims"]["period_start"], "period_end": h["claims"]["period_end"],
            "outcome": h["claims"]["outcome"], "next_due": (at.date() + REVIEW_INTERVAL).isoformat(),
        })
    return rows


def show_decision(ledger: Ledger, actor: Actor, check_id: str, reason: str) -> dict[str, Any]:
    """A decision's decrypted target and reason; the read is recorded with ``reason``."""
    decision = _read_check(ledger, actor, FilterDecision, "filtering decision", check_id, reason)
    return {"id": decision.check_id, "decided_at": localtime.local(decision.occurred_at["at"], ledger.timezone()),
            "kind": decision.kind,
            "target": decision.target, "category": decision.category, "supersedes": decision.supersedes,
            "reason": decision.reason}


def show_review(ledger: Ledger, actor: Actor, check_id: str, reason: str) -> dict[str, Any]:
    """A review's decrypted findings and actions; the read is recorded with ``reason``."""
    review = _read_check(ledger, actor, FilteringReview, "filtering review", check_id, reason)
    return {"id": review.check_id, "reviewed_at": localtime.local(review.occurred_at["at"], ledger.timezone()),
            "period_start": review.period_start,
            "period_end": review.period_end, "outcome": review.outcome, "findings": review.findings,
            "actions": review.actions}


def _read_check(ledger: Ledger, actor: Actor, cls: type[T], what: str, check_id: str, reason: str) -> T:
    reason = require_text("reason", reason, 2000)
    aggregate_id = check_record_id(check_record_ref("check id", check_id))
    with ledger.unit(actor, write=True) as work:
        if not work.exists(aggregate_id):
            raise NotFound(f"no {what} {check_id!r}",
                           "`ledger monitoring check list` and `ledger monitoring review list` show them")
        work.get(cls, aggregate_id, what, redacted=True)
        try:
            record = work.get(cls, aggregate_id, what)
        except NotPermitted:
            raise NotPermitted(
                f"{actor.actor_id} may not read {what} {check_id}",
                f"only these roles may: {', '.join(work.ledger.permissions().readers_of('monitoring_check'))}",
            ) from None
        record_access(work, actor.actor_id, "read", [str(aggregate_id)], [], reason)
    return record
