"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request
from werkzeug.wrappers import Response

from commands.services import signin
from commands.web import keep
from commands.web.context import back_to, desk, ledger, page, start_page
from ledger.errors import AuthenticationFailed, LedgerError

bp = Blueprint("auth", __name__)


@bp.get("/sign-in")
def sign_in_form() -> tuple[str, int]:
    """The sign-in page."""
    return page("sign_in.html", "Sign in", actor_id="")


@bp.post("/sign-in")
def sign_in() -> Response | tuple[str, int]:
    """Unlock the person's key for this session, unless their id is waiting after wrong passphrases."""
    actor_id = request.form.get("actor_id", "").strip()
    throttle = desk().throttle
    wait = throttle.wait(actor_id)
    if wait:
        return page("sign_in.html", "Sign in", 429, actor_id=actor_id, **keep.still_held(actor_id),
                    error=f"Too many wrong passphrases for {actor_id}. Try again in {wait} seconds.")
    try:
        actor = signin.sign_in(ledger(), actor_id, request.form.get("passphrase", ""))
    except LedgerError as exc:
        if isinstance(exc, AuthenticationFailed):  # a wrong passphrase for a real key; made-up ids would
            throttle.failed(actor_id)              # fill the bounded table and push real counts out
        return page("sign_in.html", "Sign in", 401, actor_id=actor_id, error=exc.message, hint=exc.hint,
                    **keep.still_held(actor_id))
    throttle.succeeded(actor_id)
    if g.session is not None:
        desk().sessions.close(g.session.token)
    g.session = desk().sessions.open(actor)
    g.new_session = g.session.token
    g.actor = actor
    held = keep.kept_form(actor.actor_id)
    if held is not None:
        return keep.resume_page(*held)
    return redirect(start_page(actor), code=303)


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session: the unlocked key is forgotten."""
    desk().sessions.close(g.session.token)
    g.session = None
    g.signed_out = True
    return back_to("auth.sign_in_form")
