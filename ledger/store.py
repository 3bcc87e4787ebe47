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

import psycopg
import sqlalchemy.exc
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, PersistenceError
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from sqlalchemy import Engine, Table, create_engine, event, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from eventsourcing.utils import Environment

from ledger import keystore, registry, sealer
from ledger.config import Config
from ledger.errors import LedgerError, NotFound, RuleViolation, StorageError
from ledger.identity import KeyPair
from ledger.mapper import EnvelopeMapper, UnitContext, unit
from ledger.schema import actors, ledger_meta, metadata

T = TypeVar("T")
#: Errors a database driver can raise past SQLAlchemy and the recorder.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
APP_NAME = "PolicyLedger"


def utcnow() -> str:
    """The clock, as an ISO-8601 UTC string."""
    return dt.datetime.now(dt.timezone.utc).isoformat()


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
        return factory

    def construct_mapper(self) -> EnvelopeMapper:
        return self._mapper

    @property
    def events_table(self) -> Table:
        """The recorder's event table."""
        return self.recorder.events_record_cls.__table__  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Actor:
    """The unlocked identity a command acts as."""

    actor_id: str
    pair: KeyPair
    roles: frozenset[str]
    aggregate_id: str
    keyring: keystore.KeyRing


class Unit:
    """One command's transaction: load aggregates, save events, seal."""

    def __init__(self, ledger: Ledger, session: Session, ctx: UnitContext) -> None:
        self.ledger = ledger
        self.session = session
        self.ctx = ctx
        self.saved = 0

    @property
    def conn(self) -> Any:
        """The SQLAlchemy connection of this unit's transaction."""
        return self.ctx.conn

    @property
    def now(self) -> str:
        """This unit's timestamp (ISO UTC)."""
        return self.ctx.now

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
        return aggregate

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        """Whether any event was recorded for ``aggregate_id``."""
        table = self.ledger.app.events_table
        row = self.conn.execute(
            select(table.c.id).where(table.c.originator_id == aggregate_id).limit(1)
        ).first()
        return row is not None

    def save(self, *aggregates: Any) -> None:
        """Sign, encrypt and record the pending events of ``aggregates``."""
        try:
            recordings = self.ledger.app.save(*aggregates, session=self.session)
        except IntegrityError:
            raise RuleViolation(
                "the record was changed by someone else at the same time",
                "run the command again",
            ) from None
        self.saved += len(recordings)


class Ledger:
    """An opened ledger: engine, event store and metadata."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = make_engine(config)
        self.mapper = EnvelopeMapper()
        self.app = LedgerApplication(self.engine, self.mapper)
        self._meta: dict[str, str] | None = None

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
        """All ledger metadata (ids, origin, public keys); fixed at init, so cached."""
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

    @contextmanager
    def unit(
        self,
        actor: Actor | None = None,
        write: bool = False,
        keyring: keystore.KeyRing | None = None,
        bootstrap_roles: frozenset[str] | None = None,
        now: str | None = None,
    ) -> Iterator[Unit]:
        """A transaction acting as ``actor``; commits (and seals) only writes."""
        meta = self.meta()
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        with _storage_errors(self.config):
            session = Session(self.engine)
            conn = session.connection(execution_options={"ledger_write": write})
        ctx = UnitContext(
            ledger_id=meta["ledger_id"],
            conn=conn,
            pair=actor.pair if actor else None,
            roles=bootstrap_roles if bootstrap_roles is not None else (actor.roles if actor else frozenset()),
            keyring=keyring or (actor.keyring if actor else None),
            now=now or utcnow(),
            self_aggregates=frozenset({actor.aggregate_id}) if actor else frozenset(),
        )
        token = unit.set(ctx)
        datastore.set_scoped_session(session)
        try:
            with _storage_errors(self.config):
                work = Unit(self, session, ctx)
                yield work
                if write and work.saved:
                    sealer.seal(conn, self.app.events_table, meta["origin"], self.ledger_signing_key(), ctx.now)
                    session.commit()
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

    def unlock(self, actor_id: str, passphrase: str) -> Actor:
        """Unlock ``actor_id``'s current key with ``passphrase``."""
        from ledger import identity

        with self.engine.connect() as conn:
            row = conn.execute(select(actors).where(actors.c.actor_id == actor_id)).first()
            if row is None or row.kind != "staff":
                raise NotFound(
                    f"unknown actor {actor_id!r}",
                    "act as a registered member of staff (--as ID or LEDGER_ACTOR); "
                    "`ledger people list` shows them",
                )
            if not row.active:
                raise RuleViolation(
                    f"{actor_id} has left: their identity can no longer act",
                    "their records stay in the ledger; act as a current member of staff",
                )
            key_id, _ = registry.current_key(conn, actor_id)
        pair = identity.load(self.config.keys_dir, actor_id, key_id, passphrase)
        return Actor(
            actor_id, pair, frozenset(json.loads(row.roles)), row.aggregate_id, keystore.KeyRing.for_pair(pair)
        )


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
