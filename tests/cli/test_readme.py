"""The README's first session, run line by line, so it cannot drift from the code."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.cli.main import cli
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE

README = Path(__file__).resolve().parents[2] / "README.md"


def first_session() -> list[str]:
    """The shell lines of the README's "A first session" block, continuations joined."""
    block = README.read_text(encoding="utf-8").split("## A first session", 1)[1]
    code = block.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = code.replace("\\\n", " ").splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip()]


def test_the_readme_first_session_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = first_session()
    assert lines[0].startswith("export LEDGER_HOME=") and len(lines) >= 8
    home = tmp_path / "federation-ledger"
    monkeypatch.chdir(tmp_path)
    env = {
        "LEDGER_HOME": str(home),
        "LEDGER_PASSPHRASE": PASSPHRASE,
        "LEDGER_RECOVERY_PASSPHRASE": RECOVERY_PASSPHRASE,
        "LEDGER_NEW_PASSPHRASE": PASSPHRASE,
    }
    runner = CliRunner()
    for line in lines[1:]:
        args = shlex.split(line.replace("~/federation-ledger", str(home)))
        assert args[0] == "ledger", line
        result = runner.invoke(cli, args[1:], env=env)
        assert result.exit_code == 0, f"{line}\n{result.output}"
    assert "OK: the ledger verifies" in result.output
    page = (tmp_path / "case.html").read_text(encoding="utf-8")
    assert "Unkind messages in a group chat" in page
    assert "\u201cthey all laugh at me\u201d" in page, "the child's words, verbatim, in the chronology"
