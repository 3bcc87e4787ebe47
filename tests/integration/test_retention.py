"""Retention plan and sweep over real workflows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from commands.services import incidents, people, retention, retention_plan
from commands.services.incidents import IncidentReport
from ledger.errors import NotPermitted
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import PASSPHRASE, Federation


def decisions_by_label(fed: Federation, as_of: dt.date, who: str = "head") -> dict[str, retention_plan.Decision]:
    found, _ = retention_plan.plan(fed.ledger, fed[who], as_of)
    return {d.label: d for d in found}


def report(fed: Federation, who: str, category: str, people_: tuple[str, ...], against_staff: bool = False) -> str:
    form = IncidentReport(category=category, occurred_at="2026-01-10T10:00", summary="summary", facts="facts",
                          people=people_, against_staff=against_staff)
    return incidents.report(fed.ledger, fed[who], form)


def test_safeguarding_records_run_from_the_youngest_pupils_birth(federation: Federation) -> None:
    pupil = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Young Pupil", "2016-05-01")
    inc = report(federation, "teacher", "child-on-child", (f"{pupil}:victim",))
    keep = decisions_by_label(federation, dt.date(2041, 4, 30))[inc]
    assert (keep.action, keep.due) == ("keep", dt.date(2041, 5, 1))
    assert decisions_by_label(federation, dt.date(2041, 5, 1))[inc].action == "erase"


def test_a_missing_birth_date_makes_retention_undetermined(federation: Federation) -> None:
    pupil = people.add_subject(federation.ledger, federation["dsl"], "pupil", "No Birthday")
    inc = report(federation, "teacher", "child-on-child", (f"{pupil}:victim",))
    decision = decisions_by_label(federation, dt.date(2090, 1, 1))[inc]
    assert decision.action == "undetermined"
    assert "date of birth" in decision.why


def test_a_malicious_allegation_falls_due_at_its_outcome(federation: Federation) -> None:
    inc = report(federation, "teacher", "staff-phone-use", ("slt:alleged",), against_staff=True)
    incidents.triage(federation.ledger, federation["head"], inc, "allegation against staff")
    incidents.record_outcome(federation.ledger, federation["head"], inc, "malicious", "made up",
                             decided_on="2026-03-01")
    assert decisions_by_label(federation, dt.date(2026, 3, 2))[inc].action == "erase"


def test_an_allegation_needs_the_staff_members_birth_date(federation: Federation) -> None:
    inc = report(federation, "teacher", "staff-phone-use", ("slt:alleged",), against_staff=True)
    assert decisions_by_label(federation, dt.date(2099, 1, 1))[inc].action == "undetermined"
    people.add_staff(federation.ledger, federation["admin"], "Older Colleague", ["staff"], PASSPHRASE, "older",
                     date_of_birth="1970-06-01")
    other = report(federation, "teacher", "staff-phone-use", ("older:alleged",), against_staff=True)
    decision = decisions_by_label(federation, dt.date(2037, 6, 1))[other]
    assert decision.due == dt.date(2037, 6, 1) and decision.action == "erase"


def test_a_written_warning_lapses_after_twelve_months(federation: Federation) -> None:
    inc = report(federation, "teacher", "personal-social-media", ("teacher:alleged",))
    incidents.triage(federation.ledger, federation["head"], inc, "conduct")
    incidents.record_outcome(federation.ledger, federation["head"], inc, "upheld", "posted in lessons",
                             disciplinary="written", issued_on="2026-02-01", decided_on="2026-02-01")
    decision = decisions_by_label(federation, dt.date(2027, 2, 1))[inc]
    assert (decision.action, decision.due) == ("erase", dt.date(2027, 2, 1))


def test_a_held_record_is_held_back_and_a_sweep_erases_the_rest(federation: Federation) -> None:
    ledger = federation.ledger
    pupil = people.add_subject(ledger, federation["dsl"], "pupil", "Old Case Pupil", "1995-01-01")
    due = report(federation, "teacher", "child-on-child", (f"{pupil}:victim",))
    held = report(federation, "teacher", "child-on-child", (f"{pupil}:witness",))
    retention.place_hold(ledger, federation["dsl"], held, "claim pending")
    certificate = retention_plan.sweep(ledger, federation["head"], "annual review", dt.date(2026, 12, 1))
    assert certificate.erased == 1 and certificate.held == 1
    assert due in certificate.text and "checkpoint after erasure" in certificate.text
    after = decisions_by_label(federation, dt.date(2026, 12, 1))
    assert due not in after and after[held].action == "held"
    with ledger.engine.connect() as conn:
        assert verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path)).ok


def test_an_interrupted_sweep_keeps_whole_batches_and_is_completed_by_a_rerun(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep erases up to SWEEP_BATCH records per transaction: killed in the second batch, the
    first stays erased, the second is rolled back whole, and a rerun erases the rest."""
    ledger = federation.ledger
    monkeypatch.setattr(retention_plan, "SWEEP_BATCH", 2)
    pupil = people.add_subject(ledger, federation["dsl"], "pupil", "Interrupted Pupil", "1990-01-01")
    cases = [report(federation, "teacher", "child-on-child", (f"{pupil}:{role}",))
             for role in ("victim", "witness", "witness")]
    calls = {"n": 0}
    real = retention_plan.erase_all_in

    def dies_in_the_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        done = real(*args, **kwargs)
        if calls["n"] == 2:   # shredded and recorded, not committed
            raise KeyboardInterrupt("killed")
        return done

    monkeypatch.setattr(retention_plan, "erase_all_in", dies_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        retention_plan.sweep(ledger, federation["head"], "review", dt.date(2026, 12, 1))
    monkeypatch.setattr(retention_plan, "erase_all_in", real)
    with ledger.engine.connect() as conn:
        assert verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path)).ok
    remaining = [d for d in retention_plan.plan(ledger, federation["head"], dt.date(2026, 12, 1))[0]
                 if d.action == "erase"]
    assert len(remaining) == 1 and remaining[0].label in cases
    certificate = retention_plan.sweep(ledger, federation["head"], "review again", dt.date(2026, 12, 1))
    assert certificate.erased == 1
    with ledger.engine.connect() as conn:
        assert verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path)).ok


def test_a_sweep_over_several_batches_erases_every_due_record(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = federation.ledger
    monkeypatch.setattr(retention_plan, "SWEEP_BATCH", 2)
    pupil = people.add_subject(ledger, federation["dsl"], "pupil", "Batched Pupil", "1990-01-01")
    cases = [report(federation, "teacher", "child-on-child", (f"{pupil}:witness",)) for _ in range(5)]
    certificate = retention_plan.sweep(ledger, federation["head"], "review", dt.date(2026, 12, 1))
    assert certificate.erased == 5
    assert all(case in certificate.text for case in cases)
    after = decisions_by_label(federation, dt.date(2026, 12, 1))
    assert not any(case in after for case in cases)
    with ledger.engine.connect() as conn:
        assert verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path)).ok


def test_rules_are_data_changed_by_a_signed_admin_entry(federation: Federation) -> None:
    rules = {r["record_class"]: r for r in retention_plan.rules(federation.ledger)}
    assert rules["monitoring"]["months"] == 12 and not rules["monitoring"]["changed"]
    with pytest.raises(NotPermitted):
        retention_plan.change_rule(federation.ledger, federation["dsl"], "monitoring", "alert-time", 6, "x")
    with pytest.raises(NotPermitted, match="admin may not set how long safeguarding records are kept"):
        retention_plan.change_rule(federation.ledger, federation["admin"], "safeguarding", "recorded", 1, "tidy")
    retention_plan.change_rule(federation.ledger, federation["admin"], "monitoring", "alert-time", 6, "trust policy")
    rules = {r["record_class"]: r for r in retention_plan.rules(federation.ledger)}
    assert rules["monitoring"]["months"] == 6 and rules["monitoring"]["changed"]


def test_the_plan_lists_an_alert_due_on_the_day_whatever_the_month_clamp_and_the_zone(
        federation: Federation, tmp_path: Path) -> None:
    """The database picks the alerts that may be due; the last day of a short month and an
    alert after midnight in summer time (local date one day after its UTC date) are not lost."""
    from commands.services import monitoring
    fed = federation
    retention_plan.change_rule(fed.ledger, fed["admin"], "monitoring", "alert-time", 1, "short trial period")
    alerts = tmp_path / "alerts.csv"
    alerts.write_text("time,source_system,source_record_id,user,category,severity,action,detail\n"
                      "2026-01-31T23:30:00Z,smoothwall,SW-1,sb-x,self-harm,critical,flagged,search\n"
                      "2026-07-31T23:30:00Z,smoothwall,SW-2,sb-x,self-harm,critical,flagged,search\n",
                      encoding="utf-8")
    monitoring.import_alerts(fed.ledger, fed["admin"], alerts)

    def due(as_of: dt.date) -> list[dt.date | None]:
        listed = [d for d in retention_plan.plan(fed.ledger, fed["head"], as_of, retention_plan.SHOWN)[0]
                  if d.record_class == "monitoring"]
        every = [d for d in retention_plan.plan(fed.ledger, fed["head"], as_of)[0]
                 if d.record_class == "monitoring" and d.action in retention_plan.SHOWN]
        assert sorted(listed, key=lambda d: d.record) == sorted(every, key=lambda d: d.record)
        return sorted(d.due for d in listed if d.action == "erase" and d.due)

    assert due(dt.date(2026, 2, 27)) == []
    assert due(dt.date(2026, 2, 28)) == [dt.date(2026, 2, 28)]
    assert due(dt.date(2026, 8, 31)) == [dt.date(2026, 2, 28)]
    assert due(dt.date(2026, 9, 1)) == [dt.date(2026, 2, 28), dt.date(2026, 9, 1)]
