"""The read side cannot lie: what a reader sees comes from checked, signed entries (attack 6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from commands.services import incidents, readside
from commands.services.integrity import verify_ledger
from projections.entries import entries
from tests.adversary.attacker import Attacker
from tests.conftest import Federation


def case(fed: Federation) -> str:
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Image shared", "Seen at lunch", precision="exact"))
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "Spoke to the class teacher")
    return inc


def timeline(fed: Federation, inc: str) -> list[dict[str, Any]]:
    return readside.timeline(fed.ledger, fed["dsl"], "review", incident=inc).rows


def test_an_edited_read_model_row_does_not_change_what_the_reader_sees(federation: Federation) -> None:
    fed = federation
    inc = case(fed)
    honest = {r["event"]: r for r in timeline(fed, inc)}
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.event_type == "Incident.Triaged").values(
            actor="head", recorded_at="2020-01-01T00:00:00.000000+00:00", precision="approximate"))
    rows = {r["event"]: r for r in timeline(fed, inc)}
    triaged = rows["Incident.Triaged"]
    assert (triaged["recorded_by"], triaged["recorded_at"], triaged["precision"]) == (
        "dsl", honest["Incident.Triaged"]["recorded_at"], honest["Incident.Triaged"]["precision"])
    assert "the read model differs from the log in recorded_at, actor, precision" in triaged["read_model"]


def test_a_deleted_read_model_row_does_not_hide_the_entry(federation: Federation) -> None:
    fed = federation
    inc = case(fed)
    timeline(fed, inc)
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(entries).where(entries.c.event_type == "Incident.NoteAdded"))
    note = next(r for r in timeline(fed, inc) if r["event"] == "Incident.NoteAdded")
    assert note["what"].startswith("fact noted: Spoke to the class teacher")
    assert note["read_model"] == "missing from the read model"


def test_an_entry_deleted_from_the_log_is_shown_as_missing(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    inc = case(fed)
    triage_leaf = next(r["entry"] for r in timeline(fed, inc) if r["event"] == "Incident.Triaged")
    attacker.delete_entries_and_resign([triage_leaf])
    rows = timeline(fed, inc)
    gap = [r for r in rows if r["status"] == "missing"]
    assert [r["version"] for r in gap] == [2]
    assert "version 2 of inc-" in gap[0]["what"] and "missing from the log" in gap[0]["what"]


def test_verify_names_drift_between_the_read_models_and_the_log(federation: Federation) -> None:
    fed = federation
    inc = case(fed)
    timeline(fed, inc)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.event_type == "Incident.Triaged").values(actor="head"))
        conn.execute(delete(entries).where(entries.c.event_type == "Incident.NoteAdded"))
    report = verify_ledger(fed.ledger, fed.ledger.config.trust_path, None)
    text = "\n".join(f.problem for f in report.findings)
    assert "proj_entries: the row (" in text and ") differs from a replay of the log in actor" in text
    assert ") is missing (deleted from the read model)" in text
    from commands.services import readside as rs

    rs.rebuild(fed.ledger)
    assert verify_ledger(fed.ledger, fed.ledger.config.trust_path, None).ok
    with fed.ledger.engine.connect() as conn:
        assert conn.execute(select(entries.c.actor).where(entries.c.event_type == "Incident.Triaged")).scalar_one() == "dsl"
