"""Pre-employment internet searches on candidates: recorded, read by the Headteacher and SLT,
kept under a retention rule of their own (``recruitment``: six months from the record)."""

from __future__ import annotations

from typing import Any

from commands.services.approvals import _check_subject
from commands.services.policy import _today, aggregate_ids
from ledger.domain.base import new_short_id, parse_date
from ledger.domain.duties import RecruitmentCheck
from ledger.store import Actor, Ledger


def record_check(ledger: Ledger, actor: Actor, candidate: str, outcome: str, basis: str, vacancy: str,
                 same_for_all: bool, checked_on: str | None = None, notes: str | None = None) -> str:
    """Record an internet search made on a registered candidate, by the acting person."""
    with ledger.unit(actor, write=True) as work:
        day = parse_date("check date", checked_on) if checked_on else _today(work)
        _check_subject(work, candidate, ("candidate",), "candidate")
        check_id = new_short_id("rc")
        work.save(RecruitmentCheck.record(check_id, candidate, actor.actor_id, day, outcome, basis, vacancy,
                                          same_for_all, _today(work), notes))
    return check_id


def list_checks(ledger: Ledger) -> list[dict[str, Any]]:
    """Every check: candidate id, who, when, outcome (the basis and notes stay encrypted)."""
    with ledger.unit() as work:
        checks = [work.get(RecruitmentCheck, a, "recruitment check", redacted=True)
                  for a in aggregate_ids(work, RecruitmentCheck.Recorded)]
    return [{"check_id": c.check_id, "candidate": c.candidate, "checked_by": c.checked_by,
             "checked_on": c.checked_on, "outcome": c.outcome} for c in checks]
