"""The ledger's own tables (the event log itself belongs to ``eventsourcing``).

Key material lives apart from the log: ``data_keys`` and ``key_wraps`` hold
only wrapped keys and are the only rows erasure deletes. ``actors`` and
``actor_keys`` are the write side's registry, derived from signed headers in
the same transaction as the entries that change them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    Column("destroyed_at", String(40), nullable=True),
)

key_wraps = Table(
    "key_wraps",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("recipient", String(96), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
)

role_keys = Table(
    "role_keys",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
)

role_members = Table(
    "role_members",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("actor_id", String(64), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
)

actors = Table(
    "actors",
    metadata,
    Column("actor_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("aggregate_id", String(64), nullable=False, unique=True),
    Column("roles", Text, nullable=False, default="[]"),
    Column("active", Boolean, nullable=False, default=True),
)

actor_keys = Table(
    "actor_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("actor_id", String(64), nullable=False, index=True),
    Column("public_key", String(64), nullable=False),
    Column("agreement_key", String(64), nullable=False),
    Column("registered_leaf", BIG, nullable=False),
    Column("revoked_leaf", BIG, nullable=True),
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
