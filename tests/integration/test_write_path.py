"""The batched write path: one multi-row insert per unit, ids in order, conflicts refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from ledger.domain.people import Subject
from ledger.errors import RuleViolation
from ledger.schema import merkle_leaves
from tests.conftest import Federation, row_counts


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
