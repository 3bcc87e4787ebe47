"""The policy's duties (issue 16) through the CLI: exact output, exit codes, nothing written on refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from ledger.retention import add_months
from tests.cli.conftest import LedgerCli
from tests.conftest import local_today

TODAY = local_today()


def _day(n: int) -> str:
    return (dt.date.fromisoformat(TODAY) + dt.timedelta(days=n)).isoformat()


def test_a_volunteer_is_registered_without_a_key_and_their_paper_form_entered(sqlite_ledger_cli: LedgerCli,
                                                                              tmp_path: Path) -> None:
    """"This Policy covers ... casual and agency staff and volunteers" (Who is covered by this Policy?)"""
    cli = sqlite_ledger_cli
    result = cli.run("policy", "publish", "v1", "--approved-on", _day(-60), "--effective-on", _day(-10),
                     "--text", "Policy", "--notified-on", _day(-50), actor="head")
    assert result.exit_code == 0, result.output
    result = cli.run("people", "add-covered", "--name", "Val Unteer", "--type", "volunteer", "--line-manager",
                     "teacher", "--id", "vol-1", actor="head")
    assert (result.exit_code, result.stdout) == (0, "vol-1\n")
    form = tmp_path / "form.pdf"
    form.write_bytes(b"signed")
    digest = hashlib.sha256(b"signed").hexdigest()
    result = cli.run("policy", "acknowledge-for", "vol-1", "--form", str(form), "--signed-on", _day(-1),
                     actor="teacher")
    assert (result.exit_code, result.stdout) == (
        0, f"vol-1 acknowledged version v1 on paper (assisted, entered by teacher; form sha256 {digest})\n")
    rows = {r["staff_id"]: r for r in cli.rows("people", "workers")}
    assert rows["vol-1"]["worker_type"] == "volunteer" and rows["vol-1"]["signs_in"] is False
    before = cli.snapshot()
    result = cli.run("policy", "acknowledge-for", "teacher", "--form", str(form), "--signed-on", _day(-1),
                     actor="head")
    assert result.exit_code == 1 and result.stderr.startswith("Error: teacher signs in with their own key\n")
    result = cli.run("people", "worker-type", "teacher", "robot", actor="head")
    assert result.exit_code == 2 and "'robot' is not one of" in result.stderr
    assert cli.snapshot() == before


def test_review_training_recruitment_and_authorisation_through_the_cli(sqlite_ledger_cli: LedgerCli) -> None:
    """"The Head of Operations and the Network Manager shall be responsible for reviewing this Policy"
    and "receives regular and appropriate training" (Monitoring and review of this Policy)"""
    cli = sqlite_ledger_cli
    result = cli.run("policy", "review", "--on", _day(-1), "--reviewer", "slt", "--reviewer", "admin",
                     "--findings", "Fine", actor="slt")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"review rev-[0-9a-f]{{8}} recorded \({_day(-1)}\); next review due \S+\n", result.stdout)
    result = cli.run("training", "record", "investigator", "--topic", "investigation", "--completed-on", _day(-1),
                     "--course", "Investigations", actor="head")
    renewal = add_months(dt.date.fromisoformat(_day(-1)), 12).isoformat()
    assert result.exit_code == 0
    assert result.stdout.endswith(f" investigator trained in investigation, renewal due {renewal}\n")
    assert [r["state"] for r in cli.rows("training", "list")] == ["current"]
    before = cli.snapshot()
    result = cli.run("training", "record", "investigator", "--topic", "investigation", "--completed-on", _day(3),
                     "--course", "C", actor="head")
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        1, f"Error: the completion date {_day(3)} is in the future")
    result = cli.run("monitoring", "authorise", "teacher", "--scope", "email", "--from", _day(1), "--to", _day(-1),
                     "--reason", "r", actor="head")
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        1, f"Error: the period ends ({_day(-1)}) before it starts ({_day(1)})")
    result = cli.run("recruitment", "check", "sb-nobody", "--outcome", "no-concerns", "--basis", "b", "--vacancy", "v",
                     "--same-for-all-candidates", actor="head")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no candidate 'sb-nobody'")
    assert cli.snapshot() == before
    result = cli.run("monitoring", "authorise", "teacher", "--scope", "email", "--from", _day(-1), "--to", _day(1),
                     "--reason", "Allegation", actor="head")
    assert result.exit_code == 0 and re.fullmatch(r"mon-[0-9a-f]{8}\n", result.stdout)
    assert [r["in_force"] for r in cli.rows("monitoring", "authorisations")] == [True]
