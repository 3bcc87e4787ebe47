"""Every parser of outside input, fuzzed: it returns, or raises its one documented error.
Never a traceback of another kind, and never accepted when the input must be refused."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.services.monitoring_checks import parse_period
from ledger import canonical, checkpoint, crypto, envelope, text
from ledger.domain.base import EARLIEST, LATEST, occurrence, parse_date, parse_moment, require_text
from ledger.domain.people import check_details
from ledger.errors import InvalidInput, VerificationFailed
from ledger.localtime import zone_named

LONDON = zone_named("Europe/London")

#: Text a hostile or careless person might give: controls, direction overrides, surrogates,
#: long digit runs, dates at the edges, JSON fragments.
hostile = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("0123456789-T:+Z. \x1b\r\u202e\ud800\u0660²")),
    st.sampled_from(["0001-01-01T00:00+14:00", "9999-12-31T23:59-05:00", "9" * 5000, "2026-02-30", "",
                     "2026-01-01T25:00", "١٩٩٠-٠١-٠١", "2026-W01-1", "20260101", "+2026-01-01"]),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 3000)),
)


def _refusable(value: str) -> bool:
    return text.refused_character(value) is not None


@given(hostile)
@settings(max_examples=400)
def test_dates_and_times_are_in_range_or_refused(value: str) -> None:
    for parse in (parse_date, lambda name, typed: parse_moment(name, typed, LONDON)):
        try:
            parsed = parse("date", value)
        except InvalidInput:
            continue
        assert EARLIEST.isoformat() <= parsed[:10] <= LATEST.isoformat()
        assert not _refusable(value)


@given(hostile, st.sampled_from(["exact", "day", "approximate", "range", "x"]), st.none() | hostile)
@settings(max_examples=200)
def test_an_occurrence_is_well_formed_or_refused(at: str, precision: str, until: str | None) -> None:
    try:
        found = occurrence(at, LONDON, precision, until)
    except InvalidInput:
        return
    assert found["until"] is None or found["until"] >= found["at"]


@given(hostile)
@settings(max_examples=300)
def test_free_text_is_accepted_only_when_clean_and_bounded(value: str) -> None:
    try:
        accepted = require_text("text", value, 2000)
    except InvalidInput:
        return
    assert not _refusable(accepted) and 0 < len(accepted) <= 2000


@given(hostile)
@settings(max_examples=300)
def test_an_id_is_accepted_only_when_short_and_plain(value: str) -> None:
    try:
        accepted = text.check_id("id", value)
    except InvalidInput:
        return
    assert len(accepted) <= 64 and all(c.isalnum() or c in "-_.:" for c in accepted)


@given(hostile)
@settings(max_examples=300)
def test_strict_json_returns_or_raises_value_error(value: str) -> None:
    try:
        document = canonical.strict_loads(value)
    except ValueError:
        return
    assert json.loads(value) == document


@given(st.dictionaries(st.sampled_from(["name", "email", "school", "job_title", "notes", "date_of_birth", "x"]),
                       hostile | st.integers(), max_size=4))
@settings(max_examples=200)
def test_personal_details_are_checked_field_by_field(details: dict[str, object]) -> None:
    try:
        check_details(details)
    except InvalidInput:
        return
    assert set(details) <= {"name", "email", "school", "job_title", "notes", "date_of_birth"}
    assert all(isinstance(v, str) and not _refusable(v) for v in details.values())


@given(hostile)
@settings(max_examples=200)
def test_a_review_period_is_two_dates_in_order_or_refused(value: str) -> None:
    try:
        start, end = parse_period(value)
    except InvalidInput:
        return
    assert len(start) == len(end) == 10


KEY = crypto.new_signing_key()
NAME = "policy-ledger.local/fuzz"


@given(st.text() | st.builds(lambda body: checkpoint.sign_note(body.replace("\r", "") + "\n", NAME, KEY),
                            st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1)))
@settings(max_examples=300)
def test_a_saved_checkpoint_opens_or_raises_checkpoint_error(value: str) -> None:
    try:
        checkpoint.open_checkpoint(value, NAME, crypto.signing_public_key(KEY))
    except checkpoint.CheckpointError:
        pass


@given(st.binary() | st.builds(lambda header, rest: b"PLE1" + struct.pack(">I", len(header)) + header + rest,
                               st.binary() | hostile.map(lambda v: v.encode("utf-8", "surrogatepass")),
                               st.binary(min_size=64, max_size=100)))
@settings(max_examples=300)
def test_stored_entry_bytes_parse_or_raise_verification_failed(state: bytes) -> None:
    try:
        envelope.parse(state)
    except VerificationFailed:
        pass


@pytest.mark.parametrize("value", ['{"a": 1, "a": 2}', "[" * 100_000, '{"x": NaN}', '{"x": -Infinity}'])
def test_strict_json_refuses_repeats_depth_and_non_numbers(value: str) -> None:
    with pytest.raises(ValueError):
        canonical.strict_loads(value)
