"""Actions on an incident: planned with an owner and a due date, done, or cancelled.

A date in the future is a due date: the action is planned and waits for its
owner. A date today or in the past is when it was done. Referrals and
contacts outside the school (children's social care, early help, police,
CEOP, Report Remove, the LADO, a strategy meeting) are actions like any other,
counted apart for governors. These rules read only clear facts, so the owner
of a planned action can mark it done without being able to read the incident.
"""

from __future__ import annotations

import datetime as dt

from typing import Any

from ledger.domain.incidents import categories as codes
from ledger.errors import InvalidInput, NotPermitted, RuleViolation

Action = dict[str, Any]


def find(actions: list[Action], action_id: str, inc_id: str) -> Action:
    """The action ``action_id`` of an incident; RuleViolation if there is none."""
    for action in actions:
        if action["action_id"] == action_id:
            return action
    raise RuleViolation(f"{inc_id} has no action {action_id}", f"`ledger incidents show {inc_id}` lists its actions")


#: How far ahead an action may be planned: further is almost always a mistyped year.
PLAN_HORIZON_DAYS = 366


def check_plan(kind: str, due_on: str, today: str) -> None:
    """A planned action: a known kind, due today or later, within a year."""
    codes.choose("action", kind, codes.ACTIONS)
    if due_on < today:
        raise InvalidInput(f"due date {due_on} is in the past", "record it as done with --on, or give a later date")
    if dt.date.fromisoformat(due_on) - dt.date.fromisoformat(today) > dt.timedelta(days=PLAN_HORIZON_DAYS):
        raise InvalidInput(f"due date {due_on} is more than a year ahead", "check the year")


def check_done(kind: str, taken_on: str, today: str, happened_on: str | None = None) -> None:
    """A done action: a known kind, not in the future, nor before the day the incident happened."""
    codes.choose("action", kind, codes.ACTIONS)
    if taken_on > today:
        raise InvalidInput(f"action date {taken_on} is in the future", "a date in the future plans the action instead")
    if happened_on is not None and taken_on < happened_on:
        raise InvalidInput(f"action date {taken_on} is before the incident happened ({happened_on})",
                           "check the date: an action follows what it is about")


def check_open(action: Action, inc_id: str) -> None:
    """Only an open (planned, not done or cancelled) action can be done or cancelled."""
    if action["status"] != "open":
        raise RuleViolation(f"action {action['action_id']} of {inc_id} is already {action['status']}")


def check_completer(action: Action, actor: str, actor_roles: frozenset[str], readers: tuple[str, ...]) -> None:
    """A planned action is marked done by its owner, or by someone who may read the incident."""
    if actor != action["owner"] and not set(actor_roles) & set(readers):
        raise NotPermitted(
            f"{actor} may not mark action {action['action_id']} done: it is {action['owner']}'s",
            "ask its owner, or the DSL or Headteacher",
        )


def overdue(action: Action, today: str) -> bool:
    """Open and past its due date."""
    return action["status"] == "open" and bool(action.get("due_on")) and str(action["due_on"]) < today


def done_of(actions: list[Action], kind: str) -> bool:
    """Whether an action of ``kind`` was done."""
    return any(a["action"] == kind and a["status"] == "done" for a in actions)
