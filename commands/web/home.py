"""Where people start: the inbox, their own reports, and giving a reason to read."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from commands.services import inbox as inbox_service, own_reports
from commands.web.context import actor, form, keep_reason, ledger, page, start_page

bp = Blueprint("home", __name__)

#: Where each kind of inbox item is worked on.
ITEM_PAGES = {"triage": "/incidents/{}", "investigate": "/incidents/{}", "overdue": "/incidents/{}",
              "decide": "/approvals/{}", "acknowledge": "/policy", "confirm-deletion": "/approvals/{}",
              "review-policy": "/policy", "training": "/incidents/{}"}


@bp.get("/")
def index() -> Response:
    """Send the person to their start page."""
    return redirect(start_page(actor()), code=303)


@bp.get("/inbox")
def inbox() -> tuple[str, int]:
    """What waits for me."""
    items = inbox_service.waiting_for(ledger(), actor())
    for item in items:
        item["href"] = ITEM_PAGES.get(item["kind"], "/inbox").format(item["ref"])
    return page("inbox.html", "What waits for you", items=items)


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
