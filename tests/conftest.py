"""Shared fixtures: a ledger on each backend, and a small federation on it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
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
from ledger.clock import Clock, FixedClock, SystemClock, iso
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


class _Dropper:
    """Drops test databases on a thread of its own, so no test waits for a ``DROP DATABASE``
    (a few tenths of a second each on this server). The session waits for the last drop at
    its end and fails if any drop did."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.failures: list[str] = []

    def drop(self, server_url: str, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
            self._thread.start()
        self._queue.put((server_url, name))

    def _run(self) -> None:
        engines: dict[str, Any] = {}
        while (job := self._queue.get()) is not None:
            server_url, name = job
            try:
                engine = engines.setdefault(server_url, create_engine(server_url, isolation_level="AUTOCOMMIT"))
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # reported at the session's end
                self.failures.append(f"{name}: {exc}")
        for engine in engines.values():
            engine.dispose()

    def finish(self) -> None:
        """Wait for every queued drop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


_DROPPER = _Dropper()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Every test database is dropped before the run ends; a drop that failed fails the run."""
    _TEMPLATES.close()
    _DROPPER.finish()
    if _DROPPER.failures:
        sys.stderr.write("test databases not dropped:\n" + "\n".join(_DROPPER.failures) + "\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@contextmanager
def fresh_pg_database(prefix: str = "ledger_test", template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards (skips without a server): empty, or a
    copy of the database ``template`` (``CREATE DATABASE … TEMPLATE``)."""
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL tests skipped: set LEDGER_TEST_POSTGRES_URL to run them")
    base = configuration.normalise_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    finally:
        server.dispose()
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        _DROPPER.drop(base, name)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


def module_federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[Federation]:
    """Body of a module-scoped ``fed`` fixture parametrized by backend: one
    federation per module and backend (a copy of the session's), for tests that
    each use their own records."""
    from ledger import crypto

    templates: FederationTemplates = request.getfixturevalue("federation_templates")
    home = tmp_path_factory.mktemp(name) / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        with templates.copy(request.param, home, f"ledger_{name}") as federation:
            yield federation


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


#: The usual cast besides the admin, and their roles; the Headteacher registers the others.
CAST = {
    "head": ["headteacher", "staff"],
    "dsl": ["dsl", "staff"],
    "slt": ["slt", "staff"],
    "teacher": ["staff"],
    "auditor": ["auditor"],
    "investigator": ["investigator", "staff"],
    "poster": ["poster", "staff"],
}


def build_federation(home: Path, db: str | None = None, clock: Clock | None = None) -> Federation:
    """Create a ledger and the usual cast; every passphrase is PASSPHRASE.

    With ``clock`` (e.g. a FixedClock) every entry takes its time from it, and
    so does every service using ``fed.ledger``.
    """
    config = configuration.resolve({}, home=str(home), db=db)
    init_ledger(config, "Ada Admin", PASSPHRASE, RECOVERY_PASSPHRASE, "admin", clock=clock)
    ledger = Ledger(config, clock)
    admin = ledger.unlock("admin", PASSPHRASE)
    people.add_staff(ledger, admin, "Person head", CAST["head"], PASSPHRASE, "head")
    head = ledger.unlock("head", PASSPHRASE)
    for staff_id, roles in CAST.items():
        if staff_id != "head":
            people.add_staff(ledger, head, f"Person {staff_id}", roles, PASSPHRASE, staff_id)
    return _opened(ledger, home)


def _opened(ledger: Ledger, home: Path) -> Federation:
    """The federation on ``ledger`` with every one of the cast freshly unlocked (their own key rings)."""
    return Federation(ledger, home, {s: ledger.unlock(s, PASSPHRASE) for s in ("admin", *CAST)})


class FederationTemplates:
    """:func:`build_federation`'s federation, built once per backend and clock and copied for
    each test that asks for one.

    A copy is the same ledger (the same ids, keys, entries and checkpoints) in a home folder
    and database of its own: the SQLite file is copied with the folder, a PostgreSQL database
    is made with ``CREATE DATABASE … TEMPLATE``. Nothing one test writes reaches another.
    On this machine's clock the federation is built anew when its date has changed (a copy
    holds no entries from "yesterday" for a test that counts on today); on a
    :class:`~ledger.clock.FixedClock` one is built for each moment the clock is pinned to.
    """

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._built: dict[tuple[str, str], tuple[Path, str | None]] = {}
        self._databases = contextlib.ExitStack()

    def _template(self, backend: str, clock: FixedClock | None) -> tuple[Path, str | None]:
        from ledger import crypto

        when = f"pinned {iso(clock.now())}" if clock else f"today {local_today()}"
        found = self._built.get((backend, when))
        if found is not None:
            return found
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="ledger-templates-"))
        database = None
        if backend != "sqlite":
            database = self._databases.enter_context(fresh_pg_database("ledger_template"))
        home = self._folder / f"{backend}-{uuid.uuid4().hex[:8]}" / "home"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(crypto, "SCRYPT_N", 2**10)
            build_federation(home, database, FixedClock(clock.now()) if clock else None).ledger.close()
        self._built[(backend, when)] = (home, database)
        return home, database

    @contextmanager
    def copy(self, backend: str, home: Path, prefix: str = "ledger_test",
             clock: FixedClock | None = None) -> Iterator[Federation]:
        """A copy of the federation on ``backend`` ("sqlite" or "postgres") in ``home`` (which
        must not exist), closed afterwards; built and run on ``clock`` when given."""
        if backend != "sqlite" and not postgres_url():
            pytest.skip("PostgreSQL tests skipped: set LEDGER_TEST_POSTGRES_URL to run them")
        template, template_database = self._template(backend, clock)
        with contextlib.ExitStack() as stack:
            database = None
            if template_database is not None:
                database = stack.enter_context(fresh_pg_database(prefix, template_database.rsplit("/", 1)[1]))
            shutil.copytree(template, home)
            config = configuration.resolve({}, home=str(home), db=database)
            if database is not None:
                configuration.save(config)
            ledger = Ledger(config, clock)
            stack.callback(ledger.close)
            yield _opened(ledger, home)

    def close(self) -> None:
        """Drop the template databases and remove their folders."""
        self._databases.close()
        self._built.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


_TEMPLATES = FederationTemplates()

if __name__ != "tests.conftest":
    # pytest loads this file as ``conftest`` (tests/ is no package), and the tests import it as
    # ``tests.conftest``: two modules. Both must share one set of templates and one dropper,
    # or the ones the tests reach through their imports are never closed at the session's end.
    from tests.conftest import _DROPPER, _TEMPLATES  # noqa: F811


@pytest.fixture(scope="session")
def federation_templates() -> FederationTemplates:
    """The usual federation on each backend, built once and copied for each test."""
    return _TEMPLATES


@contextmanager
def pinned_federation(backend: str, home: Path, clock: Clock) -> Iterator[Federation]:
    """A federation on ``backend`` ("sqlite" or "postgres") built, and run, on ``clock``: every
    entry's time and every service's "today" come from it (a test moves it across a change of
    the clocks, say). On a :class:`~ledger.clock.FixedClock` it is a copy of one built at the
    same moment."""
    if isinstance(clock, FixedClock):
        with _TEMPLATES.copy(backend, home, "ledger_pinned", clock) as fed:
            yield fed
        return
    with contextlib.ExitStack() as stack:
        database = None if backend == "sqlite" else stack.enter_context(fresh_pg_database("ledger_pinned"))
        fed = build_federation(home, database, clock)
        try:
            yield fed
        finally:
            fed.ledger.close()


@pytest.fixture(params=["sqlite", "postgres"])
def federation(request: pytest.FixtureRequest, tmp_path: Path,
               federation_templates: FederationTemplates) -> Iterator[Federation]:
    """A federation on each backend (PostgreSQL skipped without a server): a copy of the
    session's, in this test's own home folder and database."""
    with federation_templates.copy(request.param, tmp_path / "home") as fed:
        yield fed


@pytest.fixture
def sqlite_federation(tmp_path: Path, federation_templates: FederationTemplates) -> Iterator[Federation]:
    """A federation on SQLite only (for tests about the file itself)."""
    with federation_templates.copy("sqlite", tmp_path / "home") as fed:
        yield fed


@dataclass(frozen=True)
class DemoRun:
    """``ledger demo`` run once for the session: the folder it built and what it printed."""

    folder: Path
    printed: str

    def copy(self, folder: Path) -> Path:
        """A copy of the demo ledger's folder at ``folder`` (which must not exist), for a test that
        writes: the copy's settings name its own files, so the session's stays untouched."""
        shutil.copytree(self.folder, folder)
        return folder


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``ledger demo`` on this machine's clock, run once per session (it takes seconds): tests
    read what it printed, and work on copies of the ledger it built."""
    from ledger import crypto, transfer_box
    from tests.cli.conftest import clean_env, invoke

    folder = tmp_path_factory.mktemp("demo-run") / "demo"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        patch.setattr(transfer_box, "SCRYPT_N", 2**10)
        result = invoke(["demo", "--dir", str(folder)], clean_env())
    assert result.exit_code == 0, result.output
    return DemoRun(folder, result.stdout)


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
    """Key files made in tests (staff keys, and a receiving school's transfer key) use a
    cheaper scrypt cost (stored in the file, so unlocking honours it); production keeps the
    default, which tests/unit/test_crypto.py and tests/unit/test_transfer_box.py check."""
    from ledger import crypto, transfer_box

    monkeypatch.setattr(crypto, "SCRYPT_N", 2**10)
    monkeypatch.setattr(transfer_box, "SCRYPT_N", 2**10)


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
