"""Time never goes backwards: not along the entries, not along the checkpoints (attack 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commands.services import people
from ledger.clock import FixedClock, SystemClock
from ledger.domain.people import subject_record_id
from ledger.errors import RuleViolation
from ledger.store import Ledger
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import findings
from tests.conftest import Federation, refused

SUBJECT = "ledger.domain.people:Subject.Registered"


def test_a_writer_whose_clock_is_behind_the_ledger_is_refused(federation: Federation) -> None:
    fed = federation
    behind = Ledger(fed.ledger.config, clock=FixedClock("2020-01-01T00:00:00+00:00"))
    try:
        refused(fed, RuleViolation, lambda: people.add_subject(behind, fed["dsl"], "pupil", "Back Dated"),
                match="is behind the ledger's last entry")
    finally:
        behind.close()


def test_a_back_dated_entry_sealed_by_the_it_manager_is_named(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    entry = attacker.forge(fed["dsl"].pair, subject_record_id("sb-backdated"), SUBJECT,
                           {"subject_id": "sb-backdated", "kind": "pupil"}, version=1, record_class="subject",
                           recorded_at="2020-01-01T00:00:00.000000+00:00")
    attacker.insert(entry)
    attacker.seal_everything()
    assert "Subject.Registered|recorded at 2020-01-01T00:00:00.000000+00:00, before the entry" in findings(fed)


def test_a_checkpoint_signed_back_in_time_is_named(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    entry = attacker.forge(fed["dsl"].pair, subject_record_id("sb-early"), SUBJECT,
                           {"subject_id": "sb-early", "kind": "pupil"}, version=1, record_class="subject")
    attacker.insert(entry)
    from tests.adversary import attacker as module

    real = module.SystemClock
    try:
        module.SystemClock = lambda: FixedClock("2001-01-01T00:00:00+00:00")  # type: ignore[assignment, misc]
        attacker.seal_everything()
    finally:
        module.SystemClock = real  # type: ignore[misc]
    assert "signed at 2001-01-01T00:00:00.000000+00:00, before the entry or checkpoint ahead of it" in findings(fed)


def test_on_postgresql_entries_take_the_database_servers_clock(
    pg_database: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from tests.conftest import build_federation

    fed = build_federation(Path(str(tmp_path)) / "home", pg_database)
    try:
        monkeypatch.setattr(SystemClock, "now", lambda self: dt.datetime(1999, 1, 1, tzinfo=dt.timezone.utc))
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Server Time")
        table = fed.ledger.app.events_table
        with fed.ledger.engine.connect() as conn:
            state = conn.execute(select(table.c.state).order_by(table.c.id.desc()).limit(1)).scalar_one()
        from ledger import envelope

        recorded = envelope.parse(bytes(state)).header["recorded_at"]
        assert recorded.startswith(str(dt.datetime.now(dt.timezone.utc).year)), recorded
    finally:
        fed.ledger.close()
