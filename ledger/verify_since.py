"""``verify --since``: resume at an auditor's saved checkpoint and check only what is new.

The saved checkpoint is the auditor's own (trusted, as the trust file is): its size,
root, signed time and registry digest describe the log a previous verification passed.
Resuming sets the verifier up in that state without reading the entries before it:

- **the tree**: the perfect subtrees that make up the tree at the saved size are read
  from the stored nodes; they are accepted only because they hash to the saved root
  (otherwise the log no longer extends the checkpoint, and ``verify`` says so). An RFC
  9162 consistency proof from the saved checkpoint to the newest signed one, built from
  stored nodes, must verify too;
- **the registry**: a cached state (``registry_history``, or the write side's current
  row) is used only if its digest is the one the saved checkpoint signed; otherwise the
  registry is replayed from the start and the report says why;
- **times**: new entries and checkpoints may not be earlier than the saved checkpoint's
  signed time;
- **records**: a new entry's record is looked up before the checkpoint (its latest
  earlier entry), and that entry's leaf is proved to be in the saved tree (an inclusion
  proof against the saved root) before its version and record class are trusted.

Entries after the checkpoint are then checked as a full run checks them. What a
resumed run does not look at (rows before the checkpoint, evidence files and key wraps
of older records) is listed in docs/design.md: a full ``verify`` checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select

from ledger import checkpoint, envelope, merkle
from ledger.errors import VerificationFailed
from ledger.registry import Registry, digest_of
from ledger.schema import merkle_leaves, registry_history, registry_state
from ledger.sealer import REGISTRY_ROW, StoredNodes, edge, latest_checkpoint

if TYPE_CHECKING:
    from ledger.verify import Verifier


def resume(verifier: Verifier, since: checkpoint.Checkpoint) -> int | None:
    """Set ``verifier`` up at ``since``; returns the notification id to stream after.

    None means the run must replay from the start: ``verifier.report.resumed`` says why.
    """
    conn = verifier.conn
    if since.size == 0 or since.registry is None or since.time is None:
        return _replay(verifier, "your saved checkpoint carries no signed registry digest and time to resume from")
    registry = cached_registry(conn, since.registry, verifier.registry)
    if registry is None:
        return _replay(verifier, "no cached registry state has the digest your saved checkpoint signed (the cache "
                                 "was changed outside the ledger, or never kept), so the registry was replayed "
                                 "from the start")
    last = conn.execute(select(merkle_leaves.c.notification_id)
                        .where(merkle_leaves.c.leaf_index == since.size - 1)).scalar_one_or_none()
    if last is None:
        return _replay(verifier, f"the log holds no sealed entry {since.size - 1}, the last your saved checkpoint "
                                 "covers, so everything was replayed")
    nodes = StoredNodes(conn)
    nodes.load(edge(since.size))
    try:
        stack = [(level, nodes.get(level, index)) for level, index in edge(since.size)]
    except KeyError:
        return _replay(verifier, f"the stored tree lacks nodes at size {since.size}, so everything was replayed")
    from ledger.verify_rows import instant as _instant

    verifier.frontier.stack, verifier.frontier.size = stack, since.size
    verifier.watch(since.size)
    verifier._since_root = verifier.frontier.root()
    verifier.registry = verifier.keys.registry = registry
    verifier.keys.partial = True
    verifier.last_time = _instant(since.time) or ""
    verifier.earlier = EarlierEntries(conn, verifier.events, since, nodes, verifier)
    _consistency(verifier, since, nodes)
    verifier.report.resumed = (f"from your saved checkpoint of size {since.size}: the registry from a cached state "
                               "with the digest it signed; only entries after it were read")
    return int(last)


def cached_registry(conn: Connection, digest: str, fresh: Registry) -> Registry | None:
    """A cached registry state whose digest is ``digest`` (None if no row has it)."""
    rows = [r[0] for r in conn.execute(select(registry_history.c.state).where(registry_history.c.digest == digest))]
    rows += [r[0] for r in conn.execute(select(registry_state.c.state).where(registry_state.c.name == REGISTRY_ROW))]
    for data in rows:
        if digest_of(bytes(data)) != digest:
            continue
        try:
            registry = Registry.loads(bytes(data), bootstrap=fresh.bootstrap)
        except (ValueError, KeyError, TypeError):
            continue
        registry.recovery_hint = fresh.recovery_hint
        if registry.digest() == digest:
            return registry
    return None


def _replay(verifier: Verifier, why: str) -> int | None:
    verifier.report.resumed = None
    verifier.report.replayed = why
    return None


def _consistency(verifier: Verifier, since: checkpoint.Checkpoint, nodes: StoredNodes) -> None:
    """The newest signed checkpoint extends the saved one (an RFC 9162 consistency proof from stored nodes)."""
    from ledger.verify import Finding

    latest = latest_checkpoint(verifier.conn)
    if latest is None or latest[0] < since.size:
        return  # the run names a log shorter than the saved checkpoint
    try:
        newest = checkpoint.open_checkpoint(latest[2], verifier.trust.origin, verifier.trust.ledger_public_key)
    except checkpoint.CheckpointError:
        return  # the run names a checkpoint that does not verify
    if newest.size == since.size:
        verifier.report.checkpoints += 1
        if newest.root != since.root:
            verifier._add(Finding(f"the newest checkpoint has the size of your saved checkpoint ({since.size}) but "
                                  "another root: history was rewritten"))
        return
    try:
        nodes.load(merkle.nodes_read(lambda source: merkle.consistency_proof(since.size, newest.size, source)))
        proof = merkle.consistency_proof(since.size, newest.size, nodes)
        merkle.verify_consistency(since.size, newest.size, since.root, newest.root, proof)
    except (merkle.MerkleError, KeyError) as exc:
        verifier._add(Finding(f"the log no longer extends your saved checkpoint of size {since.size}: the "
                              f"consistency proof to checkpoint {newest.size} fails ({exc}): history was rewritten"))


class EarlierEntries:
    """Each new entry's record as the saved checkpoint left it: its latest earlier entry, proved in the tree."""

    def __init__(self, conn: Connection, events: Table, since: checkpoint.Checkpoint, nodes: StoredNodes,
                 verifier: Verifier) -> None:
        self.conn, self.events, self.since, self.nodes, self.verifier = conn, events, since, nodes, verifier
        self.known: dict[str, tuple[int, str] | None] = {}

    def prepare(self, rows: Sequence[Any], after: int) -> None:
        """Look up, in one query, the records of ``rows`` not seen yet, as they stood up to row ``after``."""
        ids = {row.originator_id for row in rows if str(row.originator_id) not in self.known}
        if not ids:
            return
        latest = self.conn.execute(
            select(self.events.c.originator_id, func.max(self.events.c.originator_version))
            .where(self.events.c.originator_id.in_(ids), self.events.c.id <= after)
            .group_by(self.events.c.originator_id)
        ).all()
        for aggregate in ids:
            self.known[str(aggregate)] = None
        self._prove([(a, int(v)) for a, v in latest])

    def _prove(self, latest: list[tuple[Any, int]]) -> None:
        rows = []
        for aggregate, version in latest:
            row = self.conn.execute(
                select(self.events.c.id, self.events.c.state, merkle_leaves.c.leaf_index)
                .join(merkle_leaves, merkle_leaves.c.notification_id == self.events.c.id, isouter=True)
                .where(self.events.c.originator_id == aggregate, self.events.c.originator_version == version)
            ).first()
            if row is not None:
                rows.append((str(aggregate), version, row))
        size = self.since.size
        wanted = [int(r.leaf_index) for _, _, r in rows if r.leaf_index is not None and int(r.leaf_index) < size]
        self.nodes.load(merkle.nodes_read(lambda source: [merkle.inclusion_proof(i, size, source) for i in wanted]))
        for aggregate, version, row in rows:
            self.known[aggregate] = self._checked(aggregate, version, row)

    def _checked(self, aggregate: str, version: int, row: Any) -> tuple[int, str] | None:
        from ledger.verify import Finding

        size = self.since.size
        problem = None
        try:
            entry = envelope.parse(bytes(row.state))
            leaf = int(row.leaf_index) if row.leaf_index is not None else size
            if leaf >= size:
                raise merkle.MerkleError(f"it is not sealed below {size}")
            proof = merkle.inclusion_proof(leaf, size, self.nodes)
            merkle.verify_inclusion(leaf, size, merkle.leaf_hash(entry.leaf_data), proof, self.since.root)
            if (entry.header.get("aggregate"), entry.header.get("version")) != (aggregate, version):
                raise merkle.MerkleError("it is stored in another record's row")
        except (VerificationFailed, merkle.MerkleError, KeyError) as exc:
            problem = str(exc)
        if problem is not None:
            self.verifier._add(Finding(f"record {aggregate}'s version {version} before your saved checkpoint is not "
                                       f"the entry the checkpoint covers ({problem}): history was rewritten",
                                       None, aggregate, version))
            return None
        self.verifier.keys.seen.setdefault(str(entry.header["data_key"]).encode(), (leaf, aggregate))
        return version, str(entry.header["record_class"])

    def state(self, aggregate: str) -> tuple[int, str] | None:
        """(latest version, record class) of ``aggregate`` at the saved checkpoint, None if it had none there."""
        return self.known.get(aggregate)

