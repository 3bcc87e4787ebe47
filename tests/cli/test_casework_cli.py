"""``ledger inbox``, ``ledger mine``, ``ledger report`` and the action commands, through the CLI."""

from __future__ import annotations

import datetime as dt
import csv
import io
import json
import re
from zoneinfo import ZoneInfo
from pathlib import Path

from tests.cli.conftest import LedgerCli


def ok(cli: LedgerCli, *args: str, actor: str | None = None) -> str:
    result = cli.run(*args, actor=actor)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_dsl_plans_an_action_the_owner_sees_it_and_marks_it_done(ledger_cli: LedgerCli) -> None:
    inc = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Group chat", "--facts", "Seen", actor="teacher").strip()
    ok(ledger_cli, "incidents", "triage", inc, "--rationale", "bullying", actor="dsl")
    due = (dt.datetime.now(ZoneInfo("Europe/London")).date() + dt.timedelta(days=30)).isoformat()
    planned = ok(ledger_cli, "incidents", "action", inc, "parent-meeting", "--on", due, "--owner", "teacher",
                 "--details", "meet the mother", actor="dsl")
    match = re.fullmatch(rf"parent-meeting planned on {inc} as (act-[0-9a-f]{{8}}): due {due}, for teacher\n",
                         planned)
    assert match is not None, planned
    waiting = [r for r in ledger_cli.rows("inbox", actor="teacher") if r["kind"] == "action"]
    assert [(r["ref"], r["what"]) for r in waiting] == [(f"{inc} {match[1]}", f"Meeting with parents or carers: due {due}")]
    assert ok(ledger_cli, "incidents", "done", inc, match[1], "--details", "she came in", actor="teacher") == \
        f"{match[1]} done\n"
    mine = ledger_cli.rows("mine", actor="teacher")
    assert [(r["id"], r["status"]) for r in mine] == [(inc, "triaged")]
    assert not [r for r in ledger_cli.rows("inbox", actor="teacher") if r["kind"] == "action"]


def test_the_governors_report_comes_as_a_table_csv_json_and_printable_html(ledger_cli: LedgerCli,
                                                                          tmp_path: Path) -> None:
    ok(ledger_cli, "incidents", "report", "--category", "harmful-content", "--occurred-at", "2026-01-05T10:00",
       "--summary", "Search", "--facts", "Seen", actor="teacher")
    table = ok(ledger_cli, "report", "--from", "2000-01-01", "--to", "2100-12-31", actor="head")
    assert table.startswith("Report for governors, 2000-01-01 to 2100-12-31\n")
    rows = list(csv.DictReader(io.StringIO(ok(ledger_cli, "report", "--from", "2000-01-01", "--to", "2100-12-31",
                                              "--format", "csv", actor="head"))))
    assert {"section": "incidents", "item": "reported", "count": "1"} in rows
    document = json.loads(ok(ledger_cli, "report", "--from", "2000-01-01", "--to", "2100-12-31", "--format", "json",
                             actor="auditor"))
    assert {"section": "category", "item": "Exposure to harmful content (self-harm, extremism, pornography)",
            "count": 1} in document["rows"]
    out = tmp_path / "term.html"
    ok(ledger_cli, "report", "--from", "2000-01-01", "--to", "2100-12-31", "--format", "html", "--out", str(out),
       actor="head")
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "Counts only: no personal data" in page and "counter(page)" in page
    refused = ledger_cli.run("report", actor="teacher")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: teacher may not read the governors' report")


def test_a_person_linked_by_mistake_is_unlinked_with_a_reason(ledger_cli: LedgerCli) -> None:
    inc = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Group chat", "--facts", "Seen", actor="teacher").strip()
    ok(ledger_cli, "incidents", "link", inc, "teacher:witness", "--reason", "named in the chat", actor="dsl")
    missing_reason = ledger_cli.run("incidents", "unlink", inc, "teacher", actor="dsl")
    assert missing_reason.exit_code == 2 and "--reason" in missing_reason.stderr
    ok(ledger_cli, "incidents", "unlink", inc, "teacher", "--reason", "wrong person", actor="dsl")
    again = ledger_cli.run("incidents", "unlink", inc, "teacher", "--reason", "wrong person", actor="dsl")
    assert again.exit_code == 1 and "not linked" in again.stderr, again.stderr


def test_every_incident_request_and_alert_names_its_school_and_every_listing_filters_by_it(
        ledger_cli: LedgerCli, tmp_path: Path) -> None:
    ok(ledger_cli, "settings", "set", "--school", "Oak Primary", "--school", "Elm Primary",
       "--reason", "two schools", actor="admin")
    oak = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Chat", "--facts", "Seen", "--school", "oak primary", actor="teacher").strip()
    elm = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Chat", "--facts", "Seen", "--school", "Elm Primary", actor="teacher").strip()
    assert [r["id"] for r in ledger_cli.rows("incidents", "list", "--school", "Oak Primary", actor="dsl")] == [oak]
    assert [(r["id"], r["school"]) for r in ledger_cli.rows("registers", "incidents", "--school", "elm primary",
                                                              actor="dsl")] == [(elm, "Elm Primary")]
    device = ok(ledger_cli, "approvals", "device", "request", "--device", "my phone", "--purpose", "trip",
                "--from", "2099-06-10", "--until", "2099-06-10", "--school", "Elm Primary", actor="teacher").strip()
    permission = ok(ledger_cli, "approvals", "permission", "request", "linkedin", "--details", "my role",
                    "--school", "Oak Primary", actor="teacher").strip()
    assert [r["id"] for r in ledger_cli.rows("approvals", "list", "--school", "Elm Primary", actor="head")] == [device]
    assert [r["id"] for r in ledger_cli.rows("registers", "approvals", "--school", "Oak Primary",
                                             actor="head")] == [permission]
    alerts = tmp_path / "alerts.csv"
    alerts.write_text("source_system,source_record_id,time,category,severity,action,user\n"
                      "smoothwall,1,2026-01-05T10:00:00Z,self-harm,high,blocked,pupil-a\n", encoding="utf-8")
    ok(ledger_cli, "monitoring", "import", str(alerts), "--school", "Oak Primary", actor="admin")
    assert [r["school"] for r in ledger_cli.rows("monitoring", "alerts", "list", actor="dsl")] == ["Oak Primary"]
    assert ledger_cli.rows("monitoring", "alerts", "list", "--school", "Elm Primary", actor="dsl") == []
    before = ledger_cli.snapshot()
    wrong = ledger_cli.run("incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05",
                           "--summary", "Chat", "--facts", "Seen", "--school", "Ash Infants", actor="teacher")
    assert wrong.exit_code == 1 and "'Ash Infants' is not one of the federation's schools" in wrong.stderr
    assert "Oak Primary, Elm Primary" in wrong.stderr and ledger_cli.snapshot() == before


def test_a_register_says_what_each_record_is_to_those_who_may_read_it_and_logs_that_read(
        ledger_cli: LedgerCli) -> None:
    inc = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Unkind   messages\nin the Year 6 chat", "--facts", "Seen", actor="teacher").strip()
    device = ok(ledger_cli, "approvals", "device", "request", "--device", "my phone", "--purpose", "sports day",
                "--from", "2099-06-10", "--until", "2099-06-10", actor="teacher").strip()
    plain = ledger_cli.rows("registers", "incidents", actor="dsl")
    assert "description" not in plain[0]
    described = ledger_cli.rows("registers", "incidents", "--reason", "Monday review", actor="dsl")
    assert [(r["id"], r["description"]) for r in described] == [(inc, "Unkind messages in the Year 6 chat")]
    assert "access_record" not in described[0]
    approvals = ledger_cli.rows("registers", "approvals", "--reason", "weekly approvals", actor="head")
    assert [(r["id"], r["description"]) for r in approvals] == [(device, "my phone: sports day")]
    reads = ledger_cli.rows("registers", "access", "--reason", "audit", actor="head")
    # the Headteacher reads staff records, so sees who read by name beside the id
    assert {(r["reader"], r["record"], r["why"]) for r in reads} >= {
        ("Person dsl (dsl)", inc, "Monday review"), ("Person head (head)", device, "weekly approvals")}
    own = ledger_cli.rows("registers", "approvals", "--reason", "mine", actor="teacher")
    assert [(r["id"], r["description"]) for r in own] == [(device, "")], "a requester does not read requests"


def test_the_inbox_keeps_an_open_case_in_view_and_says_what_it_is_given_a_reason(ledger_cli: LedgerCli) -> None:
    inc = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Messages about a Year 5 pupil", "--facts", "Seen", actor="teacher").strip()
    waiting = ledger_cli.rows("inbox", actor="dsl")
    assert [(r["kind"], r["ref"]) for r in waiting if r["ref"] == inc] == [("triage", inc)]
    assert "Year 5" not in json.dumps(waiting), "no reason: clear facts only"
    ok(ledger_cli, "incidents", "triage", inc, "--rationale", "bullying", actor="dsl")
    after = [r for r in ledger_cli.rows("inbox", actor="dsl") if r["ref"] == inc]
    assert [(r["kind"], r["what"]) for r in after] == [
        ("case", "Online bullying between children: open (triaged), escalated to your role")]
    described = [r for r in ledger_cli.rows("inbox", "--reason", "morning check", actor="dsl") if r["ref"] == inc]
    assert described[0]["what"] == ("Online bullying between children, \u201cMessages about a Year 5 pupil\u201d: open (triaged), "
                                    "escalated to your role")
    reads = ledger_cli.rows("registers", "access", "--reason", "audit", actor="head")
    assert ("Person dsl (dsl)", inc, "morning check") in {(r["reader"], r["record"], r["why"]) for r in reads}
    assert not [r for r in ledger_cli.rows("inbox", actor="teacher") if r["ref"] == inc]


def test_registers_name_people_for_those_who_may_read_their_names(ledger_cli: LedgerCli) -> None:
    inc = ok(ledger_cli, "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-05T10:00",
             "--summary", "Group chat", "--facts", "Seen", actor="teacher").strip()
    ok(ledger_cli, "timeline", "--incident", inc, "--reason", "case review", actor="dsl")
    by_head = {r["reader"] for r in ledger_cli.rows("registers", "access", "--reason", "audit", actor="head")}
    assert "Person dsl (dsl)" in by_head, "the Headteacher reads staff records: names beside ids"
    by_dsl = {r["reader"] for r in ledger_cli.rows("registers", "access", "--reason", "audit", actor="dsl")}
    assert "dsl" in by_dsl and not any("Person" in s for s in by_dsl), "the DSL does not read staff records"
