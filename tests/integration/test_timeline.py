"""The timeline on both backends: one chronology, as-of views, late flags, corrections, need-to-know."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from commands.services import incidents, monitoring, people, readside, retention
from ledger import config as configuration
from ledger import crypto
from ledger.domain.monitoring import alert_id_for
from ledger.errors import NotPermitted, InvalidInput, NotFound
from ledger.clock import iso
from tests.conftest import LONDON, Federation, build_federation, local_today, postgres_url


@dataclass
class Case:
    """One incident with a bit of everything, built once per backend."""

    fed: Federation
    pupil: str
    inc: str
    alert: str
    mid: str
    report_on: str


def _ago(**delta: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _build(fed: Federation, folder: Path) -> Case:
    ledger = fed.ledger
    pupil = people.add_subject(ledger, fed["dsl"], "pupil", "Tilly Timeline", "2015-05-05")
    alerts = folder / "alerts.csv"
    alerts.write_text(
        "time,source_system,source_record_id,user,category,severity,action,detail\n"
        f"{_ago(days=4)},smoothwall,SW-77,{pupil},social-media,medium,flagged,chat app at 22:10\n",
        encoding="utf-8",
    )
    monitoring.import_alerts(ledger, fed["admin"], alerts)
    alert = alert_id_for("smoothwall", "SW-77")
    report_on = _ago(days=3)
    form = incidents.IncidentReport("child-on-child", report_on, "Image shared in a group chat", "Seen by teacher",
                                    people=(f"{pupil}:victim",))
    inc = incidents.report(ledger, fed["teacher"], form)
    incidents.triage(ledger, fed["dsl"], inc, "safeguarding: the DSL leads")
    monitoring.link_alert(ledger, fed["dsl"], alert, inc, "same evening")
    incidents.record_action(ledger, fed["dsl"], inc, "removal-requested", "asked the platform")
    mid = iso(ledger.now())
    incidents.record_outcome(ledger, fed["dsl"], inc, "upheld", "Group chat rules broken")
    incidents.record_outcome(ledger, fed["dsl"], inc, "partly-upheld", "On review, partly upheld")
    return Case(fed, pupil, inc, alert, mid, report_on)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    folder = tmp_path_factory.mktemp("timeline")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        if request.param == "sqlite":
            fed = build_federation(folder / "home")
            yield _build(fed, folder)
            fed.ledger.close()
            return
        base = postgres_url()
        if not base:
            pytest.skip("PostgreSQL tests skipped: set LEDGER_TEST_POSTGRES_URL to run them")
        base = configuration.normalise_url(base)
        name = f"ledger_timeline_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            fed = build_federation(folder / "home", base.rsplit("/", 1)[0] + "/" + name)
            yield _build(fed, folder)
            fed.ledger.close()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def event_count(fed: Federation) -> int:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def rows_of(case: Case, who: str = "dsl", **kw: Any) -> list[dict[str, Any]]:
    kw.setdefault("incident", case.inc)
    return readside.timeline(case.fed.ledger, case.fed[who], "case review", **kw).rows


def events(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r["event"]) for r in rows]


def test_an_incident_timeline_merges_every_kind_of_record(case: Case) -> None:
    readside.timeline(case.fed.ledger, case.fed["head"], "oversight", incident=case.inc)
    rows = rows_of(case)
    kinds = set(events(rows))
    assert {"Incident.Reported", "Incident.Triaged", "Incident.ActionRecorded", "Incident.OutcomeRecorded",
            "Alert.Recorded", "Alert.Linked", "AccessRecord.Recorded"} <= kinds
    for row in rows:
        for column in ("happened_at", "precision", "recorded_at", "recorded_by", "role", "source", "what", "ref"):
            assert row[column], (column, row)
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["recorded_by"] == "teacher" and reported["role"] == "staff"
    assert "Image shared in a group chat" in reported["what"] and reported["status"] == "shown"
    assert next(r for r in rows if r["event"] == "Alert.Recorded")["source"] == "Alert (smoothwall)"
    assert next(r for r in rows if r["event"] == "Incident.ActionRecorded")["action"] == "removal-requested"
    access = [r for r in rows if r["event"] == "AccessRecord.Recorded"]
    assert "head" in {r["recorded_by"] for r in access}, "an earlier read of the timeline is itself on it"


def test_rows_follow_when_things_happened_not_when_they_were_recorded(case: Case) -> None:
    order = events(rows_of(case))
    assert order.index("Alert.Recorded") < order.index("Incident.Reported") < order.index("Incident.Triaged")


def test_a_record_made_more_than_a_day_after_the_event_is_flagged_late(case: Case) -> None:
    rows = {r["event"]: r for r in rows_of(case)}
    assert rows["Incident.Reported"]["late"] and "days later" in rows["Incident.Reported"]["recorded_after"]
    assert rows["Incident.Reported"]["precision"] == "exact"
    assert rows["Incident.Reported"]["happened_at"] == dt.datetime.fromisoformat(case.report_on)
    assert rows["Incident.Reported"]["happened_at"].tzinfo == LONDON
    assert not rows["Incident.Triaged"]["late"] and rows["Incident.Triaged"]["precision"] == "recorded"


def test_the_as_of_view_excludes_everything_recorded_later(case: Case) -> None:
    rows = rows_of(case, as_of=case.mid)
    assert "Incident.OutcomeRecorded" not in events(rows)
    assert {"Incident.Reported", "Incident.ActionRecorded", "Alert.Linked"} <= set(events(rows))
    assert all(r["recorded_at"] <= dt.datetime.fromisoformat(case.mid) for r in rows)
    day_before = rows_of(case, as_of=local_today(-5))
    assert day_before == [] or all(r["recorded_at"].date().isoformat() <= local_today(-5) for r in day_before)


def test_a_correction_is_shown_right_below_what_it_corrects(case: Case) -> None:
    rows = rows_of(case)
    outcomes = [i for i, r in enumerate(rows) if r["event"] == "Incident.OutcomeRecorded"]
    first, second = rows[outcomes[0]], rows[outcomes[1]]
    assert outcomes[1] == outcomes[0] + 1
    assert second["corrects"] == first["ref"] and first["corrected_by"] == second["ref"]
    assert "partly-upheld" in second["what"]


def test_only_readers_of_a_record_open_its_chronology(case: Case) -> None:
    before = event_count(case.fed)
    for who, ref in (("teacher", {"incident": case.inc}), ("teacher", {"incident": None, "person": case.pupil}),
                     ("admin", {"incident": case.inc})):
        with pytest.raises(NotPermitted, match="may not read the chronology of"):
            rows_of(case, who, **ref)
    assert event_count(case.fed) == before


def test_entries_a_reader_may_not_open_are_withheld_with_no_clear_facts(federation: Federation) -> None:
    fed = federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pat Pupil")
    allegation = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "personal-social-media", _ago(days=2), "Comment about a pupil", "Seen online",
        people=(f"{pupil}:victim", "teacher:alleged"), against_staff=True))
    incidents.triage(fed.ledger, fed["head"], allegation, "allegation: the Headteacher leads")
    incidents.record_action(fed.ledger, fed["head"], allegation, "lado-referral", "called the LADO")
    rows = readside.timeline(fed.ledger, fed["dsl"], "case review", person=pupil).rows
    theirs = [r for r in rows if str(r["record"]) == allegation]
    assert theirs and all(r["status"] == "withheld" for r in theirs)
    assert all(r["action"] == "" and r["outcome"] == "" for r in theirs), "no clear facts of what they may not read"
    assert "Comment about a pupil" not in str(rows)


def test_every_timeline_read_is_recorded_in_the_access_log(case: Case) -> None:
    ledger = case.fed.ledger
    found = readside.timeline(ledger, case.fed["dsl"], "strategy meeting", incident=case.inc)
    log = readside.register(ledger, case.fed["head"], "access", "checking reads", reader="dsl")
    reads = [r for r in log if r["why"] == "strategy meeting"]
    assert {r["record"] for r in reads} >= {case.inc, case.alert}
    assert len({r["access_record"] for r in reads}) == 1
    assert case.pupil in found.subjects


def test_a_timeline_needs_a_reason_and_one_selection_and_then_writes_nothing(case: Case) -> None:
    ledger, dsl = case.fed.ledger, case.fed["dsl"]
    before = event_count(case.fed)
    with pytest.raises(InvalidInput, match="reason"):
        readside.timeline(ledger, dsl, " ", incident=case.inc)
    with pytest.raises(InvalidInput, match="choose one"):
        readside.timeline(ledger, dsl, "x", incident=case.inc, person=case.pupil)
    with pytest.raises(InvalidInput, match="choose one"):
        readside.timeline(ledger, dsl, "x")
    with pytest.raises(InvalidInput, match="both"):
        readside.timeline(ledger, dsl, "x", start="2026-01-01")
    with pytest.raises(NotFound, match="inc-00000000"):
        readside.timeline(ledger, dsl, "x", incident="inc-00000000")
    assert event_count(case.fed) == before


def test_a_person_timeline_holds_every_entry_of_every_record_about_them(case: Case) -> None:
    rows = rows_of(case, incident=None, person=case.pupil, as_of=case.mid)
    assert {"Subject.Registered", "Incident.Reported", "Alert.Recorded"} <= set(events(rows))
    # the DSL's own work on the child's incident is part of the child's chronology
    assert {"Incident.Triaged", "Incident.ActionRecorded", "Alert.Linked"} <= set(events(rows))
    assert "Incident.OutcomeRecorded" not in events(rows), "recorded after --as-of"


def test_a_period_timeline_can_keep_to_some_categories(case: Case) -> None:
    start, end = local_today(-5), local_today(1)
    alerts = rows_of(case, incident=None, start=start, end=end, categories=("monitoring",), as_of=case.mid)
    assert alerts and set(events(alerts)) <= {"Alert.Recorded", "Alert.Linked", "ImportBatch.Imported"}
    both = rows_of(case, incident=None, start=start, end=end, categories=("incident", "child-on-child"),
                   as_of=case.mid)
    assert "Incident.Reported" in events(both) and "Alert.Recorded" not in events(both)
    assert all(start <= r["happened_at"].date().isoformat() <= end for r in both)


def test_an_erased_record_shows_as_erased_with_its_ground(case: Case) -> None:
    ledger, fed = case.fed.ledger, case.fed
    form = incidents.IncidentReport("safeguarding-concern", _ago(hours=2), "Wrong pupil", "Recorded in error",
                                    people=(f"{case.pupil}:victim",))
    wrong = incidents.report(ledger, fed["teacher"], form)
    retention.erase(ledger, fed["head"], wrong, "recorded-in-error", "reported against the wrong pupil")
    rows = rows_of(case, incident=wrong)
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["status"] == "erased" and "erased on" in reported["what"]
    assert "ground:recorded-in-error" in reported["what"] and "Wrong pupil" not in str(rows)
    assert "Erasure.Recorded" in events(rows)
    assert wrong not in {r["record"] for r in rows_of(case, incident=None, person=case.pupil)}


def test_an_undone_link_is_shown_beside_the_link_it_corrects(case: Case) -> None:
    ledger, fed = case.fed.ledger, case.fed
    form = incidents.IncidentReport("safeguarding-concern", _ago(hours=1), "Linked by mistake", "Facts")
    other = incidents.report(ledger, fed["teacher"], form)
    monitoring.link_alert(ledger, fed["dsl"], case.alert, other)
    monitoring.unlink_alert(ledger, fed["dsl"], case.alert, other, "wrong incident")
    rows = rows_of(case, incident=other)
    kinds = events(rows)
    linked = [i for i, k in enumerate(kinds) if k == "Alert.Linked" and rows[i]["corrected_by"]]
    assert len(linked) == 1
    undo = rows[linked[0] + 1]
    assert undo["event"] == "Alert.Unlinked" and undo["corrects"] == rows[linked[0]]["ref"]
