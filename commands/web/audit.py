"""The auditor's page: checkpoints and the verify result, nothing personal."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, request
from werkzeug.wrappers import Response

from commands.services import integrity, witnesses
from commands.web.context import actor, desk, ledger, page
from ledger import localtime
from ledger.errors import InvalidInput

bp = Blueprint("audit", __name__)

#: Checkpoints listed on the page, newest first.
SHOWN = 50
#: Add-checkpoint bodies kept, by (trust file and when it changed, newest checkpoint, newest cosignature row, old):
#: anyone may ask for one, and each costs a signature check per recorded cosignature.
REQUESTS_KEPT = 64
_requests: dict[tuple[str, int, int, str], str] = {}


@bp.get("/audit")
def index() -> tuple[str, int]:
    """The latest checkpoint and the most recent ones."""
    actor()
    rows = integrity.list_checkpoints(ledger())
    return page("audit.html", "Integrity", checkpoints=list(reversed(rows))[:SHOWN], total=len(rows),
                latest=integrity.latest_checkpoint(ledger()) if rows else "", report=None)


@bp.post("/audit/verify")
def verify() -> tuple[str, int]:
    """Verify the whole ledger against the trust file you upload (default: the one beside the ledger)."""
    actor()
    uploads = {name: request.files.get(name) for name in ("trust", "since", "witnessed")}
    with tempfile.TemporaryDirectory(prefix="desk-audit-") as folder:
        paths: dict[str, Path | None] = {}
        for name, upload in uploads.items():
            paths[name] = None
            if upload is not None and upload.filename:
                path = Path(folder) / name
                upload.save(path)
                paths[name] = path
        trust = paths["trust"] or desk().config.trust_path
        witnessed_file = paths["witnessed"]
        report = integrity.verify_ledger(ledger(), trust, paths["since"],
                                         witnessed_files=(witnessed_file,) if witnessed_file else ())
    rows = integrity.list_checkpoints(ledger())
    witnessed = None
    if report.witness and report.witness["witnessed_size"] is not None:
        witnessed = (report.witness["witnessed_size"],
                     localtime.local(report.witness["witnessed_at"], ledger().timezone()))
    return page("audit.html", "Integrity", checkpoints=list(reversed(rows))[:SHOWN], total=len(rows),
                latest=integrity.latest_checkpoint(ledger()) if rows else "", report=report,
                own_trust=paths["trust"] is None, witnessed=witnessed)


@bp.get("/witness/add-checkpoint")
def witness_request() -> Response:
    """Public, for witnesses: the C2SP add-checkpoint body for the newest checkpoint, from size
    ``?old=N`` (default: the newest a witness cosigned). Sizes, hashes and signatures only, and
    the newest checkpoint's time only as its signed ``policy-ledger/time`` line (nothing in the
    headers). Off (``ledger serve --no-witness-page``): no such page."""
    if not desk().settings.witness_page:
        abort(404)  # as any page that does not exist
    old = request.args.get("old", "")
    if old and (not old.isascii() or not old.isdigit() or len(old) > 20):
        raise InvalidInput("old must be a tree size (decimal digits)", "e.g. /witness/add-checkpoint?old=120")
    trust = ledger().config.trust_path
    key = (f"{trust}:{trust.stat().st_mtime_ns}", *witnesses.request_state(ledger()), old)
    text = _requests.get(key)
    if text is None:  # the page needs no sign-in: its checking work is done once per checkpoint
        text = witnesses.request(ledger(), int(old) if old else None)
        if len(_requests) >= REQUESTS_KEPT:
            _requests.clear()
        _requests[key] = text
    return Response(text, mimetype="text/plain")
