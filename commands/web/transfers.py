"""Leavers' child protection files: every transfer sent from here and every file taken in, and the
receipt a receiving school sends back (sealing a file and taking one in need key files, so they
are done with ``ledger transfer`` at the command line)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, request
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from commands.services import transfer as service
from commands.web.context import actor, back_to, ledger, page, session
from ledger.errors import InvalidInput

bp = Blueprint("transfers", __name__)


@bp.get("/transfers")
def index() -> tuple[str, int]:
    """Every leaver's transfer (left, due by, sent, receipt) and every file taken in (DSL, Headteacher)."""
    return page("transfers.html", "Leavers' files", rows=service.transfers(ledger(), actor()),
                received=service.received(ledger(), actor()))


@bp.post("/transfers/receipt")
def receipt() -> Response:
    """Record the receipt the receiving school sent back, checked as ``ledger transfer receipt``
    checks it (signature, the very file sent, proof of opening, the school it went to)."""
    upload = request.files.get("receipt")
    if upload is None or not upload.filename:
        raise InvalidInput("choose the receipt file to record", "the receipt.json the receiving school sent back")
    name = secure_filename(upload.filename) or "receipt.json"
    with tempfile.TemporaryDirectory(prefix="desk-receipt-") as folder:
        path = Path(folder) / name
        upload.save(path)
        done = service.record_receipt(ledger(), actor(), path, shown=name)
    session().say(f"Receipt for {done.transfer_id} recorded: received by {done.receiver} at {done.received_at}, "
                  f"the file of {done.person_label} ({done.copy} sent). It names the very file sent: it arrived intact.")
    return back_to("transfers.index")
