"""Co-operation with an investigation: a request to someone linked to the case, and their answer.

What is asked (passwords, log-in details, account access, removing a posting)
and the answer (co-operated, refused, not applicable) are clear facts; the
request's wording and any note are encrypted. Passwords are never recorded.
"""

from __future__ import annotations

from typing import Any

from commands.services.incidents import load_incident
from ledger.domain.base import new_short_id, parse_date
from ledger.domain.incidents import cooperation
from ledger.store import Actor, Ledger


def request(ledger: Ledger, actor: Actor, inc_id: str, person: str, asks: list[str], answer_by: str, details: str,
            requested_on: str | None = None) -> str:
    """Ask ``person`` (linked to the case) to co-operate by ``answer_by``."""
    by = parse_date("answer-by date", answer_by)
    with ledger.unit(actor, write=True) as work:
        day = parse_date("request date", requested_on) if requested_on else work.today
        incident = load_incident(work, actor, inc_id)
        request_id = new_short_id("coop")
        incident.request_cooperation(request_id, person, asks, day, by, details, work.today)
        work.save(incident)
    return request_id


def answer(ledger: Ledger, actor: Actor, inc_id: str, request_id: str, response: str, answered_on: str | None = None,
           note: str | None = None) -> None:
    """Record the answer: co-operated, refused or not applicable."""
    with ledger.unit(actor, write=True) as work:
        day = parse_date("answer date", answered_on) if answered_on else work.today
        incident = load_incident(work, actor, inc_id)
        incident.answer_cooperation(request_id, response, day, work.today, note)
        work.save(incident)


def assess_hate_crime(ledger: Ledger, actor: Actor, inc_id: str, natures: list[str], police: str, why: str,
                      decided_on: str | None = None) -> None:
    """A senior leader records whether the comments are racist, sexist, sexual or a hate crime,
    and whether the police were contacted, with why (Appendix 1)."""
    with ledger.unit(actor, write=True) as work:
        day = parse_date("decision date", decided_on) if decided_on else work.today
        incident = load_incident(work, actor, inc_id)
        incident.assess_hate_crime(natures, police, day, work.today, why)
        work.save(incident)


def requests(ledger: Ledger, actor: Actor, inc_id: str) -> list[dict[str, Any]]:
    """The co-operation requests of a case, with their answers and whether any is overdue."""
    with ledger.unit(actor) as work:
        incident = load_incident(work, actor, inc_id)
        today = work.today
        return [{"request_id": r["request_id"], "person": r["person"], "asks": ",".join(r["asks"]),
                 "requested_on": r["requested_on"], "answer_by": r["answer_by"],
                 "response": r.get("response") or ("overdue" if cooperation.overdue(r, today) else "awaiting"),
                 "answered_on": r.get("answered_on") or ""} for r in incident.cooperation]
