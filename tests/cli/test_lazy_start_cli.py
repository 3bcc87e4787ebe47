"""``ledger --help`` and every group's help start without the database, eventsourcing or cryptography."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from commands.main import cli

HEAVY = ("sqlalchemy", "eventsourcing", "cryptography", "psycopg", "flask")

#: Runs the real entry point with the given arguments and, on the way out,
#: prints the top-level packages of everything it imported.
PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("LOADED " + json.dumps(sorted({m.split('.')[0] for m in sys.modules})) + "\\n"))
sys.argv = ["ledger", *json.loads(sys.argv[1])]
from commands.main import main
main()
"""


def _loaded(*args: str) -> tuple[set[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED "))), done.stdout


def _groups() -> list[str]:
    ctx = click.Context(cli)
    return [name for name in cli.list_commands(ctx) if isinstance(cli.get_command(ctx, name), click.Group)]


def test_the_top_level_help_loads_no_database_eventsourcing_or_cryptography() -> None:
    loaded, shown = _loaded("--help")
    assert "incidents" in shown and "approvals" in shown
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_no_group_help_loads_them_either() -> None:
    groups = _groups()
    assert {"incidents", "approvals", "people", "hold", "retention"} <= set(groups)
    for group in groups:
        loaded, shown = _loaded(group, "--help")
        assert "Commands:" in shown, group
        assert not loaded & set(HEAVY), (group, loaded & set(HEAVY))


def test_the_probe_sees_what_a_command_that_reads_the_ledger_loads(tmp_path: Path) -> None:
    # The same probe on a command that opens the database does see it loaded,
    # so the assertions above can fail.
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(["--home", str(tmp_path), "people", "list"])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Error:" in done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    assert "sqlalchemy" in json.loads(line.removeprefix("LOADED "))


def test_choices_read_from_the_domain_still_refuse_a_wrong_value_and_show_in_help() -> None:
    runner = CliRunner()
    helped = runner.invoke(cli, ["people", "add-staff", "--help"])
    assert helped.exit_code == 0 and "dsl" in helped.output
    refused = runner.invoke(cli, ["people", "add-staff", "--name", "X", "--role", "nonsense"])
    assert refused.exit_code == 2 and "'nonsense' is not one of" in refused.output
