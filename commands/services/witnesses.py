"""The ledger's side of witnessing: hand a witness the newest checkpoint, store what it cosigns,
and name witnesses in the trust file. The witness's own side is :class:`ledger.witness.WitnessFolder`."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from sqlalchemy import Connection, func, insert, select

from ledger import checkpoint, files, localtime, merkle, sealer, witness
from ledger.clock import iso
from ledger.errors import AlreadyExists, InvalidInput, NotFound, VerificationFailed
from ledger.schema import checkpoints, cosignatures
from ledger.store import Ledger
from ledger.trust import Trust, witness_fields


def request(ledger: Ledger, old: int | None = None) -> str:
    """The add-checkpoint body (C2SP tlog-witness) for the newest checkpoint, from size ``old``.

    Without ``old``: from the newest checkpoint a trusted witness has cosigned (0 if none);
    a witness that last cosigned another size refuses and names the size to ask from.
    Holds no personal data: sizes, hashes and signatures only.
    """
    trust = Trust.load(ledger.config.trust_path)
    with ledger.engine.connect() as conn:
        latest = sealer.latest_checkpoint(conn)
        if latest is None:
            raise NotFound("the ledger has no checkpoint yet", "write something first")
        size, root, signed = latest
        try:
            checkpoint.open_checkpoint(signed, trust.origin, trust.ledger_public_key, expected_origin=trust.origin)
        except checkpoint.CheckpointError as exc:
            raise VerificationFailed(f"the newest stored checkpoint is not signed by this ledger's key: {exc}",
                                     "run `ledger verify --trust trust.json`") from None
        if old is None:
            old = max((w.checkpoint.size for _, w in _recorded(conn, trust) if w.checkpoint.size <= size), default=0)
        if old > size:
            raise InvalidInput(f"--old {old} is larger than the newest checkpoint ({size})",
                               "a witness that has seen more than the ledger holds has seen a history that was cut: "
                               "run `ledger verify --trust trust.json`")
        try:
            nodes = sealer.StoredNodes(conn)
            proof = merkle.consistency_proof(old, size, nodes) if 0 < old < size else []
            if 0 < old:  # the witness checks it; a proof that cannot pass is not worth sending
                merkle.verify_consistency(old, size, merkle.root(old, nodes), root, proof)
        except (merkle.MerkleError, KeyError) as exc:
            raise VerificationFailed(f"the stored Merkle tree cannot prove checkpoint {size} extends size {old}: {exc}",
                                     "run `ledger verify --trust trust.json`") from None
    return witness.format_request(old, proof, signed)


def request_state(ledger: Ledger) -> tuple[int, int]:
    """What a request depends on besides ``old``: the newest checkpoint's size and the newest
    cosignature row's id (a cache of requests is good while both stay the same)."""
    with ledger.engine.connect() as conn:
        size = conn.execute(select(func.max(checkpoints.c.size))).scalar_one_or_none() or 0
        newest = conn.execute(select(func.max(cosignatures.c.id))).scalar_one_or_none() if _has_table(conn) else 0
    return int(size), int(newest or 0)


def record(ledger: Ledger, text: str) -> list[dict[str, Any]]:
    """Store the cosignatures in ``text``: a witness's cosignature lines, or a cosigned checkpoint.

    Each must be by a witness the trust file names, verify, and cosign a checkpoint
    this ledger holds with the same root; otherwise nothing is stored.
    """
    trust = Trust.load(ledger.config.trust_path)
    if not trust.witnesses:
        raise InvalidInput("the trust file names no witness", "add one first: `ledger witness add KEY`")
    now = iso(ledger.now())
    with ledger.engine.begin() as conn:
        cosignatures.create(conn, checkfirst=True)
        notes = _notes(conn, trust, text)
        rows, done = [], []
        for note in notes:
            try:
                opened = witness.open_witnessed(note, trust.origin, trust.ledger_public_key, trust.witnesses)
            except witness.WitnessError as exc:
                raise InvalidInput(f"not recorded: {exc}", "ask the witness to cosign again") from None
            for name, when in opened.times.items():
                try:
                    witness.posix_to_iso(when)
                except witness.WitnessError as exc:
                    raise InvalidInput(f"not recorded: {exc}", "ask the witness to set its clock right and "
                                       "cosign again") from None
            held = conn.execute(select(checkpoints.c.root).where(checkpoints.c.size == opened.checkpoint.size)
                                ).scalar_one_or_none()
            if held is None or bytes(held) != opened.checkpoint.root:
                raise VerificationFailed(
                    f"witness {', '.join(opened.times)} cosigned checkpoint {opened.checkpoint.size}, which this "
                    "ledger does not hold with that root: the ledger's key signed another history",
                    "nothing was recorded; run `ledger verify --trust trust.json` and keep the file as evidence")
            body, signatures = checkpoint.parse_signed_note(note)
            for name, when in opened.times.items():
                public = dict(trust.witnesses)[name]
                mine = "".join(checkpoint.signature_line(n, k, s) for n, k, s in signatures
                               if n == name and k == witness.key_id(name, public))
                ledger_signed = _ledger_signed(conn, opened.checkpoint.size)
                row = {"size": opened.checkpoint.size, "witness": name, "timestamp": when,
                       "cosigned": ledger_signed + mine, "recorded_at": now}
                exists = conn.execute(select(cosignatures.c.id).where(
                    cosignatures.c.witness == name, cosignatures.c.size == row["size"],
                    cosignatures.c.timestamp == when)).first()
                if exists is None:
                    rows.append(row)
                done.append({"witness": name, "size": row["size"], "cosigned_at": _local(ledger, when),
                             "stored": "new" if exists is None else "already recorded"})
        if rows:
            conn.execute(insert(cosignatures), rows)
    return done


def add_witness(ledger: Ledger, key: str, quorum: int | None, max_age_days: float | None) -> dict[str, Any]:
    """Name a witness (its verifier key) in the ledger's trust file; returns the new witness fields.

    Older trust files stay valid: they simply name fewer witnesses.
    """
    try:
        name, _ = witness.parse_verifier_key(key)
    except witness.WitnessError as exc:
        raise InvalidInput(f"{key!r} is not a witness key: {exc}",
                           "use the key `ledger witness init` printed (name+hex+base64)") from None
    path = ledger.config.trust_path
    document = files.read_json(path, "trust file", "copy back the auditors' trust.json")
    Trust.load(path)
    keys = [str(k) for k in document.get("witnesses", [])]
    if any(witness.parse_verifier_key(k)[0] == name for k in keys):
        raise AlreadyExists(f"the trust file already names a witness called {name!r}")
    if any(witness.parse_verifier_key(k)[1] == witness.parse_verifier_key(key)[1] for k in keys):
        raise AlreadyExists(f"the trust file already names a witness with the key of {name!r}: one key holder "
                            "would count twice toward the quorum")
    keys.append(key)
    try:
        fields = witness_fields(
            keys, quorum if quorum is not None else int(document.get("witness_quorum", 1)),
            max_age_days if max_age_days is not None else float(document.get("witness_max_age_days", 7)))
    except ValueError as exc:
        raise InvalidInput(str(exc), "--quorum is at most the number of witnesses") from None
    document.update(fields)
    files.write_private(path, (json.dumps(document, indent=2) + "\n").encode(), force=True)
    os.chmod(path, 0o644)  # a public file: auditors and witnesses are given copies
    Trust.load(path)
    return fields


def list_cosignatures(ledger: Ledger) -> list[dict[str, Any]]:
    """Every recorded cosignature, each checked against the trust file now."""
    trust = Trust.load(ledger.config.trust_path)
    with ledger.engine.connect() as conn:
        if not _has_table(conn):
            return []
        rows = conn.execute(select(cosignatures).order_by(cosignatures.c.size, cosignatures.c.id)).all()
    out = []
    for row in rows:
        shown = None
        try:
            opened = witness.open_witnessed(row.cosigned, trust.origin, trust.ledger_public_key, trust.witnesses)
            when = opened.times.get(row.witness)
            status = "valid" if when is not None else "not this row's witness"
            shown = _local(ledger, when) if when is not None else None
        except witness.WitnessError as exc:
            status = f"INVALID: {exc}"
        out.append({"size": row.size, "witness": row.witness, "cosigned_at": shown, "status": status})
    return out


def _has_table(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table(cosignatures.name)


def _recorded(conn: Connection, trust: Trust) -> list[tuple[str, witness.Witnessed]]:
    """Recorded cosignatures that check out against the trust file."""
    if not _has_table(conn):
        return []
    out = []
    for row in conn.execute(select(cosignatures.c.id, cosignatures.c.cosigned)):
        try:
            out.append((str(row.id), witness.open_witnessed(row.cosigned, trust.origin, trust.ledger_public_key,
                                                           trust.witnesses)))
        except witness.WitnessError:
            continue
    return out


def _notes(conn: Connection, trust: Trust, text: str) -> list[str]:
    """Cosigned checkpoints from a file: one cosigned note, or bare lines matched to a stored checkpoint."""
    if "\n\n" in text:
        return [text]
    try:
        lines = witness.parse_lines(text)
    except witness.WitnessError as exc:
        raise InvalidInput(f"not a cosignature: {exc}",
                           "give the file `ledger witness cosign` wrote, or its cosigned checkpoint") from None
    keys = dict(trust.witnesses)
    notes = []
    for name, kid, raw in lines:
        if name not in keys or kid != witness.key_id(name, keys[name]):
            raise InvalidInput(f"{name!r} (key id {kid.hex()}) is not a witness the trust file names",
                               "`ledger witness add KEY` first, then record again")
        line = checkpoint.signature_line(name, kid, raw)
        for row in conn.execute(select(checkpoints.c.signed).order_by(checkpoints.c.size.desc())):
            body = checkpoint.parse_signed_note(row.signed)[0]
            try:
                if witness.verify_cosignatures(body, [(name, kid, raw)], name, keys[name]) is not None:
                    notes.append(row.signed + line)
                    break
            except witness.WitnessError:
                continue
        else:
            raise InvalidInput(f"the cosignature by {name!r} matches no checkpoint this ledger holds: altered, "
                               "or made for another ledger", "nothing was recorded")
    return notes


def _ledger_signed(conn: Connection, size: int) -> str:
    return str(conn.execute(select(checkpoints.c.signed).where(checkpoints.c.size == size)).scalar_one())


def _local(ledger: Ledger, timestamp: int) -> dt.datetime:
    return localtime.local(witness.posix_to_iso(timestamp), ledger.timezone())

