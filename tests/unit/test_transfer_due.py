"""When a child's file is due: 5 school days from the leaving, or from the first day of a new term
(which is itself school day 1)."""

from __future__ import annotations

import pytest

from commands.services.transfer import due_by


@pytest.mark.parametrize(("left_on", "new_term", "due"), [
    ("2026-11-27", None, "2026-12-04"),          # Fri: Mon..Fri after it
    ("2025-12-23", None, "2026-01-02"),          # Christmas, Boxing Day and New Year's Day skipped
    ("2026-05-21", None, "2026-05-29"),          # Thu: the late May bank holiday (25th) skipped
    ("2026-07-22", "2026-09-01", "2026-09-07"),  # Tue 1 Sept is day 1: Tue, Wed, Thu, Fri, Mon 7
    ("2026-03-27", "2026-04-13", "2026-04-17"),  # Mon 13 Apr is day 1: the fifth is Fri 17
    ("2026-03-27", "2026-04-06", "2026-04-13"),  # a term "starting" on Easter Monday: day 1 is Tue 7
])
def test_the_file_is_due_on_the_fifth_school_day(left_on: str, new_term: str | None, due: str) -> None:
    assert due_by(left_on, new_term or left_on, frozenset()) == due


def test_a_closed_first_day_of_term_is_not_school_day_1() -> None:
    import datetime as dt

    assert due_by("2026-07-22", "2026-09-01", frozenset({dt.date(2026, 9, 1)})) == "2026-09-08"
