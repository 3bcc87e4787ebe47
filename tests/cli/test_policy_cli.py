"""``ledger policy …`` through the CLI: exit codes, output, nothing written on refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import Result

from tests.cli.conftest import LedgerCli
from tests.conftest import local_today

SENTINEL = "Ottoline Fairweather-Nkemelu"
TODAY = local_today()


def publish(cli: LedgerCli, version: str, *extra: str) -> Result:
    return cli.run(
        "policy", "publish", version, "--approved-on", "2024-01-10", "--effective-on", "2024-03-01",
        "--text", f"Policy text {version}", *extra, actor="head",
    )


def test_publish_notify_acknowledge_and_status_through_the_cli(ledger_cli: LedgerCli) -> None:
    result = publish(ledger_cli, "v1")
    digest = hashlib.sha256(b"Policy text v1").hexdigest()
    assert result.exit_code == 0, result.output
    assert result.stdout == f"version v1 published (current), effective 2024-03-01, sha256 {digest}\n"
    result = ledger_cli.run("policy", "notify", "v1", "--on", "2024-01-20", actor="admin")
    assert (result.exit_code, result.stdout) == (0, "staff notified of version v1 on 2024-01-20 (notice: ok)\n")
    result = ledger_cli.run("policy", "acknowledge", actor="teacher")
    assert (result.exit_code, result.stdout) == (0, f"teacher acknowledged version v1 (sha256 {digest})\n")
    assert ledger_cli.rows("policy", "list") == [{
        "version": "v1", "state": "current", "approved_on": "2024-01-10", "effective_on": "2024-03-01",
        "notified_on": "2024-01-20", "notice": "ok", "text_hash": digest,
    }]
    rows = ledger_cli.rows("--as", "teacher", "policy", "status")
    assert len(rows) == 1 and rows[0]["staff_id"] == "teacher" and rows[0]["acknowledged"] is True
    assert str(rows[0]["acknowledged_at"]).startswith(TODAY)
    result = ledger_cli.run("policy", "status", "--format", "csv", actor="head")
    lines = result.stdout.splitlines()
    assert lines[0] == "staff_id,version,effective_on,acknowledged,acknowledged_at,assisted_by,outstanding_since,previous_acknowledged"
    assert lines[1] == f"admin,v1,2024-03-01,False,,,{TODAY},"


def test_short_notice_exits_1_with_a_hint_and_writes_nothing(ledger_cli: LedgerCli) -> None:
    before = ledger_cli.snapshot()
    result = publish(ledger_cli, "v1", "--notified-on", "2024-02-15")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: version v1 takes effect on 2024-03-01, less than a month after staff were notified on 2024-02-15\n"
        "Hint: staff must be told by 2024-02-01: publish a version with a later effective date, or give "
        "--override-reason to record why the short notice is justified\n"
    )
    assert ledger_cli.snapshot() == before
    result = publish(ledger_cli, "v1", "--notified-on", "2024-02-15", "--override-reason", "statutory change")
    assert result.exit_code == 0, result.output
    assert ledger_cli.rows("policy", "list")[0]["notice"] == "short (overridden)"


def test_refusals_and_usage_errors_have_exact_exit_codes(ledger_cli: LedgerCli) -> None:
    before = ledger_cli.snapshot()
    result = ledger_cli.run("policy", "publish", "v1", "--approved-on", "2024-01-10", "--effective-on", "2024-03-01",
                            actor="head")
    assert (result.exit_code, result.stderr) == (
        1, "Error: give the policy text or its file (one of them)\nHint: use --text or --file\n")
    result = ledger_cli.run("policy", "publish", "v1", "--approved-on", "2024-01-10", "--effective-on", "2024-03-01",
                            "--text", "x", actor="teacher")
    assert result.exit_code == 1 and result.stderr.startswith("Error: teacher may not record an entry of this kind (policy version: published)")
    result = ledger_cli.run("policy", "publish", "v1", "--effective-on", "2024-03-01", actor="head")
    assert result.exit_code == 2 and "Missing option '--approved-on'" in result.stderr
    result = ledger_cli.run("policy", "status", actor="head")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no policy version is in effect on")
    result = ledger_cli.run("policy", "publish", "v1", "--approved-on", "2024-13-01", "--effective-on", "2024-03-01",
                            "--text", "x", actor="head")
    assert (result.exit_code, result.stderr.splitlines()[0]) == (1, "Error: approval date '2024-13-01' is not a date")
    assert ledger_cli.snapshot() == before


def test_a_policy_file_is_hashed_and_the_text_never_stored_in_clear(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> None:
    document = tmp_path / "policy.txt"
    document.write_text(f"Questions to {SENTINEL}\n")
    result = sqlite_ledger_cli.run("policy", "publish", "v1", "--approved-on", "2024-01-10", "--effective-on",
                                   "2024-03-01", "--file", str(document), "--approved-by", SENTINEL, actor="head")
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(document.read_bytes()).hexdigest() in result.stdout
    stored = b"".join(p.read_bytes() for p in sqlite_ledger_cli.home.glob("ledger.db*"))
    assert SENTINEL.encode() not in stored
    result = sqlite_ledger_cli.run("policy", "acknowledge", "v1", actor="auditor")
    assert result.exit_code == 1 and result.stderr.startswith("Error: auditor is not a member of staff covered")
