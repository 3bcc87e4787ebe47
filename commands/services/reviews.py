"""The policy's own review: recorded by the Head of Operations or the Network Manager, due yearly.

The next due date comes from the latest review; before any review it is the
anniversary of the first version's approval (the cover's "Annual Review Date").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from commands.services.policy import _today, _versions, aggregate_ids
from ledger.domain.base import new_short_id, parse_date
from ledger.domain.duties import PolicyReview
from ledger.domain.duties.reviews import MAX_INTERVAL_MONTHS
from ledger.errors import InvalidInput
from ledger.retention import add_months
from ledger.store import Actor, Ledger, Unit

#: The inbox shows the review this many days before it is due.
DUE_SOON_DAYS = 30


def _reviews(work: Unit) -> list[PolicyReview]:
    return [work.get(PolicyReview, a, "policy review", redacted=True) for a in aggregate_ids(work, PolicyReview.Recorded)]


def record_review(ledger: Ledger, actor: Actor, reviewed_on: str, reviewers: list[str], findings: str,
                  next_due: str | None = None, version: str | None = None) -> dict[str, Any]:
    """Record a review of the policy: who, when, findings (encrypted), the next due date (default: a year on)."""
    day = parse_date("review date", reviewed_on)
    latest = add_months(dt.date.fromisoformat(day), MAX_INTERVAL_MONTHS).isoformat()
    due = parse_date("next due date", next_due) if next_due else latest
    with ledger.unit(actor, write=True) as work:
        for reviewer in reviewers:
            fact = work.registry.staff.get(reviewer)
            if fact is None or not fact.active:
                raise InvalidInput(f"{reviewer!r} is not a current member of staff", "`ledger people list` shows them")
        labels = {v.label for v in _versions(work)}
        if version is not None and version not in labels:
            raise InvalidInput(f"no policy version {version!r}", "`ledger policy list` shows the versions")
        review_id = new_short_id("rev")
        work.save(PolicyReview.record(review_id, day, reviewers, version, due, findings, _today(work), latest))
    return {"review_id": review_id, "reviewed_on": day, "next_due": due}


def review_status(work: Unit) -> dict[str, Any]:
    """The latest review and when the next is due (clear facts only), as of today."""
    today = _today(work)
    reviews = sorted(_reviews(work), key=lambda r: (r.reviewed_on, r.review_id))
    if reviews:
        last = reviews[-1]
        due, basis = last.next_due, f"set by the review of {last.reviewed_on}"
    else:
        versions = sorted(_versions(work), key=lambda v: v.approved_on)
        if not versions:
            return {"last_reviewed_on": None, "next_due": None, "basis": "no policy version published", "state": ""}
        due = add_months(dt.date.fromisoformat(versions[0].approved_on), 12).isoformat()
        basis = f"a year after version {versions[0].label} was approved; never reviewed"
    if due < today:
        state = "overdue"
    elif (dt.date.fromisoformat(due) - dt.date.fromisoformat(today)).days <= DUE_SOON_DAYS:
        state = "due soon"
    else:
        state = "scheduled"
    return {"last_reviewed_on": reviews[-1].reviewed_on if reviews else None,
            "reviewers": ",".join(reviews[-1].reviewers) if reviews else "", "next_due": due, "basis": basis,
            "state": state}


def list_reviews(ledger: Ledger) -> list[dict[str, Any]]:
    """Every review: when, by whom, of which version, and the next due date it set."""
    with ledger.unit() as work:
        return [{"review_id": r.review_id, "reviewed_on": r.reviewed_on, "reviewers": ",".join(r.reviewers),
                 "policy_version": r.policy_version or "", "next_due": r.next_due}
                for r in sorted(_reviews(work), key=lambda r: r.reviewed_on)]


def status(ledger: Ledger) -> dict[str, Any]:
    """:func:`review_status` in its own read."""
    with ledger.unit() as work:
        return review_status(work)
