"""A day and LATE, in the federation's local time, without a database.

A ``day``-precision occurrence is signed with its local day's bounds, so LATE
(recorded more than 24 hours after the latest moment it can have happened)
is judged from the entry alone, in real hours, across a change of the clocks.
"""

from __future__ import annotations

from ledger import localtime
from ledger.domain.base import occurrence, parse_moment
from projections.checked import occurrence as checked_occurrence

LONDON = localtime.zone_named("Europe/London")


def test_the_stored_form_is_iso_utc() -> None:
    assert parse_moment("occurred-at", "2026-06-01T12:30", LONDON) == "2026-06-01T11:30:00+00:00"


def test_a_day_precision_occurrence_covers_exactly_its_local_day() -> None:
    spring = occurrence("2026-03-29", LONDON, "day")
    assert spring == {"at": "2026-03-29T00:00:00+00:00", "precision": "day", "until": "2026-03-29T23:00:00+00:00"}
    autumn = occurrence("2026-10-25", LONDON, "day")
    assert autumn == {"at": "2026-10-24T23:00:00+00:00", "precision": "day", "until": "2026-10-26T00:00:00+00:00"}


def test_late_means_more_than_24_hours_after_the_end_of_the_local_day() -> None:
    spring = {"occurred_at": occurrence("2026-03-29", LONDON, "day")}
    # The day ended at 23:00 UTC (midnight BST): 23:30 UTC the next day is too late, 22:30 is not.
    assert checked_occurrence(spring, "2026-03-30T23:30:00.000000+00:00")[3] is True
    assert checked_occurrence(spring, "2026-03-30T22:30:00.000000+00:00")[3] is False
    autumn = {"occurred_at": occurrence("2026-10-25", LONDON, "day")}
    # The day ended at 00:00 UTC on the 26th: 23:30 UTC on the 26th is still in time.
    assert checked_occurrence(autumn, "2026-10-26T23:30:00.000000+00:00")[3] is False
    assert checked_occurrence(autumn, "2026-10-27T00:30:00.000000+00:00")[3] is True


def test_late_for_an_exact_time_counts_real_hours_across_the_change() -> None:
    happened = {"occurred_at": occurrence("2026-03-28T23:30", LONDON)}  # GMT, before the change
    # Midnight BST starting 30 March is 23:00 UTC on the 29th: 23.5 hours later, so not late,
    # though the wall clocks moved on 24.5 hours.
    assert checked_occurrence(happened, "2026-03-29T23:00:00.000000+00:00")[3] is False
    assert checked_occurrence(happened, "2026-03-29T23:31:00.000000+00:00")[3] is True


def test_an_evidence_line_shows_its_capture_time_in_local_time() -> None:
    from ledger.domain.base import described
    from ledger.domain.incidents import Incident

    incident = Incident.report("inc-00000001", "child-on-child", "teacher", "staff", "seen",
                               occurrence("2026-06-01T09:00", LONDON), "s", "f", [], "2026-06-01T09:30:00+00:00")
    incident.add_evidence(attachment_id="att-1", sha256="0" * 64, size=3, filename="chat.png", captured_by="dsl",
                          captured_at=parse_moment("captured-at", "2026-06-01T10:15", LONDON), method="screenshot",
                          device="iPad", description=None, stored_sha256="1" * 64)
    added = incident.collect_events()[-1]
    assert "captured by dsl at 2026-06-01 10:15 BST by screenshot" in described(added, LONDON)
