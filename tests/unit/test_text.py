"""Text safety: what input refuses (naming the position), how output shows stored text."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import text
from ledger.domain.base import parse_birth_date, parse_date, parse_moment, require_text
from ledger.errors import InvalidInput
from ledger.localtime import zone_named

LONDON = zone_named("Europe/London")

HOSTILE = ["\x1b]0;pwned\x07", "\r", "\x9b31m", "\x7f", "\u202e", "\u2066", "\ud800", "\x00", "\u2028"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_input_refuses_control_surrogate_and_direction_characters_naming_the_position(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"summary holds U\+[0-9A-F]{4} .* at character 4"):
        require_text("summary", "abc" + bad + "def")


def test_input_keeps_tabs_and_line_breaks_and_reads_a_windows_line_break_as_one() -> None:
    assert require_text("facts", "one\ttwo\r\nthree") == "one\ttwo\nthree"


def test_input_refuses_text_longer_than_its_limit() -> None:
    with pytest.raises(InvalidInput, match="longer than 10 characters"):
        require_text("name", "x" * 11, 10)


def test_an_over_long_id_is_refused_without_echoing_it_whole() -> None:
    with pytest.raises(InvalidInput) as caught:
        text.check_id("incident id", "9" * 5000)
    assert "5000 characters" in caught.value.message and len(caught.value.message) < 120


@pytest.mark.parametrize("value", ["0001-01-01T00:00+14:00", "9999-12-31T23:59-05:00", "1899-12-31", "2200-01-01"])
def test_times_outside_a_sane_range_are_refused_not_overflowed(value: str) -> None:
    with pytest.raises(InvalidInput, match="before 1900|after 2199|not a date"):
        parse_moment("occurred-at", value, LONDON)


def test_dates_of_birth_are_neither_in_the_future_nor_before_1900() -> None:
    now = "2026-03-01"
    assert parse_birth_date("date of birth", "2015-03-02", now) == "2015-03-02"
    for bad in ("2099-01-01", "0001-01-01", "2026-03-02"):
        with pytest.raises(InvalidInput):
            parse_birth_date("date of birth", bad, now)


def test_terminal_output_shows_every_control_and_direction_character_as_an_escape() -> None:
    shown = text.shown("\x1b]0;pwned\x07\rEVIL\x9b31m a\u202eb\ud800")
    assert shown == "\\x1b]0;pwned\\x07\\rEVIL\\x9b31m a\\u202eb\\ud800"
    assert text.shown("line one\nline two", keep_newlines=True) == "line one\nline two"
    assert text.shown("café 👨\u200d👩") == "café 👨\u200d👩"


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_an_apostrophe(cell: str) -> None:
    assert str(text.csv_cell(cell)).startswith("'")


@given(st.text())
@settings(max_examples=300)
def test_shown_text_never_holds_a_character_that_moves_or_reorders_a_terminal(value: str) -> None:
    out = text.shown(value)
    for char in out:
        assert char.isprintable() or char in "\u200c\u200d" or unicodedata.category(char) == "Zs", repr(char)


@given(st.text())
@settings(max_examples=300)
def test_input_check_either_accepts_the_text_unchanged_or_names_a_position(value: str) -> None:
    try:
        assert text.check("field", value, 1000) == value
    except InvalidInput as exc:
        assert "character" in exc.message and exc.hint


@given(st.lists(st.text(), min_size=1, max_size=5))
@settings(max_examples=200)
def test_no_csv_cell_starts_a_formula_and_the_csv_reads_back(cells: list[str]) -> None:
    columns = [f"c{i}" for i in range(len(cells))]
    written = text.csv_table([dict(zip(columns, cells))], columns)
    row = next(csv.DictReader(io.StringIO(written, newline="")))
    for value in row.values():
        assert not value.startswith(text.FORMULA_STARTS)


@given(st.text(max_size=40))
def test_date_parsers_raise_only_invalid_input(value: str) -> None:
    for parse in (parse_date, lambda name, typed: parse_moment(name, typed, LONDON)):
        try:
            parse("date", value)
        except InvalidInput:
            pass
