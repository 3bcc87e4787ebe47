"""``ledger backup`` and ``ledger restore`` from the command line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import LedgerCli, clean_env, invoke


def test_backup_then_restore_into_a_new_home_which_verifies(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> None:
    done = sqlite_ledger_cli.run("backup", "--out", str(tmp_path / "b"))
    assert done.exit_code == 0 and done.stdout.startswith(f"backup of the sqlite ledger written to {tmp_path / 'b'}")
    again = sqlite_ledger_cli.run("backup", "--out", str(tmp_path / "b"))
    assert again.exit_code == 1 and "already exists" in again.stderr and "Hint:" in again.stderr
    restored = invoke(["--home", str(tmp_path / "new"), "restore", str(tmp_path / "b")], clean_env())
    assert restored.exit_code == 0, restored.output
    assert f"restored into {tmp_path / 'new'}" in restored.stdout and "entries verify" in restored.stdout
    checked = invoke(["--home", str(tmp_path / "new"), "verify", "--trust", str(sqlite_ledger_cli.home / "trust.json")],
                     clean_env())
    assert checked.exit_code == 0 and "OK: the ledger verifies" in checked.stdout
