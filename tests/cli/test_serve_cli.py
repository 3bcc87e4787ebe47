"""``ledger serve``: listens where it says, serves the desk, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

from commands.web.serve import is_loopback
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation


def test_serve_prints_its_address_serves_the_desk_and_stops_on_sigterm(sqlite_federation: Federation) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from commands.main import main; main()", "--home", str(sqlite_federation.home),
         "serve", "--port", "0", "--idle-minutes", "5"],
        stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("The desk is open at http://127.0.0.1:") and "5 minutes idle" in first
        url = first.split("at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "sign-in", timeout=10) as response:
            assert response.status == 200
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Server"] == "policy-ledger"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "every session was closed" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_refuses_a_folder_without_a_ledger(tmp_path: object) -> None:
    from click.testing import CliRunner

    from commands.main import cli

    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "serve"], env={"LEDGER_DB": None, "LEDGER_HOME": None})
    assert result.exit_code == 1
    assert "Error: no ledger" in result.output


def test_serve_has_help_with_an_example(sqlite_ledger_cli: LedgerCli) -> None:
    from click.testing import CliRunner

    from commands.main import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "--behind-https-proxy" in result.output


def test_only_loopback_addresses_count_as_this_machine_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("desk.school")
