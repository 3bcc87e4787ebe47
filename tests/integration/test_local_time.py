"""Local time end to end, with the clock pinned on both sides of a change of the clocks, on both backends.

In Europe/London BST begins at 01:00 GMT on 29 March 2026 and ends at 02:00 BST
on 25 October 2026. A time a person types is read in the federation's zone and
signed in UTC; everything shown is local time with its zone; "today" is the
local date; LATE counts real hours, and a day is the local day, 23 or 25 hours
long when the clocks change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commands.services import incidents, people, policy, readside
from ledger import envelope, localtime
from ledger.clock import FixedClock
from ledger.domain.incidents import incident_record_id
from ledger.errors import InvalidInput
from tests.conftest import Federation, pinned_federation, refused


@pytest.fixture(params=["sqlite", "postgres"])
def pinned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Federation, FixedClock]]:
    """A federation whose every entry and every "today" comes from a clock the test moves."""
    clock = FixedClock("2026-03-20T09:00:00+00:00")
    with pinned_federation(request.param, tmp_path / "home", clock) as fed:
        yield fed, clock


def report(fed: Federation, occurred_at: str, precision: str = "exact", summary: str = "Messages in a chat") -> str:
    return incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", occurred_at, summary, "Seen by the teacher", precision=precision))


def signed_occurrence(fed: Federation, inc: str) -> dict[str, Any]:
    """The ``occurred_at`` of the incident's first entry, as signed."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        state = conn.execute(select(table.c.state).where(table.c.originator_id == incident_record_id(inc))
                             .order_by(table.c.id).limit(1)).scalar_one()
    occurred: dict[str, Any] = envelope.parse(bytes(state)).header["occurred_at"]
    return occurred


def reported_row(fed: Federation, inc: str) -> dict[str, Any]:
    rows = readside.timeline(fed.ledger, fed["dsl"], "case review", incident=inc).rows
    return next(r for r in rows if r["event"] == "Incident.Reported")


def test_a_report_typed_in_summer_time_is_signed_in_utc_and_shown_back_in_summer_time(
        pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-30T08:00:00+00:00")  # 09:00 BST
    inc = report(fed, "2026-03-30T07:45")
    assert signed_occurrence(fed, inc) == {"at": "2026-03-30T06:45:00+00:00", "precision": "exact", "until": None}
    row = reported_row(fed, inc)
    assert localtime.shown(row["happened_at"]) == "2026-03-30 07:45 BST"
    assert localtime.iso(row["happened_at"]) == "2026-03-30T07:45:00+01:00"
    assert localtime.shown(row["recorded_at"]) == "2026-03-30 09:00 BST"
    shown = incidents.show(fed.ledger, fed["dsl"], inc, "case review")
    assert localtime.shown(shown["occurred_at"]["at"]) == "2026-03-30 07:45 BST"
    assert localtime.shown(shown["recorded_at"]) == "2026-03-30 09:00 BST"


def test_a_time_typed_in_bst_is_not_taken_for_a_later_utc_time(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-06-01T11:45:00+00:00")  # 12:45 BST
    report(fed, "2026-06-01T12:30")  # 11:30 UTC: before now, so it may be reported
    refused(fed, InvalidInput, lambda: report(fed, "2026-06-01T12:50"),
            match="the incident cannot have occurred after it is recorded")


def test_a_report_typed_before_the_change_stays_in_greenwich_mean_time(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-28T12:00:00+00:00")
    inc = report(fed, "2026-03-28T10:00")
    assert signed_occurrence(fed, inc)["at"] == "2026-03-28T10:00:00+00:00"
    assert localtime.shown(reported_row(fed, inc)["happened_at"]) == "2026-03-28 10:00 GMT"


def test_a_time_the_clocks_skipped_is_refused_and_nothing_is_written(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-29T12:00:00+00:00")
    refused(fed, InvalidInput, lambda: report(fed, "2026-03-29T01:30"),
            match="does not exist in Europe/London: the clocks went forward from GMT to BST")


def test_a_time_the_clocks_showed_twice_is_refused_unless_it_says_which(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-10-25T12:00:00+00:00")
    refused(fed, InvalidInput, lambda: report(fed, "2026-10-25T01:30"),
            match="happened twice in Europe/London: the clocks went back from BST to GMT")
    second = report(fed, "2026-10-25 01:30 GMT", summary="the second one-thirty")
    first = report(fed, "2026-10-25 01:30 BST", summary="the first one-thirty")
    assert signed_occurrence(fed, first)["at"] == "2026-10-25T00:30:00+00:00"
    assert signed_occurrence(fed, second)["at"] == "2026-10-25T01:30:00+00:00"
    rows = readside.timeline(fed.ledger, fed["dsl"], "review", start="2026-10-25", end="2026-10-25",
                             categories=("incident",)).rows
    shown = [(localtime.shown(r["happened_at"]), r["what"].rsplit(": ", 1)[-1]) for r in rows
             if r["event"] == "Incident.Reported"]
    assert shown == [("2026-10-25 01:30 BST", "the first one-thirty"),
                     ("2026-10-25 01:30 GMT", "the second one-thirty")]


def test_late_counts_real_hours_across_the_spring_change(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-29T23:00:00+00:00")  # midnight BST: 24.5 hours on the wall clocks, 23.5 in fact
    in_time = report(fed, "2026-03-28T23:30")
    clock.set("2026-03-29T23:31:00+00:00")
    late = report(fed, "2026-03-28T23:30")
    assert not reported_row(fed, in_time)["late"]
    assert reported_row(fed, late)["late"]


def test_a_day_is_the_local_day_for_late_23_hours_in_spring_25_in_autumn(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-30T22:30:00+00:00")  # 23:30 BST on the 30th: within 24 hours of the 29th's end
    spring_in_time = report(fed, "2026-03-29", "day")
    clock.set("2026-03-30T23:30:00+00:00")  # 00:30 BST on the 31st: more than 24 hours after it
    spring_late = report(fed, "2026-03-29", "day")
    assert signed_occurrence(fed, spring_late) == {
        "at": "2026-03-29T00:00:00+00:00", "precision": "day", "until": "2026-03-29T23:00:00+00:00"}
    assert not reported_row(fed, spring_in_time)["late"] and reported_row(fed, spring_late)["late"]
    clock.set("2026-10-26T23:30:00+00:00")  # the 25th ended at 00:00 GMT on the 26th
    autumn_in_time = report(fed, "2026-10-25", "day")
    clock.set("2026-10-27T00:30:00+00:00")
    autumn_late = report(fed, "2026-10-25", "day")
    assert signed_occurrence(fed, autumn_late)["until"] == "2026-10-26T00:00:00+00:00"
    assert not reported_row(fed, autumn_in_time)["late"] and reported_row(fed, autumn_late)["late"]
    row = reported_row(fed, autumn_late)
    assert row["happened_at"].date() == dt.date(2026, 10, 25) and row["precision"] == "day"


def test_today_is_the_local_date_late_in_a_summer_evening(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-03-30T12:00:00+00:00")
    inc = report(fed, "2026-03-30T10:00")
    incidents.triage(fed.ledger, fed["dsl"], inc, "the DSL leads")
    clock.set("2026-03-30T23:30:00+00:00")  # 00:30 BST on 31 March: UTC still says the 30th
    assert fed.ledger.today() == "2026-03-31"
    done = incidents.record_action(fed.ledger, fed["dsl"], inc, "parents-informed", "called at half past midnight",
                                   "2026-03-31")
    assert not done.planned, "the local today is a day something was done, not one it is due"
    incidents.record_action(fed.ledger, fed["dsl"], inc, "removal-requested", "asked the platform")
    actions = incidents.show(fed.ledger, fed["dsl"], inc, "review")["actions"]
    assert [a["taken_on"] for a in actions] == ["2026-03-31", "2026-03-31"]
    planned = incidents.record_action(fed.ledger, fed["dsl"], inc, "parent-meeting", "tomorrow", "2026-04-01")
    assert planned.planned and planned.day == "2026-04-01", "the local tomorrow is a due date"
    refused(fed, InvalidInput, lambda: people.add_subject(
        fed.ledger, fed["dsl"], "pupil", "Not Born Yet", "2026-04-01"), match="in the future")


def test_an_acknowledgement_late_on_a_summer_evening_counts_for_the_local_day(
        pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-04-20T09:00:00+00:00")
    policy.publish_version(fed.ledger, fed["head"], "2026.4", "2026-02-01", "2026-05-01", "Board of Directors",
                           text="Policy text", notified_on="2026-03-15")
    clock.set("2026-04-30T23:30:00+00:00")  # 00:30 BST on 1 May: the version is in force locally
    done = policy.acknowledge(fed.ledger, fed["teacher"])
    assert done["version"] == "2026.4"
    rows = {r["staff_id"]: r for r in policy.acknowledgement_status(fed.ledger, fed["head"], "2026-05-01")}
    assert localtime.shown(rows["teacher"]["acknowledged_at"]) == "2026-05-01 00:30 BST"
    assert rows["dsl"]["outstanding_since"] == "2026-05-01"


def test_a_period_is_whole_local_days(pinned: tuple[Federation, FixedClock]) -> None:
    fed, clock = pinned
    clock.set("2026-06-02T12:00:00+00:00")
    early = report(fed, "2026-06-01T00:30", summary="just after midnight BST")  # 23:30 UTC on 31 May
    late = report(fed, "2026-06-01T23:45", summary="just before midnight BST")
    outside = report(fed, "2026-06-02T00:15", summary="the next day")
    rows = readside.timeline(fed.ledger, fed["dsl"], "review", start="2026-06-01", end="2026-06-01",
                             categories=("incident",)).rows
    found = {r["record"] for r in rows}
    assert {early, late} <= found and outside not in found
    as_of = readside.timeline(fed.ledger, fed["dsl"], "review", incident=early, as_of="2026-06-01").rows
    assert as_of == [], "recorded on 2 June, so not known by the end of 1 June"
