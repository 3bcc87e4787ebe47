"""The batched write path: one multi-row insert per unit, ids in order, conflicts refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, update

from ledger import checkpoint, crypto
from ledger.domain.people import Subject
from ledger.errors import RuleViolation, StorageError, VerificationFailed
from ledger.schema import checkpoints, data_keys, merkle_leaves
from tests.conftest import Federation, refused, row_counts


def test_a_unit_of_several_records_gets_consecutive_ids_sealed_in_the_order_written(federation: Federation) -> None:
    fed = federation
    events = fed.ledger.app.events_table
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        made = [Subject.register(f"sb-w{n}", "pupil", {"name": f"Pupil {n}"}) for n in range(3)]
        for subject in made:
            subject.correct({"name": "corrected"}, "typo")
        work.save(*made)
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(select(events.c.id, events.c.originator_id, events.c.originator_version)
                            .where(events.c.originator_id.in_([s.id for s in made])).order_by(events.c.id)).all()
        leaves = dict(conn.execute(select(merkle_leaves.c.notification_id, merkle_leaves.c.leaf_index)
                                   .where(merkle_leaves.c.notification_id.in_([r.id for r in rows]))).all())
    assert [(r.originator_id, r.originator_version) for r in rows] == [(s.id, v) for s in made for v in (1, 2)]
    ids = [int(r.id) for r in rows]
    assert ids == list(range(ids[0], ids[0] + 6))
    assert [leaves[i] for i in ids] == list(range(leaves[ids[0]], leaves[ids[0]] + 6))


def test_a_version_written_twice_is_refused_and_nothing_is_written(federation: Federation) -> None:
    fed = federation
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        subject = Subject.register("sb-twice", "pupil", {"name": "Pupil"})
        work.save(subject)
    record: uuid.UUID = subject.id
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        first = work.get(Subject, record, "subject", redacted=True)
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        second = work.get(Subject, record, "subject", redacted=True)
        second.correct({"name": "one"}, "first")
        work.save(second)
    before = row_counts(fed)
    with pytest.raises(RuleViolation) as refused:
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            first.correct({"name": "two"}, "stale")
            work.save(first)
    assert "changed by someone else" in refused.value.message
    assert row_counts(fed) == before


def test_new_records_keys_are_written_with_their_entries_and_with_a_refused_unit_not_at_all(
        federation: Federation) -> None:
    """Keys are staged and written in one statement just before the entries: a unit refused
    at its insert (a version written twice) leaves no key behind, and a unit that commits
    leaves one key per new record, each opening its record."""
    fed = federation
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        subject = Subject.register("sb-staged", "pupil", {"name": "Pupil"})
        work.save(subject)
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        stale = work.get(Subject, subject.id, "subject", redacted=True)
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        fresh = work.get(Subject, subject.id, "subject", redacted=True)
        fresh.correct({"name": "one"}, "first")
        work.save(fresh)
    before = row_counts(fed)
    with pytest.raises(RuleViolation):
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            newcomers = [Subject.register(f"sb-new{n}", "pupil", {"name": f"New {n}"}) for n in range(3)]
            stale.correct({"name": "two"}, "stale")
            work.save(*newcomers, stale)
    assert row_counts(fed) == before
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        newcomers = [Subject.register(f"sb-new{n}", "pupil", {"name": f"New {n}"}) for n in range(3)]
        work.save(*newcomers)
    after = row_counts(fed)
    assert after["data_keys"] == before["data_keys"] + 3 and after["events"] == before["events"] + 3
    with fed.ledger.engine.connect() as conn:
        owners = set(conn.execute(select(data_keys.c.record_id)
                                  .where(data_keys.c.record_id.in_([str(s.id) for s in newcomers]))).scalars())
    assert owners == {str(s.id) for s in newcomers}
    with fed.ledger.unit(fed["dsl"]) as work:
        assert [work.get(Subject, s.id, "subject").details for s in newcomers] == [{"name": f"New {n}"} for n in range(3)]


def test_a_row_planted_beside_a_units_entries_on_sqlite_is_refused_and_nothing_is_written(
        sqlite_federation: Federation) -> None:
    """On SQLite the entries go in one executemany and their ids are read back under the write
    lock; a trigger that slips a row of its own in between would shift every id the sealer
    seals, so the unit is refused instead."""
    fed = sqlite_federation
    events = fed.ledger.app.events_table.name
    with fed.ledger.engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TRIGGER planted AFTER INSERT ON {events} WHEN NEW.topic != 'planted' BEGIN "
            f"INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "VALUES (randomblob(16), 1, 'planted', x'00'); END")

    def write() -> None:
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            work.save(Subject.register("sb-planted", "pupil", {"name": "Pupil"}))

    refused(fed, StorageError, write, match="other new rows")
    with fed.ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER planted")
    write()


def test_a_checkpoint_row_altered_after_this_process_checked_it_is_checked_again(federation: Federation) -> None:
    """The write path does not verify the same checkpoint text twice; an altered row is
    another text (or another size and root) and is verified, so it is refused."""
    fed = federation

    def write(name: str) -> None:
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            work.save(Subject.register(name, "pupil", {"name": "Pupil"}))

    write("sb-before")
    with fed.ledger.engine.begin() as conn:
        size = conn.execute(select(func.max(checkpoints.c.size))).scalar_one()
        signed = conn.execute(select(checkpoints.c.signed).where(checkpoints.c.size == size)).scalar_one()
        conn.execute(update(checkpoints).where(checkpoints.c.size == size).values(root=bytes(32)))
    refused(fed, VerificationFailed, lambda: write("sb-root"), match="does not match its signed text")
    altered = signed.replace("\u2014 ", "\u2014 A", 1) if "\u2014 " in signed else signed[:-10] + "AAAAAAAAA\n"
    with fed.ledger.engine.begin() as conn:
        row = conn.execute(select(checkpoints.c.root).where(checkpoints.c.size == size))
        assert row.scalar_one() == bytes(32)
        conn.execute(update(checkpoints).where(checkpoints.c.size == size).values(signed=altered))
    refused(fed, VerificationFailed, lambda: write("sb-signed"), match="does not verify")


def test_the_host_checkpoint_replaced_after_this_process_wrote_it_is_checked_again(federation: Federation) -> None:
    """The host's kept checkpoint is opened once per text; a file replaced by other text (here,
    a checkpoint signed by another key) is verified again and the write refused."""
    fed = federation
    with fed.ledger.unit(fed["dsl"], write=True) as work:
        work.save(Subject.register("sb-host", "pupil", {"name": "Pupil"}))
    kept = fed.ledger.config.host_checkpoint_path.read_text(encoding="utf-8")
    body, _, _ = kept.partition("\n\n")
    forged = checkpoint.sign_note(body + "\n", fed.ledger.meta()["origin"], crypto.new_signing_key())
    fed.ledger.config.host_checkpoint_path.write_text(forged, encoding="utf-8")

    def write() -> None:
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            work.save(Subject.register("sb-host2", "pupil", {"name": "Pupil"}))

    refused(fed, VerificationFailed, write, match="is not a checkpoint this ledger's key signed")
    fed.ledger.config.host_checkpoint_path.write_text(kept, encoding="utf-8")
    write()
