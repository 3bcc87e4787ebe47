"""Registers, approval decisions and the governors' report."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from commands.services import approvals, governors as governors_service, readside
from commands.web.context import actor, back_to, form, ledger, needs_reason, page, session
from ledger.domain.approvals import APPROVED, REJECTED
from projections import registers as register_index

bp = Blueprint("registers", __name__)

@bp.get("/registers")
def index() -> tuple[str, int]:
    """Every register, by name and title."""
    names = readside.register_names()
    return page("registers.html", "Registers", registers=[register_index.get(n) for n in names])


@bp.get("/registers/<name>")
def register(name: str) -> tuple[str, int]:
    """One register as you may see it (one showing personal data asks why first)."""
    chosen = register_index.get(name)
    if chosen.shows_personal_data:
        return personal_register(name=name)
    return _register(name, None)


@needs_reason("the {} register")
def personal_register(name: str, reason: str) -> tuple[str, int]:
    """A register that shows decrypted content, read with a reason."""
    return _register(name, reason)


def _register(name: str, reason: str | None) -> tuple[str, int]:
    chosen = register_index.get(name)
    options = {k: v for k, v in request.args.items() if k in ("status", "category", "assignee", "school") and v}
    rows = readside.register(ledger(), actor(), name, reason, **options)
    columns = [c for c in (rows[0].keys() if rows else []) if c != "access_record"]
    return page("register.html", chosen.title, register=chosen, rows=rows, columns=columns,
                schools=ledger().registry().schools, chosen_school=options.get("school", ""))


@bp.get("/approvals/<request_id>")
@needs_reason("request {}")
def approval(request_id: str, reason: str) -> tuple[str, int]:
    """A request's history, for those who may read it, and the decision form."""
    shown = approvals.show(ledger(), actor(), request_id, reason)
    return page("approval.html", f"Request {request_id}", shown=shown, reason=reason)


@bp.post("/approvals/<request_id>/decide")
def decide(request_id: str) -> Response:
    """The Headteacher approves or rejects, with a reason."""
    outcome = APPROVED if request.form.get("outcome") == APPROVED else REJECTED
    status = approvals.decide(ledger(), actor(), request_id, outcome, request.form.get("reason", ""),
                              form("valid_until"), bool(request.form.get("waive_training")))
    session().say(f"{request_id}: {status}.")
    return back_to("registers.approval", request_id=request_id)


@bp.get("/governors")
def governors() -> tuple[str, int]:
    """Counts for governors and the trust over a period (default: this school year so far)."""
    found = governors_service.report(ledger(), actor(), request.args.get("from") or None,
                                     request.args.get("to") or None, request.args.get("school") or None)
    return page("governors.html", "Governors' report", report=found, schools=ledger().registry().schools)
