"""School days for KCSIE's "within 5 days": weekdays, minus England's bank holidays, minus closures."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import schooldays

D = dt.date.fromisoformat


@pytest.mark.parametrize(("left", "closures", "due"), [
    ("2026-03-06", (), "2026-03-13"),                          # a Friday: the next Friday
    ("2026-03-09", (), "2026-03-16"),                          # a Monday: the next Monday
    ("2026-04-02", (), "2026-04-13"),                          # Good Friday and Easter Monday do not count
    ("2026-04-02", ("2026-04-07", "2026-04-08"), "2026-04-15"),  # nor do recorded closure days
    ("2026-12-24", (), "2027-01-05"),                          # Christmas, Boxing Day (observed), New Year
    ("2026-05-22", (), "2026-06-01"),                          # the spring bank holiday
])
def test_the_file_is_due_five_school_days_after_leaving(left: str, closures: tuple[str, ...], due: str) -> None:
    assert schooldays.add_school_days(D(left), 5, {D(c) for c in closures}) == D(due)


def test_school_days_between_counts_what_add_school_days_adds() -> None:
    start = D("2026-12-18")
    for count in range(0, 12):
        end = schooldays.add_school_days(start, count)
        assert schooldays.school_days_between(start, end) == count


def test_a_weekend_and_a_bank_holiday_are_not_school_days() -> None:
    assert not schooldays.is_school_day(D("2026-03-07"))
    assert not schooldays.is_school_day(D("2026-08-31"))
    assert schooldays.is_school_day(D("2026-09-01"))
    assert not schooldays.is_school_day(D("2026-09-01"), {D("2026-09-01")})
    with pytest.raises(ValueError):
        schooldays.add_school_days(D("2026-09-01"), -1)
