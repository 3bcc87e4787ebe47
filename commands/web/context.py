"""What every view uses: the desk, the ledger, who is signed in, and rendering a page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from commands.services import signin
from commands.web.desk import Desk
from commands.web.sessions import SignedIn
from ledger.domain.base import require_text
from ledger.errors import LedgerError
from ledger.localtime import DEFAULT_ZONE
from ledger.roles import READERS
from ledger.store import Actor, Ledger

#: Menu entries: (label, endpoint, roles that see it; empty = everyone signed in).
MENU: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("Inbox", "home.inbox", frozenset()),  # everyone: actions they own, the policy to acknowledge
    ("Report an incident", "report.form_page", frozenset()),
    ("My reports", "home.mine", frozenset()),
    ("Incidents", "cases.register", frozenset({"headteacher", "dsl", "slt", "investigator"})),
    ("Alerts", "alerts.index", frozenset(READERS["monitoring"])),
    ("Find a person", "people.find", frozenset({"headteacher", "dsl", "slt"})),
    ("Registers", "registers.index", frozenset({"headteacher", "dsl", "slt", "admin"})),
    ("Governors' report", "registers.governors", frozenset({"headteacher", "dsl"})),
    ("Policy", "staff.policy_page", frozenset()),
    ("Requests", "staff.requests", frozenset()),
    ("Audit", "audit.index", frozenset({"auditor", "admin", "headteacher"})),
)

#: Pages someone holding only these roles starts on.
START = (("headteacher", "home.inbox"), ("dsl", "home.inbox"), ("slt", "home.inbox"),
         ("investigator", "home.inbox"), ("auditor", "audit.index"))


def desk() -> Desk:
    """The running desk."""
    found: Desk = current_app.extensions["desk"]
    return found


def ledger() -> Ledger:
    """This thread's ledger."""
    return desk().ledgers.get()


def session() -> SignedIn:
    """The signed-in session (views behind sign-in only)."""
    found: SignedIn = g.session
    return found


def actor() -> Actor:
    """The signed-in person with today's roles and a fresh key ring (once per request)."""
    if "actor" not in g:
        try:
            g.actor = signin.refresh(ledger(), session().actor)
        except Exception:
            desk().sessions.close(session().token)
            g.session = None
            raise
    found: Actor = g.actor
    return found


def menu(person: Actor) -> list[tuple[str, str]]:
    """The menu entries ``person``'s roles see."""
    return [(label, url_for(endpoint)) for label, endpoint, roles in MENU if not roles or roles & person.roles]


def start_page(person: Actor) -> str:
    """Where ``person`` lands after signing in."""
    for role, endpoint in START:
        if role in person.roles:
            return url_for(endpoint)
    return url_for("home.mine")


def page(template: str, title: str, status: int = 200, keep_messages: bool = False, **values: Any) -> tuple[str, int]:
    """Render ``template`` inside the desk's layout, for the signed-in person (if any).

    Waiting messages are shown (once) unless ``keep_messages``, for a page on the way to another.
    """
    signed = g.get("session")
    person = g.get("actor")
    if signed is not None and person is None:
        try:
            person = actor()
        except Exception:  # noqa: BLE001 - an error page must render even when the session cannot act
            signed, person = None, None
    args = {k: v for k, v in request.args.items() if k != "view"}
    body = render_template(
        template, title=title, person=person, menu=menu(person) if person else [], zone=zone_name(),
        messages=signed.take_messages() if signed and not keep_messages else [],
        print_view=request.args.get("view") == "print", print_href=f"{request.path}?{urlencode({**args, 'view': 'print'})}",
        normal_href=request.path + (f"?{urlencode(args)}" if args else ""), **values,
    )
    return body, status


def zone_name() -> str:
    """The federation's time zone, for a page to say which local time it shows and asks for."""
    try:
        return str(ledger().timezone())
    except LedgerError:  # a page must render even when the ledger cannot be read
        return DEFAULT_ZONE


def back_to(endpoint: str, **values: Any) -> Response:
    """Redirect (303) to a page after a form was handled."""
    return redirect(url_for(endpoint, **values), code=303)


def form(name: str) -> str | None:
    """A form field, stripped; None when absent or blank."""
    value = request.form.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def reason_for(record: str) -> str | None:
    """The reason this session gave for reading ``record``, if it gave one."""
    return session().reason_for(record)


def ask_reason(record: str, what: str) -> tuple[str, int]:
    """The page asking why ``record`` is needed (asked once per record per session)."""
    return page("reason.html", f"Why do you need {what}?", keep_messages=True, record=record, what=what,
                next=request.full_path)


def needs_reason(what: str) -> Callable[[Callable[..., tuple[str, int]]], Callable[..., tuple[str, int]]]:
    """For a view reading personal data about the record its URL names: ask why once per record
    per session, then call the view with ``reason`` (its service records the read with it).

    ``what`` names the record in the question, ``{}`` standing for the record.
    """

    def decorate(view: Callable[..., tuple[str, int]]) -> Callable[..., tuple[str, int]]:
        @functools.wraps(view)
        def gated(**values: Any) -> tuple[str, int]:
            record = str(next(iter(values.values())))
            key = view.__name__ + ":" + record
            reason = reason_for(key)
            if reason is None:
                return ask_reason(key, what.format(record))
            return view(reason=reason, **values)

        return gated

    return decorate


def keep_reason(record: str, reason: str | None) -> None:
    """Remember a reason for ``record``; refused (InvalidInput) when blank or too long."""
    session().remember_reason(record, require_text("reason", reason, 2000))
