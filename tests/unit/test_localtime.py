"""Local time without a database: what a person types, what they read, and the clocks changing.

Europe/London changes to BST at 01:00 GMT on 29 March 2026 (01:00-01:59 never
happens) and back to GMT at 02:00 BST on 25 October 2026 (01:00-01:59 happens
twice). The process's own zone (``TZ``) never matters: CI runs these under
``TZ=Etc/GMT-7`` too.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import localtime
from ledger.clock import FixedClock
from ledger.errors import InvalidInput

LONDON = localtime.zone_named("Europe/London")
UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- typed -------------------------------------------------------------------------------------------


def test_a_time_typed_in_summer_means_british_summer_time() -> None:
    assert localtime.moment("occurred-at", "2026-06-01T12:30", LONDON) == at("2026-06-01T11:30+00:00")
    assert localtime.moment("occurred-at", "2026-06-01 12:30", LONDON) == at("2026-06-01T11:30+00:00")


def test_a_time_typed_in_winter_means_greenwich_mean_time() -> None:
    assert localtime.moment("occurred-at", "2026-01-05T12:30", LONDON) == at("2026-01-05T12:30+00:00")


def test_a_time_with_an_offset_z_or_utc_keeps_it() -> None:
    for typed in ("2026-06-01T12:30+02:00", "2026-06-01T10:30Z", "2026-06-01 10:30 UTC", "2026-06-01 12:30 +02"):
        assert localtime.moment("t", typed, LONDON) == at("2026-06-01T10:30+00:00"), typed


def test_a_time_with_the_zone_as_a_page_shows_it_can_be_typed_back() -> None:
    assert localtime.moment("t", "2026-06-01 12:30 BST", LONDON) == at("2026-06-01T11:30+00:00")
    assert localtime.moment("t", "2026-01-05 12:30 gmt", LONDON) == at("2026-01-05T12:30+00:00")


def test_a_zone_the_federation_is_not_on_then_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Europe/London is on BST then, not GMT"):
        localtime.moment("t", "2026-06-01 12:30 GMT", LONDON)
    with pytest.raises(InvalidInput, match="is on GMT then, not CET"):
        localtime.moment("t", "2026-01-05 12:30 CET", LONDON)


def test_a_date_is_the_start_of_that_local_day() -> None:
    assert localtime.moment("t", "2026-06-01", LONDON) == at("2026-05-31T23:00+00:00")
    assert localtime.moment("t", "2026-01-05", LONDON) == at("2026-01-05T00:00+00:00")


@pytest.mark.parametrize("typed, message, hint", [
    ("2026-03-29T01:30", "occurred-at 2026-03-29 01:30 does not exist in Europe/London: the clocks went forward "
     "from GMT to BST then", "2026-03-29 01:30 GMT is 02:30 BST"),
    ("2026-10-25T01:30", "occurred-at 2026-10-25 01:30 happened twice in Europe/London: the clocks went back "
     "from BST to GMT then", "2026-10-25 01:30 BST (the first) or 2026-10-25 01:30 GMT (an hour later)"),
], ids=["skipped-in-march", "twice-in-october"])
def test_a_time_the_clocks_skip_or_show_twice_is_refused_naming_the_change(typed: str, message: str,
                                                                           hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        localtime.moment("occurred-at", typed, LONDON)
    assert refused.value.message == message and hint in refused.value.hint


def test_the_hour_shown_twice_is_read_once_it_says_which() -> None:
    assert localtime.moment("t", "2026-10-25 01:30 BST", LONDON) == at("2026-10-25T00:30+00:00")
    assert localtime.moment("t", "2026-10-25 01:30 GMT", LONDON) == at("2026-10-25T01:30+00:00")
    assert localtime.moment("t", "2026-10-25T01:30+00:00", LONDON) == at("2026-10-25T01:30+00:00")


def test_the_hours_either_side_of_a_change_are_read_without_fuss() -> None:
    assert localtime.moment("t", "2026-03-29T00:59", LONDON) == at("2026-03-29T00:59+00:00")
    assert localtime.moment("t", "2026-03-29T02:00", LONDON) == at("2026-03-29T01:00+00:00")
    assert localtime.moment("t", "2026-10-25T00:59", LONDON) == at("2026-10-24T23:59+00:00")
    assert localtime.moment("t", "2026-10-25T02:00", LONDON) == at("2026-10-25T02:00+00:00")


@pytest.mark.parametrize("typed", ["2026-13-01", "yesterday", "2026-06-01 12:30 BST GMT", "2026-06-01T12:30+01:00 BST",
                                   "1899-12-31T23:00", "2200-01-01", "2199-12-31T23:59-05:00", "9" * 70])
def test_anything_else_is_refused_with_the_one_error(typed: str) -> None:
    with pytest.raises(InvalidInput):
        localtime.moment("t", typed, LONDON)


# -- days ----------------------------------------------------------------------------------------------


def test_the_days_the_clocks_change_are_23_and_25_hours_long() -> None:
    spring, autumn = dt.date(2026, 3, 29), dt.date(2026, 10, 25)
    assert localtime.end_of_day(spring, LONDON) - localtime.start_of_day(spring, LONDON) == dt.timedelta(hours=23)
    assert localtime.end_of_day(autumn, LONDON) - localtime.start_of_day(autumn, LONDON) == dt.timedelta(hours=25)


def test_today_is_the_local_date_of_the_clock() -> None:
    late_evening_utc = FixedClock("2026-06-01T23:30:00+00:00")
    assert localtime.today(late_evening_utc.now(), LONDON) == "2026-06-02"
    assert localtime.today("2026-01-05T23:30:00+00:00", LONDON) == "2026-01-05"
    assert localtime.today("2026-06-01T23:30:00+00:00", localtime.zone_named("Etc/GMT+7")) == "2026-06-01"


# -- shown ---------------------------------------------------------------------------------------------


def test_a_moment_is_shown_in_local_time_with_its_zone() -> None:
    assert localtime.shown(localtime.local("2026-06-01T11:30:00+00:00", LONDON)) == "2026-06-01 12:30 BST"
    assert localtime.shown(localtime.local("2026-01-05T12:30:00+00:00", LONDON)) == "2026-01-05 12:30 GMT"
    assert localtime.shown(localtime.local("2026-10-25T00:30:00+00:00", LONDON)) == "2026-10-25 01:30 BST"
    assert localtime.shown(localtime.local("2026-10-25T01:30:00+00:00", LONDON)) == "2026-10-25 01:30 GMT"


def test_json_and_csv_give_iso_with_the_local_offset() -> None:
    assert localtime.iso(localtime.local("2026-06-01T11:30:00+00:00", LONDON)) == "2026-06-01T12:30:00+01:00"
    assert localtime.iso(localtime.local("2026-10-25T00:30:00+00:00", LONDON)) == "2026-10-25T01:30:00+01:00"
    assert localtime.iso(localtime.local("2026-10-25T01:30:00+00:00", LONDON)) == "2026-10-25T01:30:00+00:00"


@given(st.datetimes(min_value=dt.datetime(1972, 1, 1), max_value=dt.datetime(2199, 12, 30), timezones=st.just(UTC)))
@settings(max_examples=500)
def test_what_a_page_shows_types_back_as_the_same_minute(instant: dt.datetime) -> None:
    minute = instant.replace(second=0, microsecond=0)
    shown = localtime.shown(localtime.local(minute, LONDON))
    assert localtime.moment("t", shown, LONDON) == minute
    assert localtime.moment("t", localtime.iso(localtime.local(minute, LONDON)), LONDON) == minute


@given(st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2199, 12, 30)))
@settings(max_examples=500)
def test_a_typed_wall_time_is_read_or_refused_never_misread(wall: dt.datetime) -> None:
    typed = f"{wall:%Y-%m-%dT%H:%M}"
    try:
        found = localtime.moment("t", typed, LONDON)
    except InvalidInput as refused:
        assert "does not exist" in refused.message or "happened twice" in refused.message
        return
    assert f"{found.astimezone(LONDON):%Y-%m-%dT%H:%M}" == typed
