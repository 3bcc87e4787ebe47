"""What waits for me: the incidents, cases, decisions and acknowledgements a person owes.

Built over today's registers (clear facts only, so it needs no reason and
records no read): new reports escalated to one of my roles and still
untriaged, cases I am assigned to investigate, open incidents of my role
with an overdue step, requests waiting for the Headteacher's decision, and
the policy version in force when I have not acknowledged it. When actions
gain owners and due dates, and monitoring alerts a triage queue, each
becomes one more kind of item here.
"""

from __future__ import annotations

from typing import Any

from commands.services import readside
from ledger.domain.incidents import categories as codes
from ledger.errors import NotFound
from ledger.store import Actor, Ledger

#: Kinds of item, in the order the inbox lists them.
KINDS = ("triage", "investigate", "overdue", "decide", "acknowledge")

HEADTEACHER_DECISION = "Headteacher's decision"


def _item(kind: str, ref: str, what: str, since: str, age_days: int | str, note: str = "") -> dict[str, Any]:
    return {"kind": kind, "ref": ref, "what": what, "since": since, "age_days": age_days, "note": note}


def _owner(row: dict[str, Any]) -> str:
    return codes.owner_for(str(row["category"]), row["class"] == codes.ALLEGATION_CLASS)


def _incident_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    items = []
    for row in readside.register(ledger, actor, "incidents", status="open"):
        title = codes.CATEGORIES[row["category"]].title if row["category"] in codes.CATEGORIES else row["category"]
        assigned = actor.actor_id in str(row["investigators"]).split(",")
        if row["status"] == "reported" and _owner(row) in actor.roles:
            items.append(_item("triage", row["id"], f"{title}: waiting for triage", row["reported_on"],
                               row["age_days"], row["overdue"]))
        elif assigned:
            items.append(_item("investigate", row["id"], f"{title}: assigned to you to investigate",
                               row["reported_on"], row["age_days"], row["overdue"]))
        elif row["overdue"] and (row["escalated_to"] in actor.roles or "headteacher" in actor.roles):
            items.append(_item("overdue", row["id"], f"{title}: a step is overdue", row["reported_on"],
                               row["age_days"], row["overdue"]))
    return items


def _decision_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    if "headteacher" not in actor.roles:
        return []
    return [
        _item("decide", row["id"], f"{row['kind']} request from {row['requested_by']}: waiting for your decision",
              row["requested_on"], row["age_days"])
        for row in readside.register(ledger, actor, "approvals", status="pending")
        if row["waiting_for"] == HEADTEACHER_DECISION
    ]


def _acknowledgement_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    try:
        rows = readside.register(ledger, actor, "acknowledgements")
    except NotFound:  # no policy version in force yet: nothing to acknowledge
        return []
    return [
        _item("acknowledge", row["version"], f"policy version {row['version']}: not yet acknowledged by you",
              row["outstanding_since"], row["days_outstanding"])
        for row in rows
        if row["staff_id"] == actor.actor_id and not row["acknowledged"]
    ]


def waiting_for(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """Everything waiting for ``actor``, oldest first within each kind (no personal data)."""
    items = _incident_items(ledger, actor) + _decision_items(ledger, actor) + _acknowledgement_items(ledger, actor)
    return sorted(items, key=lambda i: (KINDS.index(i["kind"]), str(i["since"]), i["ref"]))
