"""The approvals and incidents registers.

Both take the list of records, their classes and when they were made from
each record's checked first entry (the index only helps; a record it lacks is
still listed, and says so), and each record's clear state from its signed headers (the same redacted replay the write side uses
to check its rules), so "what is blocking this request" is the domain's own
answer (``Request.row``), not a second copy of the rules.
"""

from __future__ import annotations

from typing import Any

from projections.registers import Register, RegisterContext, add, days_between

#: The issue's words for the approval statuses the domain uses.
APPROVAL_STATES = {
    "awaiting-decision": "pending",
    "revoked": "pending",
    "approved": "approved",
    "rejected": "rejected",
    "published": "live",
    "removed": "removed",
    "expired": "expired",
}

#: An incident still "reported" (not triaged) after this many days is overdue.
TRIAGE_WITHIN_DAYS = 1
#: A requested removal of a post not confirmed after this many days is overdue.
REMOVAL_WITHIN_DAYS = 7


#: The record kinds of approval requests.
APPROVAL_KINDS = ("SocialMediaPost", "DeviceApproval", "PermissionRequest")


APPROVAL_COLUMNS = ("id", "kind", "school", "state", "status", "requested_by", "requested_on", "decided_on",
                    "valid_until", "waiting_for", "age_days", "read_model")
INCIDENT_COLUMNS = ("id", "status", "category", "class", "school", "escalated_to", "investigators", "reported_on",
                    "age_days", "overdue", "read_model")


def _unverified(record: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """A row for a record whose first entry fails its checks: listed, never silently dropped."""
    return {**dict.fromkeys(columns, ""), "id": record["alias"] or record["aggregate"], "age_days": 0,
            "status": f"NOT VERIFIED: {record['problem']}", "read_model": "run `ledger verify`",
            "record": record["aggregate"], "readable": False}


def _finish(ctx: RegisterContext, rows: list[dict[str, Any]]) -> None:
    """Reset-key marks for every row; a description (and the record, for the access log) when asked."""
    marks = ctx.reset_marks([str(r["record"]) for r in rows])
    headlines = ctx.headlines([str(r["record"]) for r in rows if r.pop("readable")])
    for row in rows:
        record = str(row.pop("record"))
        row["reset_key"] = marks.get(record, "")
        if ctx.describing:
            row["description"] = headlines.get(record, "")
            if record in headlines:
                row["access_record"] = record


def _approvals(ctx: RegisterContext) -> list[dict[str, Any]]:
    """Every approval request with its state and what it is waiting for."""
    wanted, school = ctx.option("status"), ctx.option("school")
    rows = []
    for record in ctx.signed_records(APPROVAL_KINDS):
        if record["problem"]:
            rows.append(_unverified(record, APPROVAL_COLUMNS))
            continue
        claims = record["claims"]
        readable = ctx.may_read(record["record_class"])
        if not (readable or claims.get("requested_by") == ctx.reader_id) or school and claims.get("school") != school:
            continue
        request = ctx.load(record["aggregate"])
        clear = request.row(ctx.today) if callable(getattr(request, "row", None)) else {}
        status = str(clear.get("status") or "")
        state = APPROVAL_STATES.get(status, status)
        if wanted and wanted not in (state, status):
            continue
        rows.append({
            "id": clear.get("id") or record["alias"] or record["aggregate"],
            "kind": clear.get("kind") or "",
            "school": claims.get("school") or "",
            "state": state,
            "status": status,
            "requested_by": clear.get("requested_by") or claims.get("requested_by") or record["created_by"],
            "requested_on": ctx.local_date(record["created_at"]),
            "decided_on": clear.get("decided_on") or "",
            "valid_until": clear.get("valid_until") or "",
            "waiting_for": clear.get("blocked_by") or "",
            "conditions": clear.get("conditions") or "",
            "age_days": days_between(ctx.local_date(record["created_at"]), ctx.today),
            "read_model": record["read_model"],
            "record": record["aggregate"],
            "readable": readable,
        })
    _finish(ctx, rows)
    order = ["pending", "approved", "live", "expired", "rejected", "removed"]
    rows.sort(key=lambda r: (order.index(r["state"]) if r["state"] in order else len(order), r["requested_on"], r["id"]))
    return rows


def _overdue(incident: Any, age: int, today: str) -> list[str]:
    found = []
    if getattr(incident, "status", "") == "reported" and age >= TRIAGE_WITHIN_DAYS:
        found.append(f"triage overdue (reported {age} days ago)")
    waiting: list[str] = []
    for action in getattr(incident, "actions", []):
        if action.get("action") == "removal-requested":
            waiting.append(str(action.get("taken_on") or ""))
        elif action.get("action") == "removal-confirmed" and waiting:
            waiting.pop(0)
    for day in waiting:
        if day and days_between(day, today) >= REMOVAL_WITHIN_DAYS:
            found.append(f"removal requested {day}, not confirmed after {days_between(day, today)} days")
    return found


def _incidents(ctx: RegisterContext) -> list[dict[str, Any]]:
    """Incidents by status, category, assignee and age, with overdue actions."""
    wanted, category, assignee = ctx.option("status") or "open", ctx.option("category"), ctx.option("assignee")
    school = ctx.option("school")
    rows = []
    for record in ctx.signed_records(("Incident",)):
        if record["problem"]:
            rows.append(_unverified(record, INCIDENT_COLUMNS))
            continue
        incident = ctx.load(record["aggregate"])
        investigators = list(getattr(incident, "investigators", []) or [])
        if not (ctx.may_read(record["record_class"]) or ctx.reader_id in investigators):
            continue
        status = str(getattr(incident, "status", "") or "")
        is_open = bool(getattr(incident, "is_open", status != "closed"))
        if wanted == "open" and not is_open or wanted not in ("open", "all", status):
            continue
        escalated = str(getattr(incident, "escalated_to", "") or "")
        if category and getattr(incident, "category", None) != category:
            continue
        if assignee and assignee not in investigators and assignee != escalated:
            continue
        if school and getattr(incident, "school", None) != school:
            continue
        age = days_between(ctx.local_date(record["created_at"]), ctx.today)
        rows.append({
            "id": record["alias"] or record["aggregate"],
            "status": status,
            "category": getattr(incident, "category", None) or "",
            "class": record["record_class"],
            "school": getattr(incident, "school", None) or "",
            "escalated_to": escalated,
            "investigators": ",".join(investigators),
            "reported_on": ctx.local_date(record["created_at"]),
            "age_days": age,
            "overdue": "; ".join(_overdue(incident, age, ctx.today)) if is_open else "",
            "read_model": record["read_model"],
            "record": record["aggregate"],
            "readable": True,
        })
    _finish(ctx, rows)
    rows.sort(key=lambda r: (r["status"], r["category"], r["escalated_to"], -int(r["age_days"]), r["id"]))
    return rows


add(Register("approvals", "Approvals: pending, approved, rejected, live, removed, and what blocks each", _approvals,
             describes=True))
add(Register("incidents", "Incidents by status, category, assignee and age, with overdue actions", _incidents,
             describes=True))
