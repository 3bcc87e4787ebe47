"""Policy versions, notice to staff and acknowledgements, on both backends."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from commands.services import policy as service
from ledger import envelope
from ledger.domain.policy import acknowledgement_record_id, one_month_after, policy_record_id
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import Federation, local_today, refused

SENTINEL = "Quentin Marchbanks-Oduya"
TODAY = dt.date.fromisoformat(local_today())






def headers(fed: Federation, aggregate_id: object) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.state).where(table.c.originator_id == aggregate_id).order_by(table.c.originator_version)
        )
        return [envelope.parse(bytes(s)).header for (s,) in rows]


def publish(fed: Federation, version: str, approved: str, effective: str, notified: str | None = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("text", f"Policy text {version}")
    return service.publish_version(fed.ledger, fed["head"], version, approved, effective, "Board of Directors",
                                   notified_on=notified, **kw)


def two_versions(fed: Federation) -> None:
    """v1 in force from 2024-03-01, v2 from 2024-09-01 (both well notified)."""
    publish(fed, "v1", "2024-01-10", "2024-03-01", "2024-01-15")
    publish(fed, "v2", "2024-07-01", "2024-09-01", "2024-07-20")


def test_a_version_keeps_its_hash_and_dates_in_clear_and_its_text_encrypted(federation: Federation) -> None:
    row = publish(federation, "2023-11", "2023-11-20", "2024-01-08", "2023-11-27", text=f"Policy by {SENTINEL}")
    assert row["text_hash"] == hashlib.sha256(f"Policy by {SENTINEL}".encode()).hexdigest()
    first, notified = headers(federation, policy_record_id("2023-11"))
    assert first["claims"] == {
        "label": "2023-11", "text_hash": row["text_hash"], "approved_on": "2023-11-20", "effective_on": "2024-01-08",
    }
    assert notified["claims"]["notified_on"] == "2023-11-27" and notified["claims"]["short_notice"] is False
    table = federation.ledger.app.events_table
    with federation.ledger.engine.connect() as conn:
        stored = b"".join(bytes(s) for (s,) in conn.execute(select(table.c.state)))
    assert SENTINEL.encode() not in stored


def test_a_policy_file_is_recorded_by_its_hash(federation: Federation, tmp_path: Path) -> None:
    document = tmp_path / "policy.pdf"
    document.write_bytes(b"%PDF the policy")
    row = publish(federation, "v1", "2024-01-10", "2024-03-01", text=None, file=document)
    assert row["text_hash"] == hashlib.sha256(b"%PDF the policy").hexdigest()
    refused(federation, NotFound, lambda: publish(federation, "v2", "2024-05-01", "2024-07-01", text=None,
                                                 file=tmp_path / "missing.pdf"))
    refused(federation, InvalidInput, lambda: publish(federation, "v2", "2024-05-01", "2024-07-01", file=document))
    refused(federation, InvalidInput, lambda: publish(federation, "v2", "2024-05-01", "2024-07-01", text=None))


def test_notice_shorter_than_a_month_is_refused_unless_an_override_reason_is_recorded(federation: Federation) -> None:
    refused(federation, RuleViolation,
            lambda: publish(federation, "v1", "2024-01-10", "2024-02-14", "2024-01-15"), match="less than a month")
    publish(federation, "v1", "2024-01-10", "2024-02-14")
    refused(federation, RuleViolation,
            lambda: service.notify_staff(federation.ledger, federation["head"], "v1", "2024-01-15"),
            match="less than a month")
    assert service.list_versions(federation.ledger)[0]["notice"] == "not recorded"
    refused(federation, RuleViolation,
            lambda: service.notify_staff(federation.ledger, federation["head"], "v1", "2024-01-15", "   "))
    service.notify_staff(federation.ledger, federation["head"], "v1", "2024-01-15", "change required by new law")
    assert headers(federation, policy_record_id("v1"))[-1]["claims"]["short_notice"] is True
    assert service.list_versions(federation.ledger)[0]["notice"] == "short (overridden)"


def test_exactly_one_calendar_month_of_notice_is_enough(federation: Federation) -> None:
    assert one_month_after(dt.date(2024, 1, 31)) == dt.date(2024, 2, 29)
    assert one_month_after(dt.date(2024, 12, 15)) == dt.date(2025, 1, 15)
    publish(federation, "v1", "2024-01-02", "2024-02-29", "2024-01-31")
    refused(federation, RuleViolation, lambda: publish(federation, "v2", "2024-03-01", "2024-04-14", "2024-03-15"))
    publish(federation, "v2", "2024-03-01", "2024-04-15", "2024-03-15")


def test_a_notification_is_recorded_once_after_approval_and_not_in_the_future(federation: Federation) -> None:
    publish(federation, "v1", "2024-01-10", "2024-03-01")
    notify = service.notify_staff
    refused(federation, InvalidInput, lambda: notify(federation.ledger, federation["head"], "v1", "2024-01-05"))
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    refused(federation, InvalidInput, lambda: notify(federation.ledger, federation["head"], "v1", future))
    notify(federation.ledger, federation["admin"], "v1", "2024-01-12")
    refused(federation, RuleViolation, lambda: notify(federation.ledger, federation["head"], "v1", "2024-01-13"))
    refused(federation, NotFound, lambda: notify(federation.ledger, federation["head"], "v9", "2024-01-13"))


def test_versions_take_effect_in_order_and_are_published_once(federation: Federation) -> None:
    publish(federation, "v1", "2024-01-10", "2024-03-01")
    refused(federation, RuleViolation, lambda: publish(federation, "v2", "2024-01-10", "2024-03-01"))
    refused(federation, RuleViolation, lambda: publish(federation, "v2", "2024-01-10", "2024-02-01"))
    refused(federation, AlreadyExists, lambda: publish(federation, "v1", "2024-05-10", "2024-07-01"))
    refused(federation, InvalidInput, lambda: publish(federation, "v2", "2024-05-10", "2024-05-01"))
    refused(federation, InvalidInput, lambda: publish(federation, "bad label!", "2024-05-10", "2024-07-01"))


def test_only_the_headteacher_or_admin_may_publish_or_notify(federation: Federation) -> None:
    for who in ("teacher", "slt", "dsl", "poster", "auditor"):
        refused(federation, NotPermitted, lambda: service.publish_version(
            federation.ledger, federation[who], "v1", "2024-01-10", "2024-03-01", "Board", text="x"))
    service.publish_version(federation.ledger, federation["admin"], "v1", "2024-01-10", "2024-03-01", "Board", text="x")
    refused(federation, NotPermitted,
            lambda: service.notify_staff(federation.ledger, federation["slt"], "v1", "2024-01-15"))


def test_the_current_version_is_the_latest_whose_effective_date_has_passed(federation: Federation) -> None:
    two_versions(federation)
    upcoming = one_month_after(TODAY).isoformat()
    publish(federation, "v3", TODAY.isoformat(), upcoming, TODAY.isoformat())
    states = {r["version"]: r["state"] for r in service.list_versions(federation.ledger)}
    assert states == {"v1": "superseded", "v2": "current", "v3": "upcoming"}
    assert {r["version"]: r["state"] for r in service.list_versions(federation.ledger, "2024-05-01")} == {
        "v1": "current", "v2": "upcoming", "v3": "upcoming"}
    refused(federation, NotFound, lambda: service.acknowledgement_status(federation.ledger, federation["head"], "2024-01-01"))


def test_staff_acknowledge_the_current_version_once_never_a_superseded_one(federation: Federation) -> None:
    refused(federation, NotFound, lambda: service.acknowledge(federation.ledger, federation["teacher"]))
    two_versions(federation)
    done = service.acknowledge(federation.ledger, federation["teacher"])
    assert done["version"] == "v2"
    claims = headers(federation, acknowledgement_record_id("teacher", "v2"))[0]["claims"]
    assert claims["staff_id"] == "teacher" and claims["policy_version"] == "v2"
    refused(federation, AlreadyExists, lambda: service.acknowledge(federation.ledger, federation["teacher"], "v2"))
    refused(federation, NotFound, lambda: service.acknowledge(federation.ledger, federation["teacher"], "v7"))
    refused(federation, RuleViolation, lambda: service.acknowledge(federation.ledger, federation["slt"], "v1"),
            match="superseded by version v2")


def test_an_upcoming_version_can_be_acknowledged_in_advance(federation: Federation) -> None:
    two_versions(federation)
    publish(federation, "v3", TODAY.isoformat(), one_month_after(TODAY).isoformat(), TODAY.isoformat())
    assert service.acknowledge(federation.ledger, federation["slt"], "v3")["version"] == "v3"
    row = service.acknowledgement_status(federation.ledger, federation["slt"])
    assert {r["staff_id"]: r["acknowledged"] for r in row}["slt"] is False


def test_acknowledgement_of_a_superseded_version_does_not_count_for_the_current_one(federation: Federation) -> None:
    publish(federation, "v1", "2024-01-10", "2024-03-01", "2024-01-15")
    service.acknowledge(federation.ledger, federation["teacher"])
    service.acknowledge(federation.ledger, federation["dsl"])
    publish(federation, "v2", "2024-07-01", "2024-09-01", "2024-07-20")
    service.acknowledge(federation.ledger, federation["dsl"])
    rows = {r["staff_id"]: r for r in service.acknowledgement_status(federation.ledger, federation["head"])}
    assert rows["teacher"]["version"] == "v2" and rows["teacher"]["acknowledged"] is False
    assert rows["teacher"]["previous_acknowledged"] == "v1"
    assert rows["teacher"]["outstanding_since"] == TODAY.isoformat()  # registered after v2 took effect
    assert rows["dsl"]["acknowledged"] is True and rows["dsl"]["acknowledged_at"].date() == TODAY


def test_status_covers_staff_not_auditors_shows_others_only_to_readers_and_honours_the_day(federation: Federation) -> None:
    two_versions(federation)
    rows = service.acknowledgement_status(federation.ledger, federation["admin"])
    assert [r["staff_id"] for r in rows] == ["admin", "dsl", "head", "investigator", "poster", "slt", "teacher"]
    refused(federation, InvalidInput, lambda: service.acknowledge(federation.ledger, federation["auditor"]))
    for who in ("teacher", "poster", "dsl"):
        assert [r["staff_id"] for r in service.acknowledgement_status(federation.ledger, federation[who])] == [who]
    assert len(service.acknowledgement_status(federation.ledger, federation["slt"])) == 7
    service.acknowledge(federation.ledger, federation["teacher"])
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    on_the_day = {r["staff_id"]: r for r in service.acknowledgement_status(federation.ledger, federation["head"], yesterday)}
    assert on_the_day["teacher"]["acknowledged"] is False


def test_the_demo_chapter_publishes_notifies_and_acknowledges_and_the_ledger_verifies(federation: Federation) -> None:
    actors = {
        "it-manager": federation["admin"], "head": federation["head"], "dsl": federation["dsl"],
        "slt": federation["slt"], "poster-1": federation["poster"], "teacher-1": federation["teacher"],
        "teacher-2": federation["investigator"], "investigator": federation["investigator"],
    }
    lines = list(service.demo_chapter(federation.ledger, actors, {}))
    assert any(line.startswith("  refused: ") for line in lines)
    assert lines[-1].startswith("  not yet acknowledged: admin, investigator, slt")
    trust = Trust.load(federation.ledger.config.trust_path)
    with federation.ledger.engine.connect() as conn:
        result = verify(conn, federation.ledger.app.events_table, trust, None)
    assert result.ok, result.findings
