"""Shared fixtures: a ledger on each backend, and a small federation on it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from commands.services import people
from commands.services.setup import init_ledger
from ledger import config as configuration
from ledger import localtime
from ledger.clock import Clock, SystemClock
from ledger.store import Actor, Ledger

#: The zone the test federations are in (the default); "today" for their services is its date.
LONDON = ZoneInfo("Europe/London")
PASSPHRASE = "correct horse battery"
RECOVERY_PASSPHRASE = "recovery staple words"
IN_CI = os.environ.get("CI") == "true"


def local_today(days: int = 0) -> str:
    """Today (moved by ``days``) where the federation is, by this machine's clock: the date the
    services of a federation on the system clock call today, whatever ``TZ`` this process has."""
    today = dt.date.fromisoformat(localtime.today(SystemClock().now(), LONDON))
    return (today + dt.timedelta(days=days)).isoformat()


def postgres_url() -> str | None:
    """The test server's URL, or None (a CI run fails instead)."""
    url = os.environ.get("LEDGER_TEST_POSTGRES_URL")
    if not url and IN_CI:
        pytest.fail("LEDGER_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL suite")
    return url


@contextmanager
def fresh_pg_database(prefix: str = "ledger_test") -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (skips without a server)."""
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL tests skipped: set LEDGER_TEST_POSTGRES_URL to run them")
    base = configuration.normalise_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


def module_federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[Federation]:
    """Body of a module-scoped ``fed`` fixture parametrized by backend: one
    federation per module and backend, for tests that each use their own records."""
    from ledger import crypto

    home = tmp_path_factory.mktemp(name) / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        if request.param == "sqlite":
            federation = build_federation(home)
            yield federation
            federation.ledger.close()
            return
        with fresh_pg_database(f"ledger_{name}") as url:
            federation = build_federation(home, url)
            yield federation
            federation.ledger.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend (PostgreSQL skipped without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    return str(request.getfixturevalue("pg_database"))


@dataclass
class Federation:
    """A ledger with an admin, a Headteacher, a DSL, SLT, staff and an auditor."""

    ledger: Ledger
    home: Path
    actors: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def reunlock(self, name: str) -> Actor:
        """A fresh unlock (after roles or keys changed)."""
        self.actors[name] = self.ledger.unlock(name, PASSPHRASE)
        return self.actors[name]


def build_federation(home: Path, db: str | None = None, clock: Clock | None = None) -> Federation:
    """Create a ledger and the usual cast; every passphrase is PASSPHRASE.

    With ``clock`` (e.g. a FixedClock) every entry takes its time from it, and
    so does every service using ``fed.ledger``.
    """
    config = configuration.resolve({}, home=str(home), db=db)
    init_ledger(config, "Ada Admin", PASSPHRASE, RECOVERY_PASSPHRASE, "admin", clock=clock)
    ledger = Ledger(config, clock)
    admin = ledger.unlock("admin", PASSPHRASE)
    cast = {
        "head": ["headteacher", "staff"],
        "dsl": ["dsl", "staff"],
        "slt": ["slt", "staff"],
        "teacher": ["staff"],
        "auditor": ["auditor"],
        "investigator": ["investigator", "staff"],
        "poster": ["poster", "staff"],
    }
    people.add_staff(ledger, admin, "Person head", cast["head"], PASSPHRASE, "head")
    head = ledger.unlock("head", PASSPHRASE)
    for staff_id, roles in cast.items():
        if staff_id != "head":
            people.add_staff(ledger, head, f"Person {staff_id}", roles, PASSPHRASE, staff_id)
    actors = {"admin": admin}
    actors.update({s: ledger.unlock(s, PASSPHRASE) for s in cast})
    return Federation(ledger, home, actors)


@contextmanager
def pinned_federation(backend: str, home: Path, clock: Clock) -> Iterator[Federation]:
    """A federation on ``backend`` ("sqlite" or "postgres") built, and run, on ``clock``: every
    entry's time and every service's "today" come from it (a test moves it across a change of
    the clocks, say)."""
    with contextlib.ExitStack() as stack:
        database = None if backend == "sqlite" else stack.enter_context(fresh_pg_database("ledger_pinned"))
        fed = build_federation(home, database, clock)
        try:
            yield fed
        finally:
            fed.ledger.close()


@pytest.fixture
def federation(tmp_path: Path, db_url: str) -> Iterator[Federation]:
    """A federation on each backend."""
    fed = build_federation(tmp_path / "home", db_url)
    yield fed
    fed.ledger.close()


@pytest.fixture
def sqlite_federation(tmp_path: Path) -> Iterator[Federation]:
    """A federation on SQLite only (for tests about the file itself)."""
    fed = build_federation(tmp_path / "home")
    yield fed
    fed.ledger.close()


def row_counts(fed: Federation) -> dict[str, int]:
    """Rows in every table a write touches: equal before and after means nothing was written."""
    from sqlalchemy import func, select

    from ledger.schema import attachments, checkpoints, data_keys, key_wraps, merkle_leaves

    tables = {"events": fed.ledger.app.events_table, "data_keys": data_keys, "key_wraps": key_wraps,
              "attachments": attachments, "merkle_leaves": merkle_leaves, "checkpoints": checkpoints}
    with fed.ledger.engine.connect() as conn:
        return {name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in tables.items()}


def refused(fed: Federation, error: type[Exception], call: Callable[[], Any], match: str | None = None) -> None:
    """``call`` raises ``error`` and writes nothing at all."""
    before = row_counts(fed)
    with pytest.raises(error, match=match):
        call()
    assert row_counts(fed) == before


@pytest.fixture(autouse=True)
def _cheap_key_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files made in tests use a cheaper scrypt cost (stored in the file,
    so unlocking honours it); production keeps the default."""
    from ledger import crypto

    monkeypatch.setattr(crypto, "SCRYPT_N", 2**10)


@pytest.fixture(scope="session")
def lean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv's python with nothing but ``cryptography`` installed (from PyPI)."""
    folder = tmp_path_factory.mktemp("lean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    python = folder / "bin" / "python"
    passed = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")}
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "cryptography"],
                             capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **passed})
    assert install.returncode == 0, install.stderr
    probe = subprocess.run([str(python), "-c", "import sqlalchemy"], capture_output=True, env={"PATH": "/usr/bin:/bin"})
    assert probe.returncode != 0, "the lean virtualenv must not see the project's dependencies"
    return python
