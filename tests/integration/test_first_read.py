"""The first read of a new ledger creates the projection tables; a writer committing
at the same moment makes it wait its turn, never fail with "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import create_engine, inspect

from ledger.store import _sqlite_engine
from projections import base, runner


def _drop(engine: object) -> None:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execution_options(ledger_write=True)
        with conn.begin():
            base.metadata.drop_all(conn)


def test_creating_the_projection_tables_while_a_writer_commits_never_fails(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE churn (x)")
    setup.close()
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO churn VALUES (1)")
            conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(30):
            engine = _sqlite_engine(f"sqlite:///{path}")
            _drop(engine)
            runner._ready.discard(engine)  # noqa: SLF001 - a first read, every time
            runner.ensure_tables(engine)
            assert inspect(engine).has_table(base.positions.name)
            engine.dispose()
    finally:
        stop.set()
        thread.join()


def test_two_first_reads_at_once_on_postgresql_both_succeed(pg_database: str) -> None:
    engines = [create_engine(pg_database) for _ in range(4)]
    errors: list[BaseException] = []

    def first_read(engine: object) -> None:
        try:
            runner.ensure_tables(engine)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=first_read, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for engine in engines:
        runner._ready.discard(engine)  # noqa: SLF001
        engine.dispose()
