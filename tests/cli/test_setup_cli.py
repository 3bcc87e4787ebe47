"""``ledger init``, ``ledger demo`` and the help of every command, through the CLI."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import click
import pytest

from commands.cli.main import cli
from commands.services.demo import DEMO_PASSPHRASE
from tests.cli.conftest import LedgerCli, clean_env, invoke, table_counts
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE, DemoRun

INIT = ["init", "--admin-name", "Pat Admin", "--admin-id", "it-manager"]


def init_env(home: Path, **extra: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "LEDGER_HOME": str(home), "LEDGER_PASSPHRASE": PASSPHRASE, "LEDGER_RECOVERY_PASSPHRASE": RECOVERY_PASSPHRASE,
    }
    values.update(extra)
    return clean_env(**values)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_ledger_files_and_the_first_admin(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke(INIT, init_env(home))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"ledger [0-9a-f]{32} created", lines[0])
    ledger_id = lines[0].split()[1]
    assert lines[1:] == [
        f"  database:     sqlite:///{home}/ledger.db",
        f"  origin:       policy-ledger.local/{ledger_id[:12]}",
        "  admin:        it-manager",
        f"  trust file:   {home}/trust.json  (give this to auditors)",
        f"  recovery key: {home}/RECOVERY-KEY.json  (move it OFF this machine now)",
    ]
    trust = json.loads((home / "trust.json").read_text())
    assert (trust["ledger_id"], trust["first_admin"]) == (ledger_id, "it-manager")
    assert json.loads((home / "config.json").read_text()) == {"db": "sqlite:///ledger.db", "keys": "keys"}
    key_files = list((home / "keys" / "it-manager").glob("k*.json"))
    assert [p.stem for p in key_files] == [trust["first_admin_key"]]
    for secret in (home / "ledger-key.json", home / "RECOVERY-KEY.json", key_files[0]):
        assert mode(secret) == 0o600, secret
    assert mode(home) == 0o700
    assert LedgerCli(home).rows("people", "list") == [
        {"id": "it-manager", "kind": "staff", "roles": "admin", "active": True}
    ]


def test_init_takes_passphrases_typed_twice_at_the_prompt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    typed = f"{PASSPHRASE}\n{PASSPHRASE}\n{RECOVERY_PASSPHRASE}\n{RECOVERY_PASSPHRASE}\n"
    result = invoke(INIT, clean_env(LEDGER_HOME=str(home)), stdin=typed)
    assert result.exit_code == 0, result.output
    assert "Passphrase for the admin key: " in result.stderr
    assert "Passphrase for the offline recovery key: " in result.stderr
    assert PASSPHRASE not in result.output
    cli_ = LedgerCli(home)
    assert cli_.run("people", "show", "it-manager", "--reason", "setup check", actor="it-manager").exit_code == 0


def test_init_without_a_passphrase_or_a_terminal_fails_instead_of_waiting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke(INIT, clean_env(LEDGER_HOME=str(home)))
    assert result.exit_code == 1
    assert result.stderr.endswith("Aborted!\n")
    assert not home.exists()


def test_init_refuses_a_passphrase_that_is_too_short_and_leaves_no_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke(INIT, init_env(home, LEDGER_PASSPHRASE="short"))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: passphrase is too short\nHint: use at least 8 characters (a few words is better)\n"
    )
    assert not home.exists()


def test_init_needs_an_admin_name(tmp_path: Path) -> None:
    result = invoke(["init"], init_env(tmp_path / "home"))
    assert result.exit_code == 2
    assert "Error: Missing option '--admin-name'." in result.stderr
    assert not (tmp_path / "home").exists()


def test_init_twice_in_the_same_home_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert invoke(INIT, init_env(home)).exit_code == 0
    files = {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and not p.name.startswith("ledger.db")}
    before = table_counts(home)
    result = invoke(["init", "--admin-name", "Second Admin"], init_env(home))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: a ledger already exists in {home}\n"
        "Hint: use that ledger, or choose another --home for a new one\n"
    )
    assert table_counts(home) == before
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and not p.name.startswith("ledger.db")} == files


@pytest.mark.parametrize("url", ["mysql://root@db/ledger", "sqlite:ledger.db", "ledger.db"])
def test_init_refuses_an_unknown_database_url_and_creates_nothing(tmp_path: Path, url: str) -> None:
    home = tmp_path / "home"
    result = invoke(["--db", url, *INIT], init_env(home))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unsupported database URL: ")
    assert result.stderr.endswith(
        "Hint: use sqlite:///PATH/ledger.db or postgresql+psycopg://USER@HOST:PORT/DB\n"
    )
    assert not home.exists()


def test_an_unknown_database_url_in_the_environment_is_refused_too(sqlite_ledger_cli: LedgerCli) -> None:
    result = sqlite_ledger_cli.run("people", "list", LEDGER_DB="oracle://scott@tiger/db")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: unsupported database URL: 'oracle://…'\n")


def test_commands_on_a_home_without_a_ledger_say_to_run_init(tmp_path: Path) -> None:
    result = LedgerCli(tmp_path / "nowhere").run("people", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no ledger at {tmp_path / 'nowhere'}\n"
        "Hint: run `ledger init` first, or pass --home/--db for an existing ledger\n"
    )
    assert not (tmp_path / "nowhere").exists()


def test_init_on_postgresql_is_remembered_in_the_home_folder(tmp_path: Path, pg_database: str) -> None:
    home = tmp_path / "home"
    result = invoke(["--db", pg_database, *INIT], init_env(home))
    assert result.exit_code == 0, result.output
    assert f"  database:     {pg_database}" in result.stdout.splitlines()
    assert json.loads((home / "config.json").read_text())["db"] == pg_database
    assert not (home / "ledger.db").exists()
    cli_ = LedgerCli(home)
    added = cli_.run("people", "add-staff", "--name", "Helen Head", "--id", "head", "--role", "headteacher",
                     actor="it-manager", new_passphrase=PASSPHRASE)
    assert added.exit_code == 0, added.output
    assert [r["id"] for r in cli_.rows("people", "list")] == ["head", "it-manager"]
    assert table_counts(home)["policyledger_events"] == 10  # set-up (7), then the Headteacher, their key and role key


def test_a_postgresql_database_holding_a_ledger_is_not_initialised_again(tmp_path: Path, pg_database: str) -> None:
    assert invoke(["--db", pg_database, *INIT], init_env(tmp_path / "first")).exit_code == 0
    before = table_counts(tmp_path / "first")
    result = invoke(["--db", pg_database, *INIT], init_env(tmp_path / "second"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the database {pg_database.split('@')[-1]} already holds a ledger\n"
        "Hint: use that ledger, or give another --db for a new one\n"
    )
    assert not (tmp_path / "second").exists()
    assert table_counts(tmp_path / "first") == before


def test_init_on_a_postgresql_database_that_does_not_exist_fails_cleanly(tmp_path: Path, pg_database: str) -> None:
    missing = pg_database + "_missing"
    result = invoke(["--db", missing, *INIT], init_env(tmp_path / "home"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: the database at {missing.split('@')[-1]} cannot be used: ")
    assert not (tmp_path / "home").exists()


def test_demo_builds_a_federation_that_the_other_commands_can_open(demo_run: DemoRun, tmp_path: Path) -> None:
    folder = demo_run.folder  # ``ledger demo --dir FOLDER``, run once for the session
    lines = demo_run.printed.splitlines()
    assert re.fullmatch(rf"Created ledger [0-9a-f]{{32}} in {re.escape(str(folder))}", lines[0])
    assert "  IT manager (admin): it-manager" in lines
    assert f"  database:   sqlite:///{folder}/ledger.db" in lines
    assert f"  ledger --home {folder} serve" in lines  # how to open the web desk on it
    cli = LedgerCli(demo_run.copy(tmp_path / "demo"))  # reading a person's details records the reading
    people = cli.rows("people", "list")
    staff = sorted(str(p["id"]) for p in people if p["kind"] == "staff")
    assert staff == ["dsl", "head", "investigator", "it-manager", "poster-1", "slt", "teacher-1", "teacher-2",
                     "volunteer-1"]  # a volunteer who never signs in (the policy duties chapter)
    assert sorted(str(p["kind"]) for p in people if p["kind"] != "staff") == ["candidate", "parent", "pupil", "pupil",
                                                                              "pupil"]
    parent = next(str(p["id"]) for p in people if p["kind"] == "parent")
    shown = cli.run("people", "show", parent, "--reason", "demo check", "--format", "json",
                    actor="dsl", passphrase=DEMO_PASSPHRASE)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)[0]["name"] == "Pat Parent"


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    result = invoke(["demo", "--dir", str(tmp_path / "demo")], clean_env())
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'demo'} is not empty\nHint: give --dir a new or empty folder\n"
    )
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["notes.txt"]


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = (), groups: bool = False) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += [prefix + (name,)] if groups else []
            found += _leaf_commands(command, prefix + (name,), groups)
        else:
            found.append(prefix + (name,))
    return found


@pytest.mark.parametrize(
    "path",
    [
        (), ("init",), ("demo",), ("people", "add-staff"), ("people", "add-subject"),
        ("people", "list"), ("people", "show"), ("people", "grant-role"), ("people", "remove-role"),
        ("people", "leave"), ("keys", "list"), ("keys", "rotate"), ("keys", "revoke"),
    ],
    ids=lambda p: " ".join(p) or "ledger",
)
def test_help_shows_an_example(path: tuple[str, ...]) -> None:
    result = invoke([*path, "--help"], clean_env())
    assert result.exit_code == 0
    example = result.stdout.split("Example:\n", 1)
    assert len(example) == 2, result.stdout
    assert example[1].lstrip().startswith("ledger ")


def test_every_command_and_group_of_the_ledger_has_an_example_in_its_help() -> None:
    paths = _leaf_commands(cli, groups=True)
    assert ("people", "add-staff") in paths and ("keys", "revoke") in paths and ("incidents",) in paths
    missing = []
    for path in paths:
        result = invoke([*path, "--help"], clean_env())
        if result.exit_code != 0 or "Example:" not in result.stdout:
            missing.append(" ".join(path))
    assert missing == []


def test_init_records_the_time_zone_and_schools_as_signed_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke([*INIT, "--timezone", "Europe/London", "--school", "Oak Primary", "--school", "Elm Primary"],
                    init_env(home))
    assert result.exit_code == 0, result.output
    cli_ = LedgerCli(home)
    shown = cli_.run("settings", "show")
    assert shown.stdout == "time zone: Europe/London\nschools:   Oak Primary, Elm Primary\n"
    changed = cli_.run("settings", "set", "--school", "Oak Primary", "--school", "Elm Primary", "--school",
                       "Ash Infants", "--reason", "Ash Infants joined", actor="it-manager")
    assert changed.exit_code == 0, changed.output
    assert "Ash Infants" in cli_.run("settings", "show").stdout
    bad = cli_.run("settings", "set", "--timezone", "Mars/Olympus", "--reason", "x", actor="it-manager")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: 'Mars/Olympus' is not a time zone")


def test_init_refuses_an_unknown_time_zone_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = invoke([*INIT, "--timezone", "Europe/Atlantis"], init_env(home))
    assert result.exit_code == 1 and "is not a time zone" in result.stderr
    assert not home.exists()
