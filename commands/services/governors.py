"""A report for governors and the trust: counts only, no personal data.

Counted from today's registers over the records the reader may see (the
Headteacher sees every incident; a DSL the safeguarding ones), for the
incidents reported in a period: by category, record class and status, and
the approvals and policy acknowledgements as they stand. Each count can be
checked against the log by anyone holding the same roles. Referrals, times
to triage and monitoring figures join when casework records them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from commands.services import readside
from ledger.domain.incidents import categories as codes
from ledger.domain.base import parse_date
from ledger.errors import InvalidInput, NotFound
from ledger.store import Actor, Ledger, utcnow


@dataclass(frozen=True)
class GovernorsReport:
    """Counts for one period, and whose view they are."""

    start: str
    end: str
    reader: str
    incidents: int
    by_category: list[dict[str, Any]]
    by_status: dict[str, int]
    by_class: dict[str, int]
    approvals: dict[str, int]
    acknowledged: int | None
    covered_staff: int | None
    notes: list[str] = field(default_factory=list)


def school_year_so_far(now: str) -> tuple[str, str]:
    """From 1 September of the school year containing ``now`` (ISO) to that day."""
    today = dt.date.fromisoformat(now[:10])
    year = today.year if today.month >= 9 else today.year - 1
    return f"{year}-09-01", today.isoformat()


def report(ledger: Ledger, actor: Actor, start: str | None = None, end: str | None = None) -> GovernorsReport:
    """Counts of incidents reported from ``start`` to ``end`` (dates, inclusive; default: the
    school year so far), of approvals requested then, and of acknowledgements as they stand."""
    first, last = school_year_so_far(utcnow())
    start = parse_date("start date", start) if start else first
    end = parse_date("end date", end) if end else last
    if end < start:
        raise InvalidInput("the period ends before it starts")
    incidents = [r for r in readside.register(ledger, actor, "incidents", status="all")
                 if start <= str(r["reported_on"]) <= end]
    categories = Counter(str(r["category"]) for r in incidents)
    by_category = [
        {"category": code, "title": codes.CATEGORIES[code].title if code in codes.CATEGORIES else code, "count": n}
        for code, n in sorted(categories.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    approvals = Counter(str(r["state"]) for r in readside.register(ledger, actor, "approvals")
                        if start <= str(r["requested_on"]) <= end)
    notes = []
    try:
        acks = readside.register(ledger, actor, "acknowledgements")
        acknowledged: int | None = sum(1 for r in acks if r["acknowledged"])
        covered: int | None = len(acks)
    except NotFound as exc:
        acknowledged = covered = None
        notes.append(exc.message)
    return GovernorsReport(
        start=start, end=end, reader=actor.actor_id, incidents=len(incidents), by_category=by_category,
        by_status=dict(sorted(Counter(str(r["status"]) for r in incidents).items())),
        by_class=dict(sorted(Counter(str(r["class"]) for r in incidents).items())),
        approvals=dict(sorted(approvals.items())), acknowledged=acknowledged, covered_staff=covered, notes=notes,
    )
