"""Inclusion and consistency proofs served from the stored tree."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy import Connection, Table, select

from ledger import checkpoint, merkle, text
from ledger.errors import InvalidInput, NotFound, VerificationFailed
from ledger.schema import checkpoints, merkle_leaves
from ledger.sealer import StoredNodes, latest_checkpoint, tree_size


def leaf_index(conn: Connection, events: Table, ref: str) -> int:
    """An entry reference (leaf index, or AGGREGATE:VERSION) as a leaf index."""
    ref = text.check_id("entry", ref, limit=80)
    if ref.isascii() and ref.isdigit():
        if len(ref) > 19:
            raise NotFound(f"there is no entry {text.quoted(ref)}", f"the log holds {tree_size(conn)} entries (0-based)")
        index = int(ref)
        if index >= tree_size(conn):
            raise NotFound(f"there is no entry {index}", f"the log holds {tree_size(conn)} entries (0-based)")
        return index
    aggregate, _, version = ref.rpartition(":")
    try:
        aggregate_id, number = uuid.UUID(aggregate), int(version)
        if not version.isascii() or not 0 < number < 2**63:
            raise ValueError(version)
    except ValueError:
        raise InvalidInput(f"{text.quoted(ref)} is not an entry", "give a leaf index or AGGREGATE-UUID:VERSION") from None
    found = conn.execute(
        select(merkle_leaves.c.leaf_index)
        .join(events, events.c.id == merkle_leaves.c.notification_id)
        .where(events.c.originator_id == aggregate_id, events.c.originator_version == number)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no sealed entry {ref}")
    return int(found)


def checkpoint_for(conn: Connection, origin: str, public_key: bytes, text: str | None) -> tuple[int, bytes, str]:
    """A stored checkpoint: the latest, or the one ``text`` holds (checked)."""
    if text is None:
        latest = latest_checkpoint(conn)
        if latest is None:
            raise NotFound("the ledger has no checkpoint yet")
        return latest
    try:
        given = checkpoint.open_checkpoint(text, origin, public_key)
    except checkpoint.CheckpointError as exc:
        raise VerificationFailed(f"that checkpoint is not one of this ledger's: {exc}") from None
    row = conn.execute(select(checkpoints.c.root).where(checkpoints.c.size == given.size)).scalar_one_or_none()
    if row is None or bytes(row) != given.root:
        raise VerificationFailed(
            f"the ledger holds no checkpoint of size {given.size} with that root",
            "the history differs from what that checkpoint saw: run `ledger verify --since` on it",
        )
    return given.size, given.root, text


def inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``."""
    if index >= size:
        raise InvalidInput(f"entry {index} is not in a checkpoint of size {size}", "use a later checkpoint")
    nodes = StoredNodes(conn)
    nodes.load(merkle.nodes_read(lambda source: merkle.inclusion_proof(index, size, source)))
    return merkle.inclusion_proof(index, size, nodes)


def leaf_hash(conn: Connection, index: int) -> bytes:
    """The stored leaf hash of ``index``."""
    value = conn.execute(select(merkle_leaves.c.leaf_hash).where(merkle_leaves.c.leaf_index == index)).scalar_one()
    return bytes(value)


def consistency(conn: Connection, old: int, new: int) -> dict[str, Any]:
    """RFC 9162 consistency proof between two tree sizes (and their roots)."""
    size = tree_size(conn)
    if not 0 < old <= new <= size:
        raise InvalidInput(f"sizes must satisfy 0 < OLD <= NEW <= {size}", "see `ledger checkpoints`")
    nodes = StoredNodes(conn)
    nodes.load(merkle.nodes_read(lambda source: (
        merkle.consistency_proof(old, new, source), merkle.root(old, source), merkle.root(new, source))))
    proof = merkle.consistency_proof(old, new, nodes) if old != new else []
    return {
        "size1": old,
        "size2": new,
        "root1": base64.b64encode(merkle.root(old, nodes)).decode(),
        "root2": base64.b64encode(merkle.root(new, nodes)).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
        "text": checkpoint.format_consistency_proof(old, new, proof),
    }
