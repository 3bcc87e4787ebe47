"""Closure days are added to (never silently replaced), a weekend or bank holiday is refused, and a
DSL is told in words who sets them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.services import transfer as service
from ledger.errors import InvalidInput, NotPermitted
from tests.conftest import Federation, module_federation, refused


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    yield from module_federation(request, tmp_path_factory, "transfer_closures")


def test_closure_days_are_added_to_and_removed_one_by_one(fed: Federation) -> None:
    assert service.set_closures(fed.ledger, fed["head"], ["2026-01-05", "2026-01-06"], "INSET") == [
        "2026-01-05", "2026-01-06"]
    assert service.set_closures(fed.ledger, fed["head"], ["2026-12-07"], "snow") == [
        "2026-01-05", "2026-01-06", "2026-12-07"], "added, not replacing the INSET days"
    assert service.set_closures(fed.ledger, fed["head"], [], "recorded in error",
                                remove=["2026-01-06"]) == ["2026-01-05", "2026-12-07"]
    refused(fed, InvalidInput, lambda: service.set_closures(fed.ledger, fed["head"], [], "x", remove=["2026-03-03"]),
            "not a closure day")


def test_a_weekend_or_bank_holiday_is_not_a_closure_day(fed: Federation) -> None:
    refused(fed, InvalidInput, lambda: service.set_closures(fed.ledger, fed["head"], ["2026-12-05"], "x"),
            r"2026-12-05 is a Saturday")
    refused(fed, InvalidInput, lambda: service.set_closures(fed.ledger, fed["head"], ["2026-12-25"], "x"),
            r"2026-12-25 is a bank holiday")


def test_a_dsl_is_told_in_words_who_sets_closure_days(fed: Federation) -> None:
    refused(fed, NotPermitted, lambda: service.set_closures(fed.ledger, fed["dsl"], ["2026-12-07"], "x"),
            r"^dsl may not set the closure days$")
