"""People: find someone by name, and a person's page with their whole chronology."""

from __future__ import annotations

from flask import Blueprint, request

from commands.services import chronology, directory
from commands.web.context import actor, ledger, needs_reason, page
from ledger.domain.people import SUBJECT_KINDS

bp = Blueprint("people", __name__)


@bp.get("/people")
def find() -> tuple[str, int]:
    """The search form (names are sent by POST, never in the address)."""
    return page("find.html", "Find a person", kinds=SUBJECT_KINDS, found=None, values={"kind": "pupil"},
                schools=ledger().registry().schools)


@bp.post("/people")
def search() -> tuple[str, int]:
    """People whose name matches; the names shown are recorded in the access log."""
    values = {"name": request.form.get("name", ""), "kind": request.form.get("kind") or "pupil",
              "school": request.form.get("school", "")}
    found = directory.find(ledger(), actor(), values["name"], values["kind"], values["school"] or None)
    return page("find.html", "Find a person", kinds=SUBJECT_KINDS, found=found, values=values,
                schools=ledger().registry().schools)


@bp.get("/people/<person_id>")
@needs_reason("the file of {}")
def person(person_id: str, reason: str) -> tuple[str, int]:
    """A person's details (for those who may read them) and everything recorded about them, oldest first."""
    found = chronology.person_file(ledger(), actor(), person_id, reason, request.args.get("with") == "access")
    return page("person.html", f"Chronology of {person_id}", file=found, reason=reason)
