"""The report for governors and the trust: counts only, no personal data.

Counted from the clear facts of the signed entries (through the read models,
which `verify` checks against the log), so every reader who may run it gets
the same figures: incidents reported in a period by category, school, term and
kind of record, with their outcomes; referrals and contacts outside the school;
how long reports waited for triage; approvals; policy acknowledgements; and
monitoring alerts. Nothing anyone wrote, and no person, is named.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from commands.services.readside import ensure_current
from commands.services.schools import school_filter
from ledger.domain.base import parse_date
from ledger.domain.incidents import categories as codes
from ledger import localtime
from ledger.errors import InvalidInput, NotPermitted
from ledger.store import Actor, Ledger
from projections.actions import actions
from projections.entries import entries
from projections.records import records

#: Roles that may read the report (counts only).
READERS = ("headteacher", "dsl", "slt", "admin", "auditor", "governor")
APPROVAL_KINDS = ("SocialMediaPost", "DeviceApproval", "PermissionRequest")
#: How the report names each kind of request.
APPROVAL_TITLES = {"SocialMediaPost": "social media posts", "DeviceApproval": "devices",
                   "PermissionRequest": "permissions"}


@dataclass
class GovernorsReport:
    """The counts for one period (and, optionally, one school)."""

    start: str
    end: str
    school: str | None
    generated_at: str
    incidents: int = 0
    by_category: list[dict[str, Any]] = field(default_factory=list)
    by_school: dict[str, int] = field(default_factory=dict)
    by_term: dict[str, int] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    referrals: dict[str, int] = field(default_factory=dict)
    triage_hours: dict[str, float | int | None] = field(default_factory=dict)
    approvals: dict[str, int] = field(default_factory=dict)
    acknowledged: int | None = None
    covered_staff: int | None = None
    assisted: int = 0
    review: dict[str, Any] = field(default_factory=dict)
    training: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    alerts_by_category: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    zone: dt.tzinfo = localtime.UTC

    def day(self, moment: str) -> str:
        """The federation's local date of a stored moment (a date stays as it is)."""
        return moment if len(moment) == 10 else localtime.local_date(moment, self.zone).isoformat()

    def rows(self) -> list[dict[str, Any]]:
        """Every figure as (section, item, count): for CSV and tables."""
        out: list[dict[str, Any]] = [{"section": "incidents", "item": "reported", "count": self.incidents}]
        out += [{"section": "category", "item": r["title"], "count": r["count"]} for r in self.by_category]
        for section, counts in (("school", self.by_school), ("term", self.by_term), ("record", self.by_class),
                                ("status", self.by_status), ("outcome", self.outcomes),
                                ("referral", self.referrals), ("approvals", self.approvals),
                                ("alerts", self.alerts), ("alert category", self.alerts_by_category)):
            out += [{"section": section, "item": k, "count": v} for k, v in counts.items()]
        out += [{"section": "time to triage (hours)", "item": k, "count": v} for k, v in self.triage_hours.items()]
        if self.covered_staff is not None:
            out.append({"section": "policy", "item": "acknowledged", "count": self.acknowledged})
            out.append({"section": "policy", "item": "staff covered", "count": self.covered_staff})
            out.append({"section": "policy", "item": "acknowledged on paper (assisted)", "count": self.assisted})
        if self.review:
            out.append({"section": "policy review", "item": "last reviewed", "count": self.review["last_reviewed_on"]
                        or "never"})
            out.append({"section": "policy review", "item": f"next due ({self.review['state']})",
                        "count": self.review["next_due"]})
        out += [{"section": "training", "item": k, "count": v} for k, v in self.training.items()]
        return out


def term_of(day: str) -> str:
    """The school term a date falls in: autumn (Sep-Dec), spring (Jan-Mar), summer (Apr-Aug), with the school year."""
    date = dt.date.fromisoformat(day[:10])
    year = date.year if date.month >= 9 else date.year - 1
    name = "autumn" if date.month >= 9 else "spring" if date.month <= 3 else "summer"
    return f"{year}/{str(year + 1)[2:]} {name}"


def school_year_so_far(today: str) -> tuple[str, str]:
    """From 1 September of the school year containing ``today`` (a local date) to that day."""
    day = dt.date.fromisoformat(today)
    year = day.year if day.month >= 9 else day.year - 1
    return f"{year}-09-01", day.isoformat()


def report(ledger: Ledger, actor: Actor, start: str | None = None, end: str | None = None,
           school: str | None = None) -> GovernorsReport:
    """The counts from ``start`` to ``end`` (dates, inclusive; default: the school year so far)."""
    if not set(actor.roles) & set(READERS):
        raise NotPermitted(f"{actor.actor_id} may not read the governors' report",
                           f"it is for: {', '.join(READERS)}")
    school = school_filter(ledger, school)
    ensure_current(ledger)
    registry = ledger.registry()
    with ledger.unit(actor) as work:
        now = work.now
        first, last = school_year_so_far(work.today)
        start = parse_date("start date", start) if start else first
        end = parse_date("end date", end) if end else last
        if end < start:
            raise InvalidInput("the period ends before it starts")
        found = GovernorsReport(start, end, school, now, zone=work.zone)
        _incidents(work.conn, found)
        _referrals(work.conn, found)
        _approvals(work.conn, found)
        _alerts(work.conn, found)
        _acknowledgements(work.conn, registry, found, work.today)
        _policy_duties(work, found)
    return found


def _policy_duties(work: Any, found: GovernorsReport) -> None:
    """The policy's review (last, next due) and how many are trained for each topic today."""
    from commands.services import reviews, training

    status = reviews.review_status(work)
    if status["next_due"]:
        found.review = status
        found.notes.append(f"the policy's next review is due {status['next_due']} ({status['state']}; "
                           f"{status['basis']})")
    for row in training.register_rows(work, current_only=True):
        found.training[f"current: {row['topic']}"] = found.training.get(f"current: {row['topic']}", 0) + 1


def _within(found: GovernorsReport, moment: str) -> bool:
    return found.start <= found.day(moment) <= found.end


def _incidents(conn: Any, found: GovernorsReport) -> None:
    rows = [dict(r._mapping) for r in conn.execute(select(records).where(records.c.kind == "Incident"))]
    chosen = {}
    for row in rows:
        claims = json.loads(row["claims"]) if row["claims"] else {}
        if not _within(found, str(row["created_at"])) or (found.school and claims.get("school") != found.school):
            continue
        chosen[str(row["aggregate"])] = (row, claims)
    history: dict[str, list[Any]] = {a: [] for a in chosen}
    ids = sorted(chosen)
    for begin in range(0, len(ids), 500):
        query = (select(entries.c.aggregate, entries.c.event_type, entries.c.recorded_at, entries.c.claims)
                 .where(entries.c.aggregate.in_(ids[begin:begin + 500]))
                 .order_by(entries.c.aggregate, entries.c.notification_id))
        for row in conn.execute(query):
            history[str(row.aggregate)].append(row)
    categories: Counter[str] = Counter()
    waits: list[float] = []
    untriaged = 0
    for aggregate, (row, claims) in chosen.items():
        events = history[aggregate]
        category = str(claims.get("category") or row["category"] or "")
        categories[category] += 1
        found.by_school[str(claims.get("school") or "not given")] = found.by_school.get(
            str(claims.get("school") or "not given"), 0) + 1
        term = term_of(found.day(str(row["created_at"])))
        found.by_term[term] = found.by_term.get(term, 0) + 1
        found.by_class[str(row["record_class"])] = found.by_class.get(str(row["record_class"]), 0) + 1
        status = _status(events)
        found.by_status[status] = found.by_status.get(status, 0) + 1
        finding = next((json.loads(e.claims or "{}").get("finding") for e in reversed(events)
                        if e.event_type == "Incident.OutcomeRecorded"), None)
        if finding:
            found.outcomes[str(finding)] = found.outcomes.get(str(finding), 0) + 1
        reported = next((e.recorded_at for e in events if e.event_type == "Incident.Reported"), None)
        triaged = next((e.recorded_at for e in events if e.event_type == "Incident.Triaged"), None)
        if reported and triaged:
            waits.append((dt.datetime.fromisoformat(triaged) - dt.datetime.fromisoformat(reported)).total_seconds()
                         / 3600)
        elif reported:
            untriaged += 1
    found.incidents = len(chosen)
    found.by_category = [
        {"category": code, "title": codes.CATEGORIES[code].title if code in codes.CATEGORIES else code, "count": n}
        for code, n in sorted(categories.items(), key=lambda pair: (-pair[1], pair[0]))
    ]
    found.triage_hours = {
        "triaged": len(waits),
        "median": round(statistics.median(waits), 1) if waits else None,
        "longest": round(max(waits), 1) if waits else None,
        "not yet triaged": untriaged,
    }
    for counts in (found.by_school, found.by_term, found.by_class, found.by_status, found.outcomes):
        ordered = dict(sorted(counts.items()))
        counts.clear()
        counts.update(ordered)


def _status(events: list[Any]) -> str:
    status = "reported"
    for event in events:
        name = event.event_type
        if name == "Incident.Triaged":
            status = "triaged"
        elif name == "Incident.InvestigatorAssigned" and status in ("triaged", "reopened"):
            status = "investigating"
        elif name == "Incident.Closed":
            status = "closed"
        elif name == "Incident.Reopened":
            status = "reopened"
    return status


def _referrals(conn: Any, found: GovernorsReport) -> None:
    query = select(actions.c.kind, actions.c.taken_on, records.c.claims).select_from(
        actions.join(records, records.c.aggregate == actions.c.incident)).where(
        actions.c.status == "done", actions.c.kind.in_(codes.REFERRALS))
    counts: Counter[str] = Counter()
    for kind, taken_on, claims in conn.execute(query):
        school = (json.loads(claims) if claims else {}).get("school")
        if taken_on and _within(found, str(taken_on)) and (not found.school or school == found.school):
            counts[str(kind)] += 1
    found.referrals = {codes.ACTION_TITLES.get(k, k): counts[k] for k in codes.REFERRALS if counts[k]}


def _approvals(conn: Any, found: GovernorsReport) -> None:
    rows = conn.execute(select(records.c.aggregate, records.c.kind, records.c.created_at, records.c.claims)
                        .where(records.c.kind.in_(APPROVAL_KINDS)))
    counts: Counter[str] = Counter()
    for aggregate, kind, created_at, claims in rows:
        if not _within(found, str(created_at)):
            continue
        values = json.loads(claims) if claims else {}
        title = APPROVAL_TITLES.get(str(kind), str(kind))
        counts[f"{title}: requested"] += 1
        outcome = values.get("outcome") if values.get("decision_no") else None
        if outcome:
            counts[f"{title}: {outcome}"] += 1
    found.approvals = dict(sorted(counts.items()))


def _alerts(conn: Any, found: GovernorsReport) -> None:
    rows = conn.execute(select(entries.c.aggregate, entries.c.event_type, entries.c.happened_at, entries.c.claims)
                        .where(entries.c.kind == "Alert").order_by(entries.c.notification_id))
    recorded: dict[str, dict[str, Any]] = {}
    for aggregate, event_type, happened_at, claims in rows:
        values = json.loads(claims) if claims else {}
        if event_type == "Alert.Recorded":
            recorded[str(aggregate)] = {"at": str(happened_at), "category": values.get("category"),
                                        "severity": values.get("severity"), "linked": False, "dismissed": False}
        elif str(aggregate) in recorded and event_type == "Alert.Linked":
            recorded[str(aggregate)]["linked"] = True
        elif str(aggregate) in recorded and event_type == "Alert.Dismissed":
            recorded[str(aggregate)]["dismissed"] = True
    chosen = [a for a in recorded.values() if _within(found, a["at"])]
    counts: Counter[str] = Counter()
    for alert in chosen:
        counts[f"severity {alert['severity']}"] += 1
        counts["linked to an incident"] += alert["linked"]
        counts["dismissed"] += alert["dismissed"]
    found.alerts = {"recorded": len(chosen), **dict(sorted(counts.items()))}
    found.alerts_by_category = dict(sorted(Counter(str(a["category"]) for a in chosen).items()))
    if found.school:
        found.notes.append("monitoring alerts are counted for the whole federation (their school is not recorded)")


def _acknowledgements(conn: Any, registry: Any, found: GovernorsReport, today: str) -> None:
    versions = [dict(r._mapping) for r in conn.execute(select(records).where(records.c.kind == "PolicyVersion"))]
    effective = []
    for version in versions:
        claims = json.loads(version["claims"]) if version["claims"] else {}
        if claims.get("effective_on") and str(claims["effective_on"]) <= today:
            effective.append(claims)
    if not effective:
        found.notes.append("no policy version is in force yet")
        return
    current = max(effective, key=lambda c: str(c["effective_on"]))
    perms = registry.permissions
    covered_roles = set(perms.writers_of("PolicyAcknowledgement.Recorded")) if perms else set()
    covered = {s.staff_id for s in registry.staff.values() if s.active and set(s.roles) & covered_roles}
    acknowledged = set()
    for row in conn.execute(select(records.c.claims).where(records.c.kind == "PolicyAcknowledgement")):
        claims = json.loads(row.claims) if row.claims else {}
        if claims.get("policy_version") == current.get("label") and claims.get("staff_id") in covered:
            acknowledged.add(claims["staff_id"])
            found.assisted += bool(claims.get("assisted"))
    found.covered_staff = len(covered)
    found.acknowledged = len(acknowledged)
    found.notes.append(f"acknowledgements are of policy version {current.get('label')}, in force since "
                       f"{current.get('effective_on')}")
