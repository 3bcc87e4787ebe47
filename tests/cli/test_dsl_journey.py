"""A DSL's working day on the demo ledger, end to end through the CLI (issue: casework).

The DSL reads one chronology holding everything about a child (the report with the child's
words, triage, actions, outcome, the linked alert) in local time, sees in ``ledger inbox``
what waits for them, adds an action due next week and finds it there, and the Headteacher
prints the governors' report, which holds no personal data.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from commands.services.demo import DEMO_PASSPHRASE
from tests.cli.conftest import LedgerCli
from tests.conftest import DemoRun


@pytest.fixture(scope="module")
def demo(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[LedgerCli, str]:
    """A copy of the demo ledger (the DSL writes to it) and what ``ledger demo`` printed."""
    return LedgerCli(demo_run.copy(tmp_path_factory.mktemp("journey") / "demo")), demo_run.printed


def run(cli: LedgerCli, *args: str, actor: str) -> str:
    result = cli.run(*args, actor=actor, passphrase=DEMO_PASSPHRASE, COLUMNS="120")
    assert result.exit_code == 0, result.output
    return result.stdout


def pupil_of(cli: LedgerCli, typed: str) -> str:
    """Find a child by name, as a DSL would: the start of a name, any case, any accents."""
    found = json.loads(run(cli, "people", "find", typed, "--kind", "pupil", "--reason", "finding the child",
                           "--format", "json", actor="dsl"))
    assert len(found) == 1, found
    return str(found[0]["id"])


def test_the_demo_handles_a_nude_image_case_as_ukcis_asks(demo: tuple[LedgerCli, str]) -> None:
    _, printed = demo
    assert "tries to hand in a photo with the report: refused, nothing written" in printed
    assert "an image is never taken in as evidence" in printed
    assert "wait for the DSL" in printed and "ledger --as head report:" in printed


def test_one_chronology_holds_everything_about_the_child(demo: tuple[LedgerCli, str]) -> None:
    cli, _ = demo
    pip = pupil_of(cli, "pip")
    # and a name works wherever a person is taken, when it names one person
    by_name = json.loads(run(cli, "timeline", "--person", "Pip Pupil", "--reason", "case review", "--format", "json",
                             actor="dsl"))["rows"]
    rows = json.loads(run(cli, "timeline", "--person", pip, "--reason", "case review", "--format", "json",
                          actor="dsl"))["rows"]
    assert [r["entry"] for r in by_name] == [r["entry"] for r in rows]
    events = [r["event"] for r in rows]
    for wanted in ("Incident.Reported", "Incident.Triaged", "Incident.ActionRecorded", "Incident.OutcomeRecorded",
                   "Incident.Closed", "Incident.EvidenceAdded", "Alert.Recorded", "Alert.Linked"):
        assert wanted in events, (wanted, sorted(set(events)))
    assert not [e for e in events if e.startswith("AccessRecord")], "the access log is left out by default"
    report = next(r for r in rows if r["event"] == "Incident.Reported" and len(r["details"]) > 1)
    assert {"label": "child's words", "text": "\u201ceveryone in the chat has seen it\u201d"} in report["details"]
    assert any(d["label"] == "opinion" for d in report["details"]), "the opinion is kept apart from the facts"
    days = [r["happened_at"][:10] for r in rows if r["happened_at"]]
    assert days == sorted(days), "oldest first"
    case = [r["event"] for r in rows if r["ref"].startswith(report["ref"].split("/")[0])]
    assert case.index("Incident.Triaged") < case.index("Incident.ActionRecorded"), \
        "an action recorded the day it was done comes after the triage it followed"
    assert all(r["happened_at"].endswith(("+00:00", "+01:00")) for r in rows if r["happened_at"]), "local time"
    table = run(cli, "timeline", "--person", pip, "--reason", "case review", actor="dsl")
    assert max(len(line) for line in table.splitlines()) <= 120
    assert "everyone in the chat has seen it" in " ".join(table.split())


def test_the_inbox_shows_an_action_added_for_next_week(demo: tuple[LedgerCli, str]) -> None:
    cli, _ = demo
    cases = [i for i in json.loads(run(cli, "inbox", "--format", "json", actor="dsl")) if i["kind"] == "case"]
    assert cases, "open cases of the DSL's role wait in the inbox"
    inc = cases[0]["ref"]
    next_week = (dt.date.fromisoformat(cases[0]["since"]) + dt.timedelta(days=7)).isoformat()
    printed = run(cli, "incidents", "action", inc, "parent-meeting", "--on", next_week, "--details",
                  "Meet the family with the class teacher", actor="dsl")
    items = json.loads(run(cli, "inbox", "--format", "json", actor="dsl"))
    mine = [i for i in items if i["kind"] == "action" and i["ref"].startswith(inc)]
    assert any(i["what"] == f"Meeting with parents or carers: due {next_week}" for i in mine), (printed, items)


def test_the_governors_report_counts_without_personal_data(demo: tuple[LedgerCli, str], tmp_path: Path) -> None:
    cli, _ = demo
    out = tmp_path / "governors.html"
    run(cli, "report", "--format", "html", "--out", str(out), actor="head")
    page = out.read_text(encoding="utf-8")
    assert "Sharing nudes and semi-nudes" in page and "Oak Primary" in page
    for personal in ("Pip Pupil", "Robin Reader", "everyone in the chat", "Snapchat"):
        assert personal not in page
    assert "devices: requested" in page and "DeviceApproval" not in page, "words a governor reads"
    assert "<th>cases triaged</th>" in page or "cases triaged" in page
    rows = json.loads(run(cli, "report", "--format", "json", actor="head"))
    assert rows
