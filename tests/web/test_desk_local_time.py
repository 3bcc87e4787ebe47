"""The desk in local time, with the services' clock pinned in British Summer Time (and across the
October change): what a person types in a form is the federation's local time; every page shows
local time with its zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.services import people
from commands.web.app import create_app
from commands.web.desk import Settings
from ledger import config as configuration, crypto
from ledger.clock import FixedClock
from tests.conftest import Federation, build_federation, row_counts
from tests.web.conftest import Clock, Site, text_of


@pytest.fixture
def summer(tmp_path: Path) -> Iterator[tuple[Site, FixedClock]]:
    """A desk (SQLite) whose services read a clock the test sets; the ledger is built on it too."""
    clock = FixedClock("2026-05-20T09:00:00+00:00")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed: Federation = build_federation(tmp_path / "home", clock=clock)
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", "Oak Primary", "sb-pip")
        app = create_app(configuration.resolve({}, home=str(fed.home)), Settings(clock=Clock(), time_source=clock))
        app.testing = True
        try:
            yield Site(fed, app, Clock()), clock
        finally:
            app.extensions["desk"].stop()
            fed.ledger.close()


def test_a_report_typed_in_the_form_in_bst_reads_back_in_bst(summer: tuple[Site, FixedClock]) -> None:
    site, clock = summer
    clock.set("2026-06-01T13:00:00+00:00")  # 14:00 BST
    teacher = site.visitor("teacher")
    assert "Local time (Europe/London)" in text_of(teacher.get("/report"))
    response = teacher.post("/report", {"do": "report", "category": "child-on-child", "occurred_at": "2026-06-01 12:30",
                                        "precision": "exact", "source": "seen", "summary": "Summer report",
                                        "facts": "Seen at lunch", "people": "sb-pip:victim"})
    assert response.status_code == 303, response.text
    inc = re.findall(r"inc-[0-9a-f]{8}", teacher.get("/mine").text)[-1]
    page = text_of(site.visitor("dsl").read(f"/incidents/{inc}"))
    assert "Happened 2026-06-01 12:30 BST" in page
    assert "Reported 2026-06-01 14:00 BST by teacher" in page
    person = text_of(site.visitor("dsl").read("/people/sb-pip"))
    assert "Times are local time (Europe/London)" in person and "2026-06-01 12:30 BST" in person


def test_an_hour_that_happened_twice_is_refused_in_the_form_until_it_says_which(
        summer: tuple[Site, FixedClock]) -> None:
    site, clock = summer
    clock.set("2026-10-25T12:00:00+00:00")
    teacher = site.visitor("teacher")
    form = {"do": "report", "category": "child-on-child", "occurred_at": "2026-10-25 01:30", "precision": "exact",
            "source": "seen", "summary": "Night-time messages", "facts": "Messages sent at 01:30"}
    before = row_counts(site.fed)
    refused = teacher.post("/report", form)
    assert refused.status_code == 400
    assert "2026-10-25 01:30 happened twice in Europe/London" in text_of(refused)
    assert "2026-10-25 01:30 BST (the first) or 2026-10-25 01:30 GMT" in text_of(refused)
    assert 'value="2026-10-25 01:30"' in refused.text, "what was typed is kept"
    assert row_counts(site.fed) == before
    accepted = teacher.post("/report", {**form, "occurred_at": "2026-10-25 01:30 GMT"})
    assert accepted.status_code == 303, accepted.text
    inc = re.findall(r"inc-[0-9a-f]{8}", teacher.get("/mine").text)[-1]
    assert "Happened 2026-10-25 01:30 GMT" in text_of(site.visitor("dsl").read(f"/incidents/{inc}"))
