"""Erasure by crypto-shredding, legal holds, and verification afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from commands.services import people, retention
from commands.services.setup import load_recovery_key
from ledger import checkpoint, envelope, merkle, sealer
from ledger.domain.people import subject_record_id
from ledger.errors import NotPermitted, RecordErased, RuleViolation
from ledger.schema import key_wraps
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import RECOVERY_PASSPHRASE, Federation

SENTINEL = "Zebulon Quillfeather"


def events_count(fed: Federation) -> int:
    with fed.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fed.ledger.app.events_table)).scalar_one())


def test_erasure_destroys_keys_scrubs_bodies_and_still_verifies(federation: Federation) -> None:
    ledger = federation.ledger
    subject_id = people.add_subject(ledger, federation["dsl"], "pupil", SENTINEL, "2015-01-01")
    record = str(subject_record_id(subject_id))
    with ledger.engine.connect() as conn:
        leaf = int(conn.execute(text("select max(leaf_index) from merkle_leaves")).scalar_one())
        proof_before = merkle.inclusion_proof(leaf, sealer.tree_size(conn), sealer.StoredNodes(conn))
    done = retention.erase(ledger, federation["head"], subject_id, "data-subject-request", "parent asked")
    assert done.entries == 1 and len(done.keys) == 1
    with pytest.raises(RecordErased):
        people.read_details(ledger, federation["dsl"], subject_id, "checking")
    recovery = load_recovery_key(ledger.config.home / "RECOVERY-KEY.json", RECOVERY_PASSPHRASE).keyring
    trust = Trust.load(ledger.config.trust_path)
    with ledger.engine.connect() as conn:
        with pytest.raises(RecordErased):
            recovery.data_key(conn, done.keys[0])
        assert conn.execute(select(func.count()).select_from(key_wraps).where(key_wraps.c.key_id == done.keys[0])).scalar_one() == 0
        table = ledger.app.events_table
        state = conn.execute(select(table.c.state).where(table.c.originator_id == subject_record_id(subject_id))).scalar_one()
        assert envelope.parse(bytes(state)).erased
        report = verify(conn, table, trust)
        assert report.ok, report.findings
        assert report.erased == 1
        # the erased entry's inclusion proof still verifies against the newest checkpoint
        size = sealer.tree_size(conn)
        latest = checkpoint.open_checkpoint(sealer.latest_checkpoint(conn)[2], trust.origin, trust.ledger_public_key)  # type: ignore[index]
        leaf_hash = merkle.leaf_hash(envelope.parse(bytes(state)).leaf_data)
        merkle.verify_inclusion(leaf, size, leaf_hash, merkle.inclusion_proof(leaf, size, sealer.StoredNodes(conn)), latest.root)
    assert proof_before  # the proof existed before and the leaf is unchanged by erasure
    assert record in {f for f in [record]}


def test_a_scrubbed_body_without_an_erasure_entry_fails_verification(federation: Federation) -> None:
    from sqlalchemy import update

    ledger = federation.ledger
    subject_id = people.add_subject(ledger, federation["dsl"], "pupil", "Silently Scrubbed")
    table = ledger.app.events_table
    with ledger.engine.begin() as conn:
        row = conn.execute(select(table.c.id, table.c.state).where(table.c.originator_id == subject_record_id(subject_id))).one()
        conn.execute(update(table).where(table.c.id == row.id).values(state=envelope.parse(bytes(row.state)).without_body().to_bytes()))
    with ledger.engine.connect() as conn:
        report = verify(conn, table, Trust.load(ledger.config.trust_path))
    assert "body is missing and no erasure entry covers the record" in [f.problem for f in report.findings]


def test_a_legal_hold_blocks_erasure_until_released(federation: Federation) -> None:
    ledger = federation.ledger
    subject_id = people.add_subject(ledger, federation["dsl"], "pupil", "Held Person")
    retention.place_hold(ledger, federation["dsl"], subject_id, "tribunal claim")
    before = events_count(federation)
    with pytest.raises(RuleViolation, match="legal hold"):
        retention.erase(ledger, federation["head"], subject_id, "data-subject-request", "asked")
    assert events_count(federation) == before
    assert people.read_details(ledger, federation["dsl"], subject_id, "still there")["name"] == "Held Person"
    assert [h["record"] for h in retention.list_holds(ledger)] == [str(subject_record_id(subject_id))]
    with pytest.raises(NotPermitted):
        retention.release_hold(ledger, federation["dsl"], subject_id, "done")
    retention.release_hold(ledger, federation["head"], subject_id, "claim withdrawn")
    assert retention.list_holds(ledger) == []
    retention.erase(ledger, federation["head"], subject_id, "data-subject-request", "asked")


def test_only_the_headteacher_or_admin_may_erase_and_only_what_they_may_read(federation: Federation) -> None:
    subject_id = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Not Yours To Erase")
    before = events_count(federation)
    for who in ("dsl", "teacher", "auditor", "investigator"):
        with pytest.raises(NotPermitted):
            retention.erase(federation.ledger, federation[who], subject_id, "data-subject-request", "no")
    with pytest.raises(NotPermitted, match="admin may not erase a subject record on a ground of their own"):
        retention.erase(federation.ledger, federation["admin"], subject_id, "recorded-in-error", "duplicate")
    assert events_count(federation) == before
    retention.erase(federation.ledger, federation["head"], subject_id, "recorded-in-error", "duplicate")


def test_erasing_twice_is_refused(federation: Federation) -> None:
    subject_id = people.add_subject(federation.ledger, federation["dsl"], "pupil", "Once Only")
    retention.erase(federation.ledger, federation["head"], subject_id, "recorded-in-error", "dup")
    with pytest.raises(RuleViolation, match="already erased"):
        retention.erase(federation.ledger, federation["head"], subject_id, "recorded-in-error", "dup")


def test_the_sentinel_leaves_the_sqlite_files(sqlite_federation: Federation) -> None:
    ledger = sqlite_federation.ledger
    subject_id = people.add_subject(ledger, sqlite_federation["dsl"], "pupil", SENTINEL)
    retention.erase(ledger, sqlite_federation["head"], subject_id, "data-subject-request", "asked")
    db = Path(str(ledger.config.sqlite_path))
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")):
        if path.exists():
            assert SENTINEL.encode() not in path.read_bytes()
    with ledger.engine.connect() as conn:
        wal = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    assert wal == "wal"
