"""The auditor's page: checkpoints and the verify result, nothing personal."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, request

from commands.services import integrity
from commands.web.context import actor, desk, ledger, page

bp = Blueprint("audit", __name__)

#: Checkpoints listed on the page, newest first.
SHOWN = 50


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
    uploads = {name: request.files.get(name) for name in ("trust", "since")}
    with tempfile.TemporaryDirectory(prefix="desk-audit-") as folder:
        paths: dict[str, Path | None] = {}
        for name, upload in uploads.items():
            paths[name] = None
            if upload is not None and upload.filename:
                path = Path(folder) / name
                upload.save(path)
                paths[name] = path
        trust = paths["trust"] or desk().config.trust_path
        report = integrity.verify_ledger(ledger(), trust, paths["since"])
    rows = integrity.list_checkpoints(ledger())
    return page("audit.html", "Integrity", checkpoints=list(reversed(rows))[:SHOWN], total=len(rows),
                latest=integrity.latest_checkpoint(ledger()) if rows else "", report=report,
                own_trust=paths["trust"] is None)
