"""Reporting an incident through a form that follows the policy.

The form keeps what was typed across its own steps (finding a person,
adding or removing them) without any script: each button posts the whole
form back. Only "Report" writes anything.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from commands.services import directory, incidents
from commands.services.evidence import EvidenceFile
from commands.web.context import actor, back_to, form, ledger, page, session
from ledger.domain.incidents import categories as codes
from ledger.domain.base import PRECISIONS
from ledger.errors import LedgerError

bp = Blueprint("report", __name__)

FIELDS = ("category", "occurred_at", "precision", "until", "source", "source_detail", "alert_id", "summary",
          "facts", "opinion", "child_words", "immediate_action", "method", "device", "find", "find_kind",
          "person_spec", "school", "platform", "described", "supplied_sha256")
PRECISION_WORDS = {"exact": "at that time", "day": "on that day (time not known)",
                   "approximate": "around that time", "range": "some time between the two times"}
SOURCE_WORDS = {"seen": "I saw or heard it myself", "told": "someone told me", "monitoring": "a monitoring alert"}


def _options() -> dict[str, Any]:
    return {
        "categories": list(codes.CATEGORIES.values()),
        "precisions": [(p, PRECISION_WORDS[p]) for p in PRECISIONS],
        "sources": [(s, SOURCE_WORDS[s]) for s in codes.SOURCES],
        "parts": codes.PARTS,
        "schools": ledger().registry().schools,
        "guidance": codes.NUDES_GUIDANCE,
    }


def _chosen() -> list[str]:
    chosen = [p for p in request.form.getlist("people") if p.strip()]
    add, remove = request.form.get("add"), request.form.get("remove")
    if add and add not in chosen:
        chosen.append(add)
    if remove in chosen:
        chosen.remove(remove)
    return chosen


def pupils_for_report(query: str, kind: str) -> list[dict[str, Any]]:
    """The people a reporter may add, found by what they typed (a name or an id).

    ``directory.find`` decides: readers of people's records search every
    school; a member of staff on their school's directory picks its pupils by
    name (id, name, year group, never the record); anyone else gets the
    person whose id they typed. The names shown are logged.
    """
    return directory.find(ledger(), actor(), query, kind or "pupil")


def _render(values: dict[str, Any], chosen: list[str], status: int = 200, **extra: Any) -> tuple[str, int]:
    return page("report.html", "Report an incident", status, values=values, chosen=chosen,
                search_by_name=directory.may_search(ledger(), actor()), **_options(), **extra)


def _described() -> tuple[incidents.DescribedEvidence, ...]:
    """Evidence described instead of handed in (UKCIS: never an image of a child), when any was."""
    if not (form("platform") or form("described") or form("supplied_sha256")):
        return ()
    return (incidents.DescribedEvidence(request.form.get("platform", ""), request.form.get("described", ""),
                                        form("supplied_sha256")),)


@bp.get("/report")
def form_page() -> tuple[str, int]:
    """The empty form."""
    actor()
    alert = request.args.get("alert") or ""
    return _render({"precision": "exact", "source": "monitoring" if alert else "seen", "alert_id": alert,
                    "method": "handed in with the report", "device": "not stated", "find_kind": "pupil"}, [])


@bp.post("/report")
def submit() -> Response | tuple[str, int]:
    """Find a person, add or remove one, or report."""
    values: dict[str, Any] = {name: request.form.get(name, "") for name in FIELDS}
    values["against_staff"] = bool(request.form.get("against_staff"))
    chosen = _chosen()
    step = request.form.get("do", "")
    if step == "find":
        try:
            found = pupils_for_report(values["find"], values["find_kind"])
        except LedgerError as exc:
            return _render(values, chosen, 400, find_error=exc)
        return _render(values, chosen, found=found)
    if step == "add_spec" and values["person_spec"]:
        chosen.append(values["person_spec"].strip())
        values["person_spec"] = ""
    if step != "report":
        return _render(values, chosen)
    person = actor()
    files = tuple(
        EvidenceFile(upload.filename or "evidence", upload.read(), person.actor_id, None,
                     values["method"] or "handed in with the report", values["device"] or "not stated")
        for upload in request.files.getlist("evidence") if upload.filename
    )
    report = incidents.IncidentReport(
        category=values["category"], occurred_at=values["occurred_at"], summary=values["summary"],
        facts=values["facts"], source=values["source"] or "seen", precision=values["precision"] or "exact",
        until=form("until"), people=tuple(chosen), against_staff=values["against_staff"], opinion=form("opinion"),
        child_words=request.form.get("child_words") or None, immediate_action=form("immediate_action"),
        source_detail=form("source_detail"), alert_id=form("alert_id"), evidence=files, school=form("school"),
        described=_described(),
    )
    try:
        inc_id = incidents.report(ledger(), person, report)
    except LedgerError as exc:
        return _render(values, chosen, 400, error=exc)
    session().say(f"Reported as {inc_id}. It has gone to the people who handle it; "
                  "you may not be able to read it back, but you can follow its status here.")
    return back_to("home.mine")
