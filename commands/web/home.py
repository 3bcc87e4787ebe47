"""Where people start: the inbox, their own reports, and giving a reason to read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from commands.services import inbox as inbox_service, own_reports
from commands.web.context import actor, form, keep_reason, ledger, page, reason_for, start_page

bp = Blueprint("home", __name__)

#: Where each kind of inbox item is worked on; the trust model's chores (a key reset to approve,
#: a reader key to replace, a permission table to adopt) are done at the command line, as they say.
ITEM_PAGES = {"triage": "cases.incident", "investigate": "cases.incident", "overdue": "cases.incident",
              "case": "cases.incident", "action": "cases.incident", "alert": "alerts.alert",
              "decide": "registers.approval", "acknowledge": "staff.policy_page",
              "confirm-deletion": "registers.approval", "review-policy": "staff.policy_page",
              "training": "cases.incident", "transfer-file": "transfers.index",
              "transfer-receipt": "transfers.index"}
#: The record an inbox reason is kept under (the inbox, not one case).
INBOX_RECORD = "inbox"


@bp.get("/")
def index() -> Response:
    """Send the person to their start page."""
    return redirect(start_page(actor()), code=303)


def _where(item: dict[str, Any]) -> dict[str, Any]:
    """An inbox item with the page it is worked on (if any) and, for an action I own, what marks it done."""
    record, _, action_id = str(item["ref"]).partition(" ")
    endpoint = ITEM_PAGES.get(item["kind"])
    values: dict[str, Any] = {"cases.incident": {"inc_id": record}, "alerts.alert": {"alert_id": record},
              "registers.approval": {"request_id": record},
              "transfers.index": {"_anchor": record}}.get(endpoint or "", {})
    return {**item, "href": url_for(endpoint, **values) if endpoint else None,
            "incident": record if action_id else None, "action_id": action_id or None}


@bp.get("/inbox")
def inbox() -> tuple[str, int]:
    """What waits for me: every kind ``ledger inbox`` lists. Given a reason (once per session),
    each case says what it is, and that read is logged as the CLI's ``inbox --reason`` does."""
    reason = reason_for(INBOX_RECORD)
    items = [_where(item) for item in inbox_service.waiting_for(ledger(), actor(), reason)]
    return page("inbox.html", "What waits for you", items=items, reason=reason, record=INBOX_RECORD,
                here=url_for("home.inbox"))


@bp.get("/mine")
def mine() -> tuple[str, int]:
    """The incidents I reported, with their status (never their content)."""
    return page("mine.html", "Your reports", rows=own_reports.reported_by(ledger(), actor()))


@bp.post("/reason")
def reason() -> Response:
    """Remember why the person needs a record, then show it (the read is logged with this reason)."""
    record = form("record") or ""
    keep_reason(record, form("reason"))
    target = request.form.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target, code=303)
