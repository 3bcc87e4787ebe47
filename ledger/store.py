"""The event store: ``eventsourcing`` on SQLAlchemy, one transaction per command.

Every command runs in a :class:`Unit`: one database session shared by the
event recorder and our own tables, so a data key, the entries encrypted under
it, the registry changes and the Merkle nodes they add commit together or not
at all. On SQLite a writing unit starts with ``BEGIN IMMEDIATE`` so writers
queue instead of failing; on PostgreSQL the recorder's table lock orders them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
import contextlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy.exc
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, PersistenceError
from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, func, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from eventsourcing.utils import Environment

from ledger import checkpoint, crypto, files, keystore, localtime, merkle, sealer
from ledger.clock import Clock, SystemClock, iso as clock_iso
from ledger.config import Config
from ledger.errors import AuthenticationFailed, LedgerError, NotFound, RuleViolation, StorageError, VerificationFailed
from ledger.identity import KeyPair
from ledger.mapper import EnvelopeMapper, UnitContext, unit
from ledger.registry import KeyFact, Registry, digest_of
from ledger.roles import Permissions
from ledger.schema import ledger_meta, merkle_leaves, metadata, registry_state

T = TypeVar("T")
#: Errors a database driver can raise past SQLAlchemy and the recorder.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
APP_NAME = "PolicyLedger"


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        immediate = conn.get_execution_options().get("ledger_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(config: Config) -> Engine:
    """An engine for the configured backend."""
    if config.is_sqlite:
        assert config.sqlite_path is not None
        if not config.sqlite_path.parent.exists():
            raise NotFound(
                f"no ledger at {config.sqlite_path.parent}",
                "run `ledger init` first, or pass --home/--db for an existing ledger",
            )
        return _sqlite_engine(config.db_url)
    return create_engine(config.db_url, pool_pre_ping=True)


class BatchedRecorder(SQLAlchemyApplicationRecorder):
    """The library's recorder, writing a unit's entries with one multi-row
    ``INSERT … RETURNING id`` instead of an ORM object and flush per row.

    Same table, same lock (``_lock_table``), same ids in the same order, same
    unique constraint refusing a version written twice (raised as the library's
    ``IntegrityError``, which :meth:`Unit.save` reports as a concurrent change).
    """

    def _insert_stored_events(self, session: Session, stored_events: Any, **kwargs: Any) -> list[int]:
        events: list[StoredEvent] = list(stored_events)
        if not events:
            return []
        ctx = unit.get(None)
        locked = ctx is not None and ctx.write_locked
        if self._has_autoincrementing_ids and not locked:  # a writing unit took it as it began
            self._lock_table(session)
        if ctx is not None:  # the keys these entries are encrypted under, in the same transaction
            ctx.staged_keys.flush(session.connection())
        table = self.events_record_cls.__table__
        rows = [{"originator_id": e.originator_id, "originator_version": e.originator_version, "topic": e.topic,
                 "state": e.state} for e in events]
        conn = session.connection()
        try:
            if conn.dialect.name == "sqlite":
                ids = self._insert_sqlite(conn, table, rows)
            else:
                ids = list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
        except sqlalchemy.exc.IntegrityError as exc:  # a version written twice: a concurrent change
            raise IntegrityError(exc) from exc
        if ctx is not None and locked and conn.dialect.name == "postgresql":
            notify = f"NOTIFY {self.channel_name};"  # sent with the sealer's inserts, one round trip fewer
            if notify not in ctx.after_insert:
                ctx.after_insert.append(notify)
        else:
            self._notify_channel(session)
        return [int(i) for i in ids]

    @staticmethod
    def _insert_sqlite(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
        """One ``executemany`` insert, then the ids read back.

        SQLite does not say in which order ``RETURNING`` gives a multi-row insert's
        ids, so SQLAlchemy would send one statement per row. The unit holds the
        write lock (``BEGIN IMMEDIATE``), so the rows after the largest id read
        before the insert are exactly these, in order; each is matched to its
        (record, version) all the same, and anything else refuses the unit.
        """
        before = conn.execute(select(func.max(table.c.id))).scalar_one_or_none() or 0
        conn.execute(insert(table), rows)
        found = conn.execute(select(table.c.id, table.c.originator_id, table.c.originator_version)
                             .where(table.c.id > before).order_by(table.c.id)).all()
        if [(r.originator_id, r.originator_version) for r in found] != \
                [(r["originator_id"], r["originator_version"]) for r in rows]:
            raise StorageError("the event table holds other new rows than this unit's: refusing to seal")
        return [int(r.id) for r in found]


class LedgerApplication(Application[uuid.UUID]):
    """The eventsourcing application whose recorder shares our engine."""

    name = APP_NAME

    def __init__(self, engine: Engine, mapper: EnvelopeMapper) -> None:
        self._engine = engine
        self._mapper = mapper
        super().__init__(
            env={
                "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                "SQLALCHEMY_URL": "sqlite://",
                "CREATE_TABLE": "n",
            }
        )

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        factory = super().construct_factory(env)
        factory.datastore = SQLAlchemyDatastore(session_maker=sessionmaker(bind=self._engine))  # type: ignore[attr-defined]
        factory.application_recorder_class = BatchedRecorder  # type: ignore[attr-defined]
        return factory

    def construct_mapper(self) -> EnvelopeMapper:
        return self._mapper

    @property
    def events_table(self) -> Table:
        """The recorder's event table."""
        return self.recorder.events_record_cls.__table__  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Actor:
    """The unlocked identity a command acts as (roles as the registry said at unlock).

    ``notices`` are things the person must be told at this command, such as a
    key that was set for them by a reset.
    """

    actor_id: str
    pair: KeyPair
    roles: frozenset[str]
    aggregate_id: str
    keyring: keystore.KeyRing
    notices: tuple[str, ...] = ()


class Unit:
    """One command's transaction: load aggregates, save events, seal."""

    def __init__(self, ledger: Ledger, session: Session, ctx: UnitContext) -> None:
        self.ledger = ledger
        self.session = session
        self.ctx = ctx
        self.saved = 0
        self.sealing: list[tuple[int, Any]] = []

    @property
    def conn(self) -> Any:
        """The SQLAlchemy connection of this unit's transaction."""
        return self.ctx.conn

    @property
    def now(self) -> str:
        """This unit's timestamp (ISO UTC)."""
        return self.ctx.now

    @property
    def zone(self) -> ZoneInfo:
        """The federation's time zone, as the registry this unit acts under names it."""
        if self.ctx.registry is not None:
            return localtime.zone_named(self.ctx.registry.timezone)
        return self.ledger.timezone()

    @property
    def today(self) -> str:
        """This unit's date in the federation's time zone (YYYY-MM-DD)."""
        return localtime.today(self.now, self.zone)

    def get(self, cls: type[T], aggregate_id: uuid.UUID, what: str = "record", redacted: bool = False) -> T:
        """Load an aggregate; NotFound if it does not exist.

        With ``redacted`` an actor who may not read the record still gets its
        clear (header) state, body fields set to None: enough to check rules
        that depend only on signed headers, never to show anything.
        """
        self.ctx.allow_redacted = redacted
        try:
            aggregate: Any = self.ledger.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {what} {aggregate_id}") from None
        finally:
            self.ctx.allow_redacted = False
        if not isinstance(aggregate, cls):
            raise NotFound(f"{aggregate_id} is not a {what}")
        self._require_sealed(aggregate_id, int(getattr(aggregate, "version")), what)
        return aggregate

    def require_sealed(self, aggregate_id: uuid.UUID, version: int, what: str) -> None:
        """Refuse a record loaded outside :meth:`get` (a replay of its own) whose entries up to
        ``version`` were not all sealed into the log: see :meth:`_require_sealed`."""
        self._require_sealed(aggregate_id, version, what)

    def _require_sealed(self, aggregate_id: uuid.UUID, version: int, what: str) -> None:
        """Refuse a record with entries never sealed into the log (and not this unit's own).

        Anyone with the database file can append a row signed with their own key (an
        assignment naming themselves, a hold released); its signature is good, but only
        the ledger seals, so an unsealed entry is someone's forgery and decides nothing.
        """
        events = self.ledger.app.events_table
        sealed = self.conn.execute(
            select(func.count()).select_from(events.join(merkle_leaves, merkle_leaves.c.notification_id == events.c.id))
            .where(events.c.originator_id == aggregate_id)
        ).scalar_one()
        own = sum(1 for _, entry in self.sealing if entry.header["aggregate"] == str(aggregate_id))
        if int(sealed) + own < version:
            raise VerificationFailed(
                f"the {what} {aggregate_id} has entries that were never sealed into the log: they were written "
                "into the database outside the ledger",
                "nothing was written or shown from it; run `ledger verify --trust trust.json` and remove the rows",
            )

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        """Whether any event was recorded for ``aggregate_id``."""
        table = self.ledger.app.events_table
        row = self.conn.execute(
            select(table.c.id).where(table.c.originator_id == aggregate_id).limit(1)
        ).first()
        return row is not None

    @property
    def registry(self) -> Registry:
        """The registry this writing unit acts under (replayed from signed entries)."""
        return self.ctx.checked_registry()

    def save(self, *aggregates: Any) -> None:
        """Sign, encrypt and record the pending events of ``aggregates``."""
        before = len(self.ctx.produced)
        try:
            recordings = self.ledger.app.save(*aggregates, session=self.session)
        except IntegrityError:
            raise RuleViolation(
                "the record was changed by someone else at the same time",
                "run the command again",
            ) from None
        produced = self.ctx.produced[before:]
        if len(recordings) != len(produced):
            raise StorageError("the event store recorded a different number of entries than were signed")
        self.sealing.extend(zip((r.notification.id for r in recordings), produced))
        self.saved += len(recordings)

    @contextmanager
    def acting_as(self, pair: KeyPair) -> Iterator[None]:
        """Sign the entries saved inside this block with ``pair`` (a new key signing its own registration)."""
        previous = self.ctx.pair
        self.ctx.pair = pair
        try:
            yield
        finally:
            self.ctx.pair = previous


class Ledger:
    """An opened ledger: engine, event store, metadata, and the checked registry."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock
        self.engine = make_engine(config)
        self.mapper = EnvelopeMapper()
        self.app = LedgerApplication(self.engine, self.mapper)
        self._meta: dict[str, str] | None = None
        self._registry: tuple[str, Registry] | None = None
        self._public_key: bytes | None = None
        #: The newest checkpoint this process checked or signed (its text, parsed): not checked twice.
        self._known_head: sealer.Head | None = None
        #: The host checkpoint file's text and what it opened to, while the file holds that text.
        self._known_host: tuple[str, checkpoint.Checkpoint] | None = None

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    def create_tables(self) -> None:
        """Create every table (idempotent)."""
        with _storage_errors(self.config):
            self.app.recorder.create_table()  # type: ignore[attr-defined]
            metadata.create_all(self.engine)

    def is_initialised(self) -> bool:
        """Whether this database already holds a ledger."""
        with _storage_errors(self.config):
            if not inspect(self.engine).has_table(ledger_meta.name):
                return False
            with self.engine.connect() as conn:
                return conn.execute(select(ledger_meta.c.value).where(ledger_meta.c.name == "ledger_id")).first() is not None

    def meta(self) -> dict[str, str]:
        """Ledger metadata (ids, origin); fixed at init, so cached. Decides nothing on its own."""
        if self._meta is not None:
            return self._meta
        if not self.is_initialised():
            raise NotFound(
                f"no ledger in {self.config.db_url if not self.config.is_sqlite else self.config.sqlite_path}",
                "run `ledger init` first, or point --home/--db at an existing ledger",
            )
        with self.engine.connect() as conn:
            self._meta = {n: v for n, v in conn.execute(select(ledger_meta.c.name, ledger_meta.c.value))}
        return self._meta

    def ledger_signing_key(self) -> bytes:
        """The checkpoint signing key from the home folder."""
        path = self.config.ledger_key_path
        try:
            return bytes.fromhex(json.loads(path.read_text(encoding="utf-8"))["private_key"])
        except FileNotFoundError:
            raise NotFound(
                f"the ledger key {path} is missing",
                "writes need the ledger key: run on the ledger's host or restore it from backup",
            ) from None

    def ledger_public_key(self) -> bytes:
        """The ledger's public key, from the trust file in the home folder (not from a row).

        The database's own copy must agree: a checkpoint signed by any other key
        is not this ledger's.
        """
        if self._public_key is not None:
            return self._public_key
        path = self.config.trust_path
        try:
            public = bytes.fromhex(json.loads(path.read_text(encoding="utf-8"))["ledger_public_key"])
        except FileNotFoundError:
            raise NotFound(
                f"the trust file {path} is missing",
                "copy back trust.json (auditors hold a copy): it says which key signs this ledger",
            ) from None
        except (ValueError, KeyError):
            raise VerificationFailed(f"the trust file {path} is damaged", "copy back the auditors' trust.json") from None
        stored = self.meta().get("ledger_public_key")
        if stored != public.hex():
            raise VerificationFailed(
                "the database says it is signed by another key than the trust file names",
                "the database was replaced or altered: run `ledger verify --trust trust.json`",
            )
        self._public_key = public
        return public

    def _head(self, conn: Connection) -> sealer.Head | None:
        head = sealer.head(conn, self.meta()["origin"], self.ledger_public_key(), self._known_head)
        self._known_head = head
        return head

    def _load_registry(self, conn: Connection, head: sealer.Head) -> Registry:
        """The registry row, accepted only if it is the one the signed checkpoint names.

        Kept by the digest the checkpoint signs: a registry this process already holds with
        that digest is the same registry (another writer's entries that changed no key or
        role leave it as it was), so it is not read and parsed again.
        """
        wanted = head.checkpoint.registry
        if self._registry is not None and wanted is not None and self._registry[0] == wanted:
            return self._registry[1]
        data = conn.execute(
            select(registry_state.c.state).where(registry_state.c.name == sealer.REGISTRY_ROW)
        ).scalar_one_or_none()
        if data is None or wanted is None or digest_of(bytes(data)) != wanted:
            raise VerificationFailed(
                "the key and role registry does not match the latest signed checkpoint: "
                "it was changed outside the ledger",
                "nothing was written; run `ledger verify --trust trust.json`, then "
                "`ledger registry rebuild` to restore it from the signed entries",
            )
        registry = Registry.loads(bytes(data))
        self._registry = (wanted, registry)
        return registry

    def registry(self) -> Registry:
        """The registry as of the latest checkpoint, checked against its signed digest."""
        with _storage_errors(self.config), self.engine.connect() as conn:
            head = self._head(conn)
            if head is None:
                raise NotFound("this ledger has no checkpoint yet", "`ledger init` did not finish: create it again")
            return self._load_registry(conn, head)

    def rebuild_registry(self) -> int:
        """Replay the registry from the signed entries and store it, if it is the one the latest
        checkpoint names; returns how many registry entries were replayed.

        Anyone may run it: it signs nothing, and a registry that does not match
        the signed checkpoint is refused (then the log itself was altered).
        """
        from ledger import envelope
        from ledger.registry import is_registry_event
        from ledger.schema import merkle_leaves
        from ledger.trust import Trust

        trust = Trust.load(self.config.trust_path)
        events = self.app.events_table
        with _storage_errors(self.config), self.engine.begin() as conn:
            head = self._head(conn)
            if head is None:
                raise NotFound("this ledger has no checkpoint yet")
            registry = Registry(bootstrap=trust.bootstrap, recovery_hint=trust.recovery_agreement_key)
            replayed = 0
            rows = conn.execute(
                select(merkle_leaves.c.leaf_index, events.c.state)
                .join(events, events.c.id == merkle_leaves.c.notification_id)
                .where(merkle_leaves.c.leaf_index < head.size, events.c.topic.in_(_registry_topics()))
                .order_by(merkle_leaves.c.leaf_index)
            )
            for leaf, state in rows:
                entry = envelope.parse(bytes(state))
                public, problem = registry.signing_key(entry.header)
                problem = problem or registry.check(entry.header, int(leaf))
                if problem or public is None:
                    raise VerificationFailed(f"entry {leaf} does not pass: {problem}", "run `ledger verify`")
                envelope.verify_signature(entry, public)
                if is_registry_event(str(entry.header["topic"])):
                    registry.apply(entry.header, int(leaf))
                    replayed += 1
            if registry.digest() != head.checkpoint.registry:
                raise VerificationFailed(
                    "the registry replayed from the log is not the one the latest checkpoint names",
                    "the log itself was altered: run `ledger verify --trust trust.json` and restore from backup",
                )
            conn.execute(delete(registry_state))
            conn.execute(insert(registry_state).values(name=sealer.REGISTRY_ROW, state=registry.dumps()))
        self._registry = None
        return replayed

    def permissions(self) -> Permissions:
        """The permission table in force: adopted by signed entries and replayed by the registry
        (never this software's own proposal, ``ledger.roles``)."""
        perms = self.registry().permissions
        if perms is None:
            raise RuleViolation("no permission table is in force", "the ledger was not set up by `ledger init`")
        return perms

    def timezone(self) -> ZoneInfo:
        """The federation's time zone, from its signed settings."""
        return localtime.zone_named(self.registry().timezone)

    def now(self) -> dt.datetime:
        """The clock's now (aware UTC): the injected clock, else this machine's.

        For bookkeeping and for "today" outside a unit; inside one, its time
        (``Unit.now``) is the one to use: on PostgreSQL it is the server's.
        """
        return (self.clock or SystemClock()).now()

    def today(self) -> str:
        """Today in the federation's time zone (YYYY-MM-DD), by :meth:`now`."""
        return localtime.today(self.now(), self.timezone())

    def _now(self, conn: Connection) -> str:
        if self.clock is not None:
            return clock_iso(self.clock.now())
        if conn.dialect.name == "postgresql":
            moment = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
            return clock_iso(moment)
        return clock_iso(SystemClock().now())

    @contextmanager
    def unit(
        self,
        actor: Actor | None = None,
        write: bool = False,
        keyring: keystore.KeyRing | None = None,
        bootstrap: tuple[str, str, bytes] | None = None,
    ) -> Iterator[Unit]:
        """A transaction acting as ``actor``; commits (and seals) only writes.

        A writing unit holds the write lock from its first statement, takes its
        time from the clock under that lock (the database server's on
        PostgreSQL), refuses a clock behind the last checkpoint, and acts under
        the registry the latest signed checkpoint names; a reading unit acts
        under that registry too, so every entry either loads is checked.
        """
        meta = self.meta()
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        # What needs no database is read before the write lock is taken, so that
        # concurrent writers do it while another one holds the lock.
        signing = self._checked_signing_key() if write else b""
        saved = self.host_checkpoint() if write else None
        with _storage_errors(self.config):
            session = Session(self.engine)
            conn = session.connection(execution_options={"ledger_write": write})
        ctx = UnitContext(
            ledger_id=meta["ledger_id"],
            conn=conn,
            pair=actor.pair if actor else None,
            keyring=keyring or (actor.keyring if actor else None),
            now="",
            events=self.app.events_table,
        )
        token = unit.set(ctx)
        datastore.set_scoped_session(session)
        head: sealer.Head | None = None
        try:
            with _storage_errors(self.config):
                if write:
                    head = self._begin_write(conn, ctx, bootstrap, saved)
                else:
                    ctx.now = self._now(conn)
                    self._begin_read(conn, ctx)
                work = Unit(self, session, ctx)
                yield work
                ctx.staged_keys.flush(conn)
                if write and work.saved:
                    assert ctx.registry is not None
                    sealed = sealer.seal(
                        conn, meta["origin"], signing, ctx.now, ctx.first_leaf,
                        work.sealing, ctx.registry, ctx.registry_changed, head, ctx.after_insert,
                    )
                    session.commit()
                    self._registry = (ctx.registry.digest(), ctx.registry)
                    self._known_head = sealed
                    self._keep_host_checkpoint(sealed)
                else:
                    session.rollback()
        except BaseException:
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError, *DRIVER_ERRORS):  # a lost connection has no transaction left
                session.rollback()
            raise
        finally:
            unit.reset(token)
            datastore.scoped_session = None
            datastore.session_maker = sessionmaker(bind=self.engine)
            session.close()

    def _begin_read(self, conn: Connection, ctx: UnitContext) -> None:
        """A reading unit acts under the checked registry too, so every entry it loads is checked
        against the key its signer registered: what a person reads comes from signed entries,
        never from a row someone with the database rewrote."""
        head = self._head(conn)
        if head is not None:
            ctx.registry = self._load_registry(conn, head)
            ctx.registry_shared = True

    def _checked_signing_key(self) -> bytes:
        """The ledger key, refused unless it is the key the trust file names."""
        signing = self.ledger_signing_key()
        if crypto.signing_public_key(signing) != self.ledger_public_key():
            raise VerificationFailed(
                "ledger-key.json is not the key the trust file names",
                "restore the ledger key from backup; nothing was written",
            )
        return signing

    def _begin_write(self, conn: Connection, ctx: UnitContext, bootstrap: tuple[str, str, bytes] | None,
                     saved: checkpoint.Checkpoint | None) -> sealer.Head | None:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"LOCK TABLE {self.app.events_table.name} IN EXCLUSIVE MODE"))
        ctx.write_locked = True  # SQLite: BEGIN IMMEDIATE, as the unit's transaction began
        head = self._head(conn)
        if head is None:
            if bootstrap is None:
                raise NotFound("this ledger has no checkpoint yet", "`ledger init` did not finish: create it again")
            ctx.registry = Registry(bootstrap=bootstrap)
        else:
            ctx.registry = self._load_registry(conn, head)
            ctx.registry_shared = True
        server_now = ""
        if conn.dialect.name == "postgresql" and self.clock is None:  # the server's clock, in the same round trip
            last, moment = conn.execute(select(func.max(merkle_leaves.c.leaf_index), func.clock_timestamp())).one()
            ctx.first_leaf, server_now = (0 if last is None else int(last) + 1), clock_iso(moment)
        else:
            ctx.first_leaf = sealer.tree_size(conn)
        if head is not None and head.size != ctx.first_leaf:
            raise VerificationFailed(
                f"the latest checkpoint covers {head.size} entries but {ctx.first_leaf} are sealed: checkpoints were "
                "deleted (which would put an older registry back in force)",
                "nothing was written; run `ledger verify --trust trust.json` and restore the database from a backup",
            )
        self._require_extends_host_checkpoint(conn, head, saved)
        ctx.now = server_now or self._now(conn)
        if head is not None and ctx.now < head.time:
            raise RuleViolation(
                f"this machine's clock ({ctx.now}) is behind the ledger's last entry ({head.time})",
                "entries may never go back in time: correct the clock (NTP), then run the command again",
            )
        return head

    def host_checkpoint(self) -> checkpoint.Checkpoint | None:
        """The newest checkpoint this host signed (kept beside the ledger key), checked; None if none."""
        path = self.config.host_checkpoint_path
        if not path.is_file():
            return None
        origin = self.meta()["origin"]
        try:
            kept = files.read_small_text(path, "host checkpoint")
            if self._known_host is not None and self._known_host[0] == kept:
                return self._known_host[1]  # the very text this process wrote or checked
            opened = checkpoint.open_checkpoint(kept, origin, self.ledger_public_key(), expected_origin=origin)
            self._known_host = (kept, opened)
            return opened
        except checkpoint.CheckpointError as exc:
            raise VerificationFailed(
                f"{path} is not a checkpoint this ledger's key signed: {exc}",
                "nothing was written; run `ledger verify --trust trust.json`; if the database is whole, "
                "move the file aside and write again",
            ) from None

    def _require_extends_host_checkpoint(self, conn: Connection, head: sealer.Head | None,
                                         saved: checkpoint.Checkpoint | None) -> None:
        """Refuse a database whose log does not extend the newest checkpoint this host signed.

        Deleting every entry, leaf and checkpoint after an earlier (genuine)
        checkpoint leaves a database consistent with itself; only a copy kept
        outside it shows what was cut. The signed roots of both checkpoints
        decide, through a consistency proof built from the stored tree.
        """
        if saved is None:
            return
        problem = ""
        if head is None or head.size < saved.size:
            problem = f"the database ends at {head.size if head else 0} entries"
        else:
            try:
                nodes = sealer.StoredNodes(conn)
                nodes.load(merkle.nodes_read(lambda source: merkle.consistency_proof(saved.size, head.size, source)))
                proof = merkle.consistency_proof(saved.size, head.size, nodes)
                merkle.verify_consistency(saved.size, head.size, saved.root, head.root, proof)
            except (merkle.MerkleError, KeyError):
                problem = f"the database's log (checkpoint {head.size}) does not extend it"
        if problem:
            raise VerificationFailed(
                f"this host signed checkpoint {saved.size} ({self.config.host_checkpoint_path}), but {problem}: "
                "entries were deleted or the database was rolled back",
                "nothing was written; run `ledger verify --trust trust.json --since "
                f"{self.config.host_checkpoint_path}` and restore the database from a backup",
            )

    def _keep_host_checkpoint(self, sealed: sealer.Head) -> None:
        """Keep the checkpoint just signed beside the ledger key (the next write checks against it).

        Replaced atomically but not synced to disk (which cost more than the database's own
        commit): the database commit before it is synced, so after a power cut the file is
        this checkpoint or an earlier one, both of which the database extends. An earlier or
        missing file only narrows the host's own rollback check (docs/threat-model.md).
        """
        files.write_private(self.config.host_checkpoint_path, sealed.signed.encode(), force=True, sync=False)
        self._known_host = (sealed.signed, sealed.checkpoint)

    def unlock(self, actor_id: str, passphrase: str) -> Actor:
        """Unlock ``actor_id``'s current key with ``passphrase``, as the checked registry says."""
        from ledger import identity

        registry = self.registry()
        fact = registry.staff.get(actor_id)
        if fact is None:
            raise NotFound(
                f"unknown actor {actor_id!r}",
                "act as a registered member of staff (--as ID or LEDGER_ACTOR); "
                "`ledger people list` shows them",
            )
        if not fact.active:
            raise RuleViolation(
                f"{actor_id} has left: their identity can no longer act",
                "their records stay in the ledger; act as a current member of staff",
            )
        key = registry.current_key(actor_id)
        if key is None:
            raise NotFound(f"{actor_id} has no active key", "ask the IT manager to propose a key reset for them")
        try:
            pair = identity.load(self.config.keys_dir, actor_id, key.key_id, passphrase)
        except (AuthenticationFailed, NotFound) as exc:
            notice = reset_notice(key)
            raise type(exc)(exc.message + (f" ({notice})" if notice else ""), exc.hint) from None
        notices = (reset_notice(key),) if key.reset else ()
        return Actor(actor_id, pair, frozenset(fact.roles), fact.aggregate,
                     keystore.KeyRing.for_pair(pair), notices)


def reset_notice(key: KeyFact) -> str:
    """What a person must be told when their current key was set by a reset."""
    if not key.reset:
        return ""
    return (f"your key {key.key_id} was set by a key reset proposed by {key.reset['proposed_by']} and "
            f"approved by {key.reset['approved_by']} at entry {key.reset['leaf']}; if you did not ask for it, "
            "tell the Headteacher at once, then `ledger keys rotate` to a key only you know")


def _registry_topics() -> list[str]:
    """Topics of every event the registry takes in."""
    from eventsourcing.utils import get_topic

    from ledger.domain import keys, people
    from ledger.registry import is_registry_event

    classes = [keys.PermissionTable, keys.RecoveryKey, keys.ReaderRole, keys.Settings, people.StaffMember]
    found = []
    for cls in classes:
        for value in vars(cls).values():
            if isinstance(value, type) and is_registry_event(get_topic(value)):
                found.append(get_topic(value))
    return found


@contextmanager
def _storage_errors(config: Config) -> Iterator[None]:
    """Translate database failures into LedgerErrors at the boundary."""
    where = str(config.sqlite_path) if config.is_sqlite else config.db_url.split("@")[-1]
    try:
        yield
    except LedgerError:
        raise
    except sqlalchemy.exc.OperationalError as exc:
        raise StorageError(
            f"the database at {where} cannot be used: {exc.orig}",
            "check that it exists, is reachable and is not locked by another program",
        ) from None
    except (sqlalchemy.exc.SQLAlchemyError, PersistenceError) as exc:
        raise StorageError(f"database error at {where}: {exc}") from None
    except DRIVER_ERRORS as exc:  # raised by the driver past the recorder, e.g. the server shutting down
        raise StorageError(f"the database at {where} cannot be used: {exc}",
                           "check that it exists, is reachable and is not locked by another program") from None
