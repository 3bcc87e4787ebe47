"""``verify``: recompute everything from stored bytes and a trust file.

Trusted: only the trust file (ledger public key, first admin key, recovery
key, the permission table the ledger started with) and, when given, the
auditor's own saved checkpoint. Checked, streaming the log in notification
order:

- each entry parses, belongs to this ledger and to the row it is stored in;
  each record's versions follow 1, 2, 3… with none missing;
- its signature, and the registry's judgement (``ledger.registry``, the same
  code the write path runs): a key registered to the signer on their own
  record (or by a two-person reset), not revoked, the signer not gone, their
  roles then allowed that event type under the permission table then in
  force, grants and role keys by those allowed to make them;
- times never go backwards, along the entries and the checkpoints;
- its body against the signed body hash (and key commitment when a reader
  key is given); an empty body only if an erasure entry covers the record;
- it is sealed: its leaf hash matches, leaves are gapless and in order; a
  row the ledger never sealed is named;
- stored Merkle nodes match the recomputed tree;
- every checkpoint's signature, its root against the recomputed tree at its
  size, its time, and its registry digest against the replayed registry;
- key material (``ledger.verify_keys``): every data key named by an entry is
  wrapped to exactly the readers its record class had when it was made, or
  covered by a signed erasure; every role key copy belongs to a member;
  every stored evidence file matches the hash its signed entry took in;
- with a saved checkpoint, that the log still extends it;
- witnesses' cosignatures (``ledger.verify_witness``): the log extends every
  checkpoint a trusted witness cosigned, entry times agree with the witnesses'
  times, and no entry older than the trust file allows is left unwitnessed.

Each row is first judged alone (``ledger.verify_rows``: parse, leaf hash, body
hash, the row it sits in, its signature), in worker processes across cores for
large logs; this process keeps only what needs the log in order.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import os
from collections.abc import Iterator, Sequence
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select

from ledger import checkpoint, crypto, envelope, merkle, progress, roles
from ledger import verify_rows
from ledger.verify_rows import BODY_DIFFERS, BODY_ERASED, Examined, instant as _instant
from ledger.clock import SystemClock
from ledger.errors import VerificationFailed
from ledger.keystore import KeyRing
from ledger.registry import Registry, is_registry_event
from ledger.schema import checkpoints, merkle_leaves, merkle_nodes
from ledger.spill import Spill
from ledger.trust import Trust
from ledger.verify_keys import KeyAudit
from ledger.verify_since import EarlierEntries, resume
from ledger.verify_witness import WitnessCheck, stored_cosignatures

BATCH = 2000
PARALLEL_FROM = 4000
POOL_MIN_BATCH = 64
#: With the worker pool, the cycle collector's full pass runs once every this many batches (see :meth:`Verifier.run`).
GC_EVERY = 32
ERASURE_EVENT = "Erasure.Recorded"


@dataclass(frozen=True)
class Finding:
    """One thing wrong, located as precisely as the evidence allows."""

    problem: str
    leaf: int | None = None
    aggregate: str | None = None
    version: int | None = None
    event_type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For JSON output."""
        return {
            "leaf": self.leaf, "aggregate": self.aggregate, "version": self.version,
            "event_type": self.event_type, "problem": self.problem,
        }


@dataclass
class Report:
    """What verification checked and what it found."""

    entries: int = 0
    signatures: int = 0
    bodies: int = 0
    commitments: int = 0
    erased: int = 0
    checkpoints: int = 0
    nodes: int = 0
    tree_size: int = 0
    root: str = ""
    since: int | None = None
    keys: int = 0
    read_models: str = "not compared"
    witness: dict[str, Any] | None = None
    #: How a run with a saved checkpoint resumed from it, or why it replayed from the start instead.
    resumed: str | None = None
    replayed: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only when something was checked and nothing is wrong."""
        return (self.entries > 0 or self.resumed is not None) and self.checkpoints > 0 and not self.findings

    def as_dict(self) -> dict[str, Any]:
        """For JSON output."""
        return {
            "ok": self.ok, "entries": self.entries, "signatures_checked": self.signatures,
            "bodies_checked": self.bodies, "key_commitments_checked": self.commitments,
            "erased_entries": self.erased, "checkpoints_checked": self.checkpoints,
            "merkle_nodes_checked": self.nodes, "tree_size": self.tree_size, "root": self.root,
            "since": self.since, "resumed": self.resumed, "replayed": self.replayed, "data_keys_checked": self.keys, "read_models": self.read_models,
            "witness": self.witness,
            "findings": [f.as_dict() for f in self.findings],
        }


class Frontier:
    """The right edge of a Merkle tree: O(log n) memory, roots at any size."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; returns the perfect-subtree nodes it completes."""
        made = [(0, self.size, leaf)]
        self.stack.append((0, leaf))
        self.size += 1
        while len(self.stack) > 1 and self.stack[-1][0] == self.stack[-2][0]:
            level, right = self.stack.pop()
            _, left = self.stack.pop()
            parent = merkle.node_hash(left, right)
            self.stack.append((level + 1, parent))
            made.append((level + 1, (self.size >> (level + 1)) - 1, parent))
        return made

    def root(self) -> bytes:
        """The root of the tree so far."""
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


#: Where an entry is, for the findings about it: (leaf, record, version, event type).
Where = tuple[int, str | None, int | None, str | None]


class Verifier:
    """One verification run over one ledger."""

    def __init__(self, conn: Connection, events: Table, trust: Trust, keyring: KeyRing | None = None) -> None:
        self.conn = conn
        self.events = events
        self.trust = trust
        self.keyring = keyring
        self.report = Report()
        self.registry = Registry(bootstrap=trust.bootstrap, recovery_hint=trust.recovery_agreement_key)
        self.keys = KeyAudit(conn, self.registry, self._add)
        self.frontier = Frontier()
        self.erased_records: set[str] = set()
        self.empty_bodies: list[Where] = []
        #: Each record's last version and class (on disk: it grows with the number of records).
        self.records = Spill()
        self.last_time = ""
        self.registry_dirty = True
        self.pool: ProcessPoolExecutor | None = None
        #: Batches handed out and not yet judged: their rows and their examination.
        self.in_flight: deque[tuple[Sequence[Any], Future[list[tuple[Any, ...]]] | list[Examined]]] = deque()
        self._keys_for_workers: dict[str, bytes] | None = None
        self._batches = 0
        self.bar: Any = None
        self.witness: WitnessCheck | None = None
        #: Set when resuming at a saved checkpoint (``ledger.verify_since``).
        self.earlier: EarlierEntries | None = None

    def run(self, since: checkpoint.Checkpoint | None = None) -> Report:
        """Verify the log: from ``since`` when it can resume there (``ledger.verify_since``), else
        the whole log (signatures only after ``since``)."""
        start = (resume(self, since) or 0) if since is not None else 0
        total = int(self.conn.execute(select(func.count()).select_from(self.events)
                                      .where(self.events.c.id > start)).scalar_one())
        if total >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
            self.pool = ProcessPoolExecutor(max_workers=os.cpu_count())
        self.bar = progress.bar(total, "verify")
        collecting = gc.isenabled()
        if self.pool is not None:
            # Nearly every object a batch makes is freed by its reference count; the cycle
            # collector's automatic passes (every few hundred allocations) cost about a fifth
            # of this process's time. It runs after each batch instead, over what the batch
            # left alive, and over everything every GC_EVERY batches (the cycles a batch
            # leaves are SQLAlchemy statements' parameters: about 1,000 objects in 50,000
            # entries, but holding a chunk's key ids each).
            gc.disable()
        try:
            self._stream(since, start)
        finally:
            if collecting:
                gc.enable()
            self.bar.close()
            self.records.close()
            if self.pool is not None:
                self.pool.shutdown()
        try:
            self._finish(since)
        finally:
            self.keys.close()
        return self.report

    # -- entries -----------------------------------------------------------------

    def _rows(self, last: int) -> Iterator[Sequence[Any]]:
        while True:
            rows = self.conn.execute(
                select(self.events.c.id, self.events.c.originator_id, self.events.c.originator_version,
                       self.events.c.topic, self.events.c.state)
                .where(self.events.c.id > last).order_by(self.events.c.id).limit(BATCH)
            ).all()
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def _stream(self, since: checkpoint.Checkpoint | None, start: int) -> None:
        resumed_at = self.frontier.size if self.earlier is not None else -1
        cps = iter(self.conn.execute(
            select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.signed)
            .where(checkpoints.c.size > resumed_at).order_by(checkpoints.c.size)
        ).all())
        self._next_cp = next(cps, None)
        self._cps = cps
        self._check_checkpoints_at(self.frontier.size)
        self._since_size = since.size if since else 0
        self._start = start
        for rows in self._rows(start):
            sealed = {
                int(row_id): (int(index), bytes(leaf))
                for row_id, index, leaf in self.conn.execute(
                    select(merkle_leaves.c.notification_id, merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash)
                    .where(merkle_leaves.c.notification_id.between(rows[0].id, rows[-1].id))
                ).all()
            }
            task = ([(int(row_id), str(aggregate), int(version), str(topic), bytes(state))
                     for row_id, aggregate, version, topic, state in rows], sealed, self.trust.ledger_id, self._worker_keys())
            if self.pool is not None and len(rows) >= POOL_MIN_BATCH:
                self.in_flight.append((rows, self.pool.submit(verify_rows.examine_in_worker, *task)))
            else:
                self.in_flight.append((rows, verify_rows.examine(*task)))
            while len(self.in_flight) > (2 * (os.cpu_count() or 1) if self.pool is not None else 0):
                self._collect_one()
        while self.in_flight:
            self._collect_one()

    def _worker_keys(self) -> dict[str, bytes]:
        """The signing keys the registry knows now (with the recovery and first admin's), for the workers to try."""
        if self._keys_for_workers is None:
            keys = {key_id: fact.public for key_id, fact in self.registry.keys.items()}
            if self.registry.bootstrap is not None:
                keys.setdefault(self.registry.bootstrap[1], self.registry.bootstrap[2])
            recovery = self.registry.recovery
            if recovery is not None:
                keys[str(recovery["key_id"])] = bytes.fromhex(str(recovery["signing_key"]))
            self._keys_for_workers = keys
        return self._keys_for_workers

    def _collect_one(self) -> None:
        """Judge the oldest batch handed out, in log order."""
        rows, pending = self.in_flight.popleft()
        examined = pending if isinstance(pending, list) else verify_rows.received(pending.result())
        if self.earlier is not None:
            self.earlier.prepare(rows, self._start)
        self._prefetch(examined)
        made: list[tuple[int, int, bytes]] = []
        for item in examined:
            self._entry(item, made)
        self._compare_nodes(made)
        self.keys.check_batch()
        self.bar.update(len(examined))
        self._batches += 1
        if not gc.isenabled():
            gc.collect(0 if self._batches % GC_EVERY else 2)

    def _prefetch(self, examined: list[Examined]) -> None:
        """Read the batch's records and data keys from the on-disk maps in a few queries."""
        headers = [e.header for e in examined if e.header is not None]
        self.records.prefetch({e.record_key for e in examined if e.header is not None})
        self.keys.seen.prefetch({str(h.get("data_key")).encode() for h in headers})

    def _entry(self, item: Examined, made: list[tuple[int, int, bytes]]) -> None:
        self.report.entries += 1
        position = self.frontier.size
        header = item.header
        if header is None:
            self._add(Finding(f"stored entry is unreadable: {item.problem}", position, item.aggregate,
                              item.version, item.event))
            self._seal_position(item, None, made, (position, None, None, None))
            self._check_checkpoints_at(self.frontier.size)
            return
        where: Where = (position, header["aggregate"], header["version"], item.event)
        for problem in item.moved:
            self._add(_at(where, problem))
        sealed_at = self._seal_position(item, item.leaf, made, where)
        if sealed_at is None:
            return
        position = sealed_at  # its findings still name where it was read (``where``)
        record_class = self._check_sequence(header, item, where)
        self.keys.see(header, position, record_class)
        if position < self._since_size:
            self._apply_registry(header, position)
        else:
            self._check_body(item, where)
            public = self._authorise(header, where, position)
            if public is not None:
                signed = self._signature_ok(public, item, where)
                if signed:
                    self.report.signatures += 1
                    if is_registry_event(str(header["topic"])):
                        self._apply_registry(header, position)
                elif signed is not None:
                    self._add(_at(where, "signature does not verify"))
        self._check_checkpoints_at(self.frontier.size)

    def _check_sequence(self, header: dict[str, Any], item: Examined, where: Where) -> str:
        """Each record's versions follow 1, 2, 3…, all of the record class it began with; times never
        go backwards. Returns the record's class (its first entry's)."""
        key = item.record_key
        known = self.records.get(key)
        if known is None and self.earlier is not None:
            known = self.earlier.state(str(header["aggregate"]))
        record_class = known[1] if known is not None else str(header["record_class"])
        if header["record_class"] != record_class:
            self._add(_at(where, f"its record class is {header['record_class']}, but its record began as "
                                 f"{record_class}: its readers were chosen from an altered row (data_keys?)"))
        version = int(header["version"])
        expected = (known[0] if known is not None else 0) + 1
        if version != expected:
            if version > expected:
                missing = f"version {expected}" if version == expected + 1 else f"versions {expected}-{version - 1}"
                self._add(_at(where, f"the record jumps from version {expected - 1} to {version}: "
                                     f"{missing} missing from the log (deleted?)"))
            else:
                self._add(_at(where, f"version {version} comes again after version {expected - 1}"))
        self.records.put(key, (max(version, expected - 1), record_class))
        recorded = item.recorded
        if recorded is None:
            self._add(_at(where, f"recorded at {header['recorded_at']!r}, which is not a time"))
            return record_class
        if recorded != header["recorded_at"]:
            self._add(_at(where, f"recorded at {header['recorded_at']}, which is {recorded} in UTC: not the form "
                                 "the ledger writes (a time zone offset moves a time without changing its text)"))
        if recorded < self.last_time:
            self._add(_at(where, f"recorded at {recorded}, before the entry or checkpoint ahead of it "
                                 f"({self.last_time}): back-dated, or the writer's clock went backwards"))
        else:
            self.last_time = recorded
        if self.witness is not None and self.witness.active:
            self.witness.entry(self.frontier.size - 1, recorded)
        return record_class

    def _seal_position(self, item: Examined, leaf: bytes | None, made: list[tuple[int, int, bytes]],
                       where: Where) -> int | None:
        position = where[0]
        if item.sealed is None:
            self._add(_at(where, f"row {item.id} was never sealed: it was written into the event table "
                                 "outside the ledger, and is not part of the log"))
            return None
        leaf_index, stored_leaf = item.sealed
        if leaf_index < position:
            self._add(_at(where, f"sealed as leaf {leaf_index}, which is already taken: entries reordered"))
            return None
        if leaf_index > position:
            self._missing_leaves(position, leaf_index, made)
        if leaf is not None and leaf != stored_leaf:
            self._add(_at(where, "bytes differ from what was sealed (leaf hash mismatch)"))
        self._append(leaf if leaf is not None else stored_leaf, made)
        return leaf_index

    def _missing_leaves(self, start: int, end: int, made: list[tuple[int, int, bytes]]) -> None:
        rows = self.conn.execute(
            select(merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash)
            .where(merkle_leaves.c.leaf_index.between(start, end - 1)).order_by(merkle_leaves.c.leaf_index)
        ).all()
        known = {int(r.leaf_index): bytes(r.leaf_hash) for r in rows}
        for index in range(start, end):
            self._add(Finding("entry is missing from the log (deleted?)", index))
            self._append(known.get(index, b"\x00" * 32), made)
            self._check_checkpoints_at(self.frontier.size)

    def _append(self, leaf: bytes, made: list[tuple[int, int, bytes]]) -> None:
        made.extend(self.frontier.append(leaf))
        if self._watch == self.frontier.size:
            self._since_root = self.frontier.root()

    def _signature_ok(self, public: bytes, item: Examined, where: Where) -> bool | None:
        """Whether ``item`` is signed by ``public``: the worker's answer when it tried that key, else checked
        here on the row read again. None (and a finding) when the row no longer holds the bytes examined."""
        if item.signed_with == public:
            return item.signature_ok
        state = self.conn.execute(select(self.events.c.state).where(self.events.c.id == item.id)).scalar_one_or_none()
        try:
            entry = envelope.parse(bytes(state)) if state is not None else None
        except VerificationFailed:
            entry = None
        if entry is None or merkle.leaf_hash(entry.leaf_data) != item.leaf:
            self._add(_at(where, f"row {item.id} changed while it was being verified: its signature was not checked"))
            return None
        try:
            crypto.verify(public, envelope.SIGNATURE_DOMAIN, entry.header_bytes, entry.signature)
            return True
        except crypto.CryptoError:
            return False

    def _check_body(self, item: Examined, where: Where) -> None:
        if item.body == BODY_ERASED:
            self.empty_bodies.append(where)
            return
        if item.body == BODY_DIFFERS:
            self._add(_at(where, "body does not match its signed body hash"))
            return
        self.report.bodies += 1
        if self.keyring is not None:
            assert item.header is not None
            try:
                key = self.keyring.data_key(self.conn, item.header["data_key"])
            except Exception:  # noqa: BLE001 - a key we cannot open is simply not checked
                return
            if envelope.key_commitment(item.header["data_key"], key) == item.header["key_commitment"]:
                self.report.commitments += 1
            else:
                self._add(_at(where, "data key does not match the key commitment"))

    def _authorise(self, header: dict[str, Any], where: Where, position: int) -> bytes | None:
        """The key that must have signed the entry at ``position``, or None (a finding) when none may."""
        public, problem = self.registry.signing_key(header)
        problem = problem or self.registry.check(header, position)
        if problem is not None or public is None:
            self._add(_at(where, str(problem)))
            return None
        if roles.event_name(header["topic"]) == ERASURE_EVENT:
            self.erased_records.update(_records(header))
        return public

    def _apply_registry(self, header: dict[str, Any], position: int) -> None:
        if self.first_table is None and roles.event_name(header["topic"]) == "PermissionTable.Adopted":
            self.first_table = str(header["claims"].get("digest"))
        if self.registry.apply(header, position):
            self.registry_dirty = True
        self._keys_for_workers = None
        self.keys.generation += 1
        if roles.event_name(header["topic"]) == ERASURE_EVENT:
            self.erased_records.update(_records(header))

    # -- tree and checkpoints --------------------------------------------------------

    def _compare_nodes(self, made: list[tuple[int, int, bytes]]) -> None:
        by_level: dict[int, dict[int, bytes]] = {}
        for level, index, value in made:
            by_level.setdefault(level, {})[index] = value
        for level, wanted in by_level.items():
            stored = {
                int(idx): bytes(value)
                for idx, value in self.conn.execute(
                    select(merkle_nodes.c.idx, merkle_nodes.c.hash).where(
                        merkle_nodes.c.level == level, merkle_nodes.c.idx.between(min(wanted), max(wanted))
                    )
                ).all()
            }
            self.report.nodes += len(wanted)
            for index, value in wanted.items():
                if stored.get(index) != value:
                    self._add(Finding(f"stored Merkle node (level {level}, index {index}) is wrong or missing",
                                      index << level))

    def _check_checkpoints_at(self, size: int) -> None:
        if self.witness is not None and size in self.witness.by_size:
            self.witness.reached(size, self.frontier.root(), self.last_time)
        while self._next_cp is not None and int(self._next_cp.size) <= size:
            row = self._next_cp
            self._next_cp = next(self._cps, None)
            self.report.checkpoints += 1
            try:
                opened = checkpoint.open_checkpoint(row.signed, self.trust.origin, self.trust.ledger_public_key)
            except checkpoint.CheckpointError as exc:
                self._add(Finding(f"checkpoint {row.size}: {exc}"))
                continue
            if opened.origin != self.trust.origin or opened.size != int(row.size) or opened.root != bytes(row.root):
                self._add(Finding(f"checkpoint {row.size}: signed text does not match its stored size/root"))
                continue
            if int(row.size) != size:
                continue
            if opened.root != self.frontier.root():
                self._add(Finding(f"checkpoint {row.size}: root does not match the log as stored"))
            self._check_checkpoint_lines(opened)

    def _check_checkpoint_lines(self, opened: checkpoint.Checkpoint) -> None:
        """The checkpoint's signed time and registry digest, against the replay so far."""
        time = _instant(opened.time) if opened.time is not None else None
        if time is not None and time != opened.time:
            self._add(Finding(f"checkpoint {opened.size}: signed at {opened.time}, which is {time} in UTC: not the "
                              "form the ledger writes"))
        if time is None:
            self._add(Finding(f"checkpoint {opened.size}: has no signed time"))
        elif time < self.last_time:
            self._add(Finding(f"checkpoint {opened.size}: signed at {time}, before the entry or checkpoint "
                              f"ahead of it ({self.last_time}): the clock went backwards"))
        else:
            self.last_time = time
        if self.registry_dirty:
            self._registry_digest = self.registry.digest()
            self.registry_dirty = False
        if opened.registry != self._registry_digest:
            self._add(Finding(f"checkpoint {opened.size}: its registry digest does not match the keys and roles "
                              "replayed from the log: the registry was altered and the checkpoint re-signed"))

    _registry_digest: str = ""

    def _finish(self, since: checkpoint.Checkpoint | None) -> None:
        size = self.frontier.size
        self.report.tree_size = size
        self.report.root = base64.b64encode(self.frontier.root()).decode()
        while self._next_cp is not None:
            self._add(Finding(f"checkpoint {self._next_cp.size} covers more entries than the log holds ({size}): "
                              "entries were deleted from the end"))
            self._next_cp = next(self._cps, None)
        extra = int(self.conn.execute(select(func.count()).select_from(merkle_leaves)
                                      .where(merkle_leaves.c.leaf_index >= size)).scalar_one())
        if extra:
            self._add(Finding(f"{extra} sealed leaves beyond the end of the log: entries were deleted from the end"))
        latest = self.conn.execute(select(func.max(checkpoints.c.size))).scalar_one_or_none()
        if latest is not None and int(latest) < size:
            self._add(Finding(f"entries {latest}..{size - 1} are not covered by any checkpoint"))
        for where in self.empty_bodies:
            if where[1] in self.erased_records:
                self.report.erased += 1
            else:
                self._add(_at(where, "body is missing and no erasure entry covers the record"))
        self._check_trust_roots()
        if self.witness is not None:
            self.report.witness = self.witness.finish(size)
        self.keys.finish(self.erased_records)
        self.report.keys = self.keys.keys_checked
        if self.report.entries == 0 and self.report.resumed is None:
            self._add(Finding("the log is empty: there is nothing to verify"))
        if since is not None:
            self.report.since = since.size
            self._check_since(since)
        self.report.findings.sort(key=lambda f: (f.leaf is None, f.leaf or 0))

    def _check_since(self, since: checkpoint.Checkpoint, whose: str = "your saved checkpoint") -> None:
        if since.size > self.frontier.size:
            self._add(Finding(f"{whose} covers {since.size} entries but the log now holds "
                              f"{self.frontier.size}: history was truncated"))
            return
        if self._root_at(since.size) != since.root:
            self._add(Finding(f"the log no longer extends {whose} of size {since.size}: "
                              "history was rewritten"))

    def check_extends(self, host: checkpoint.Checkpoint) -> None:
        """After :meth:`run` (watching ``host.size``): the log must extend the host's newest checkpoint."""
        self._check_since(host, "the newest checkpoint this host signed")
        self.report.findings.sort(key=lambda f: (f.leaf is None, f.leaf or 0))

    def _check_trust_roots(self) -> None:
        recovery = self.registry.recovery
        if recovery is None:
            self._add(Finding("the log never publishes the offline recovery key"))
        elif (recovery["agreement_key"], recovery["signing_key"]) != (
                self.trust.recovery_agreement_key.hex(), self.trust.recovery_signing_key.hex()):
            self._add(Finding("the recovery key published in the log is not the one the trust file names",
                              int(recovery["leaf"])))
        if self.first_table is not None and self.first_table != self.trust.permission_table:
            self._add(Finding("the permission table the log starts with is not the one the trust file names", 0))

    first_table: str | None = None

    def watch(self, size: int) -> None:
        """Remember the recomputed root when the stream reaches ``size``."""
        self._watch = size
        if size == 0:
            self._since_root = merkle.EMPTY_ROOT

    def _root_at(self, size: int) -> bytes | None:
        return self._since_root if self._watch == size else None

    def _add(self, finding: Finding) -> None:
        self.report.findings.append(finding)

    _watch: int | None = None
    _since_root: bytes | None = None


def _records(header: dict[str, Any]) -> list[str]:
    """The records an erasure entry names (none when its claims are malformed: the registry names that)."""
    records = header["claims"].get("records")
    return [str(r) for r in records] if isinstance(records, list) else []


def _at(where: Where, problem: str) -> Finding:
    return Finding(problem, *where)


def verify(conn: Connection, events: Table, trust: Trust, since: checkpoint.Checkpoint | None = None,
           keyring: KeyRing | None = None, extends: checkpoint.Checkpoint | None = None,
           witnessed: Sequence[tuple[str, str]] = (), now: dt.datetime | None = None) -> Report:
    """Verify the ledger behind ``conn`` against ``trust``.

    With ``since`` (an auditor's saved checkpoint) signatures are checked only after it; with
    ``extends`` (the newest checkpoint the ledger's host signed) everything is checked and the
    log must extend it too. Every stored cosignature, and each ``(source, cosigned checkpoint)``
    in ``witnessed`` (taken from a witness), is checked against the trust file's witnesses; ``now``
    (default: this machine's clock) is when unwitnessed entries are judged too old.
    """
    verifier = Verifier(conn, events, trust, keyring)
    verifier.witness = WitnessCheck(trust, [*stored_cosignatures(conn), *witnessed],
                                    lambda problem, leaf: verifier._add(Finding(problem, leaf)),
                                    now or SystemClock().now())
    watched = since or extends
    if watched is not None:
        verifier.watch(watched.size)
    report = verifier.run(since)
    if since is None and extends is not None:
        verifier.check_extends(extends)
    return report

