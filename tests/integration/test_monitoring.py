"""Monitoring on both backends: atomic, idempotent imports; need-to-know; links; checks."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eventsourcing.domain import Aggregate
from sqlalchemy import select

from commands.services import monitoring as service
from commands.services import monitoring_checks as checks
from commands.services import people, retention
from ledger import envelope
from ledger.domain.base import record_id
from ledger.domain.monitoring import alert_id_for, alert_record_id, import_batch_key_id
from ledger.errors import InvalidInput, NotFound, NotPermitted, RecordErased, RuleViolation
from ledger.schema import data_keys, key_wraps
from ledger.store import Actor
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import Federation, local_today, module_federation, refused, row_counts
from tests.data.generate_alerts import alerts, write

DATA = Path(__file__).parent.parent / "data"
SENTINEL = "Zebedee Quillfeather"


class Incident(Aggregate):
    """Stands in for an incident: monitoring only needs its aggregate id to exist."""

    class Reported(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("inc_id",)
        inc_id: str
        record_class: str

    @staticmethod
    def create_id(inc_id: str) -> uuid.UUID:
        return record_id("incident", inc_id)

    def __init__(self, inc_id: str) -> None:
        self.inc_id = inc_id


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation per backend for this module: each test imports its own
    alerts (its own seed or source), and each refusal is checked to write nothing."""
    for federation in module_federation(request, tmp_path_factory, "monitoring"):
        people.add_subject(federation.ledger, federation["dsl"], "pupil", "Sam Sample", subject_id="sb-sample01")
        yield federation






def alert_file(tmp_path: Path, rows: int, seed: int, name: str = "alerts.csv", **kwargs: Any) -> Path:
    path = tmp_path / name
    write(path, alerts(rows, seed, **kwargs))
    return path


def headers(fed: Federation, event: str) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(select(table.c.state).where(table.c.topic.endswith(f":{event}")).order_by(table.c.id))
        return [envelope.parse(bytes(s)).header for (s,) in rows]


def report(fed: Federation, inc_id: str) -> str:
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        work.save(Incident._create(Incident.Reported, inc_id=inc_id, record_class="incident"))
    return inc_id


def imported_alert(fed: Federation, tmp_path: Path, seed: int) -> str:
    service.import_alerts(fed.ledger, fed["admin"], alert_file(tmp_path, 1, seed))
    return alert_id_for("smoothwall", f"SM-{seed}-0000000")


# -- importing ------------------------------------------------------------------


def test_a_csv_import_keeps_only_pseudonymous_facts_in_clear_headers(fed: Federation) -> None:
    done = service.import_alerts(fed.ledger, fed["admin"], DATA / "monitoring-alerts.csv")
    assert (done.rows, done.new_alerts, done.already_recorded, done.duplicates) == (4, 4, 0, 0)
    assert done.batch_id is not None
    recorded = {h["claims"]["alert_id"]: h for h in headers(fed, "Alert.Recorded")}
    bullying = recorded[alert_id_for("smoothwall", "SW-20250303-0002")]
    assert bullying["claims"]["user_id"] == "sb-sample01" and bullying["subjects"] == ["sb-sample01"]
    assert bullying["claims"]["category"] == "bullying" and bullying["occurred_at"]["at"] == "2025-03-03T10:41:00+00:00"
    gambling = recorded[alert_id_for("smoothwall", "SW-20250303-0003")]
    assert gambling["claims"]["user_id"] is None and gambling["subjects"] == []
    assert recorded[alert_id_for("smoothwall", "SW-20250303-0004" [:-1] + "1".replace("1", "1"))] if False else True
    staff = recorded[alert_id_for("smoothwall", "SW-20250304-0001")]
    assert staff["claims"]["user_id"] == "teacher" and staff["subjects"] == ["teacher"]
    clear = json.dumps(list(recorded.values()))
    for personal in ("jsmith22", "OAK-LAPTOP", "ELM-DESK", "betting", "Social Networking", "SW-2025"):
        assert personal not in clear
    batch = headers(fed, "ImportBatch.Imported")[-1]
    assert batch["claims"]["batch_id"] == done.batch_id and "monitoring-alerts.csv" not in json.dumps(batch)


def test_a_json_lines_import_normalises_categories_and_numeric_ids(fed: Federation) -> None:
    done = service.import_alerts(fed.ledger, fed["admin"], DATA / "monitoring-alerts.jsonl")
    assert (done.rows, done.new_alerts) == (3, 3)
    shown = service.show_alert(fed.ledger, fed["dsl"], alert_id_for("senso", "88121"), "checking the import")
    assert (shown["category"], shown["severity"], shown["user_id"]) == ("self-harm", "critical", "sb-sample01")
    assert shown["detail"] == "searched for ways to hurt myself"


def test_importing_the_same_file_twice_adds_nothing(fed: Federation, tmp_path: Path) -> None:
    path = alert_file(tmp_path, 20, seed=101)
    assert service.import_alerts(fed.ledger, fed["admin"], path).new_alerts == 20
    before = row_counts(fed)
    again = service.import_alerts(fed.ledger, fed["admin"], path)
    assert (again.batch_id, again.new_alerts, again.already_recorded) == (None, 0, 20)
    assert row_counts(fed) == before


def test_overlapping_exports_add_only_the_new_alerts(fed: Federation, tmp_path: Path) -> None:
    rows = list(alerts(30, seed=102))
    first, second = tmp_path / "first.csv", tmp_path / "second.jsonl"
    write(first, iter(rows[:20]))
    write(second, iter(rows[10:]))
    service.import_alerts(fed.ledger, fed["admin"], first)
    done = service.import_alerts(fed.ledger, fed["admin"], second)
    assert (done.rows, done.new_alerts, done.already_recorded) == (20, 10, 10)
    ours = [a for a in service.list_alerts(fed.ledger) if a["id"] in {alert_id_for("smoothwall", r["source_record_id"]) for r in rows}]
    assert len(ours) == 30


def test_rows_repeated_within_a_file_are_recorded_once(fed: Federation, tmp_path: Path) -> None:
    rows = list(alerts(3, seed=103))
    path = tmp_path / "repeats.csv"
    write(path, iter(rows + [dict(rows[1], detail="a second copy"), dict(rows[2], source_system="SmoothWall")]))
    done = service.import_alerts(fed.ledger, fed["admin"], path)
    assert (done.rows, done.new_alerts, done.duplicates) == (5, 3, 2)
    shown = service.show_alert(fed.ledger, fed["dsl"], alert_id_for("smoothwall", rows[1]["source_record_id"]), "t")
    assert shown["detail"] == rows[1]["detail"]


BAD_ROWS = [
    ({"time": "yesterday"}, "column time: 'yesterday' is not an ISO 8601 time"),
    ({"time": "2025-01-06T08:00:00"}, "column time: '2025-01-06T08:00:00' has no time zone"),
    ({"time": "2999-01-01T00:00:00Z"}, "column time: '2999-01-01T00:00:00Z' is in the future"),
    ({"severity": "urgent"}, "column severity: 'urgent' is not a known severity"),
    ({"category": "games"}, "column category: 'games' is not a known category"),
    ({"action": "quarantined"}, "column action: 'quarantined' is not a known action"),
    ({"source_system": "Smooth Wall!"}, "column source_system: source system 'smooth wall!' is not usable"),
    ({"source_record_id": ""}, "column source_record_id: is empty"),
    ({"detail": "x" * 10_001}, "column detail: is longer than 10000 characters"),
    ({"user": "bad\x07byte"}, "column user: holds U+0007 CONTROL CHARACTER at character 4"),
    ({"user": "bad\x9bbyte"}, "column user: holds U+009B CONTROL CHARACTER at character 4"),
    ({"detail": "del\x7f"}, "column detail: holds U+007F CONTROL CHARACTER at character 4"),
    ({"rule": "a\u202eb"}, "column rule: holds U+202E RIGHT-TO-LEFT OVERRIDE at character 2"),
    ({"detail": "over\rwritten"}, "column detail: holds U+000D CONTROL CHARACTER at character 5"),
]


def test_a_bad_row_rejects_the_whole_file_naming_line_and_column(fed: Federation, tmp_path: Path) -> None:
    for n, (change, message) in enumerate(BAD_ROWS):
        rows = list(alerts(5, seed=200 + n))
        rows[3] = dict(rows[3], **change)
        path = tmp_path / f"bad{n}.csv"
        write(path, iter(rows))
        refused(fed, InvalidInput, lambda: service.import_alerts(fed.ledger, fed["admin"], path),
                match="^" + re.escape(f"{path}, line 5, {message}"))
    seen = {a["id"] for a in service.list_alerts(fed.ledger)}
    assert alert_id_for("smoothwall", "SM-200-0000000") not in seen


def test_a_file_with_an_unknown_column_or_missing_one_is_refused(fed: Federation, tmp_path: Path) -> None:
    path = tmp_path / "columns.csv"
    path.write_text("time,source_system,source_record_id,category,severity,action,password\n")
    refused(fed, InvalidInput, lambda: service.import_alerts(fed.ledger, fed["admin"], path),
            match="line 1: unknown column 'password'")
    path.write_text("time,source_system,category,severity,action\n")
    refused(fed, InvalidInput, lambda: service.import_alerts(fed.ledger, fed["admin"], path),
            match="line 1: missing column\\(s\\) source_record_id")
    path.write_text("time,source_system,source_record_id,category,severity,action\n")
    refused(fed, InvalidInput, lambda: service.import_alerts(fed.ledger, fed["admin"], path), match="holds no alerts")


def test_a_time_without_a_zone_is_read_in_the_zone_given(fed: Federation, tmp_path: Path) -> None:
    path = alert_file(tmp_path, 1, seed=104, start="2025-06-02T09:30:00")
    service.import_alerts(fed.ledger, fed["admin"], path, assume_zone="Europe/London")
    shown = service.show_alert(fed.ledger, fed["dsl"], alert_id_for("smoothwall", "SM-104-0000000"), "t")
    assert shown["time"].isoformat() == "2025-06-02T09:30:00+01:00"
    assert shown["time"] == dt.datetime.fromisoformat("2025-06-02T08:30:00+00:00")


@pytest.mark.parametrize("who", ["dsl", "slt", "teacher", "auditor", "investigator", "poster"])
def test_only_the_it_manager_or_headteacher_may_import(fed: Federation, tmp_path: Path, who: str) -> None:
    path = alert_file(tmp_path, 3, seed=105)
    refused(fed, NotPermitted, lambda: service.import_alerts(fed.ledger, fed[who], path), match="import batch: imported")


def test_an_import_costs_a_handful_of_public_key_wraps_and_each_alert_has_its_own_key(
    fed: Federation, tmp_path: Path
) -> None:
    before = row_counts(fed)
    done = service.import_alerts(fed.ledger, fed["head"], alert_file(tmp_path, 50, seed=106))
    batch = headers(fed, "ImportBatch.Imported")[-1]
    with fed.ledger.engine.connect() as conn:
        batch_key = conn.execute(
            select(data_keys.c.key_id).where(data_keys.c.record_id == str(import_batch_key_id(str(done.batch_id))))
        ).scalar_one()
        recipients = sorted(conn.execute(select(key_wraps.c.recipient).where(key_wraps.c.key_id == batch_key)).scalars())
        children = conn.execute(select(data_keys.c.key_id).where(data_keys.c.parent_key_id == batch_key)).scalars().all()
        child_wraps = set(conn.execute(select(key_wraps.c.recipient).where(key_wraps.c.key_id.in_(children))).scalars())
    assert batch["claims"]["alert_key_id"] == batch_key and batch["data_key"] != batch_key
    assert recipients == ["recovery", "role:admin", "role:dsl", "role:headteacher"]
    assert len(set(children)) == 50 and child_wraps == {f"parent:{batch_key}"}
    # 50 alert keys + the batch key + the batch record's key; 4 + 4 public-key wraps.
    after = row_counts(fed)
    assert (after["data_keys"], after["key_wraps"]) == (before["data_keys"] + 52, before["key_wraps"] + 58)


def test_erasing_the_import_batch_record_leaves_its_alerts_readable(fed: Federation, tmp_path: Path) -> None:
    done = service.import_alerts(fed.ledger, fed["admin"], alert_file(tmp_path, 2, seed=120))
    retention.erase(fed.ledger, fed["head"], str(record_id("import-batch", str(done.batch_id))), "recorded-in-error",
                    "the file name named a pupil")
    alert_id = alert_id_for("smoothwall", "SM-120-0000001")
    assert service.show_alert(fed.ledger, fed["dsl"], alert_id, "t")["id"] == alert_id


def test_erasing_one_alert_leaves_the_rest_of_the_batch_readable(fed: Federation, tmp_path: Path) -> None:
    service.import_alerts(fed.ledger, fed["admin"], alert_file(tmp_path, 3, seed=107))
    gone, kept = (alert_id_for("smoothwall", f"SM-107-000000{n}") for n in (0, 1))
    retention.erase(fed.ledger, fed["head"], str(alert_record_id(gone)), "recorded-in-error", "not needed")
    with pytest.raises(RecordErased, match=f"alert {gone} was erased"):
        service.show_alert(fed.ledger, fed["dsl"], gone, "t")
    assert service.show_alert(fed.ledger, fed["dsl"], kept, "t")["id"] == kept


# -- reading -------------------------------------------------------------------


def test_monitoring_readers_see_an_alert_and_the_read_is_logged(fed: Federation, tmp_path: Path) -> None:
    path = alert_file(tmp_path, 1, seed=108, users=("sb-sample01",))
    service.import_alerts(fed.ledger, fed["admin"], path)
    alert_id = alert_id_for("smoothwall", "SM-108-0000000")
    for who in ("admin", "dsl", "head"):
        logged = len(headers(fed, "AccessRecord.Recorded"))
        assert service.show_alert(fed.ledger, fed[who], alert_id, "weekly check")["user"] == "sb-sample01"
        access = headers(fed, "AccessRecord.Recorded")
        assert len(access) == logged + 1
        assert access[-1]["subjects"] == ["sb-sample01"]
        assert access[-1]["claims"]["records"] == [str(alert_record_id(alert_id))]


@pytest.mark.parametrize("who", ["slt", "teacher", "auditor", "investigator", "poster"])
def test_roles_that_may_not_read_monitoring_cannot_see_an_alert(fed: Federation, tmp_path: Path, who: str) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=109)
    refused(fed, NotPermitted, lambda: service.show_alert(fed.ledger, fed[who], alert_id, "curious"),
            match=f"{who} may not read alert")


def test_showing_needs_a_reason_and_an_existing_alert(fed: Federation, tmp_path: Path) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=110)
    refused(fed, InvalidInput, lambda: service.show_alert(fed.ledger, fed["dsl"], alert_id, "  "), match="reason")
    refused(fed, NotFound, lambda: service.show_alert(fed.ledger, fed["dsl"], "al-0000000000000000", "t"))


def test_the_alert_list_holds_no_personal_data(fed: Federation, tmp_path: Path) -> None:
    path = alert_file(tmp_path, 2, seed=111, users=(SENTINEL,))
    service.import_alerts(fed.ledger, fed["admin"], path)
    listing = service.list_alerts(fed.ledger)
    assert SENTINEL not in json.dumps(listing, default=str) and "LAPTOP" not in json.dumps(listing, default=str)
    assert set(listing[0]) == {"id", "time", "source", "category", "severity", "action", "incidents", "erased",
                               "dismissed", "school"}


def test_the_alert_list_filters_by_category_severity_time_and_link(fed: Federation, tmp_path: Path) -> None:
    path = alert_file(tmp_path, 40, seed=112, start="2024-02-01T00:00:00+00:00", source="filterlab")
    service.import_alerts(fed.ledger, fed["admin"], path)
    ours = [a for a in service.list_alerts(fed.ledger) if a["source"] == "filterlab"]
    high = [a for a in service.list_alerts(fed.ledger, severity="high") if a["source"] == "filterlab"]
    assert high and high == [a for a in ours if a["severity"] == "high"]
    window = service.list_alerts(fed.ledger, since="2024-02-01T00:10:00Z", until="2024-02-01T00:19:00Z")
    assert len([a for a in window if a["source"] == "filterlab"]) == 10
    inc = report(fed, "inc-list0001")
    service.link_alert(fed.ledger, fed["dsl"], ours[0]["id"], inc)
    assert [a["id"] for a in service.list_alerts(fed.ledger, incident=inc)] == [ours[0]["id"]]
    assert ours[0]["id"] not in {a["id"] for a in service.list_alerts(fed.ledger, unlinked=True)}


# -- linking -------------------------------------------------------------------


def test_an_alert_linked_to_an_incident_carries_the_incident_id_in_clear(fed: Federation, tmp_path: Path) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=113)
    inc = report(fed, "inc-link0001")
    service.link_alert(fed.ledger, fed["dsl"], alert_id, inc, note=SENTINEL)
    linked = headers(fed, "Alert.Linked")[-1]
    assert linked["claims"] == {"incident_id": inc} and SENTINEL not in json.dumps(linked)
    assert service.show_alert(fed.ledger, fed["head"], alert_id, "t")["incidents"] == inc


def test_linking_to_an_incident_that_does_not_exist_is_refused(fed: Federation, tmp_path: Path) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=114)
    refused(fed, NotFound, lambda: service.link_alert(fed.ledger, fed["dsl"], alert_id, "inc-nothere1"),
            match="no incident 'inc-nothere1'")
    refused(fed, InvalidInput, lambda: service.link_alert(fed.ledger, fed["dsl"], alert_id, "inc 1; drop"))


def test_an_alert_cannot_be_linked_twice_to_the_same_incident(fed: Federation, tmp_path: Path) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=115)
    inc = report(fed, "inc-twice001")
    service.link_alert(fed.ledger, fed["admin"], alert_id, inc)
    refused(fed, RuleViolation, lambda: service.link_alert(fed.ledger, fed["dsl"], alert_id, inc), match="already linked")


@pytest.mark.parametrize("who", ["slt", "teacher", "investigator"])
def test_only_those_who_can_read_an_alert_can_link_it(fed: Federation, tmp_path: Path, who: str) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=116)
    inc = report(fed, f"inc-who-{who[:4]}")
    refused(fed, NotPermitted, lambda: service.link_alert(fed.ledger, fed[who], alert_id, inc), match="may not read")


def test_a_wrong_link_is_corrected_by_unlinking_with_a_reason(fed: Federation, tmp_path: Path) -> None:
    alert_id = imported_alert(fed, tmp_path, seed=117)
    inc = report(fed, "inc-unlink01")
    refused(fed, RuleViolation, lambda: service.unlink_alert(fed.ledger, fed["dsl"], alert_id, inc, "wrong"),
            match="is not linked")
    service.link_alert(fed.ledger, fed["dsl"], alert_id, inc)
    refused(fed, InvalidInput, lambda: service.unlink_alert(fed.ledger, fed["dsl"], alert_id, inc, " "))
    service.unlink_alert(fed.ledger, fed["dsl"], alert_id, inc, "it was a different pupil's laptop")
    assert service.list_alerts(fed.ledger, incident=inc) == []
    assert headers(fed, "Alert.Unlinked")[-1]["claims"] == {"incident_id": inc}


# -- decisions and reviews -----------------------------------------------------


def test_a_block_decision_keeps_its_target_and_reason_encrypted(fed: Federation) -> None:
    check_id = checks.record_decision(fed.ledger, fed["slt"], "block", f"instagram.com/{SENTINEL}",
                                      "personal social media", category="social-media")
    row = next(r for r in checks.list_decisions(fed.ledger) if r["id"] == check_id)
    assert (row["kind"], row["category"], row["decided_by"]) == ("block", "social-media", "slt")
    assert SENTINEL not in json.dumps(headers(fed, "FilterDecision.Recorded"))
    shown = checks.show_decision(fed.ledger, fed["head"], check_id, "annual review")
    assert shown["target"] == f"instagram.com/{SENTINEL}"
    refused(fed, NotPermitted, lambda: checks.show_decision(fed.ledger, fed["dsl"], check_id, "t"),
            match="may not read filtering decision")


@pytest.mark.parametrize("who", ["teacher", "auditor", "poster", "investigator"])
def test_only_leaders_and_the_it_manager_record_filtering_decisions(fed: Federation, who: str) -> None:
    refused(fed, NotPermitted, lambda: checks.record_decision(fed.ledger, fed[who], "allow", "bbc.co.uk", "news"))


def test_illegal_content_can_never_be_allowed(fed: Federation) -> None:
    for category in ("child-sexual-abuse", "terrorism"):
        refused(fed, RuleViolation, lambda: checks.record_decision(
            fed.ledger, fed["head"], "allow", "research", "teaching", category=category), match="must always be blocked")


def test_a_decision_supersedes_an_existing_decision_only_once(fed: Federation) -> None:
    first = checks.record_decision(fed.ledger, fed["admin"], "block", "youtube.com", "distraction")
    second = checks.record_decision(fed.ledger, fed["head"], "allow", "youtube.com", "teaching videos", supersedes=first)
    rows = {r["id"]: r for r in checks.list_decisions(fed.ledger)}
    assert rows[first]["superseded_by"] == second and rows[second]["supersedes"] == first
    refused(fed, RuleViolation, lambda: checks.record_decision(
        fed.ledger, fed["head"], "block", "youtube.com", "again", supersedes=first), match="already superseded")
    refused(fed, NotFound, lambda: checks.record_decision(
        fed.ledger, fed["head"], "block", "x", "y", supersedes="mc-missing0"))


def test_a_review_records_its_period_and_outcome_and_when_the_next_is_due(fed: Federation) -> None:
    review_id = checks.record_review(fed.ledger, fed["dsl"], "2024-09-01..2025-08-31", "effective",
                                     f"tested filtering; {SENTINEL} checked alerts")
    row = next(r for r in checks.list_reviews(fed.ledger) if r["id"] == review_id)
    assert (row["period_start"], row["period_end"], row["outcome"], row["reviewed_by"]) == (
        "2024-09-01", "2025-08-31", "effective", "dsl")
    assert row["next_due"] == (row["reviewed_at"].date() + dt.timedelta(days=365)).isoformat()
    assert SENTINEL not in json.dumps(headers(fed, "FilteringReview.Recorded"))
    assert SENTINEL in checks.show_review(fed.ledger, fed["admin"], review_id, "governors' report")["findings"]
    refused(fed, NotFound, lambda: checks.show_decision(fed.ledger, fed["admin"], review_id, "t"),
            match="is not a filtering decision")


def test_a_review_that_finds_changes_needed_says_what_they_are(fed: Federation) -> None:
    refused(fed, RuleViolation, lambda: checks.record_review(
        fed.ledger, fed["head"], "2024-01-01..2024-12-31", "changes-needed", "gaps found"), match="says what they are")
    assert checks.record_review(fed.ledger, fed["head"], "2024-01-01..2024-12-31", "changes-needed", "gaps found",
                                actions="IT manager adds the gambling category by Friday").startswith("mr-")


def test_a_review_period_must_be_real_and_over(fed: Federation) -> None:
    tomorrow = local_today(1)
    for period, error, match in (
        ("2024", InvalidInput, "START..END"),
        ("2024-13-01..2024-12-31", InvalidInput, "not a date"),
        ("2024-12-31..2024-01-01", InvalidInput, "ends before it starts"),
        (f"2024-09-01..{tomorrow}", RuleViolation, "not happened yet"),
    ):
        refused(fed, error, lambda: checks.record_review(fed.ledger, fed["head"], period, "effective", "ok"),
                match=match)
    refused(fed, NotPermitted, lambda: checks.record_review(
        fed.ledger, fed["teacher"], "2024-01-01..2024-12-31", "effective", "ok"))


# -- the whole ledger ----------------------------------------------------------


def test_the_ledger_verifies_after_monitoring_writes(fed: Federation, tmp_path: Path) -> None:
    imported_alert(fed, tmp_path, seed=118)
    with fed.ledger.engine.connect() as conn:
        result = verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path),
                        keyring=fed["dsl"].keyring)
    assert result.ok, result.as_dict()


def test_the_demo_chapter_walks_through_every_workflow(fed: Federation) -> None:
    actors: dict[str, Actor] = {"it-manager": fed["admin"], "dsl": fed["dsl"], "head": fed["head"]}
    report(fed, "inc-demo0001")
    lines = list(service.demo_chapter(fed.ledger, actors, {"pupil1": "sb-sample01"}))
    assert len(lines) == 6 and "0 new, 3 already recorded" in lines[1] and "linked alert" in lines[2]


def test_no_personal_data_from_an_import_is_in_the_sqlite_files_in_clear(
    sqlite_federation: Federation, tmp_path: Path
) -> None:
    fed = sqlite_federation
    service.import_alerts(fed.ledger, fed["admin"], alert_file(tmp_path, 5, seed=119, users=(SENTINEL,)))
    db = Path(str(fed.ledger.config.sqlite_path))
    checked = 0
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            checked += 1
            assert SENTINEL.encode() not in path.read_bytes()
    assert checked
