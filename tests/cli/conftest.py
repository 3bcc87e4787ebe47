"""Fixtures for the CLI tests: run ``ledger`` in-process against a federation's home.

Every invocation gets an explicit environment: the LEDGER_* variables a test
does not set are removed, so a developer's own shell settings cannot leak in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from commands.cli.main import cli
from commands.services import people
from ledger import config as configuration, crypto
from ledger.clock import Clock
from tests.conftest import PASSPHRASE, Federation, FederationTemplates

#: Every variable the CLI reads; unset unless a test gives it.
LEDGER_VARIABLES = (
    "LEDGER_HOME", "LEDGER_DB", "LEDGER_KEYS", "LEDGER_ACTOR", "LEDGER_PASSPHRASE",
    "LEDGER_NEW_PASSPHRASE", "LEDGER_RECOVERY_PASSPHRASE", "LEDGER_DEMO_DB", "LEDGER_WITNESS_PASSPHRASE",
    "LEDGER_TRANSFER_PASSPHRASE", "LEDGER_TRANSFER_PHONE_PASSPHRASE",
)

#: Tables a write touches: events, key material, the registry and the seal.
WRITTEN_TABLES = (
    "policyledger_events", "data_keys", "key_wraps", "role_members", "registry_state",
    "actors", "merkle_leaves", "checkpoints",
)

NEW_PASSPHRASE = "a brand new passphrase"


def clean_env(**values: str | None) -> dict[str, str | None]:
    """An environment for ``CliRunner.invoke``: only the given LEDGER_* values."""
    env: dict[str, str | None] = {name: None for name in LEDGER_VARIABLES}
    env.update(values)
    return env


def invoke(args: list[str], env: dict[str, str | None], stdin: str | None = None, clock: Clock | None = None) -> Result:
    """Run ``ledger ARGS`` in-process (its clock pinned to ``clock`` when given);
    exceptions other than exits propagate."""
    return CliRunner().invoke(cli, args, env=env, input=stdin, catch_exceptions=False, obj=clock)


#: One engine per database for counting rows: it keeps no connection open between counts
#: (``NullPool``), so a test's ledger is never held, only SQLAlchemy's set-up is not repeated.
_COUNTING: dict[str, Engine] = {}
_COUNT_ALL = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in WRITTEN_TABLES))


def table_counts(home: Path) -> dict[str, int]:
    """Row counts of every table a write touches, for the ledger in ``home`` (one query)."""
    url = configuration.resolve({}, home=str(home)).db_url
    engine = _COUNTING.get(url) or _COUNTING.setdefault(url, create_engine(url, poolclass=NullPool))
    with engine.connect() as conn:
        return dict(zip(WRITTEN_TABLES, (int(n) for n in conn.execute(_COUNT_ALL).one())))


@dataclass
class LedgerCli:
    """The ``ledger`` command pointed at one home folder (and, when given, a pinned clock)."""

    home: Path
    clock: Clock | None = None

    def run(
        self,
        *args: str,
        actor: str | None = None,
        passphrase: str | None = PASSPHRASE,
        new_passphrase: str | None = None,
        stdin: str | None = None,
        **extra: str | None,
    ) -> Result:
        """``ledger [--as ACTOR] ARGS`` with LEDGER_HOME set and the given passphrases."""
        env = clean_env(
            LEDGER_HOME=str(self.home), LEDGER_PASSPHRASE=passphrase, LEDGER_NEW_PASSPHRASE=new_passphrase, **extra
        )
        return invoke((["--as", actor] if actor else []) + list(args), env, stdin, self.clock)

    def rows(self, *args: str, actor: str | None = None) -> list[dict[str, object]]:
        """The parsed ``--format json`` output of a listing command (as ``actor``, if given)."""
        import json

        result = self.run(*args, "--format", "json", actor=actor)
        assert result.exit_code == 0, result.output
        rows: list[dict[str, object]] = json.loads(result.stdout)
        return rows

    def snapshot(self) -> tuple[dict[str, int], list[str]]:
        """Everything a write could change: table row counts and the key files."""
        keys = sorted(str(p.relative_to(self.home)) for p in (self.home / "keys").rglob("*.json"))
        return table_counts(self.home), keys


@pytest.fixture
def ledger_cli(federation: Federation) -> Iterator[LedgerCli]:
    """The CLI on the usual federation, on SQLite and on PostgreSQL."""
    yield LedgerCli(federation.home)


@pytest.fixture
def sqlite_ledger_cli(sqlite_federation: Federation) -> Iterator[LedgerCli]:
    """The CLI on the usual federation, SQLite only."""
    yield LedgerCli(sqlite_federation.home)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               federation_templates: FederationTemplates) -> Iterator[LedgerCli]:
    """One federation per test module and backend, with the pupil ``sb-pip``.

    Only for tests that must write nothing (refusals, usage errors, listings):
    each of them checks that the ledger is unchanged afterwards, so sharing is
    safe and saves building a federation per test.
    """
    home = tmp_path_factory.mktemp("shared") / "home"
    with pytest.MonkeyPatch.context() as patch, federation_templates.copy(request.param, home, "ledger_cli") as fed:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", subject_id="sb-pip")
        yield LedgerCli(home)
