"""What every member of staff does: acknowledge the policy, ask for a post, device or permission."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request
from werkzeug.wrappers import Response

from commands.services import approvals, policy, readside
from commands.web.context import actor, back_to, form, ledger, page, session
from ledger.domain.approvals import PERMISSION_KINDS

bp = Blueprint("staff", __name__)

ACCOUNTS = ("facebook", "instagram", "x", "linkedin", "website", "other")


def ids(field: str) -> list[str]:
    """Ids typed into one field, separated by commas or spaces."""
    return [part for part in (request.form.get(field) or "").replace(",", " ").split() if part]


@bp.get("/policy")
def policy_page() -> tuple[str, int]:
    """The version in force and who has acknowledged it (your own row, or everyone's for its readers)."""
    person = actor()
    rows = readside.register(ledger(), person, "acknowledgements")
    mine = next((r for r in rows if r["staff_id"] == person.actor_id), None)
    return page("policy.html", "The policy", rows=rows, mine=mine, sees_all=len(rows) > 1 or mine is None)


@bp.post("/policy/acknowledge")
def acknowledge() -> Response:
    """Acknowledge the version in force."""
    done = policy.acknowledge(ledger(), actor(), form("version"))
    session().say(f"You acknowledged policy version {done['version']} (text SHA-256 {done['text_hash'][:16]}…).")
    return back_to("staff.policy_page")


@bp.get("/requests")
def requests() -> tuple[str, int]:
    """Your requests (or every request, for the Headteacher and SLT) and the forms to make one."""
    rows = approvals.list_approvals(ledger(), actor())
    return page("requests.html", "Requests", rows=rows, kinds=PERMISSION_KINDS, accounts=ACCOUNTS,
                schools=ledger().registry().schools)


@bp.post("/requests/post")
def propose_post() -> Response:
    """Propose a post on a Federation account (images are kept by their SHA-256 only)."""
    images: list[Path | bytes] = [upload.read() for upload in request.files.getlist("images") if upload.filename]
    post_id = approvals.propose_post(ledger(), actor(), request.form.get("text", ""), ids("children"), images,
                                     form("account") or "facebook", form("school"))
    session().say(f"Post {post_id} proposed: it needs parental permission for each child and the Headteacher's approval.")
    return back_to("staff.requests")


@bp.post("/requests/device")
def request_device() -> Response:
    """Ask in advance to take photos on a device the Federation does not own."""
    request_id = approvals.request_device(ledger(), actor(), request.form.get("device", ""),
                                          request.form.get("purpose", ""), request.form.get("needed_from", ""),
                                          request.form.get("needed_until", ""), form("school"))
    session().say(f"Device request {request_id} sent to the Headteacher.")
    return back_to("staff.requests")


@bp.post("/requests/permission")
def request_permission() -> Response:
    """Ask the Headteacher for a permission the policy requires."""
    request_id = approvals.request_permission(ledger(), actor(), request.form.get("kind", ""),
                                              request.form.get("details", ""), ids("about"), form("school"))
    session().say(f"Permission request {request_id} sent to the Headteacher.")
    return back_to("staff.requests")
