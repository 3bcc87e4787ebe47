"""What waits for me: the reports, actions, cases, decisions and keys a person owes.

Built over clear facts only (registers, the actions read model, alert headers
and the registry), so it needs no reason and records no read: new reports
escalated to one of my roles and still untriaged, actions I own (due or
overdue), cases I am assigned to investigate, open incidents of my role with
an overdue step or someone's overdue action, requests waiting for the
Headteacher's decision, the policy version in force when I have not
acknowledged it, high-severity monitoring alerts nobody has linked or
dismissed, and the trust model's own chores: a key reset waiting for a second
person, a reader key to replace after someone left, a permission table to adopt; and for the
DSL, child protection files due to the next school (5 school days) and receipts outstanding.
"""

from __future__ import annotations

from typing import Any

from commands.services import readside, transfer
from commands.services.monitoring import list_alerts
from ledger.domain.incidents import categories as codes
from ledger.errors import NotFound
from ledger.store import Actor, Ledger
from projections.actions import action_rows
from projections.registers import days_between

#: Kinds of item, in the order the inbox lists them.
KINDS = ("triage", "alert", "transfer-file", "action", "investigate", "overdue", "decide", "approve-reset",
         "replace-key", "adopt-table", "acknowledge", "confirm-deletion", "review-policy", "training",
         "transfer-receipt", "case")

#: Who reviews the policy (Head of Operations in SLT, the Network Manager) and who monitors it.
REVIEW_ROLES = ("headteacher", "slt", "admin")

#: An action is listed this many days before it is due.
DUE_SOON_DAYS = 7
#: Alert severities that wait in the inbox until linked or dismissed.
URGENT_SEVERITIES = ("high", "critical")

HEADTEACHER_DECISION = "Headteacher's decision"


def _item(kind: str, ref: str, what: str, since: str, age_days: int | str, note: str = "") -> dict[str, Any]:
    return {"kind": kind, "ref": ref, "what": what, "since": since, "age_days": age_days, "note": note}


def _owner(row: dict[str, Any]) -> str:
    return codes.owner_for(str(row["category"]), row["class"] == codes.ALLEGATION_CLASS)


def _incident_items(ledger: Ledger, actor: Actor, reason: str | None) -> list[dict[str, Any]]:
    """Reports to triage, cases to investigate, overdue steps, and the open cases of my role.

    Given a reason, each says what the incident is (its summary, for those who
    may read it) and the read is logged; otherwise clear facts only.
    """
    items = []
    for row in readside.register(ledger, actor, "incidents", reason, status="open"):
        title = codes.CATEGORIES[row["category"]].title if row["category"] in codes.CATEGORIES else row["category"]
        if row.get("school"):
            title = f"{title} at {row['school']}"
        if row.get("description"):
            title = f"{title}, \u201c{row['description']}\u201d"
        assigned = actor.actor_id in str(row["investigators"]).split(",")
        mine = row["escalated_to"] in actor.roles
        if row["status"] == "reported" and _owner(row) in actor.roles:
            items.append(_item("triage", row["id"], f"{title}: waiting for triage", row["reported_on"],
                               row["age_days"], row["overdue"]))
        elif assigned:
            items.append(_item("investigate", row["id"], f"{title}: assigned to you to investigate",
                               row["reported_on"], row["age_days"], row["overdue"]))
        elif row["overdue"] and (mine or "headteacher" in actor.roles):
            items.append(_item("overdue", row["id"], f"{title}: a step is overdue", row["reported_on"],
                               row["age_days"], row["overdue"]))
        elif mine and row["status"] != "reported":
            items.append(_item("case", row["id"], f"{title}: open ({row['status']}), escalated to your role",
                               row["reported_on"], row["age_days"]))
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


#: What a device request waits for once photos may have been taken on it.
DELETION_STEP = "confirmation that photos were deleted"


def _deletion_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """Approved personal devices whose photos are not yet confirmed deleted after upload: for the
    member of staff who asked, and for the Headteacher, until the deletion is confirmed."""
    return [
        _item("confirm-deletion", row["id"], f"photos on a personal device ({row['requested_by']}): not yet "
              f"confirmed deleted after upload: `ledger approvals device confirm-deleted {row['id']} …`",
              row["requested_on"], row["age_days"])
        for row in readside.register(ledger, actor, "approvals")
        if str(row["waiting_for"]).startswith(DELETION_STEP)
        and (row["requested_by"] == actor.actor_id or "headteacher" in actor.roles)
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


def _action_items(ledger: Ledger, actor: Actor, today: str) -> list[dict[str, Any]]:
    """Every open action I own (soonest first); others' overdue actions on my role's incidents."""
    mine_role = {r["id"] for r in readside.register(ledger, actor, "incidents", status="open")
                 if r["escalated_to"] in actor.roles or "headteacher" in actor.roles}
    items = []
    with ledger.engine.connect() as conn:
        rows = action_rows(conn, status="open")
    for row in rows:
        due = str(row["due_on"] or "")
        late = bool(due) and due < today
        title = codes.ACTION_TITLES.get(str(row["kind"]), str(row["kind"]))
        title = title[:1].upper() + title[1:]
        ref = f"{row['alias'] or row['incident']} {row['action_id']}"
        if row["owner"] == actor.actor_id:
            soon = bool(due) and not late and days_between(today, due) <= DUE_SOON_DAYS
            items.append(_item("action", ref, f"{title}: {'OVERDUE, ' if late else ''}due {due or 'no date'}", due,
                               days_between(due, today) if late else 0,
                               "overdue" if late else "due soon" if soon else ""))
        elif late and row["alias"] in mine_role:
            items.append(_item("overdue", ref, f"{title} by {row['owner']}: overdue since {due}", due,
                               days_between(due, today), "overdue"))
    return items


def _alert_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    if not ledger.registry().roles_of(actor.actor_id) & set(ledger.permissions().readers_of("monitoring")):
        return []
    return [
        _item("alert", str(a["id"]), f"{a['severity']} {a['category']} alert ({a['source']}): not linked or dismissed",
              str(a["time"]), "")
        for a in list_alerts(ledger, reader=actor)
        if a["severity"] in URGENT_SEVERITIES and not a["incidents"] and not a["dismissed"] and not a["erased"]
    ]


def _trust_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """Chores of the trust model that need a particular person."""
    registry = ledger.registry()
    held = registry.roles_of(actor.actor_id)
    items = []
    if held & {"admin", "headteacher"}:
        for reset_id, reset in sorted(registry.resets.items()):
            if reset.get("approved_leaf") is None and actor.actor_id not in (reset["owner"], reset["proposed_by"]):
                items.append(_item("approve-reset", reset_id, f"a new key for {reset['owner']}, proposed by "
                                   f"{reset['proposed_by']}: waiting for a second person", "", ""))
    for role in sorted(registry.rotation_due):
        if role in held or "headteacher" in held:
            items.append(_item("replace-key", role, f"the {role} reader key must be replaced (someone left or lost "
                               f"the role): `ledger people rotate-role-key {role}`", "", ""))
    proposal = registry.proposal
    if proposal and "headteacher" in held and proposal["by"] != actor.actor_id:
        version = proposal["table"]["version"]
        items.append(_item("adopt-table", f"v{version}", f"permission table version {version} proposed by "
                           f"{proposal['by']}: `ledger permissions adopt {version}`", "", ""))
    return items


def _policy_items(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """The policy's next review (overdue or due within a month), and investigators assigned without
    current training, for those who review the policy or see that investigators are trained."""
    if not set(actor.roles) & set(REVIEW_ROLES):
        return []
    from commands.services import reviews, training

    items = []
    assigned: dict[str, list[str]] = {}
    if "headteacher" in actor.roles:
        assigned = {str(r["id"]): [i for i in str(r["investigators"]).split(",") if i]
                    for r in readside.register(ledger, actor, "incidents", status="open")}
    with ledger.unit() as work:
        status = reviews.review_status(work)
        if status["state"] in ("overdue", "due soon"):
            items.append(_item("review-policy", "policy", f"policy review {status['state']}: due "
                               f"{status['next_due']} ({status['basis']}); `ledger policy review`",
                               status["next_due"], "", status["state"]))
        for gap in training.untrained_investigators(work, assigned):
            items.append(_item("training", gap["inc_id"], f"{gap['why']}, yet assigned to investigate this case",
                               "", "", "untrained"))
    return items


def waiting_for(ledger: Ledger, actor: Actor, reason: str | None = None) -> list[dict[str, Any]]:
    """Everything waiting for ``actor``, oldest first within each kind.

    Clear facts only, unless a ``reason`` is given: then incidents say what
    they are to those who may read them, and that read is logged.
    """
    today = ledger.today()
    items = (_incident_items(ledger, actor, reason) + _alert_items(ledger, actor) + _action_items(ledger, actor, today)
             + _decision_items(ledger, actor) + _trust_items(ledger, actor) + _acknowledgement_items(ledger, actor)
             + _policy_items(ledger, actor) + _deletion_items(ledger, actor) + transfer.waiting(ledger, actor, reason))
    return sorted(items, key=lambda i: (KINDS.index(i["kind"]), str(i["since"]), i["ref"]))
