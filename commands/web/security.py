"""Every page's protections, in one place: the session cookie, CSRF, headers.

- The session cookie holds only a random token: HttpOnly, SameSite=Strict,
  Secure when the request came over HTTPS (or the desk is told it is behind
  an HTTPS proxy).
- Every POST carries a CSRF token: the session's own, or before sign-in one
  bound (HMAC) to a random pre-session cookie. A POST without it is refused
  before any view runs, so nothing is written.
- Every response says: no script at all (CSP), never framed, no MIME
  sniffing, no referrer; every page (not the stylesheet) ``no-store``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, abort, g, request
from werkzeug.wrappers import Response

SESSION_COOKIE = "desk_session"
PRE_COOKIE = "desk_pre"
CSRF_FIELD = "csrf"

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _pre_token(secret: bytes, pre: str) -> str:
    return hmac.new(secret, b"policy-ledger/desk/csrf\x00" + pre.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token this visitor's forms carry."""
    session = g.get("session")
    if session is not None:
        return str(session.csrf)
    pre = request.cookies.get(PRE_COOKIE) or g.get("new_pre")
    if not pre:
        pre = g.new_pre = secrets.token_urlsafe(32)
    return _pre_token(g.secret, pre)


def check_csrf() -> None:
    """Refuse (400) a POST whose token is missing or wrong."""
    sent = request.form.get(CSRF_FIELD, "")
    session = g.get("session")
    if session is not None:
        expected = str(session.csrf)
    else:
        pre = request.cookies.get(PRE_COOKIE)
        expected = _pre_token(g.secret, pre) if pre else ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


def is_secure(secure_cookies: bool) -> bool:
    """Whether cookies get the Secure flag on this request."""
    return secure_cookies or request.is_secure


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    """The session cookie: the token only, never readable by script, never sent cross-site."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")


def drop_session_cookie(response: Response, secure: bool) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=secure)


def add_headers(response: Response, secure: bool) -> Response:
    """Security headers on every response; ``no-store`` on every page."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if g.get("new_pre"):
        response.set_cookie(PRE_COOKIE, g.new_pre, httponly=True, samesite="Strict", secure=secure, path="/")
    return response


def install(app: Flask) -> None:
    """Make ``csrf_token()`` available to every template."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD
