"""Every failure a hostile or careless input caused is now an ``Error:`` with a ``Hint:``,
exit 1, and nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ledger import config as configuration
from tests.cli.conftest import LedgerCli
from tests.conftest import RECOVERY_PASSPHRASE

BIG_ID = "9" * 5000


def _refused(cli: LedgerCli, *args: str, actor: str | None = "dsl", message: str) -> str:
    before = cli.snapshot()
    done = cli.run(*args, actor=actor)
    assert done.exit_code == 1, done.output
    assert done.stderr.startswith("Error: ") and "\nHint: " in done.stderr, done.stderr
    assert "unexpected failure" not in done.stderr and message in done.stderr, done.stderr
    assert cli.snapshot() == before
    return done.stderr


REPORT = ("incidents", "report", "--category", "child-on-child", "--facts", "f")


@pytest.mark.parametrize("args, message", [
    (REPORT + ("--summary", "s", "--occurred-at", "0001-01-01T00:00+14:00"), "is before 1900"),
    (REPORT + ("--summary", "s", "--occurred-at", "9999-12-31T23:59-05:00"), "too far in the future"),
    (REPORT + ("--summary", "s\udcff", "--occurred-at", "2026-01-01"), "U+DCFF LONE SURROGATE at character 2"),
    (REPORT + ("--summary", "a\u202egnp.exe", "--occurred-at", "2026-01-01"), "U+202E RIGHT-TO-LEFT OVERRIDE"),
    (REPORT + ("--summary", "x" * 501, "--occurred-at", "2026-01-01"), "summary is longer than 500 characters"),
    (("timeline", "--from", "9999-12-31T23:59-01:00", "--to", "9999-12-31", "--reason", "r"), "too far in the future"),
    (("proof", "inclusion", BIG_ID), "it is 5000 characters long"),
    (("proof", "inclusion", "²"), "is not an entry"),
    (("incidents", "show", "inc-" + BIG_ID, "--reason", "r"), "incident id is not an id"),
    (("timeline", "--incident", BIG_ID, "--reason", "r"), "record id is not an id"),
    (("people", "add-subject", "--kind", "pupil", "--name", "Fut", "--dob", "2099-01-01"), "is in the future"),
    (("people", "add-subject", "--kind", "pupil", "--name", "Old", "--dob", "0001-01-01"), "is before 1900"),
])
def test_hostile_input_is_an_error_with_a_hint_and_writes_nothing(shared_cli: LedgerCli, args: tuple[str, ...],
                                                                  message: str) -> None:
    _refused(shared_cli, *args, message=message)


def test_a_trust_file_that_is_nested_deep_repeats_a_key_or_is_a_fifo_is_refused(shared_cli: LedgerCli,
                                                                                 tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 5000 + "1" + "}" * 5000)
    twice = tmp_path / "twice.json"
    twice.write_text('{"ledger_id": "a", "ledger_id": "b"}')
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path, message in ((deep, "nested more than"), (twice, "appears twice"), (fifo, "not a regular file")):
        _refused(shared_cli, "verify", "--trust", str(path), actor=None, message=message)


def test_a_copied_home_folder_points_at_its_own_database(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sqlite_ledger_cli.home, copy, symlinks=True)
    resolved = configuration.resolve({}, home=str(copy))
    assert resolved.sqlite_path == copy / "ledger.db" and resolved.keys_dir == copy / "keys"
    assert json.loads((copy / "config.json").read_text())["db"] == "sqlite:///ledger.db"


def test_a_copy_of_an_older_home_never_writes_to_the_original(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> None:
    import shutil

    original = sqlite_ledger_cli.home
    # A home made by an older version saved absolute paths; `cp -a` copies them unchanged.
    (original / "config.json").write_text(json.dumps({"db": f"sqlite:///{original / 'ledger.db'}",
                                                      "keys": str(original / "keys")}))
    assert sqlite_ledger_cli.run("people", "list").exit_code == 0, "the original itself still opens"
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)
    before = sqlite_ledger_cli.snapshot()
    done = LedgerCli(copy).run("people", "add-subject", "--kind", "pupil", "--name", "Copied", actor="dsl")
    assert done.exit_code == 1, done.output
    assert "outside this home folder" in done.stderr and "Hint: " in done.stderr
    assert sqlite_ledger_cli.snapshot() == before, "the copy wrote to the original's database"
    # Given explicitly, a database elsewhere is used as asked.
    explicit = LedgerCli(copy).run("--db", f"sqlite:///{copy / 'ledger.db'}", "--keys", str(copy / "keys"),
                                   "people", "list")
    assert explicit.exit_code == 0, explicit.output


def test_a_recovery_key_file_that_is_nested_deep_repeats_a_key_is_a_fifo_or_a_device_is_refused(
        shared_cli: LedgerCli, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"locked":' + "[" * 100_000 + "]" * 100_000 + "}")
    twice = tmp_path / "twice.json"
    twice.write_text('{"ledger_id": "a", "ledger_id": "b", "locked": {}}')
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path, message in ((deep, "nested more than"), (twice, "appears twice"), (fifo, "not a regular file"),
                          (Path("/dev/zero"), "not a regular file")):
        before = shared_cli.snapshot()
        done = shared_cli.run("people", "recover-role", "headteacher", "teacher", "--recovery-key", str(path),
                              "--reason", "the head left", actor="admin",
                              LEDGER_RECOVERY_PASSPHRASE=RECOVERY_PASSPHRASE)
        assert done.exit_code == 1 and done.stderr.startswith("Error: ") and "\nHint: " in done.stderr, done.output
        assert "unexpected failure" not in done.stderr and message in done.stderr, done.stderr
        assert shared_cli.snapshot() == before
