"""After a sweep, an erased record leaves no trace that could be decrypted, and a
sweep killed part way is finished by a rerun."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from commands.services import incidents, people, retention_plan
from commands.services.incidents import IncidentReport
from ledger import envelope
from ledger.domain.incidents import incident_record_id
from ledger.domain.people import subject_record_id
from ledger.schema import key_wraps
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import Federation

SENTINEL = "Ottoline Marchbanks-Vey"


def old_case(fed: Federation, words: str) -> str:
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", SENTINEL, "1990-01-01")
    form = IncidentReport(category="child-on-child", occurred_at="2000-01-10T10:00", summary=words,
                          facts=f"{SENTINEL} said so", people=(f"{pupil}:victim",), child_words=words)
    return incidents.report(fed.ledger, fed["teacher"], form)


def bodies(fed: Federation, inc: str) -> list[bytes]:
    """The start of each of the record's encrypted bodies."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        states = conn.execute(select(table.c.state).where(table.c.originator_id == incident_record_id(inc)))
        return [envelope.parse(bytes(s)).body[:48] for (s,) in states]


def wraps(fed: Federation) -> set[bytes]:
    """The start of every wrapped key."""
    with fed.ledger.engine.connect() as conn:
        return {bytes(w)[:48] for (w,) in conn.execute(select(key_wraps.c.wrapped))}


def all_table_bytes(url: str) -> bytes:
    engine = create_engine(url)
    chunks: list[bytes] = []
    try:
        with engine.connect() as conn:
            columns = conn.execute(text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'")).all()
            for table, column, data_type in columns:
                expression = f'"{column}"' if data_type == "bytea" else f'convert_to("{column}"::text, \'UTF8\')'
                chunks += [bytes(v) for (v,) in conn.execute(text(f'SELECT {expression} FROM "{table}"')) if v]
    finally:
        engine.dispose()
    return b"\x00".join(chunks)


def test_a_swept_record_leaves_no_ciphertext_or_key_in_the_database(federation: Federation) -> None:
    inc = old_case(federation, "the words of a child")
    ciphertext, wraps_before = bodies(federation, inc), wraps(federation)
    assert ciphertext and all(ciphertext)
    certificate = retention_plan.sweep(federation.ledger, federation["head"], "review", dt.date(2026, 12, 1))
    assert inc in certificate.text
    destroyed = wraps_before - wraps(federation)
    assert destroyed, "the sweep destroyed the record's key wraps"
    config = federation.ledger.config
    if config.is_sqlite:
        db = Path(str(config.sqlite_path))
        blobs = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())
    else:
        blobs = all_table_bytes(config.db_url)
    for trace in ciphertext + sorted(destroyed):
        assert trace not in blobs
    assert SENTINEL.encode() not in blobs


def test_a_sweep_killed_part_way_leaves_a_consistent_ledger_that_a_rerun_completes(
    federation: Federation, tmp_path: Path
) -> None:
    first, second, third = (old_case(federation, f"case {n}") for n in range(3))
    child = textwrap.dedent(f"""
        import datetime as dt, os, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from commands.services import retention_plan
        from ledger import config as configuration
        from ledger.store import Ledger
        ledger = Ledger(configuration.resolve({{}}, home={str(federation.home)!r}, db={federation.ledger.config.db_url!r}))
        head = ledger.unlock("head", "correct horse battery")
        real, calls = retention_plan.erase_all_in, []
        retention_plan.SWEEP_BATCH = 2   # two transactions: cases 0 and 1, then case 2
        def dies_in_the_second_transaction(work, targets, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:   # the second transaction's records are shredded, not yet committed
                real(work, targets, *args, **kwargs)
                os._exit(137)   # killed: no rollback handlers, no cleanup
            return real(work, targets, *args, **kwargs)
        retention_plan.erase_all_in = dies_in_the_second_transaction
        retention_plan.sweep(ledger, head, "killed sweep", dt.date(2026, 12, 1))
    """)
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert result.returncode == 137, result.stderr
    ledger = federation.ledger
    with ledger.engine.connect() as conn:
        report = verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path))
    assert report.ok, report.findings
    due = [d.label for d in retention_plan.plan(ledger, federation["head"], dt.date(2026, 12, 1))[0]
           if d.action == "erase"]
    assert len(due) == 1 and set(due) < {first, second, third}
    certificate = retention_plan.sweep(ledger, federation["head"], "finish", dt.date(2026, 12, 1))
    assert certificate.erased == 1
    assert not [d for d in retention_plan.plan(ledger, federation["head"], dt.date(2026, 12, 1))[0]
                if d.action == "erase"]


def test_a_sweep_batch_is_one_signed_erasure_entry_per_class_and_covers_only_its_records(
    federation: Federation,
) -> None:
    """Three due cases of one class in one batch: one erasure entry names all three (one key,
    one signature), the ledger verifies, each is unreadable and leaves no ciphertext; a fourth
    record's body scrubbed by hand is not covered by the batch's entry and verify names it."""
    from sqlalchemy import update

    from ledger.errors import RecordErased

    cases = [old_case(federation, f"batched words {n}") for n in range(3)]
    ciphertext = [b for inc in cases for b in bodies(federation, inc)]
    ledger = federation.ledger
    table = ledger.app.events_table
    certificate = retention_plan.sweep(ledger, federation["head"], "review", dt.date(2026, 12, 1))
    assert certificate.erased == 3 and all(inc in certificate.text for inc in cases)
    with ledger.engine.connect() as conn:
        erasures = [envelope.parse(bytes(s)).header for (s,) in conn.execute(
            select(table.c.state).where(table.c.topic.endswith(":Erasure.Recorded")))]
        report = verify(conn, table, Trust.load(ledger.config.trust_path))
    assert len(erasures) == 1
    assert sorted(erasures[0]["claims"]["records"]) == sorted(str(incident_record_id(i)) for i in cases)
    assert erasures[0]["claims"]["basis"] == "rule:safeguarding" and erasures[0]["claims"]["entries"] >= 3
    assert report.ok, report.findings
    for inc in cases:
        with pytest.raises(RecordErased):
            incidents.show(ledger, federation["dsl"], inc, "check the erasure")
    with ledger.engine.connect() as conn:
        blobs = b"".join(bytes(s) for (s,) in conn.execute(select(table.c.state)))
    assert not [t for t in ciphertext if t in blobs]
    other = people.add_subject(ledger, federation["dsl"], "pupil", "Not Swept")
    with ledger.engine.begin() as conn:
        row = conn.execute(select(table.c.id, table.c.state).where(
            table.c.originator_id == subject_record_id(other))).one()
        conn.execute(update(table).where(table.c.id == row.id).values(
            state=envelope.parse(bytes(row.state)).without_body().to_bytes()))
    with ledger.engine.connect() as conn:
        problems = [f.problem for f in verify(conn, table, Trust.load(ledger.config.trust_path)).findings]
    assert "body is missing and no erasure entry covers the record" in problems
