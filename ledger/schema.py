"""The ledger's own tables (the event log itself belongs to ``eventsourcing``).

Key material lives apart from the log: ``data_keys``, ``key_wraps`` and
``role_members`` hold only wrapped keys; each wrap names the public key it is
sealed to, so ``verify`` can check it against the registry replayed from the
log. ``registry_state`` keeps that replay for the write side (its digest is
signed into every checkpoint, so a changed row is caught), and ``registry_history``
every state it has had, by digest, so ``verify --since`` can resume from the state an
auditor's saved checkpoint names (a row is used only if its digest is that one); ``actors`` is a
directory of ids for lookups and decides nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

BIG = BigInteger().with_variant(Integer(), "sqlite")

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("record_id", String(64), nullable=False, index=True),
    Column("record_class", String(64), nullable=False),
    Column("parent_key_id", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("retired_at", String(40), nullable=True),
    Column("destroyed_at", String(40), nullable=True),
)

key_wraps = Table(
    "key_wraps",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("recipient", String(96), primary_key=True),
    Column("recipient_key", String(64), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
)

role_members = Table(
    "role_members",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("holder", String(96), primary_key=True),
    Column("sealed_to", String(64), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
)

registry_state = Table(
    "registry_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("state", LargeBinary, nullable=False),
)

registry_history = Table(
    "registry_history",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("state", LargeBinary, nullable=False),
)

actors = Table(
    "actors",
    metadata,
    Column("actor_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("aggregate_id", String(64), nullable=False, unique=True),
)

merkle_leaves = Table(
    "merkle_leaves",
    metadata,
    Column("leaf_index", BIG, primary_key=True, autoincrement=False),
    Column("notification_id", BIG, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BIG, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BIG, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("signed", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("root", "size"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("record_id", String(64), nullable=False, index=True),
    Column("key_id", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BIG, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", String(40), nullable=False),
)
