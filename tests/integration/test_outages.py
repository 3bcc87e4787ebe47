"""A database connection lost in the middle of a command is a clean StorageError, never
a driver exception escaping past the error tree (found by scripts/soak.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from commands.services import people

from ledger.errors import StorageError
from ledger.domain.people import Subject
from tests.conftest import Federation, build_federation, row_counts


def _kill_own_connection(fed: Federation, pid: int) -> None:
    killer = create_engine(fed.ledger.config.db_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


@pytest.fixture
def pg_federation(tmp_path: Path, pg_database: str) -> Iterator[Federation]:
    """A federation on PostgreSQL only: a SQLite file has no server connection to lose."""
    fed = build_federation(tmp_path / "home", pg_database)
    yield fed
    fed.ledger.close()


@pytest.mark.parametrize("then", ["read", "save"])
def test_a_connection_terminated_mid_unit_is_a_storage_error(pg_federation: Federation, then: str) -> None:
    fed = pg_federation
    before = row_counts(fed)
    with pytest.raises(StorageError, match="cannot be used"):
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            _kill_own_connection(fed, int(work.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
            if then == "read":
                work.exists(uuid.uuid4())
            else:
                work.save(Subject.register(f"sb-{uuid.uuid4().hex[:8]}", "pupil", {"name": "Lost"}))
    fed.ledger.engine.dispose()
    with fed.ledger.unit(fed["dsl"]) as work:  # and the next command works
        assert not work.exists(uuid.uuid4())
    assert row_counts(fed) == before


def _lost(*_args: object, **_kwargs: object) -> None:
    raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("the connection is lost"))


def test_a_commit_and_rollback_on_a_lost_connection_give_a_storage_error(sqlite_federation: Federation,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """As the soak saw on PostgreSQL: the commit fails, then so does the rollback."""
    fed = sqlite_federation
    before = row_counts(fed)
    with monkeypatch.context() as lost:
        lost.setattr(Session, "commit", _lost)
        lost.setattr(Session, "rollback", _lost)
        with pytest.raises(StorageError, match="the connection is lost"):
            people.add_subject(fed.ledger, fed["dsl"], "pupil", "Lost")
    assert row_counts(fed) == before


def test_a_driver_error_past_the_recorder_is_a_storage_error(sqlite_federation: Federation,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """As the soak saw: psycopg's AdminShutdown raised raw through the event recorder."""
    fed = sqlite_federation
    before = row_counts(fed)

    def shut_down(*_args: object, **_kwargs: object) -> None:
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    with monkeypatch.context() as down:
        down.setattr(fed.ledger.app, "save", shut_down)
        with pytest.raises(StorageError, match="administrator command"):
            people.add_subject(fed.ledger, fed["dsl"], "pupil", "Lost")
    assert row_counts(fed) == before
