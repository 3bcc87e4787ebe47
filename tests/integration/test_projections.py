"""Projections on both backends: exactly once, resumable, rebuildable, erasable; registers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from commands.services import approvals, incidents, people, policy, readside, retention
from ledger.errors import InvalidInput, NotFound
from projections import runner
from projections.base import metadata, positions
from projections.entries import entries, entry_links, entry_subjects
from projections.records import records
from tests.conftest import Federation, module_federation

SENTINEL = "Ottoline Quirkwhistle"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation per backend for the module, with a little of every workflow."""
    for federation in module_federation(request, tmp_path_factory, "projections"):
        _populate(federation)
        yield federation


def _populate(fed: Federation) -> None:
    ledger = fed.ledger
    pupil = people.add_subject(ledger, fed["dsl"], "pupil", SENTINEL, "2016-02-03")
    people.read_details(ledger, fed["dsl"], pupil, "checking the spelling")
    form = incidents.IncidentReport("child-on-child", "2026-01-10T08:30", "Shared a photo", "Seen in class",
                                    people=(f"{pupil}:victim",))
    inc = incidents.report(ledger, fed["teacher"], form)
    incidents.triage(ledger, fed["dsl"], inc, "safeguarding: DSL leads")


def snapshot(fed: Federation) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, in a stable order (the positions table aside)."""
    found = {}
    with fed.ledger.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table is positions:
                continue
            columns = list(table.c)
            found[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*columns))]
    return found


def event_count(fed: Federation) -> int:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_projections_catch_up_to_the_end_of_the_log_and_report_their_lag(fed: Federation) -> None:
    runner.catch_up(fed.ledger)
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Lagging Behind")
    lagging = {r["name"]: r for r in readside.projection_status(fed.ledger)}
    assert set(lagging) >= {"entries", "records", "access_log"}
    assert all(r["lag"] == 1 for r in lagging.values())
    readside.ensure_current(fed.ledger)
    current = {r["name"]: r for r in readside.projection_status(fed.ledger)}
    assert all(r["lag"] == 0 and r["position"] == r["log_end"] for r in current.values())
    with fed.ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar_one() == event_count(fed)


def test_a_rebuild_gives_identical_rows(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    before = snapshot(fed)
    assert before["proj_entries"] and before["proj_entry_subjects"] and before["proj_records"]
    runner.rebuild(fed.ledger)
    assert snapshot(fed) == before
    runner.rebuild(fed.ledger, ["records"])
    assert snapshot(fed) == before


def test_catching_up_in_small_batches_gives_the_same_rows_as_one_pass(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    before = snapshot(fed)
    runner.rebuild(fed.ledger, batch=3)
    assert snapshot(fed) == before


def test_a_crash_between_processing_and_tracking_neither_loses_nor_duplicates(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    readside.ensure_current(fed.ledger)
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "During A Crash")
    before, before_status = snapshot(fed), readside.projection_status(fed.ledger)

    def power_cut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut after processing, before tracking")

    monkeypatch.setattr(runner, "_track", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        runner.catch_up(fed.ledger)
    assert snapshot(fed) == before
    assert [r["position"] for r in readside.projection_status(fed.ledger)] == [r["position"] for r in before_status]
    monkeypatch.undo()
    runner.catch_up(fed.ledger)
    after = snapshot(fed)
    runner.rebuild(fed.ledger)
    assert after == snapshot(fed)
    assert len(after["proj_entries"]) == event_count(fed)


def test_a_killed_catch_up_process_resumes_where_it_stopped(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Killed Midway")
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Killed Midway Too")
    script = (
        "import os, sys\n"
        "from ledger import config\n"
        "from ledger.store import Ledger\n"
        "from projections import runner\n"
        "def die(*a, **k):\n"
        "    os._exit(9)\n"
        "runner._track = die\n"
        f"runner.catch_up(Ledger(config.resolve({{}}, home={str(fed.home)!r})), batch=1)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    runner.catch_up(fed.ledger)
    after = snapshot(fed)
    runner.rebuild(fed.ledger)
    assert after == snapshot(fed)


def test_two_catch_ups_at_the_same_moment_apply_each_entry_once(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    for n in range(3):
        people.add_subject(fed.ledger, fed["dsl"], "pupil", f"Concurrent {n}")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            runner.catch_up(fed.ledger, batch=2)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    after = snapshot(fed)
    runner.rebuild(fed.ledger)
    assert after == snapshot(fed)


def test_projection_rows_hold_no_personal_data_in_clear(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    assert SENTINEL not in json.dumps(snapshot(fed), default=str)


def test_rebuilding_an_unknown_projection_is_refused(fed: Federation) -> None:
    with pytest.raises(NotFound, match="no projection named nonsense"):
        readside.rebuild(fed.ledger, "nonsense")


def test_erasing_a_record_removes_its_personal_rows_and_keeps_a_bare_marker(fed: Federation) -> None:
    ledger = fed.ledger
    pupil = people.add_subject(ledger, fed["dsl"], "pupil", "To Be Forgotten")
    form = incidents.IncidentReport("safeguarding-concern", "2026-01-11T10:00", "Concern", "Facts",
                                    people=(f"{pupil}:victim",))
    inc = incidents.report(ledger, fed["teacher"], form)
    readside.ensure_current(ledger)
    with ledger.engine.connect() as conn:
        aggregate = conn.execute(select(records.c.aggregate).where(records.c.alias == inc)).scalar_one()
        ids = [n for (n,) in conn.execute(select(entries.c.notification_id).where(entries.c.aggregate == aggregate))]
        assert conn.execute(select(func.count()).select_from(entry_subjects)
                            .where(entry_subjects.c.notification_id.in_(ids))).scalar_one() > 0
    retention.erase(ledger, fed["head"], inc, "recorded-in-error", "reported against the wrong pupil")
    readside.ensure_current(ledger)
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(entry_subjects)
                            .where(entry_subjects.c.notification_id.in_(ids))).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(entry_links)
                            .where(entry_links.c.notification_id.in_(ids))).scalar_one() == 0
        marker = conn.execute(select(entries.c.claims, entries.c.erased_at, entries.c.erasure_rule)
                              .where(entries.c.aggregate == aggregate)).all()
        assert marker and all(r.claims is None and r.erased_at and r.erasure_rule for r in marker)
        row = conn.execute(select(records).where(records.c.aggregate == aggregate)).one()
        assert row.claims is None and row.status == "erased" and row.category is None
    before = snapshot(fed)
    runner.rebuild(ledger)
    assert snapshot(fed) == before


# -- registers ---------------------------------------------------------------------------


def test_the_access_register_says_who_read_what_when_and_why(fed: Federation) -> None:
    ledger = fed.ledger
    pupil = people.add_subject(ledger, fed["dsl"], "pupil", "Often Read")
    people.read_details(ledger, fed["head"], pupil, "annual review of contacts")
    rows = readside.register(ledger, fed["dsl"], "access", "audit of reads", record=pupil)
    assert [(r["reader"], r["action"], r["record"], r["why"]) for r in rows] == [
        ("head", "read", pupil, "annual review of contacts")
    ]
    mine = readside.register(ledger, fed["teacher"], "access", "my own reads", record=pupil)
    assert mine == []
    latest = readside.register(ledger, fed["dsl"], "access", "who read the access log", reader="dsl")
    assert latest[0]["why"] == "audit of reads"


def test_the_access_register_needs_a_reason_and_then_writes_nothing(fed: Federation) -> None:
    before = event_count(fed)
    with pytest.raises(InvalidInput, match="reason"):
        readside.register(fed.ledger, fed["dsl"], "access", "  ")
    assert event_count(fed) == before


def test_the_acknowledgements_register_shows_who_has_not_acknowledged_and_since_when(fed: Federation) -> None:
    ledger = fed.ledger
    try:
        policy.publish_version(ledger, fed["head"], "2025-09", "2025-08-01", "2025-09-01", "Board of Directors",
                               text="the policy")
    except Exception as exc:  # noqa: BLE001 - the module's federation may already have it
        if "already" not in str(exc):
            raise
    if not any(r["staff_id"] == "teacher" and r["acknowledged"]
               for r in readside.register(ledger, fed["head"], "acknowledgements")):
        policy.acknowledge(ledger, fed["teacher"], "2025-09")
    rows = {r["staff_id"]: r for r in readside.register(ledger, fed["head"], "acknowledgements")}
    assert rows["teacher"]["acknowledged"] and rows["teacher"]["acknowledged_at"]
    assert not rows["slt"]["acknowledged"] and rows["slt"]["outstanding_since"] >= "2025-09-01"
    own = readside.register(ledger, fed["slt"], "acknowledgements")
    assert set(rows) > {"teacher", "slt"} and [r["staff_id"] for r in own] in (["slt"], list(rows))


def test_the_approvals_register_says_what_blocks_each_pending_request(fed: Federation) -> None:
    ledger = fed.ledger
    pupil = people.add_subject(ledger, fed["dsl"], "pupil", "In A Photo")
    post = approvals.propose_post(ledger, fed["teacher"], "Sports day winners", [pupil], [], "school-facebook")
    rows = {r["id"]: r for r in readside.register(ledger, fed["head"], "approvals")}
    assert rows[post]["state"] == "pending"
    assert f"parental permission for {pupil}" in rows[post]["waiting_for"]
    assert post in {r["id"] for r in readside.register(ledger, fed["teacher"], "approvals", status="pending")}
    assert post not in {r["id"] for r in readside.register(ledger, fed["dsl"], "approvals")}


def test_the_incidents_register_lists_open_incidents_with_their_owner(fed: Federation) -> None:
    ledger = fed.ledger
    form = incidents.IncidentReport("staff-phone-use", "2026-01-12T09:00", "Phone in class", "Seen")
    inc = incidents.report(ledger, fed["teacher"], form)
    rows = {r["id"]: r for r in readside.register(ledger, fed["slt"], "incidents")}
    assert rows[inc]["status"] == "reported" and rows[inc]["category"] == "staff-phone-use"
    assert inc not in {r["id"] for r in readside.register(ledger, fed["dsl"], "incidents")}
    incidents.triage(ledger, fed["slt"], inc, "conduct")
    triaged = readside.register(ledger, fed["slt"], "incidents", status="triaged", assignee="slt")
    assert inc in {r["id"] for r in triaged}


def test_a_projection_whose_tables_changed_is_rebuilt_automatically(fed: Federation) -> None:
    readside.ensure_current(fed.ledger)
    before = snapshot(fed)
    with fed.ledger.engine.begin() as conn:
        conn.execute(positions.update().where(positions.c.name == "records").values(schema="built-by-older-code"))
        conn.execute(records.delete())
    runner.catch_up(fed.ledger)
    assert snapshot(fed) == before
    assert {r["name"]: r["lag"] for r in readside.projection_status(fed.ledger)}["records"] == 0
