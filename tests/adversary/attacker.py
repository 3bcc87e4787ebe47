"""What an attacker can do outside the ledger's code, for the adversary suite.

Three attackers, as in docs/threat-model.md:

- a member of staff (or a database administrator) with the database: reads
  and writes any row, signs with their own key, but holds no ledger key;
- the IT manager, who also holds ``ledger-key.json`` on the ledger's host: can seal
  rows, re-sign checkpoints, rewrite the registry row with a digest that matches, and
  replace the host's ``latest-checkpoint.txt``;
- a leaver, with an old copy of the database and their own key file.

Each method does one thing an attacker would, with SQL and the same
primitives the ledger uses (anyone can run them); none goes through the
ledger's services, so nothing here is checked the way the write path checks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Connection, delete, func, insert, select, update

from ledger import checkpoint, crypto, envelope, merkle
from ledger.clock import SystemClock, iso
from ledger.identity import KeyPair
from ledger.registry import Registry, digest_of
from ledger.schema import checkpoints, merkle_leaves, merkle_nodes, registry_state
from ledger.sealer import REGISTRY_ROW
from tests.conftest import Federation


@dataclass
class Attacker:
    """One attacker on one federation's database."""

    fed: Federation

    @property
    def events(self) -> Any:
        return self.fed.ledger.app.events_table

    # -- reading -------------------------------------------------------------------

    def rows(self) -> list[Any]:
        """Every event row, in notification order."""
        with self.fed.ledger.engine.connect() as conn:
            return list(conn.execute(select(self.events).order_by(self.events.c.id)))

    def last_version(self, aggregate: uuid.UUID) -> int:
        """The newest version of a record in the event table."""
        with self.fed.ledger.engine.connect() as conn:
            return int(conn.execute(select(func.max(self.events.c.originator_version))
                                    .where(self.events.c.originator_id == aggregate)).scalar_one() or 0)

    def registry(self) -> Registry:
        """The registry row as stored."""
        with self.fed.ledger.engine.connect() as conn:
            data = conn.execute(select(registry_state.c.state)).scalar_one()
        return Registry.loads(bytes(data))

    # -- entries made outside the ledger -------------------------------------------------

    def forge(self, pair: KeyPair, aggregate: uuid.UUID, topic: str, claims: dict[str, Any],
              version: int | None = None, record_class: str = "identity", recorded_at: str | None = None,
              body: dict[str, Any] | None = None, actor: str | None = None,
              subjects: list[str] | None = None) -> envelope.Envelope:
        """An entry signed with ``pair`` (as ``actor``, by default its owner), under a fresh data key."""
        header = {
            "ledger": self.fed.ledger.meta()["ledger_id"], "aggregate": str(aggregate),
            "version": version if version is not None else self.last_version(aggregate) + 1,
            "topic": topic, "class_version": 1, "recorded_at": recorded_at or iso(SystemClock().now()),
            "occurred_at": None, "actor": actor or pair.actor_id, "actor_key": pair.key_id,
            "record_class": record_class, "subjects": subjects or [], "claims": claims, "lifted": [],
        }
        return envelope.seal(header, body or {}, "dk" + uuid.uuid4().hex, crypto.random_key(), pair.signing_key)

    def insert(self, entry: envelope.Envelope) -> int:
        """Put an entry into the event table directly (as anyone with the database can)."""
        with self.fed.ledger.engine.begin() as conn:
            result = conn.execute(insert(self.events).values(
                originator_id=uuid.UUID(entry.header["aggregate"]), originator_version=entry.header["version"],
                topic=entry.header["topic"], state=entry.to_bytes()))
            return int(result.inserted_primary_key[0])

    # -- with the ledger key (the IT manager) -------------------------------------------

    def seal_everything(self, time: str | None = None) -> None:
        """Seal every unsealed row and sign a checkpoint over them (at ``time``, by default the
        clock's), as the IT manager's own code could."""
        with self.fed.ledger.engine.begin() as conn:
            size = int(conn.execute(select(func.count()).select_from(merkle_leaves)).scalar_one())
            sealed = select(merkle_leaves.c.notification_id)
            rows = conn.execute(select(self.events.c.id, self.events.c.state)
                                .where(self.events.c.id.not_in(sealed)).order_by(self.events.c.id)).all()
            nodes = _StoredNodes(conn)
            for row in rows:
                leaf = merkle.leaf_hash(envelope.parse(bytes(row.state)).leaf_data)
                conn.execute(insert(merkle_leaves).values(leaf_index=size, notification_id=row.id, leaf_hash=leaf))
                for level, index, value in merkle.append_nodes(size, leaf, nodes.get):
                    nodes.put(level, index, value)
                size += 1
            self._sign(conn, size, merkle.root(size, nodes), self.registry_digest(conn), time)

    def rewrite_registry(self, change: Callable[[Registry], None]) -> None:
        """Change the registry row and re-sign the newest checkpoint so the digests agree."""
        with self.fed.ledger.engine.begin() as conn:
            registry = Registry.loads(bytes(conn.execute(select(registry_state.c.state)).scalar_one()))
            change(registry)
            conn.execute(update(registry_state).where(registry_state.c.name == REGISTRY_ROW)
                         .values(state=registry.dumps()))
            latest = conn.execute(select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)).one()
            opened = checkpoint.parse_checkpoint_body(checkpoint.parse_signed_note(latest.signed)[0])
            lines = tuple(line for line in opened.extensions if not line.startswith(checkpoint.REGISTRY_EXTENSION))
            lines += (f"{checkpoint.REGISTRY_EXTENSION} {registry.digest()}",)
            origin = self.fed.ledger.meta()["origin"]
            signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(origin, opened.size, opened.root, lines),
                                                origin, self.fed.ledger.ledger_signing_key())
            conn.execute(update(checkpoints).where(checkpoints.c.size == latest.size).values(signed=signed))

    def delete_entries_and_resign(self, leaves: list[int]) -> None:
        """Delete entries, rebuild the tree and re-sign every checkpoint (times kept, registry digests
        replayed): a rewritten history that is consistent with itself."""
        with self.fed.ledger.engine.begin() as conn:
            doomed = [int(n) for (n,) in conn.execute(
                select(merkle_leaves.c.notification_id).where(merkle_leaves.c.leaf_index.in_(leaves)))]
            conn.execute(delete(self.events).where(self.events.c.id.in_(doomed)))
            old = {int(r.size): r.signed for r in conn.execute(select(checkpoints))}
            sizes = {old_size - sum(1 for leaf in leaves if leaf < old_size): text for old_size, text in old.items()}
            for table in (merkle_leaves, merkle_nodes, checkpoints):
                conn.execute(delete(table))
            nodes = _StoredNodes(conn)
            registry = Registry(bootstrap=None)
            rows = conn.execute(select(self.events.c.id, self.events.c.state).order_by(self.events.c.id)).all()
            for index, row in enumerate(rows):
                entry = envelope.parse(bytes(row.state))
                leaf = merkle.leaf_hash(entry.leaf_data)
                conn.execute(insert(merkle_leaves).values(leaf_index=index, notification_id=row.id, leaf_hash=leaf))
                for level, node_index, value in merkle.append_nodes(index, leaf, nodes.get):
                    nodes.put(level, node_index, value)
                registry.apply(entry.header, index)
                if index + 1 in sizes:
                    opened = checkpoint.parse_checkpoint_body(checkpoint.parse_signed_note(sizes[index + 1])[0])
                    self._sign(conn, index + 1, merkle.root(index + 1, nodes), registry.digest(), opened.time)
            conn.execute(update(registry_state).values(state=registry.dumps()))
            newest = conn.execute(select(checkpoints.c.signed).order_by(checkpoints.c.size.desc()).limit(1)).scalar_one()
        # on the ledger's host they also replace the newest checkpoint it kept (latest-checkpoint.txt)
        self.fed.ledger.config.host_checkpoint_path.write_text(newest, encoding="utf-8")

    def registry_digest(self, conn: Connection) -> str:
        """The digest of the registry row as stored."""
        return digest_of(bytes(conn.execute(select(registry_state.c.state)).scalar_one()))

    def _sign(self, conn: Connection, size: int, root: bytes, registry: str, time: str | None = None) -> None:
        origin = self.fed.ledger.meta()["origin"]
        lines = (f"{checkpoint.TIME_EXTENSION} {time or iso(SystemClock().now())}",
                 f"{checkpoint.REGISTRY_EXTENSION} {registry}")
        signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(origin, size, root, lines), origin,
                                            self.fed.ledger.ledger_signing_key())
        conn.execute(delete(checkpoints).where(checkpoints.c.size == size))
        conn.execute(insert(checkpoints).values(size=size, root=root, signed=signed, created_at=time or ""))


class _StoredNodes:
    """Merkle nodes read from and written to the table (the attacker's own copy of the sealer's)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, level: int, index: int) -> bytes:
        value = self.conn.execute(select(merkle_nodes.c.hash).where(
            merkle_nodes.c.level == level, merkle_nodes.c.idx == index)).scalar_one_or_none()
        if value is None:
            raise KeyError((level, index))
        return bytes(value)

    def put(self, level: int, index: int, value: bytes) -> None:
        self.conn.execute(delete(merkle_nodes).where(merkle_nodes.c.level == level, merkle_nodes.c.idx == index))
        self.conn.execute(insert(merkle_nodes).values(level=level, idx=index, hash=value))
