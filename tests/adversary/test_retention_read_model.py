"""The retention plan reads the records read model; only signed entries decide an erasure.

The adversary is anyone who can write the database's projection rows: they make a record
look due (or not a record at all), or hide a legal hold. The plan and the sweep re-read and
check each proposed record's own signed entries, its rule and its hold before listing or
erasing it; a record the read model hides is not erased early, and `verify` names the drift.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from commands.services import incidents, monitoring, readside, retention, retention_plan
from commands.services.incidents import IncidentReport
from commands.services.integrity import verify_ledger
from ledger.domain.retention import hold_record_id
from ledger.domain.monitoring import alert_id_for, alert_record_id
from projections.records import record_classes, records
from tests.conftest import Federation
from tests.data.generate_alerts import alerts, write

ISSUED = "2026-02-01"
DUE = dt.date(2027, 2, 1)   # a written warning lapses after twelve months


def warned(fed: Federation) -> str:
    """An incident whose written warning falls due on :data:`DUE`; its record id."""
    inc = incidents.report(fed.ledger, fed["teacher"], IncidentReport(
        category="personal-social-media", occurred_at="2026-01-10T10:00", summary="summary", facts="facts",
        people=("teacher:alleged",)))
    incidents.triage(fed.ledger, fed["head"], inc, "conduct")
    incidents.record_outcome(fed.ledger, fed["head"], inc, "upheld", "posted in lessons",
                             disciplinary="written", issued_on=ISSUED, decided_on=ISSUED)
    return inc


def aggregate_of(fed: Federation, inc: str) -> str:
    readside.ensure_current(fed.ledger)
    with fed.ledger.engine.connect() as conn:
        return str(conn.execute(select(records.c.aggregate).where(records.c.alias == inc)).scalar_one())


def listed(fed: Federation, as_of: dt.date, shown: tuple[str, ...] | None = retention_plan.SHOWN) -> dict[str, str]:
    return {d.label: d.action for d in retention_plan.plan(fed.ledger, fed["head"], as_of, shown)[0]}


def drift(fed: Federation) -> str:
    return "\n".join(f.problem for f in verify_ledger(fed.ledger, fed.ledger.config.trust_path, None).findings)


def test_a_read_model_row_made_to_look_due_is_neither_listed_nor_erased(federation: Federation) -> None:
    fed = federation
    inc = warned(fed)
    aggregate = aggregate_of(fed, inc)
    with fed.ledger.engine.begin() as conn:
        claims = json.loads(conn.execute(select(records.c.claims).where(records.c.aggregate == aggregate)).scalar_one())
        conn.execute(update(records).where(records.c.aggregate == aggregate).values(
            claims=json.dumps({**claims, "warning_issued_on": "2020-01-01", "disciplinary": "oral"}),
            created_at="2020-01-01T00:00:00.000000+00:00", happened_at="2020-01-01T00:00:00.000000+00:00"))
    early = DUE - dt.timedelta(days=1)
    assert inc not in listed(fed, early)
    assert listed(fed, early, None)[inc] == "keep"          # decided again from its signed entries
    certificate = retention_plan.sweep(fed.ledger, fed["head"], "tampered read model", early)
    assert certificate.erased == 0 and inc not in certificate.text
    assert "proj_records" in drift(fed)
    assert listed(fed, early, None)[inc] == "keep"   # not erased: still decided, from its own entries


def test_a_read_model_row_given_another_class_erases_nothing(federation: Federation) -> None:
    fed = federation
    inc = warned(fed)
    aggregate = aggregate_of(fed, inc)
    with fed.ledger.engine.begin() as conn:   # a class erased a year after it happened (2026-01-10)
        conn.execute(update(records).where(records.c.aggregate == aggregate).values(record_class="monitoring"))
    early = DUE - dt.timedelta(days=1)
    assert inc not in listed(fed, early)
    assert retention_plan.sweep(fed.ledger, fed["head"], "tampered class", early).erased == 0


def test_a_deleted_read_model_row_keeps_the_record_only_until_verify_names_it(federation: Federation) -> None:
    fed = federation
    inc = warned(fed)
    aggregate = aggregate_of(fed, inc)
    assert listed(fed, DUE)[inc] == "erase"
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(records).where(records.c.aggregate == aggregate))
    assert inc not in listed(fed, DUE)
    assert listed(fed, DUE, None)[inc] == "erase"     # `--all` decides every record from the log itself
    assert retention_plan.sweep(fed.ledger, fed["head"], "row deleted", DUE).erased == 0
    assert "proj_records" in drift(fed) and "missing" in drift(fed)
    readside.rebuild(fed.ledger, "records")
    assert not drift(fed)
    certificate = retention_plan.sweep(fed.ledger, fed["head"], "after the rebuild", DUE)
    assert certificate.erased == 1 and inc in certificate.text


def test_a_deleted_hold_row_does_not_let_the_sweep_erase_a_held_record(federation: Federation) -> None:
    fed = federation
    inc = warned(fed)
    retention.place_hold(fed.ledger, fed["dsl"], inc, "tribunal claim pending")
    hold = str(hold_record_id(aggregate_of(fed, inc)))
    with fed.ledger.engine.begin() as conn:
        assert conn.execute(delete(records).where(records.c.aggregate == hold)).rowcount == 1
    assert listed(fed, DUE)[inc] == "held"
    certificate = retention_plan.sweep(fed.ledger, fed["head"], "hold row deleted", DUE)
    assert (certificate.erased, certificate.held) == (0, 1)
    assert "proj_records" in drift(fed)


def linked_alert(fed: Federation, tmp_path: Path, inc: str) -> tuple[str, str]:
    """An alert of 2025-01-06 (due on its own a year later) linked to ``inc``: its alert id and record id."""
    path = tmp_path / "alerts.csv"
    write(path, alerts(1, 31))
    monitoring.import_alerts(fed.ledger, fed["admin"], path)
    alert = alert_id_for("smoothwall", "SM-31-0000000")
    monitoring.link_alert(fed.ledger, fed["dsl"], alert, inc, "the same posts")
    return alert, str(alert_record_id(alert))


def test_a_linked_alert_whose_flag_is_cleared_still_follows_its_incident(federation: Federation, tmp_path: Path) -> None:
    """The `linked` column sends an alert to be decided from its signed entries; cleared, the
    alert looks due on its own date, but its signed link makes it follow the incident."""
    fed = federation
    inc = warned(fed)
    alert, aggregate = linked_alert(fed, tmp_path, inc)
    early = DUE - dt.timedelta(days=1)
    assert alert not in listed(fed, early) and listed(fed, early, None)[alert] == "keep"
    with fed.ledger.engine.begin() as conn:
        assert conn.execute(update(records).where(records.c.aggregate == aggregate, records.c.linked.is_(True))
                            .values(linked=False)).rowcount == 1
    assert alert not in listed(fed, early)          # proposed as due, decided again: it follows the incident
    certificate = retention_plan.sweep(fed.ledger, fed["head"], "link flag cleared", early)
    assert certificate.erased == 0 and alert not in certificate.text
    assert "proj_records" in drift(fed) and "linked" in drift(fed)
    due = listed(fed, DUE)
    assert (due[inc], due[alert]) == ("erase", "erase")   # the incident falls due: the alert with it


def test_altered_class_counts_change_no_decision(federation: Federation, tmp_path: Path) -> None:
    """The per-class counts only give the number of records kept; zeroed or inflated, the
    records listed and erased are the same and `verify` names the altered counts."""
    fed = federation
    inc = warned(fed)
    path = tmp_path / "alerts.csv"
    write(path, alerts(3, 32))
    monitoring.import_alerts(fed.ledger, fed["admin"], path)
    honest, counts = retention_plan.plan(fed.ledger, fed["head"], DUE, retention_plan.SHOWN)
    assert {d.label: d.action for d in honest}[inc] == "erase"
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(record_classes))
    assert retention_plan.plan(fed.ledger, fed["head"], DUE, retention_plan.SHOWN)[0] == honest
    assert "proj_record_classes" in drift(fed)
    with fed.ledger.engine.begin() as conn:
        conn.execute(insert(record_classes), [{"record_class": "monitoring", "current": 10**6},
                                              {"record_class": "incident", "current": 10**6}])
    tampered, more = retention_plan.plan(fed.ledger, fed["head"], DUE, retention_plan.SHOWN)
    assert tampered == honest and more["keep"] > counts.get("keep", 0)
    certificate = retention_plan.sweep(fed.ledger, fed["head"], "counts altered", DUE)
    assert certificate.erased == len([d for d in honest if d.action == "erase"]) and inc in certificate.text
