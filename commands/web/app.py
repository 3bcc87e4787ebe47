"""The desk's app factory: blueprints, the sign-in gate, protections and error pages."""

from __future__ import annotations

import io
import logging
import secrets
import uuid
from typing import IO

from flask import Flask, Request, g, redirect, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from commands.web import filters, keep, security
from commands.web.context import desk, page
from commands.web.desk import Desk, Settings
from ledger.config import Config
from ledger.errors import AlreadyExists, AuthenticationFailed, LedgerError, NotFound, NotPermitted, RuleViolation, StorageError

log = logging.getLogger("policy_ledger.desk")

#: Endpoints open without signing in.
PUBLIC = frozenset({"auth.sign_in", "auth.sign_in_form", "static", "audit.witness_request"})
#: Forms not worth keeping when the session has already ended.
NOT_KEPT = PUBLIC | {"auth.sign_out"}

#: HTTP status for each kind of refusal.
STATUS: tuple[tuple[type[LedgerError], int], ...] = (
    (NotPermitted, 403), (NotFound, 404), (AuthenticationFailed, 401), (AlreadyExists, 409),
    (RuleViolation, 409), (StorageError, 503),
)

#: What a plain error page says, by status (never the request or the exception).
PLAIN = {
    400: "The request could not be understood.",
    404: "There is no such page.",
    405: "That page does not take this kind of request.",
    413: "The upload is larger than the desk accepts.",
}


class DeskRequest(Request):
    """A request whose uploads stay in memory (bounded by MAX_CONTENT_LENGTH), never in a temporary file."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


def create_app(config: Config, settings: Settings | None = None) -> Flask:
    """A desk over the ledger at ``config``."""
    from commands.web import alerts, audit, auth, cases, home, people, registers, report, staff, transfers

    settings = settings or Settings()
    app = Flask(__name__)
    app.request_class = DeskRequest
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    if settings.behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.extensions["desk"] = Desk(config, settings)
    security.install(app)
    filters.install(app)
    for blueprint in (auth.bp, home.bp, report.bp, staff.bp, cases.bp, alerts.bp, people.bp, registers.bp, audit.bp,
                      transfers.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(LedgerError, _refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _before() -> Response | tuple[str, int] | None:
    g.secret = desk_secret()
    token = request.cookies.get(security.SESSION_COOKIE)
    g.session = desk().sessions.get(token)
    if request.method == "POST" and g.session is None and request.endpoint not in NOT_KEPT:
        kept = keep.held_form(desk().sessions.ended(token))
        if kept is not None:
            return kept
    if request.method == "POST":
        security.check_csrf()
    if g.session is None and request.endpoint not in PUBLIC:
        return redirect(url_for("auth.sign_in_form"), code=303)
    return None


def desk_secret() -> bytes:
    """This process's secret (new at every start, so nothing outlives the server)."""
    from flask import current_app

    return bytes(current_app.config["SECRET_KEY"])


def _after(response: Response) -> Response:
    secure = security.is_secure(desk().settings.secure_cookies)
    if g.get("signed_out") or (request.cookies.get(security.SESSION_COOKIE) and g.get("session") is None
                               and not g.get("new_session")):
        security.drop_session_cookie(response, secure)
    if g.get("new_session"):
        security.set_session_cookie(response, g.new_session, secure)
    return security.add_headers(response, secure)


def _status(error: LedgerError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def _refused(error: LedgerError) -> tuple[str, int]:
    back = request.path if request.method == "GET" else request.path.rsplit("/", 1)[0] or "/"
    return page("refused.html", "Not done", _status(error), message=error.message, hint=error.hint, back=back,
                signed_in=g.get("session") is not None)


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    text = PLAIN.get(code, "The request could not be handled.")
    if error.description == "csrf":
        text = "This form has expired or did not come from the desk. Nothing was changed: open the page again."
    return page("error.html", "Not done", code, text=text)


def _unexpected(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _http_error(error)
    reference = uuid.uuid4().hex[:8]
    log.error("unexpected failure %s: %s", reference, type(error).__name__)
    return page("error.html", "Something went wrong", 500,
                text=f"Something went wrong and nothing was committed. Reference {reference} for the IT manager.")
