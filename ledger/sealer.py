"""Sealing: every new entry becomes a Merkle leaf, then a checkpoint is signed.

Runs inside the writing unit's transaction, after the entries are inserted
and before commit, so no committed entry is ever unsealed. The leaf index is
our own gapless counter in notification order. Appending costs O(log n):
only the nodes an append completes are hashed and stored.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, func, insert, or_, select

from ledger import checkpoint, envelope, merkle, registry
from ledger.errors import VerificationFailed
from ledger.schema import checkpoints, merkle_leaves, merkle_nodes


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
        """Stage a new node; :meth:`flush` writes the staged ones in one statement."""
        self.cache[(level, index)] = value
        self.staged.append({"level": level, "idx": index, "hash": value})

    def prefetch(self, size: int) -> None:
        """Load in one query the right-edge subtrees an append at ``size`` reads."""
        wanted, start = [], 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                wanted.append((level, start >> level))
                start += 1 << level
        if wanted:
            rows = self.conn.execute(
                select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash).where(
                    or_(*(and_(merkle_nodes.c.level == level, merkle_nodes.c.idx == index) for level, index in wanted))
                )
            )
            self.cache.update({(int(r.level), int(r.idx)): bytes(r.hash) for r in rows})

    def flush(self) -> None:
        """Insert every staged node."""
        if self.staged:
            self.conn.execute(insert(merkle_nodes), self.staged)
            self.staged = []


def tree_size(conn: Connection) -> int:
    """How many entries are sealed (leaf indexes are gapless, so max + 1: an index lookup)."""
    last = conn.execute(select(func.max(merkle_leaves.c.leaf_index))).scalar_one_or_none()
    return 0 if last is None else int(last) + 1


def latest_checkpoint(conn: Connection) -> tuple[int, bytes, str] | None:
    """(size, root, signed text) of the newest checkpoint, if any."""
    row = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.signed).order_by(checkpoints.c.size.desc()).limit(1)
    ).first()
    return (int(row.size), bytes(row.root), row.signed) if row else None


def seal(conn: Connection, events: Table, origin: str, signing_key: bytes, now: str) -> None:
    """Seal every unsealed entry and sign a checkpoint over the new tree."""
    last = conn.execute(select(func.max(merkle_leaves.c.notification_id))).scalar_one_or_none()
    size = tree_size(conn)
    nodes = StoredNodes(conn)
    nodes.prefetch(size)
    query = select(events.c.id, events.c.state).order_by(events.c.id)
    if last is not None:
        query = query.where(events.c.id > last)
    leaves: list[dict[str, object]] = []
    for notification_id, state in conn.execute(query).all():
        entry = envelope.parse(bytes(state))
        leaf = merkle.leaf_hash(entry.leaf_data)
        leaves.append({"leaf_index": size, "notification_id": notification_id, "leaf_hash": leaf})
        for level, index, value in merkle.append_nodes(size, leaf, nodes.get):
            nodes.put(level, index, value)
        registry.apply_to_db(conn, entry.header, size)
        size += 1
    if leaves:
        conn.execute(insert(merkle_leaves), leaves)
    nodes.flush()
    root = merkle.root(size, nodes)
    previous = latest_checkpoint(conn)
    if previous is not None:
        old_size, old_root, _ = previous
        if old_size == size:
            return
        try:
            proof = merkle.consistency_proof(old_size, size, nodes)
            merkle.verify_consistency(old_size, size, old_root, root, proof)
        except merkle.MerkleError as exc:
            raise VerificationFailed(
                f"refusing to sign a checkpoint inconsistent with checkpoint {old_size}: {exc}",
                "the stored tree was altered: run `ledger verify` and restore from backup",
            ) from None
    signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(origin, size, root), origin, signing_key)
    conn.execute(insert(checkpoints).values(size=size, root=root, signed=signed, created_at=now))
