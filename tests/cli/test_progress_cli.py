"""Long work draws a progress bar (rate and time left) on stderr at a terminal, and nothing otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.conftest import Federation

RUN = [sys.executable, "-c", "from commands.main import main; main()"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")} | {"COLUMNS": "100"}


def _with_terminal_stderr(args: list[str]) -> tuple[int, str, str]:
    """Run the ledger with stderr on a pseudo-terminal; its exit code, stdout and what the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(RUN + args, stdout=subprocess.PIPE, stderr=follower, env=_env())
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = process.communicate(timeout=120)
    os.close(leader)
    return process.returncode, out.decode(), shown.decode(errors="replace")


def test_verify_at_a_terminal_draws_a_bar_with_rate_and_total(sqlite_federation: Federation) -> None:
    trust = str(sqlite_federation.ledger.config.trust_path)
    code, out, terminal = _with_terminal_stderr(["--home", str(sqlite_federation.home), "verify", "--trust", trust])
    assert code == 0, terminal
    assert "verify:" in terminal and "entry/s" in terminal, terminal
    assert "\x1b" not in out and "entry/s" not in out  # the report itself stays clean


def test_rebuild_at_a_terminal_draws_a_bar_and_a_pipe_gets_none(sqlite_federation: Federation) -> None:
    home = str(sqlite_federation.home)
    code, _, terminal = _with_terminal_stderr(["--home", home, "projections", "rebuild"])
    assert code == 0, terminal
    assert "projections:" in terminal and "entry/s" in terminal, terminal
    piped = subprocess.run(RUN + ["--home", home, "verify", "--trust", str(sqlite_federation.ledger.config.trust_path)], capture_output=True, text=True, env=_env(), timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "entry/s" not in piped.stderr and "%|" not in piped.stderr
