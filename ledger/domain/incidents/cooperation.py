"""Co-operation with an investigation: what a suspect is asked for, and what they did.

"Any member of staff suspected of committing a breach of this Policy will be
required to co-operate with our investigation, which may involve handing
over relevant passwords and login details." and "Staff may be required to
remove internet postings which are deemed to constitute a breach of this
Policy. Failure to comply with such a request may in itself result in
disciplinary action." A request names the person, what is asked (kinds
below) and a date to answer by; the answer is co-operated, refused or not
applicable. The passwords themselves are never recorded.
"""

from __future__ import annotations

from typing import Any

from ledger.errors import InvalidInput, RuleViolation

#: What a suspect may be asked for.
ASKS = ("passwords", "login-details", "account-access", "remove-posting")
#: How a request was answered.
RESPONSES = ("co-operated", "refused", "not-applicable")

Request = dict[str, Any]


def check_request(asks: list[str], person: str, linked: set[str], requested_on: str, answer_by: str,
                  today: str) -> list[str]:
    """A request to someone linked to the case, for known things, answered by a date not before it."""
    unknown = sorted(set(asks) - set(ASKS))
    if unknown or not asks:
        raise InvalidInput(f"unknown request {', '.join(unknown) or '(nothing asked)'}",
                           f"ask for one or more of: {', '.join(ASKS)}")
    if person not in linked:
        raise RuleViolation(f"{person} is not linked to the incident",
                            "link them first (`ledger incidents link`): only someone involved is asked to co-operate")
    if requested_on > today:
        raise InvalidInput(f"the request date {requested_on} is in the future")
    if answer_by < requested_on:
        raise InvalidInput(f"the answer date ({answer_by}) is before the request ({requested_on})")
    return sorted(set(asks))


def find(requests: list[Request], request_id: str, inc_id: str) -> Request:
    """The co-operation request ``request_id`` of an incident, still unanswered."""
    for request in requests:
        if request["request_id"] == request_id:
            if request.get("response"):
                raise RuleViolation(f"{request_id} was already answered: {request['response']}")
            return request
    raise RuleViolation(f"{inc_id} has no co-operation request {request_id}",
                        f"`ledger incidents show {inc_id}` lists them")


def check_response(response: str, answered_on: str, requested_on: str, today: str) -> None:
    """A known answer, given between the request and today."""
    if response not in RESPONSES:
        raise InvalidInput(f"unknown response {response!r}", f"responses are: {', '.join(RESPONSES)}")
    if answered_on > today:
        raise InvalidInput(f"the answer date {answered_on} is in the future")
    if answered_on < requested_on:
        raise InvalidInput(f"the answer ({answered_on}) is dated before the request ({requested_on})")


def overdue(request: Request, today: str) -> bool:
    """Unanswered after its answer-by date."""
    return not request.get("response") and str(request["answer_by"]) < today
