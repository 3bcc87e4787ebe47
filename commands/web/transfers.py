"""Leavers' child protection files: every transfer sent from here and every file taken in (reading
only: sealing a file, recording a receipt and taking one in need key files, so they are done with
``ledger transfer`` at the command line)."""

from __future__ import annotations

from flask import Blueprint

from commands.services import transfer as service
from commands.web.context import actor, ledger, page

bp = Blueprint("transfers", __name__)


@bp.get("/transfers")
def index() -> tuple[str, int]:
    """Every leaver's transfer (left, due by, sent, receipt) and every file taken in (DSL, Headteacher)."""
    return page("transfers.html", "Leavers' files", rows=service.transfers(ledger(), actor()),
                received=service.received(ledger(), actor()))
