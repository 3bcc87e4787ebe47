"""Checkpoints, proofs and verification for users and auditors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ledger import checkpoint, files, localtime, proofs, sealer
from ledger.errors import InvalidInput, NotFound
from ledger.schema import checkpoints
from ledger.store import Ledger
from ledger.trust import Trust
from ledger.verify import Finding, Report, verify
from projections.audit import audit


def latest_checkpoint(ledger: Ledger) -> str:
    """The newest signed checkpoint text."""
    meta = ledger.meta()
    with ledger.engine.connect() as conn:
        return proofs.checkpoint_for(conn, meta["origin"], bytes.fromhex(meta["ledger_public_key"]), None)[2]


def list_checkpoints(ledger: Ledger) -> list[dict[str, Any]]:
    """Every checkpoint: size, root, when (in the federation's time zone)."""
    zone = ledger.timezone()
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(checkpoints).order_by(checkpoints.c.size)).all()
    return [
        {"size": r.size, "root": base64.b64encode(bytes(r.root)).decode(),
         "created_at": localtime.local(r.created_at, zone)}
        for r in rows
    ]


def inclusion_proof(ledger: Ledger, ref: str, checkpoint_text: str | None) -> dict[str, Any]:
    """Proof that an entry is in a checkpoint (the latest unless one is given)."""
    meta = ledger.meta()
    with ledger.engine.connect() as conn:
        index = proofs.leaf_index(conn, ledger.app.events_table, ref)
        size, root, signed = proofs.checkpoint_for(
            conn, meta["origin"], bytes.fromhex(meta["ledger_public_key"]), checkpoint_text
        )
        proof = proofs.inclusion(conn, index, size)
        leaf = proofs.leaf_hash(conn, index)
    return {
        "index": index,
        "tree_size": size,
        "leaf_hash": base64.b64encode(leaf).decode(),
        "root": base64.b64encode(root).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": signed,
        "text": checkpoint.format_inclusion_proof(index, proof, signed),
    }


def consistency_proof(ledger: Ledger, old: int, new: int | None) -> dict[str, Any]:
    """Proof that the tree at ``old`` is a prefix of the tree at ``new``."""
    ledger.meta()
    with ledger.engine.connect() as conn:
        if new is None:
            latest = sealer.latest_checkpoint(conn)
            if latest is None:
                raise NotFound("the ledger has no checkpoint yet")
            new = latest[0]
        return proofs.consistency(conn, old, new)


def load_trust(path: Path) -> Trust:
    """A trust file, read only if it is a small regular file of well-formed JSON
    (no repeated key, no deep nesting) and checked by :meth:`Trust.load`."""
    return Trust.load(path)


def verify_ledger(ledger: Ledger, trust_file: Path, since_file: Path | None, projections: bool = True,
                  witnessed_files: tuple[Path, ...] = ()) -> Report:
    """Verify the whole ledger against a trust file (and a saved checkpoint).

    Without ``since_file``, on the ledger's host the log must also extend the
    newest checkpoint the host signed (every entry is still checked).

    With ``projections`` the read models are also compared with a replay of
    the log, and any drift is a finding (``ledger projections rebuild`` mends it).

    Each of ``witnessed_files`` (a witness's ``latest-cosigned.txt``, taken from the
    witness) is checked like a stored cosignature: the log must extend it.
    """
    trust = load_trust(trust_file)
    since = host = None
    if since_file is not None:
        text = files.read_small_text(since_file, "saved checkpoint")
        try:
            since = checkpoint.open_checkpoint(text, trust.origin, trust.ledger_public_key)
        except checkpoint.CheckpointError as exc:
            raise InvalidInput(
                f"{since_file} is not a checkpoint signed by this ledger's key: {exc}",
                "use a checkpoint saved with `ledger checkpoint --out`",
            ) from None
    else:
        host = ledger.host_checkpoint()  # on the ledger's host: the newest checkpoint it signed
    witnessed = [(str(path), files.read_small_text(path, "cosigned checkpoint")) for path in witnessed_files]
    with ledger.engine.connect() as conn:
        report = verify(conn, ledger.app.events_table, trust, since, extends=host, witnessed=witnessed,
                        now=ledger.now())
    if projections:
        drift = audit(ledger)
        report.findings += [Finding(d.describe()) for d in drift]
        report.read_models = f"compared with a replay of the log ({len(drift)} differences)"
    return report


def rebuild_registry(ledger: Ledger) -> int:
    """Restore the registry row from the signed entries (refused unless the checkpoint names the result)."""
    return ledger.rebuild_registry()
