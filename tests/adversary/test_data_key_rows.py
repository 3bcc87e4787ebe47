"""The ``data_keys`` rows are unsigned: erasure and verify must not take a record's class or keys from them.

A database user may change a key row's ``record_class`` (to be judged as one who may erase the
record) or its ``record_id`` (to have a kept record's key destroyed along with a due record's).
The write side decides both from the records' own signed entries; verify compares every erasure
with what the signed entries say, so an erasure written from the rows (an older writer, or one
that trusted them) is named.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, select, update

from commands.services import approvals, incidents, people, readside, retention, retention_plan
from commands.services.setup import init_ledger
from ledger import config as configuration
from commands.services.incidents import IncidentReport
from ledger import envelope, erasure
from ledger.errors import LedgerError, VerificationFailed
from ledger.schema import data_keys, key_wraps
from ledger.trust import Trust
from ledger.verify import verify
from projections.records import records
from ledger.store import Ledger
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE, Federation, fresh_pg_database

AS_OF = dt.date(2026, 12, 1)


def report(fed: Federation, involved: str) -> str:
    form = IncidentReport(category="child-on-child", occurred_at="2026-01-10T10:00", summary="summary",
                          facts="facts", people=(involved,))
    return incidents.report(fed.ledger, fed["teacher"], form)


def aggregate_of(fed: Federation, inc: str) -> str:
    readside.ensure_current(fed.ledger)
    with fed.ledger.engine.connect() as conn:
        return str(conn.execute(select(records.c.aggregate).where(records.c.alias == inc)).scalar_one())


def keys_of(fed: Federation, aggregate: str) -> list[str]:
    with fed.ledger.engine.connect() as conn:
        return [str(k) for (k,) in conn.execute(select(data_keys.c.key_id).where(data_keys.c.record_id == aggregate))]


def wraps(fed: Federation, key_ids: list[str]) -> int:
    with fed.ledger.engine.connect() as conn:
        return len(conn.execute(select(key_wraps.c.key_id).where(key_wraps.c.key_id.in_(key_ids))).all())


def findings(fed: Federation) -> list[str]:
    with fed.ledger.engine.connect() as conn:
        rep = verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path))
    return [f.problem for f in rep.findings]


def erasure_claims(fed: Federation) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        found = [envelope.parse(bytes(s)) for (s,) in conn.execute(select(table.c.state).order_by(table.c.id))]
    return [dict(e.header["claims"]) for e in found if str(e.header["topic"]).endswith("Erasure.Recorded")]


def shred_as_of_old(monkeypatch: pytest.MonkeyPatch,
                    change: Callable[[Connection, erasure.Shredded], erasure.Shredded]) -> None:
    """Make the write side shred as a writer that trusted the rows would have: each record's result
    goes through ``change`` (which may also act on the database) before its erasure entry is signed."""
    real = erasure.shred_all

    def shred_all(conn: Connection, *args: Any) -> dict[str, erasure.Shredded]:
        return {r: change(conn, done) for r, done in real(conn, *args).items()}

    monkeypatch.setattr(erasure, "shred_all", shred_all)


def assert_named(fed: Federation, problem: str) -> None:
    found = findings(fed)
    assert any(problem in f for f in found), found


def test_a_class_edited_in_data_keys_does_not_let_the_it_manager_erase_a_safeguarding_record(
        federation: Federation) -> None:
    fed = federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Young Pupil", "2016-01-01")
    inc = report(fed, f"{pupil}:victim")
    aggregate = aggregate_of(fed, inc)
    keys = keys_of(fed, aggregate)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.record_id == aggregate).values(record_class="monitoring"))
    with pytest.raises(LedgerError, match="may not erase a safeguarding record"):
        retention.erase(fed.ledger, fed["admin"], inc, "recorded-in-error", "entered on the wrong pupil")
    assert wraps(fed, keys) > 0
    assert erasure_claims(fed) == []


def test_verify_names_an_erasure_whose_class_is_not_its_records_signed_class(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that took the class from the row (as this one once did) wrote an erasure verify must name."""
    fed = federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Young Pupil", "2016-01-01")
    inc = report(fed, f"{pupil}:victim")
    aggregate = aggregate_of(fed, inc)
    shred_as_of_old(monkeypatch, lambda conn, s: dataclasses.replace(s, record_class="monitoring"))
    retention.erase(fed.ledger, fed["admin"], inc, "recorded-in-error", "entered on the wrong pupil")
    assert_named(fed, f"erases record {aggregate} as a monitoring record, but its signed entries make it safeguarding")


def test_a_kept_records_key_filed_under_a_due_record_stops_the_sweep(federation: Federation) -> None:
    fed = federation
    old = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Old Pupil", "1995-01-01")
    young = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Young Pupil", "2016-01-01")
    due, kept = report(fed, f"{old}:victim"), report(fed, f"{young}:victim")
    due_aggregate, kept_aggregate = aggregate_of(fed, due), aggregate_of(fed, kept)
    due_keys, kept_keys = keys_of(fed, due_aggregate), keys_of(fed, kept_aggregate)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.key_id.in_(kept_keys)).values(record_id=due_aggregate))
    with pytest.raises(VerificationFailed, match=f"data key {kept_keys[0]} is filed under record {due_aggregate}"):
        retention_plan.sweep(fed.ledger, fed["head"], "review", AS_OF)
    assert wraps(fed, kept_keys) > 0 and wraps(fed, due_keys) > 0, "nothing may be erased"
    assert erasure_claims(fed) == []
    assert incidents.show(fed.ledger, fed["dsl"], kept, "check")


def test_verify_names_an_erasure_that_destroys_a_key_of_a_record_it_does_not_name(
        federation: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that found keys by the rows' record id destroyed a kept record's key: verify names it."""
    fed = federation
    old = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Old Pupil", "1995-01-01")
    young = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Young Pupil", "2016-01-01")
    due, kept = report(fed, f"{old}:victim"), report(fed, f"{young}:victim")
    kept_aggregate = aggregate_of(fed, kept)
    due_keys, kept_keys = keys_of(fed, aggregate_of(fed, due)), keys_of(fed, kept_aggregate)

    def by_the_rows(conn: Connection, done: erasure.Shredded) -> erasure.Shredded:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(kept_keys)))
        return dataclasses.replace(done, keys=done.keys + kept_keys)

    shred_as_of_old(monkeypatch, by_the_rows)
    retention_plan.sweep(fed.ledger, fed["head"], "review", AS_OF)
    assert wraps(fed, due_keys) == 0 and wraps(fed, kept_keys) == 0
    assert_named(fed, f"destroys data key {kept_keys[0]} of record {kept_aggregate}, which it does not name")


def test_a_class_edited_on_one_due_record_does_not_change_how_the_sweep_records_it(federation: Federation) -> None:
    fed = federation
    old = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Old Pupil", "1995-01-01")
    cases = [report(fed, f"{old}:witness") for _ in range(3)]
    target = aggregate_of(fed, cases[1])
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.record_id == target).values(record_class="monitoring"))
    cert = retention_plan.sweep(fed.ledger, fed["head"], "review", AS_OF)
    assert cert.erased >= 3
    named = {r: (c["erased_class"], c["basis"]) for c in erasure_claims(fed) for r in c["records"]}
    assert named[target] == ("safeguarding", "rule:safeguarding")
    assert findings(fed) == []


def test_a_deleted_key_row_does_not_hide_a_key_from_erasure(federation: Federation) -> None:
    fed = federation
    old = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Old Pupil", "1995-01-01")
    cases = [report(fed, f"{old}:witness") for _ in range(2)]
    target = aggregate_of(fed, cases[0])
    hidden = keys_of(fed, target)
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(data_keys).where(data_keys.c.record_id == target))
    retention_plan.sweep(fed.ledger, fed["head"], "review", AS_OF)
    assert wraps(fed, hidden) == 0
    assert set(hidden) <= {k for c in erasure_claims(fed) for k in c["keys_destroyed"]}
    assert findings(fed) == []


def test_a_class_edited_in_data_keys_does_not_list_an_allegation_for_slt(federation: Federation) -> None:
    """``incidents list`` picks incidents by the key rows' class: relabelled, an allegation (read by the
    Headteacher alone) would be listed for SLT with its category, status and investigators."""
    fed = federation
    inc = incidents.report(fed.ledger, fed["teacher"], IncidentReport(
        "personal-social-media", "2026-01-05T10:00", "Comment online", "Seen by a parent",
        people=("teacher:alleged",), against_staff=True))
    aggregate = aggregate_of(fed, inc)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.record_id == aggregate).values(record_class="incident"))
    assert inc in {r["id"] for r in incidents.list_incidents(fed.ledger, fed["head"])}
    assert inc not in {r["id"] for r in incidents.list_incidents(fed.ledger, fed["slt"])}


# -- a reader role's first key ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def without_poster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Federation]:
    """A federation whose ``poster`` reader role has no key yet: the Headteacher and a teacher only."""
    from ledger import crypto

    with contextlib.ExitStack() as stack:
        database = stack.enter_context(fresh_pg_database()) if request.param == "postgres" else None
        config = configuration.resolve({}, home=str(tmp_path / "home"), db=database)
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        init_ledger(config, "Ada Admin", PASSPHRASE, RECOVERY_PASSPHRASE, "admin")
        ledger = Ledger(config)
        stack.callback(ledger.close)
        people.add_staff(ledger, ledger.unlock("admin", PASSPHRASE), "Person head", ["headteacher", "staff"],
                         PASSPHRASE, "head")
        head = ledger.unlock("head", PASSPHRASE)
        people.add_staff(ledger, head, "Person teacher", ["staff"], PASSPHRASE, "teacher")
        yield Federation(ledger, tmp_path / "home", {s: ledger.unlock(s, PASSPHRASE)
                                                     for s in ("admin", "head", "teacher")})


def add_poster(fed: Federation) -> None:
    people.add_staff(fed.ledger, fed["head"], "Person poster", ["poster", "staff"], PASSPHRASE, "poster")


def test_a_reader_roles_first_key_is_given_the_earlier_records_of_its_classes(without_poster: Federation) -> None:
    fed = without_poster
    post = approvals.propose_post(fed.ledger, fed["teacher"], "Sports day photos", [], [b"image"], "facebook")
    add_poster(fed)
    poster = fed.ledger.unlock("poster", PASSPHRASE)
    assert approvals.show(fed.ledger, poster, post, "checking the post")["id"] == post


def test_a_key_relabelled_as_a_class_the_role_reads_is_not_given_to_its_first_key(without_poster: Federation) -> None:
    """A database user relabels the key of a staff record (which the poster may not read) as an
    approval's: the poster role's first key would have been given it. It is refused, naming the
    row, and nothing is written."""
    fed = without_poster
    with fed.ledger.engine.begin() as conn:
        key_id, record_id = conn.execute(select(data_keys.c.key_id, data_keys.c.record_id)
                                         .where(data_keys.c.record_class == "staff")).first()  # type: ignore[misc]
        conn.execute(update(data_keys).where(data_keys.c.key_id == key_id).values(record_class="approval"))
    before = len(row_ids(fed))
    with pytest.raises(VerificationFailed, match=f"data key {key_id} is filed under record {record_id}.*staff record"):
        add_poster(fed)
    assert len(row_ids(fed)) == before
    with fed.ledger.engine.connect() as conn:
        assert not conn.execute(select(key_wraps.c.key_id).where(key_wraps.c.recipient == "role:poster")).all()


def test_a_key_filed_under_another_record_is_not_given_to_a_first_key(without_poster: Federation) -> None:
    """The key of a staff record is filed under an approval (which the poster reads): refused too."""
    fed = without_poster
    post = approvals.propose_post(fed.ledger, fed["teacher"], "Sports day photos", [], [b"image"], "facebook")
    readside.ensure_current(fed.ledger)
    with fed.ledger.engine.begin() as conn:
        approval_record = conn.execute(select(data_keys.c.record_id)
                                       .where(data_keys.c.record_class == "approval")).scalar_one()
        key_id = conn.execute(select(data_keys.c.key_id).where(data_keys.c.record_class == "staff")).scalars().first()
        conn.execute(update(data_keys).where(data_keys.c.key_id == key_id)
                     .values(record_class="approval", record_id=approval_record))
    with pytest.raises(VerificationFailed, match=f"data key {key_id} is filed under record .* not written with it"):
        add_poster(fed)
    assert post


def row_ids(fed: Federation) -> list[int]:
    """Every entry's row id (to show that nothing was written)."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return [int(i) for (i,) in conn.execute(select(table.c.id))]
