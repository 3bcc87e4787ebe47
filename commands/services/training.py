"""The training register, and the flag on an investigator without current training.

Rows show ids, topics and dates only: the course's name is in the encrypted
body. "Current" means completed and not yet due for renewal on the day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from commands.services.policy import _today, aggregate_ids
from ledger.domain.base import new_short_id, parse_date
from ledger.domain.duties import TrainingRecord
from ledger.domain.duties.training import INVESTIGATION_TOPICS
from ledger.errors import NotFound
from ledger.retention import add_months
from ledger.store import Actor, Ledger, Unit


def _records(work: Unit) -> list[TrainingRecord]:
    return [work.get(TrainingRecord, a, "training record", redacted=True)
            for a in aggregate_ids(work, TrainingRecord.Recorded)]


def record_training(ledger: Ledger, actor: Actor, staff_id: str, topic: str, completed_on: str, course: str,
                    renewal_due: str | None = None) -> dict[str, Any]:
    """Record that ``staff_id`` completed training in ``topic`` (renewal due a year on unless given)."""
    done = parse_date("completion date", completed_on)
    due = parse_date("renewal date", renewal_due) if renewal_due else add_months(dt.date.fromisoformat(done), 12).isoformat()
    with ledger.unit(actor, write=True) as work:
        fact = work.registry.staff.get(staff_id)
        if fact is None:
            raise NotFound(f"no member of staff {staff_id!r}", "`ledger people list` shows them")
        training_id = new_short_id("trn")
        work.save(TrainingRecord.record(training_id, staff_id, topic, done, due, course, _today(work)))
    return {"training_id": training_id, "staff_id": staff_id, "topic": topic, "renewal_due": due}


def register(ledger: Ledger, current_only: bool = False) -> list[dict[str, Any]]:
    """Every training record: who, what, when, renewal due, and whether it is current today."""
    with ledger.unit() as work:
        return register_rows(work, current_only)


def register_rows(work: Unit, current_only: bool = False) -> list[dict[str, Any]]:
    """:func:`register` inside an open unit."""
    today = _today(work)
    rows = [{"training_id": r.training_id, "staff_id": r.staff_id, "topic": r.topic,
             "completed_on": r.completed_on, "renewal_due": r.renewal_due,
             "state": "current" if r.current_on(today) else "renewal overdue"}
            for r in sorted(_records(work), key=lambda r: (r.staff_id, r.topic, r.completed_on))]
    return [r for r in rows if r["state"] == "current"] if current_only else rows


def investigation_training_gap(work: Unit, staff_id: str) -> str | None:
    """Why ``staff_id`` lacks current investigation training today, or None when they have it."""
    today = _today(work)
    mine = [r for r in _records(work) if r.staff_id == staff_id and r.topic in INVESTIGATION_TOPICS]
    if any(r.current_on(today) for r in mine):
        return None
    if mine:
        last = max(mine, key=lambda r: r.renewal_due)
        return f"{staff_id}'s investigation training was due for renewal on {last.renewal_due}"
    return f"{staff_id} has no investigation training on record"


def untrained_investigators(work: Unit, assignments: dict[str, list[str]]) -> list[dict[str, str]]:
    """For each case (id -> its investigators), the investigators without current training."""
    found = []
    for inc_id, investigators in sorted(assignments.items()):
        for investigator in investigators:
            gap = investigation_training_gap(work, investigator)
            if gap:
                found.append({"inc_id": inc_id, "investigator": investigator, "why": gap})
    return found
