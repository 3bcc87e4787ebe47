"""Local time through the CLI, with the clock pinned (``ledger`` invoked with a FixedClock) either
side of a change of the clocks: typed in the federation's zone, signed in UTC, read back in it.

In Europe/London BST begins at 01:00 GMT on 29 March 2026 and ends at 02:00 BST on 25 October 2026.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commands.services import people
from commands.services.demo import DEMO_PASSPHRASE
from ledger.clock import FixedClock
from tests.cli.conftest import LedgerCli, clean_env, invoke
from tests.conftest import pinned_federation

ID = re.compile(r"^inc-[0-9a-f]{8}$")


@pytest.fixture(params=["sqlite", "postgres"])
def pinned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LedgerCli, FixedClock]]:
    """The CLI on a federation built, and run, at a moment the test sets."""
    clock = FixedClock("2026-03-20T09:00:00+00:00")
    with pinned_federation(request.param, tmp_path / "home", clock) as fed:
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", subject_id="sb-pip")
        yield LedgerCli(fed.home, clock), clock


def report(cli: LedgerCli, occurred_at: str, *extra: str) -> str:
    result = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", occurred_at,
                     "--summary", "Messages in a group chat", "--facts", "Seen by the teacher",
                     "--person", "sb-pip:victim", *extra, actor="teacher")
    assert result.exit_code == 0, result.output
    assert ID.match(result.stdout.strip())
    return result.stdout.strip()


def reported(cli: LedgerCli, inc: str) -> dict[str, object]:
    """The report's row of the incident's timeline as JSON, read by the DSL."""
    result = cli.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", actor="dsl")
    assert result.exit_code == 0, result.output
    return next(r for r in json.loads(result.stdout)["rows"] if r["event"] == "Incident.Reported")


def test_a_report_typed_in_bst_reads_back_in_bst_in_every_format(pinned: tuple[LedgerCli, FixedClock]) -> None:
    cli, clock = pinned
    clock.set("2026-06-02T08:00:00+00:00")  # 09:00 BST
    inc = report(cli, "2026-06-01T12:30")
    table = cli.run("timeline", "--incident", inc, "--reason", "case review", actor="dsl")
    assert table.exit_code == 0, table.output
    reported = next(line for line in table.stdout.splitlines() if "reported by teacher" in line)
    assert reported.startswith("2026-06-01 12:30 BST  teacher (staff)  reported by teacher")
    assert "recorded 2026-06-02 09:00 BST" in table.stdout
    document = json.loads(cli.run("timeline", "--incident", inc, "--reason", "r", "--format", "json",
                                  actor="dsl").stdout)
    row = next(r for r in document["rows"] if r["event"] == "Incident.Reported")
    assert (row["happened_at"], row["recorded_at"]) == ("2026-06-01T12:30:00+01:00", "2026-06-02T09:00:00+01:00")
    assert document["generated_at"] == "2026-06-02T09:00:00+01:00"
    csv = cli.run("timeline", "--incident", inc, "--reason", "r", "--format", "csv", actor="dsl").stdout
    assert ",2026-06-01T12:30:00+01:00,exact,,2026-06-02T09:00:00+01:00,False," in csv
    html = cli.run("timeline", "--incident", inc, "--reason", "r", "--format", "html", actor="dsl").stdout
    assert "2026-06-01 12:30 BST" in html and "Times are local time in Europe/London" in html
    shown = cli.run("incidents", "show", inc, "--reason", "r", actor="dsl").stdout
    assert re.search(r"^occurred_at +2026-06-01 12:30 BST \(exact\)$", shown, re.MULTILINE), shown
    assert re.search(r"^recorded_at +2026-06-02 09:00 BST$", shown, re.MULTILINE), shown
    record = json.loads(cli.run("incidents", "show", inc, "--reason", "r", "--format", "json", actor="dsl").stdout)
    assert record["occurred_at"]["at"] == "2026-06-01T12:30:00+01:00"


def test_a_report_typed_in_winter_reads_back_in_gmt(pinned: tuple[LedgerCli, FixedClock]) -> None:
    cli, clock = pinned
    clock.set("2026-03-28T12:00:00+00:00")
    inc = report(cli, "2026-03-28T10:00")
    assert reported(cli, inc)["happened_at"] == "2026-03-28T10:00:00+00:00"


@pytest.mark.parametrize("typed, stderr", [
    ("2026-03-29T01:30",
     "Error: occurred-at 2026-03-29 01:30 does not exist in Europe/London: the clocks went forward from GMT to BST "
     "then\nHint: give a time the clocks showed, or say which zone you mean: 2026-03-29 01:30 GMT is 02:30 BST\n"),
    ("2026-10-25T01:30",
     "Error: occurred-at 2026-10-25 01:30 happened twice in Europe/London: the clocks went back from BST to GMT "
     "then\nHint: say which: 2026-10-25 01:30 BST (the first) or 2026-10-25 01:30 GMT (an hour later), or give "
     "the offset\n"),
], ids=["skipped-in-march", "twice-in-october"])
def test_a_time_the_clocks_skipped_or_showed_twice_is_refused_naming_the_change(
        pinned: tuple[LedgerCli, FixedClock], typed: str, stderr: str) -> None:
    cli, clock = pinned
    clock.set("2026-10-25T12:00:00+00:00")
    before = cli.snapshot()
    result = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", typed,
                     "--summary", "s", "--facts", "f", actor="teacher")
    assert (result.exit_code, result.stderr) == (1, stderr)
    assert cli.snapshot() == before


def test_the_hour_that_happened_twice_is_taken_with_its_zone(pinned: tuple[LedgerCli, FixedClock]) -> None:
    cli, clock = pinned
    clock.set("2026-10-25T12:00:00+00:00")
    assert reported(cli, report(cli, "2026-10-25 01:30 GMT"))["happened_at"] == "2026-10-25T01:30:00+00:00"
    assert reported(cli, report(cli, "2026-10-25 01:30 BST"))["happened_at"] == "2026-10-25T01:30:00+01:00"


def test_an_action_after_midnight_bst_is_done_today_and_tomorrow_is_a_due_date(
        pinned: tuple[LedgerCli, FixedClock]) -> None:
    cli, clock = pinned
    clock.set("2026-06-01T12:00:00+00:00")
    inc = report(cli, "2026-06-01T10:00")
    assert cli.run("incidents", "triage", inc, "--rationale", "DSL leads", actor="dsl").exit_code == 0
    clock.set("2026-06-01T23:30:00+00:00")  # 00:30 BST on 2 June
    done = cli.run("incidents", "action", inc, "parents-informed", "--details", "phoned", "--on", "2026-06-02",
                   actor="dsl")
    assert done.exit_code == 0 and done.stdout.startswith("parents-informed recorded"), done.output
    ahead = cli.run("incidents", "action", inc, "parents-informed", "--details", "x", "--on", "2026-06-03",
                    actor="dsl")
    assert ahead.exit_code == 0 and "planned" in ahead.stdout and "due 2026-06-03" in ahead.stdout, ahead.output


def test_the_federations_own_zone_is_used_not_london(pinned: tuple[LedgerCli, FixedClock]) -> None:
    cli, clock = pinned
    clock.set("2026-06-02T12:00:00+00:00")
    changed = cli.run("settings", "set", "--timezone", "America/New_York", "--reason", "a federation abroad",
                      actor="admin")
    assert changed.exit_code == 0, changed.output
    inc = report(cli, "2026-06-01T12:30")
    table = cli.run("timeline", "--incident", inc, "--reason", "r", actor="dsl").stdout
    assert "2026-06-01 12:30 EDT" in table and "2026-06-02 08:00 EDT" in table
    assert reported(cli, inc)["happened_at"] == "2026-06-01T12:30:00-04:00"


@pytest.mark.parametrize("moment", ["2026-03-29T00:30:00+00:00", "2026-06-01T23:30:00+00:00",
                                    "2026-10-25T23:30:00+00:00"],
                         ids=["just-before-bst", "bst-after-23-utc", "just-after-gmt"])
def test_the_demo_runs_with_the_clock_either_side_of_a_change(tmp_path: Path, moment: str) -> None:
    folder = tmp_path / "demo"
    result = invoke(["demo", "--dir", str(folder)], clean_env(), clock=FixedClock(moment))
    assert result.exit_code == 0, result.output
    assert "the ledger verifies" in result.stdout
    # The chronology shown is of yesterday's report: its times carry yesterday's local zone.
    yesterday = dt.datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/London")) - dt.timedelta(days=1)
    zone = yesterday.tzname()
    assert re.search(rf"^    ~?\d{{4}}-\d\d-\d\d \d\d:\d\d {zone} ", result.stdout, re.MULTILINE), result.stdout
    shown = LedgerCli(folder, FixedClock(moment)).run("people", "list", "--format", "json",
                                                      passphrase=DEMO_PASSPHRASE)
    assert shown.exit_code == 0, shown.output
