"""Incidents: the register, an incident's page with its chronology, every step on it, and export."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, request, send_file
from werkzeug.wrappers import Response

from commands.services import export, incidents, readside
from commands.services.evidence import EvidenceFile
from commands.services.schools import school_filter
from commands.web.context import actor, back_to, form, ledger, needs_reason, page, session
from ledger.domain.incidents import categories as codes
from ledger.domain.export import REDACTIONS
from ledger import files
from ledger.errors import InvalidInput

bp = Blueprint("cases", __name__)
#: Bundles being exported for a download live in ``.DESK_EXPORTS.XXXX.part`` folders in the temporary folder.
DESK_EXPORTS = "policy-ledger-desk-export"


@bp.get("/incidents")
def register() -> tuple[str, int]:
    """The incidents you may see (an investigator: the ones assigned to them), without personal data."""
    status = request.args.get("status") or "open"
    category = request.args.get("category") or None
    school = request.args.get("school") or None
    rows = readside.register(ledger(), actor(), "incidents", status=status, category=category,
                             school=school_filter(ledger(), school))
    return page("incidents.html", "Incidents", rows=rows, chosen_status=status, category=category or "",
                statuses=("open", "all", *codes.STATUSES), categories=list(codes.CATEGORIES),
                schools=ledger().registry().schools, school=school or "")


def offered(record: dict[str, Any]) -> set[str]:
    """Which forms the page offers for the incident's state (the services decide what is allowed)."""
    status = record["status"]
    if status == "closed":
        return {"reopen", "export", "unassign"} if record["investigators"] else {"reopen", "export"}
    steps = {"link", "note", "describe", "action", "outcome", "export"}
    if not record["no_images"]:
        steps.add("evidence")
    if record["evidence"]:
        steps.add("remove-evidence")
    steps |= {"triage"} if status == "reported" else {"assign"}
    if record["investigators"]:
        steps.add("unassign")
    if record["outcome"]:
        steps.add("close")
    return steps


@bp.get("/incidents/<inc_id>")
@needs_reason("incident {}")
def incident(inc_id: str, reason: str) -> tuple[str, int]:
    """Everything about one incident; every view is in the access log with the reason given."""
    record = incidents.show(ledger(), actor(), inc_id, reason)
    return page(
        "incident.html", f"Incident {inc_id}", record=record, reason=reason, offered=offered(record),
        categories=list(codes.CATEGORIES.values()), note_kinds=codes.NOTE_KINDS, action_kinds=action_kinds(),
        titles=codes.ACTION_TITLES, referrals=codes.REFERRALS, guidance=codes.NUDES_GUIDANCE, today=ledger().today(),
        findings=codes.findings_for(bool(record["allegation_against_staff"])), disciplinary=codes.DISCIPLINARY,
        parts=codes.PARTS, redactions=REDACTIONS,
    )


def action_kinds() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds of action, for a form: things done in school, then referrals and contacts outside it."""
    inside = [(a, codes.ACTION_TITLES[a]) for a in codes.ACTIONS if a not in codes.REFERRALS]
    outside = [(a, codes.ACTION_TITLES[a]) for a in codes.REFERRALS]
    return [("Done in school", inside), ("Referrals and contacts outside the school", outside)]


def _evidence_file() -> EvidenceFile:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("choose the file to take in", "use the file field of the evidence form")
    return EvidenceFile(upload.filename, upload.read(), request.form.get("captured_by", ""),
                        request.form.get("captured_at", ""), request.form.get("method", ""),
                        request.form.get("device", ""), form("description"), form("sha256"))


def _triage(inc_id: str) -> str:
    owner = incidents.triage(ledger(), actor(), inc_id, request.form.get("rationale", ""), form("category"))
    return f"{inc_id} triaged and escalated to {owner}."


def _link(inc_id: str) -> str:
    spec = f"{form('person') or ''}:{form('part') or ''}"
    linked = incidents.link_person(ledger(), actor(), inc_id, spec, request.form.get("reason", ""))
    return f"{linked} linked to {inc_id}."


def _assign(inc_id: str) -> str:
    who = form("investigator") or ""
    incidents.assign(ledger(), actor(), inc_id, who, request.form.get("remit", ""))
    return f"{who} assigned to {inc_id}: the case's keys are now wrapped to them."


def _unassign(inc_id: str) -> str:
    who = form("investigator") or ""
    incidents.unassign(ledger(), actor(), inc_id, who, request.form.get("reason", ""))
    return f"{who} is no longer assigned to {inc_id}."


def _note(inc_id: str) -> str:
    kind = form("kind") or "fact"
    text = request.form.get("text", "") if kind == "child-words" else (form("text") or "")
    incidents.add_note(ledger(), actor(), inc_id, kind, text)
    return f"{kind} noted on {inc_id}."


def _evidence(inc_id: str) -> str:
    item = _evidence_file()
    attachment = incidents.add_evidence(ledger(), actor(), inc_id, item)
    return f"Evidence {attachment} taken in: its SHA-256 at intake is signed into the ledger and shown below."


def _describe(inc_id: str) -> str:
    described = incidents.describe_evidence(ledger(), actor(), inc_id, request.form.get("platform", ""),
                                            request.form.get("description", ""), form("sha256"))
    return f"Evidence described as {described}: nothing was taken in."


def _remove_evidence(inc_id: str) -> str:
    attachment = form("attachment") or ""
    incidents.remove_evidence(ledger(), actor(), inc_id, attachment, request.form.get("reason", ""))
    return f"Evidence {attachment} destroyed; the ledger keeps a signed record that it was."


def _action(inc_id: str) -> str:
    done = incidents.record_action(ledger(), actor(), inc_id, form("action") or "", request.form.get("details", ""),
                                   form("on"), form("owner"))
    title = codes.ACTION_TITLES.get(form("action") or "", form("action") or "")
    if done.planned:
        return f"Action {done.action_id} planned: {title}, for {done.owner}, due {done.day}."
    return f"Action {done.action_id} recorded: {title}, done on {done.day}."


def _done(inc_id: str) -> str:
    action_id = form("action_id") or ""
    incidents.complete_action(ledger(), actor(), inc_id, action_id, form("on"), form("details"))
    return f"Action {action_id} of {inc_id} marked done."


def _cancel(inc_id: str) -> str:
    action_id = form("action_id") or ""
    incidents.cancel_action(ledger(), actor(), inc_id, action_id, request.form.get("reason", ""))
    return f"Action {action_id} of {inc_id} cancelled."


def _outcome(inc_id: str) -> str:
    finding = form("finding") or ""
    incidents.record_outcome(ledger(), actor(), inc_id, finding, request.form.get("summary", ""),
                             form("disciplinary") or "none", form("issued_on"), form("decided_on"))
    return f"Outcome {finding} recorded on {inc_id}."


def _close(inc_id: str) -> str:
    incidents.close(ledger(), actor(), inc_id, form("summary"))
    return f"{inc_id} closed."


def _reopen(inc_id: str) -> str:
    incidents.reopen(ledger(), actor(), inc_id, request.form.get("reason", ""))
    return f"{inc_id} reopened."


STEPS: dict[str, Callable[[str], str]] = {
    "triage": _triage, "link": _link, "assign": _assign, "unassign": _unassign, "note": _note,
    "evidence": _evidence, "describe": _describe, "remove-evidence": _remove_evidence, "action": _action,
    "done": _done, "cancel": _cancel, "outcome": _outcome, "close": _close, "reopen": _reopen,
}


@bp.post("/incidents/<inc_id>/<step>")
def act(inc_id: str, step: str) -> Response:
    """One step on an incident, by its service; the page shows the result."""
    handler = STEPS.get(step)
    if handler is None:
        abort(404)
    session().say(handler(inc_id))
    if request.form.get("back") == "inbox":
        return back_to("home.inbox")
    return back_to("cases.incident", inc_id=inc_id)


@bp.post("/incidents/<inc_id>/export")
def export_bundle(inc_id: str) -> Response:
    """The evidence bundle the CLI writes, downloaded; the export is recorded in the ledger."""
    redact = tuple(r for r in request.form.getlist("redact") if r)
    # The bundle is decrypted data: it is written in a private folder that is locked while in
    # use and removed on the way out; one left by a desk that was killed is removed here.
    staging = Path(tempfile.gettempdir()) / DESK_EXPORTS
    files.sweep_stale_parts(staging)
    with files.private_folder(staging) as folder:
        out = folder.path / f"{inc_id}.zip"
        done = export.export(ledger(), actor(), export.ExportRequest(
            reason=request.form.get("reason", ""), out=out, incident=inc_id, redact=redact,
        ))
        data = out.read_bytes()
    response = send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                         download_name=f"{inc_id}-evidence-{done.sha256[:12]}.zip")
    response.headers["X-Bundle-SHA256"] = done.sha256
    return response
