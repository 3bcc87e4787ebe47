"""The strict JSON reader every stored header goes through (and the bundle verifier's)."""

from __future__ import annotations

import pytest

from ledger.canonical import MAX_DEPTH, strict_loads


def test_a_key_repeated_in_one_object_is_named() -> None:
    with pytest.raises(ValueError, match="the key 'actor' appears twice in one object"):
        strict_loads('{"claims": {"a": 1}, "actor": "head", "actor": "dsl"}')


def test_a_key_repeated_in_a_nested_object_is_named() -> None:
    with pytest.raises(ValueError, match="the key 'role' appears twice"):
        strict_loads('{"claims": {"role": "dsl", "x": [1], "role": "staff"}}')


def test_the_same_key_in_two_objects_is_not_a_repeat() -> None:
    assert strict_loads('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


def test_nesting_up_to_the_limit_is_read_and_one_more_is_refused() -> None:
    assert strict_loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels deep"):
        strict_loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_many_brackets_side_by_side_or_inside_strings_are_not_depth() -> None:
    wide = "[" + ",".join(["[{}]"] * 100) + "]"
    assert len(strict_loads(wide)) == 100
    assert strict_loads('{"text": "' + "[{" * 100 + '"}') == {"text": "[{" * 100}


def test_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        strict_loads('{"a": NaN}')
