"""List commands pick records from the read models but read what they show from checked entries.

The index (``proj_entries``) only selects; a forged or altered entry it points
at stops the list, an edited index row changes nothing shown, and a deleted
index row, which hides a record from a list, is what ``verify`` names.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from commands.services import incidents, readside, retention
from commands.services.integrity import verify_ledger
from ledger.errors import VerificationFailed
from projections.entries import entries
from tests.conftest import Federation, row_counts


def _report(fed: Federation, what: str) -> str:
    return incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", what, "Seen at lunch", precision="exact"))


def _listed(fed: Federation) -> list[str]:
    return [r["id"] for r in incidents.list_incidents(fed.ledger, fed["dsl"])]


def test_a_row_deleted_from_the_index_hides_an_incident_only_until_verify_names_it(federation: Federation) -> None:
    fed = federation
    first, second = _report(fed, "One"), _report(fed, "Two")
    assert _listed(fed) == [first, second]
    with fed.ledger.engine.begin() as conn:
        hidden = conn.execute(select(entries.c.aggregate).where(entries.c.event_type == "Incident.Reported")
                              .order_by(entries.c.notification_id)).scalars().all()[1]
        conn.execute(delete(entries).where(entries.c.aggregate == hidden))
    assert _listed(fed) == [first]
    report = verify_ledger(fed.ledger, fed.ledger.config.trust_path, None)
    assert ") is missing (deleted from the read model)" in "\n".join(f.problem for f in report.findings)
    readside.rebuild(fed.ledger)
    assert _listed(fed) == [first, second]


def test_an_index_row_pointing_at_another_record_shows_nothing_it_does_not_check(federation: Federation) -> None:
    fed = federation
    inc = _report(fed, "One")
    readside.ensure_current(fed.ledger)
    with fed.ledger.engine.begin() as conn:  # claim a staff record is an incident
        staff = conn.execute(select(entries.c.aggregate).where(entries.c.event_type == "StaffMember.Registered")
                             ).scalars().first()
        conn.execute(update(entries).where(entries.c.aggregate == staff).values(event_type="Incident.Reported"))
    before = row_counts(fed)
    assert _listed(fed) == [inc]  # the staff record is not shown as an incident
    assert row_counts(fed) == before


def test_an_edited_index_row_does_not_change_the_hold_list(federation: Federation) -> None:
    fed = federation
    held = _report(fed, "Kept for a claim")
    other = _report(fed, "Another")
    retention.place_hold(fed.ledger, fed["dsl"], held, "claim pending")
    honest = retention.list_holds(fed.ledger)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.event_type == "LegalHold.Placed")
                     .values(actor="head", claims='{"target": "someone else"}'))
    shown = retention.list_holds(fed.ledger)
    assert shown == honest and shown[0]["placed_by"] == "dsl"
    assert other not in str(shown)


def test_an_altered_hold_entry_stops_the_hold_list_and_writes_nothing(federation: Federation) -> None:
    fed = federation
    held, other = _report(fed, "Kept for a claim"), _report(fed, "Another")
    target = retention.place_hold(fed.ledger, fed["dsl"], held, "claim pending")
    readside.ensure_current(fed.ledger)
    events = fed.ledger.app.events_table
    with fed.ledger.engine.begin() as conn:
        row = conn.execute(select(events.c.id, events.c.state).where(events.c.topic.like("%LegalHold.Placed"))).one()
        with fed.ledger.engine.connect() as look:
            other_target = str(look.execute(select(entries.c.aggregate).where(entries.c.event_type == "Incident.Reported")
                                            .where(entries.c.aggregate != target)).scalars().first())
        assert other_target != target and other
        forged = bytes(row.state).replace(target.encode(), other_target.encode())
        conn.execute(update(events).where(events.c.id == row.id).values(state=forged))
    before = row_counts(fed)
    with pytest.raises(VerificationFailed) as refused:
        retention.list_holds(fed.ledger)
    assert "signature does not verify" in refused.value.message
    assert row_counts(fed) == before
