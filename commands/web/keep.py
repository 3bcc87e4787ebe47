"""A form sent after the session timed out is kept in the page, not lost.

When a POST arrives with the token of a session that has just timed out,
and carries that session's own CSRF token (so it is the person's own form,
not another site's), nothing is written: the sign-in page comes back with
everything that was typed held in hidden fields. After signing in again, the
person sees what was kept and sends it again with one button; it then goes
through the CSRF check and the services like any other form. Nothing typed
is stored on the server, in the address or in a log; chosen files cannot be
kept by a browser without script and are named so they can be chosen again.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import request

from commands.web.context import page
from commands.web.security import CSRF_FIELD
from commands.web.sessions import Ended

#: Prefix of the hidden fields holding a kept form on the sign-in page.
KEPT = "kept:"
#: Hidden fields naming where the kept form goes and whose it was.
RESUME, KEPT_FOR = "resume", "kept_for"


def _safe_path(path: str) -> str | None:
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else None


def held_form(ended: Ended | None) -> tuple[str, int] | None:
    """The sign-in page holding the form just posted, when it is the timed-out session's own."""
    sent = request.form.get(CSRF_FIELD, "")
    if ended is None or not sent or not hmac.compare_digest(sent, ended.csrf):
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True) if name != CSRF_FIELD]
    files = sorted({upload.filename for upload in request.files.values() if upload.filename})
    return page("sign_in.html", "Sign in again", 401, actor_id=ended.actor_id, kept=fields, kept_files=files,
                resume=request.path, kept_for=ended.actor_id,
                error="Your session ended after a while without activity. Nothing was sent yet: sign in again "
                      "and what you typed is still here to send.")


def kept_form(actor_id: str) -> tuple[list[tuple[str, str]], str] | None:
    """The form held on the sign-in page just submitted, and where it goes, if it was ``actor_id``'s."""
    resume = _safe_path(request.form.get(RESUME, ""))
    if resume is None or request.form.get(KEPT_FOR, "").casefold() != actor_id.casefold():
        return None
    fields = [(name[len(KEPT):], value) for name, value in request.form.items(multi=True) if name.startswith(KEPT)]
    return (fields, resume) if fields else None


def still_held(actor_id: str) -> dict[str, Any]:
    """For a sign-in page shown again (wrong passphrase, throttled): the kept form, still held."""
    held = kept_form(actor_id)
    return {"kept": held[0] if held else [], "resume": held[1] if held else "", "kept_for": actor_id}


def resume_page(fields: list[tuple[str, str]], resume: str) -> tuple[str, int]:
    """What was kept, to check and send again (with this new session's CSRF token)."""
    shown = [(name, value) for name, value in fields if value.strip() and name not in ("do",)]
    return page("resume.html", "Send what you typed", kept=fields, shown=shown, resume=resume)
