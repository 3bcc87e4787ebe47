"""Sealing: every new entry becomes a Merkle leaf, then a checkpoint is signed.

Runs inside the writing unit's transaction, after the entries are inserted
and before commit, so no committed entry is ever unsealed. The sealer is
handed the envelopes the unit produced (it never re-reads rows, and never
seals a row it did not write). The leaf index is our own gapless counter in
notification order. Appending costs O(log n): only the nodes an append
completes are hashed and stored. Each checkpoint carries two extension lines:
the time it was signed (never earlier than the previous one) and the digest of
the registry replayed from the entries it covers.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, TextClause, delete, func, insert, select, text

from ledger import batch, checkpoint, envelope, merkle
from ledger.errors import RuleViolation, VerificationFailed
from ledger.registry import Registry, digest_of
from ledger.roles import event_name
from ledger.schema import actors, checkpoints, merkle_leaves, merkle_nodes, registry_history, registry_state


@functools.lru_cache(maxsize=256)
def _nodes_query(count: int) -> TextClause:
    """The query for ``count`` nodes by (level, index): ``level = ? AND idx = ? OR …``, which both
    backends answer from the primary key (a row-value ``IN`` makes SQLite scan the table). Built
    once per count, so SQLAlchemy does not rebuild a clause of ``count`` terms on each append."""
    terms = " OR ".join(f"(level = :l{n} AND idx = :i{n})" for n in range(count))
    return text(f"SELECT level, idx, hash FROM {merkle_nodes.name} WHERE {terms}")


class StoredNodes:
    """Merkle nodes from the database, with this transaction's new ones cached."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[int, int], bytes] = {}
        self.staged: list[dict[str, object]] = []

    def get(self, level: int, index: int) -> bytes:
        """The hash of perfect subtree (level, index); KeyError if absent."""
        key = (level, index)
        if key not in self.cache:
            value = self.conn.execute(
                select(merkle_nodes.c.hash).where(merkle_nodes.c.level == level, merkle_nodes.c.idx == index)
            ).scalar_one_or_none()
            if value is None:
                raise KeyError(key)
            self.cache[key] = bytes(value)
        return self.cache[key]

    def put(self, level: int, index: int, value: bytes) -> None:
        """Stage a new node (the sealer writes the staged ones with the unit's other inserts)."""
        self.cache[(level, index)] = value
        self.staged.append({"level": level, "idx": index, "hash": value})

    def prefetch(self, size: int) -> None:
        """Load in one query the right-edge subtrees an append at ``size`` reads."""
        self.load(edge(size))

    def load(self, wanted: list[tuple[int, int]]) -> None:
        """Load these nodes (level, index) in one query per 200 (see :func:`merkle.nodes_read`)."""
        wanted = [key for key in wanted if key not in self.cache]
        for start in range(0, len(wanted), 200):
            batch = wanted[start:start + 200]
            params = {f"{name}{n}": value for n, key in enumerate(batch) for name, value in zip("li", key)}
            rows = self.conn.execute(_nodes_query(len(batch)), params)
            self.cache.update({(int(r.level), int(r.idx)): bytes(r.hash) for r in rows})


def edge(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that make up a tree of ``size``, largest first."""
    wanted, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            wanted.append((level, start >> level))
            start += 1 << level
    return wanted


def tree_size(conn: Connection) -> int:
    """How many entries are sealed (leaf indexes are gapless, so max + 1: an index lookup)."""
    last = conn.execute(select(func.max(merkle_leaves.c.leaf_index))).scalar_one_or_none()
    return 0 if last is None else int(last) + 1


@dataclass(frozen=True)
class Head:
    """The newest checkpoint: its stored row and its parsed, signed body."""

    size: int
    root: bytes
    signed: str
    checkpoint: checkpoint.Checkpoint

    @property
    def time(self) -> str:
        """When it was signed (an empty string for a checkpoint without a time line)."""
        return self.checkpoint.time or ""


def latest_checkpoint(conn: Connection) -> tuple[int, bytes, str] | None:
    """(size, root, signed text) of the newest checkpoint, if any."""
    row = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.signed).order_by(checkpoints.c.size.desc()).limit(1)
    ).first()
    return (int(row.size), bytes(row.root), row.signed) if row else None


def head(conn: Connection, origin: str, ledger_public_key: bytes, known: Head | None = None) -> Head | None:
    """The newest checkpoint, its signature checked with the ledger key; None on a new ledger.

    ``known`` is a head this process already checked (or signed): when the newest row is
    that very text, its signature is not checked again (the same bytes verify the same way).
    """
    latest = latest_checkpoint(conn)
    if latest is None:
        return None
    size, root, signed = latest
    if known is not None and known.signed == signed and known.size == size and known.root == root:
        return known
    try:
        opened = checkpoint.open_checkpoint(signed, origin, ledger_public_key, expected_origin=origin)
    except checkpoint.CheckpointError as exc:
        raise VerificationFailed(
            f"the latest checkpoint ({size}) does not verify with the ledger key: {exc}",
            "the checkpoints were changed outside the ledger: run `ledger verify --trust trust.json`",
        ) from None
    if opened.size != size or opened.root != root:
        raise VerificationFailed(f"the latest checkpoint row ({size}) does not match its signed text")
    return Head(size, root, signed, opened)


def seal(conn: Connection, origin: str, signing_key: bytes, now: str, first_leaf: int,
         produced: list[tuple[int, envelope.Envelope]], registry: Registry, registry_changed: bool,
         previous: Head | None, then: Sequence[str] = ()) -> Head:
    """Seal this unit's entries and sign a checkpoint over the new tree; returns it (the new head).

    ``produced`` is (notification id, envelope) of every entry the unit wrote,
    in order. Rows the unit did not write are never sealed: a row inserted into
    the event table by anything but the ledger stays outside the tree, where
    ``verify`` names it. Times never go backwards: each entry and the new
    checkpoint are no earlier than the previous checkpoint. ``then`` are statements sent with
    the last inserts (PostgreSQL: the recorder's ``NOTIFY``).
    """
    size = tree_size(conn)
    if size != first_leaf:
        raise VerificationFailed(f"the tree grew from {first_leaf} to {size} during this unit: refusing to seal")
    last_time = previous.time if previous else ""
    if now < last_time:
        raise RuleViolation(
            f"the clock says {now}, before the ledger's last entry ({last_time}): refusing to write",
            "check this machine's clock (NTP); entries may never go back in time",
        )
    nodes = StoredNodes(conn)
    nodes.prefetch(size)
    leaves: list[dict[str, object]] = []
    people: list[dict[str, object]] = []
    for notification_id, entry in produced:
        if str(entry.header["recorded_at"]) < last_time:
            raise RuleViolation(f"entry recorded at {entry.header['recorded_at']}, before {last_time}: refusing to seal")
        leaf = merkle.leaf_hash(entry.leaf_data)
        leaves.append({"leaf_index": size, "notification_id": notification_id, "leaf_hash": leaf})
        for level, index, value in merkle.append_nodes(size, leaf, nodes.get):
            nodes.put(level, index, value)
        person = directory_row(entry.header)
        if person is not None:
            people.append(person)
        size += 1
    root = merkle.root(size, nodes)
    if previous is not None:
        try:
            proof = merkle.consistency_proof(previous.size, size, nodes)
            merkle.verify_consistency(previous.size, size, previous.root, root, proof)
        except merkle.MerkleError as exc:
            raise VerificationFailed(
                f"refusing to sign a checkpoint inconsistent with checkpoint {previous.size}: {exc}",
                "the stored tree was altered: run `ledger verify` and restore from backup",
            ) from None
    # The unit's leaves, nodes and directory rows, and the checkpoint below, in one round trip.
    pending: list[tuple[Table, list[dict[str, object]]]] = [(merkle_leaves, leaves), (actors, people),
                                                            (merkle_nodes, nodes.staged)]
    nodes.staged = []
    if registry_changed or previous is None:
        batch.insert_all(conn, pending)
        pending = []
        state = registry.dumps()
        keep_history(conn, conn.execute(
            select(registry_state.c.state).where(registry_state.c.name == REGISTRY_ROW)).scalar_one_or_none())
        keep_history(conn, state)
        conn.execute(delete(registry_state).where(registry_state.c.name == REGISTRY_ROW))
        conn.execute(insert(registry_state).values(name=REGISTRY_ROW, state=state))
    extensions = (f"{checkpoint.TIME_EXTENSION} {now}", f"{checkpoint.REGISTRY_EXTENSION} {registry.digest()}")
    body = checkpoint.Checkpoint(origin, size, root, extensions)
    signed = checkpoint.sign_checkpoint(body, origin, signing_key)
    pending.append((checkpoints, [{"size": size, "root": root, "signed": signed, "created_at": now}]))
    batch.insert_all(conn, pending, then)
    return Head(size, root, signed, body)


REGISTRY_ROW = "registry"


def keep_history(conn: Connection, state: bytes | None) -> None:
    """Keep a registry state by its digest (a cache ``verify --since`` may resume from: it uses a
    row only when the row's digest is the one the auditor's signed checkpoint names)."""
    if state is None:
        return
    digest = digest_of(bytes(state))
    if conn.execute(select(registry_history.c.digest).where(registry_history.c.digest == digest)).first() is None:
        conn.execute(insert(registry_history).values(digest=digest, state=bytes(state)))


def directory_row(header: dict[str, Any]) -> dict[str, object] | None:
    """The ``actors`` directory row a registration adds (an id lookup; it decides nothing)."""
    name = event_name(str(header["topic"]))
    claims = header.get("claims") or {}
    if name == "StaffMember.Registered":
        return {"actor_id": claims["staff_id"], "kind": "staff", "aggregate_id": header["aggregate"]}
    if name == "Subject.Registered":
        return {"actor_id": claims["subject_id"], "kind": claims["kind"], "aggregate_id": header["aggregate"]}
    return None
