"""The storage contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from commands.services import people
from commands.services.setup import init_ledger, load_recovery_key
from ledger import envelope, keystore
from ledger.domain.people import Subject, subject_record_id
from ledger.errors import AlreadyExists, NotPermitted
from ledger.schema import checkpoints, data_keys, key_wraps, merkle_leaves
from ledger.store import Ledger
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE, Federation


def count(ledger: Ledger, table: object) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def stored_states(ledger: Ledger) -> list[bytes]:
    table = ledger.app.events_table
    with ledger.engine.connect() as conn:
        return [bytes(s) for (s,) in conn.execute(select(table.c.state).order_by(table.c.id))]


def test_every_entry_is_a_signed_envelope_and_sealed(federation: Federation) -> None:
    states = stored_states(federation.ledger)
    assert len(states) > 10
    for state in states:
        entry = envelope.parse(state)
        assert entry.header["ledger"] == federation.ledger.meta()["ledger_id"]
        envelope.check_body_hash(entry)
    assert count(federation.ledger, merkle_leaves) == len(states)


def test_a_checkpoint_follows_every_write(federation: Federation) -> None:
    before = count(federation.ledger, checkpoints)
    people.add_subject(federation.ledger, federation["dsl"], "pupil", "Una Known")
    assert count(federation.ledger, checkpoints) == before + 1


def test_reinit_over_an_existing_ledger_is_refused(federation: Federation, tmp_path: object) -> None:
    config = federation.ledger.config
    with pytest.raises(AlreadyExists):
        init_ledger(config, "Second Admin", PASSPHRASE, RECOVERY_PASSPHRASE)


def test_a_forbidden_role_writes_nothing(federation: Federation) -> None:
    ledger = federation.ledger
    before = (len(stored_states(ledger)), count(ledger, data_keys), count(ledger, key_wraps))
    with pytest.raises(NotPermitted):
        people.add_subject(ledger, federation["teacher"], "pupil", "Not Allowed")
    after = (len(stored_states(ledger)), count(ledger, data_keys), count(ledger, key_wraps))
    assert after == before


def test_a_failure_before_commit_leaves_no_event_and_no_key(federation: Federation) -> None:
    ledger = federation.ledger
    before = (len(stored_states(ledger)), count(ledger, data_keys), count(ledger, merkle_leaves))
    with pytest.raises(RuntimeError):
        with ledger.unit(federation["dsl"], write=True) as work:
            work.save(Subject.register("sb-crash", "pupil", {"name": "Crash Test"}))
            raise RuntimeError("power cut")
    assert (len(stored_states(ledger)), count(ledger, data_keys), count(ledger, merkle_leaves)) == before


def test_need_to_know_is_enforced_by_keys(federation: Federation) -> None:
    ledger = federation.ledger
    subject_id = people.add_subject(ledger, federation["dsl"], "pupil", "Private Person", "2016-01-01")
    assert people.read_details(ledger, federation["dsl"], subject_id, "test")["name"] == "Private Person"
    assert people.read_details(ledger, federation["head"], subject_id, "test")["date_of_birth"] == "2016-01-01"
    for reader in ("teacher", "auditor", "admin", "poster"):
        with pytest.raises(NotPermitted):
            people.read_details(ledger, federation[reader], subject_id, "test")


def test_the_auditor_cannot_open_any_data_key(federation: Federation) -> None:
    ledger = federation.ledger
    auditor = federation["auditor"]
    with ledger.engine.connect() as conn:
        key_ids = [k for (k,) in conn.execute(select(data_keys.c.key_id))]
        assert key_ids
        for key_id in key_ids:
            with pytest.raises(NotPermitted):
                auditor.keyring.data_key(conn, key_id)


def test_the_recovery_key_opens_every_data_key(federation: Federation) -> None:
    ledger = federation.ledger
    people.add_subject(ledger, federation["dsl"], "pupil", "Recoverable Person")
    recovery = load_recovery_key(ledger.config.home / "RECOVERY-KEY.json", RECOVERY_PASSPHRASE).keyring
    with ledger.engine.connect() as conn:
        for state in stored_states(ledger):
            entry = envelope.parse(state)
            key = recovery.data_key(conn, entry.header["data_key"])
            envelope.open_body(entry, key)


def test_a_new_reader_role_member_needs_a_current_member(federation: Federation) -> None:
    with pytest.raises(NotPermitted, match="may not grant dsl"):
        people.grant_role(federation.ledger, federation["admin"], "teacher", "dsl")
    people.grant_role(federation.ledger, federation["dsl"], "teacher", "dsl")
    teacher = federation.reunlock("teacher")
    subject_id = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Shared With New Dsl")
    assert people.read_details(federation.ledger, teacher, subject_id, "test")["name"] == "Shared With New Dsl"


def test_revoked_key_can_no_longer_act_and_rotation_keeps_reading(federation: Federation) -> None:
    ledger = federation.ledger
    old_key = federation["dsl"].pair.key_id
    made = people.rotate_key(ledger, federation["dsl"], "a new passphrase")
    assert made.key_id != old_key
    rows = {r["key_id"]: r["status"] for r in people.list_keys(ledger)}
    assert rows[old_key] == "revoked" and rows[made.key_id] == "active"
    dsl = ledger.unlock("dsl", "a new passphrase")
    subject_id = people.add_subject(ledger, dsl, "pupil", "After Rotation")
    assert people.read_details(ledger, dsl, subject_id, "test")["name"] == "After Rotation"


def test_people_list_shows_no_personal_data(federation: Federation) -> None:
    people.add_subject(federation.ledger, federation["dsl"], "pupil", "Listed Nowhere")
    assert "Listed Nowhere" not in json.dumps(people.list_people(federation.ledger))


def test_a_member_who_left_cannot_act(federation: Federation) -> None:
    from ledger.errors import RuleViolation

    people.end_employment(federation.ledger, federation["head"], "teacher", "2026-07-31")
    with pytest.raises(RuleViolation, match="has left"):
        federation.ledger.unlock("teacher", PASSPHRASE)


def test_a_data_key_is_wrapped_only(federation: Federation) -> None:
    subject_id = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Wrapped Only")
    with federation.ledger.engine.connect() as conn:
        key_ids = keystore.keys_of_record(conn, str(subject_record_id(subject_id)))
        key = federation["dsl"].keyring.data_key(conn, key_ids[0])
        blobs = [bytes(w) for (w,) in conn.execute(select(key_wraps.c.wrapped))]
    assert all(key not in blob for blob in blobs)


def test_the_headteacher_can_add_a_second_poster_and_dsl(federation: Federation) -> None:
    from commands.services import approvals  # noqa: F401 - posters read approval records

    people.add_staff(federation.ledger, federation["admin"], "Second Poster", ["staff"], PASSPHRASE, "poster2")
    people.grant_role(federation.ledger, federation["head"], "poster2", "poster")
    people.grant_role(federation.ledger, federation["head"], "teacher", "dsl")
    teacher = federation.reunlock("teacher")
    poster2 = federation.reunlock("poster2")
    subject_id = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Seen By New Dsl")
    assert people.read_details(federation.ledger, teacher, subject_id, "test")["name"] == "Seen By New Dsl"
    with federation.ledger.engine.connect() as conn:
        assert poster2.keyring.holds_role(conn, "poster")
        assert not federation["dsl"].keyring.holds_role(conn, "poster")


def test_leaving_revokes_the_leavers_keys(federation: Federation) -> None:
    key_id = federation["teacher"].pair.key_id
    people.end_employment(federation.ledger, federation["head"], "teacher", "2026-07-31")
    status = {r["key_id"]: r["status"] for r in people.list_keys(federation.ledger)}
    assert status[key_id] == "revoked"
