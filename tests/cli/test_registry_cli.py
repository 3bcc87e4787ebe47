"""``ledger permissions …`` and ``ledger registry rebuild`` through the CLI."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, select, update

from ledger import config as configuration, roles
from ledger.schema import registry_state
from tests.cli.conftest import LedgerCli


def test_permissions_status_names_the_table_in_force(shared_cli: LedgerCli) -> None:
    result = shared_cli.run("permissions", "status")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["in_force"]["version"] == roles.TABLE_VERSION and status["differs"] is False
    assert status["in_force"]["digest"] == roles.table_digest(roles.current_table())
    writers = {r["event"]: r["writers"] for r in shared_cli.rows("permissions", "list")}
    assert writers["StaffMember.KeyRegistered"] == "self"


def test_proposing_the_table_already_in_force_is_refused(shared_cli: LedgerCli) -> None:
    before = shared_cli.snapshot()
    result = shared_cli.run("permissions", "propose", "--reason", "again", actor="admin")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: this software's permission table is already in force")
    assert shared_cli.snapshot() == before


def test_a_tampered_registry_row_stops_writes_until_rebuilt(ledger_cli: LedgerCli) -> None:
    config = configuration.resolve({}, home=str(ledger_cli.home))
    engine = create_engine(config.db_url)
    try:
        with engine.begin() as conn:
            state = bytes(conn.execute(select(registry_state.c.state)).scalar_one())
            conn.execute(update(registry_state).values(state=state.replace(b'"teacher":[', b'"teacher":[ ', 1)))
    finally:
        engine.dispose()
    before = ledger_cli.snapshot()
    refused = ledger_cli.run("people", "add-subject", "--kind", "pupil", "--name", "X", actor="dsl")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0] == (
        "Error: the key and role registry does not match the latest signed checkpoint: "
        "it was changed outside the ledger")
    assert ledger_cli.snapshot() == before
    rebuilt = ledger_cli.run("registry", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "it matches the latest checkpoint" in rebuilt.stdout
    assert ledger_cli.run("people", "add-subject", "--kind", "pupil", "--name", "X", actor="dsl").exit_code == 0
