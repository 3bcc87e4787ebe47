"""``verify --since`` resumes at the auditor's saved checkpoint: what it trusts there, and the attacks on it.

It reads only the entries after the checkpoint. The registry it resumes with is a cached,
unsigned row, used only when its digest is the one the saved checkpoint signed; the tree is
the stored nodes, used only when they give the saved root.
"""

from __future__ import annotations

from sqlalchemy import select, update

from commands.services import incidents, people
from ledger import checkpoint, sealer
from ledger.checkpoint import Checkpoint
from ledger.domain.incidents.incident import incident_record_id
from ledger.domain.people import subject_record_id
from ledger.registry import Registry
from ledger.schema import registry_history, registry_state
from ledger.trust import Trust
from ledger.verify import Report, verify
from tests.adversary.attacker import Attacker
from tests.adversary.test_further_attacks import rewrite_header
from tests.conftest import Federation

SUBJECT = "ledger.domain.people:Subject.Registered"


def saved_checkpoint(fed: Federation) -> Checkpoint:
    """The checkpoint an auditor saves after a verification passed."""
    trust = Trust.load(fed.ledger.config.trust_path)
    with fed.ledger.engine.connect() as conn:
        text = sealer.latest_checkpoint(conn)[2]  # type: ignore[index]
    return checkpoint.open_checkpoint(text, trust.origin, trust.ledger_public_key)


def audit_since(fed: Federation, since: Checkpoint) -> Report:
    """``ledger verify --trust trust.json --since saved.checkpoint``."""
    with fed.ledger.engine.connect() as conn:
        return verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path), since)


def named(report: Report) -> str:
    return "\n".join(f"{f.leaf}|{f.event_type}|{f.problem}" for f in report.findings)


def test_verify_since_reads_only_the_entries_after_the_saved_checkpoint(federation: Federation) -> None:
    saved = saved_checkpoint(federation)
    people.add_subject(federation.ledger, federation["dsl"], "pupil", "Afterwards")
    report = audit_since(federation, saved)
    assert report.ok, named(report)
    assert (report.entries, report.signatures, report.tree_size) == (1, 1, saved.size + 1)
    assert report.resumed is not None and f"size {saved.size}" in report.resumed
    assert report.replayed is None


def test_verify_since_resumes_from_a_kept_registry_state_after_the_registry_changed(federation: Federation) -> None:
    """The write side's current registry row is newer than the saved checkpoint: the state the
    checkpoint signed is found in the kept history, by its digest, and the run still resumes."""
    fed = federation
    saved = saved_checkpoint(fed)
    people.add_staff(fed.ledger, fed["admin"], "New Colleague", ["staff"], "correct horse battery staple 9", "newer")
    assert saved_checkpoint(fed).registry != saved.registry
    report = audit_since(fed, saved)
    assert report.ok, named(report)
    assert report.resumed is not None and report.replayed is None
    assert report.entries >= 2


def test_nothing_new_since_the_saved_checkpoint_verifies_without_reading_an_entry(federation: Federation) -> None:
    saved = saved_checkpoint(federation)
    report = audit_since(federation, saved)
    assert report.ok, named(report)
    assert (report.entries, report.tree_size, report.checkpoints) == (0, saved.size, 1)


def test_a_new_entry_on_an_older_record_is_checked_against_its_earlier_version(federation: Federation) -> None:
    fed = federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-10T08:30", "Name-calling in the group chat", "I saw the messages"))
    saved = saved_checkpoint(fed)
    incidents.triage(fed.ledger, fed["dsl"], inc, "Bullying: speak to both families")
    report = audit_since(fed, saved)
    assert report.ok, named(report)
    assert report.entries >= 1


def _give_the_teacher_the_dsl_role(registry: Registry) -> None:
    registry.staff["teacher"].roles = sorted({*registry.staff["teacher"].roles, "dsl"})


def test_a_cached_registry_that_grants_a_role_cannot_authorise_a_new_entry(
    federation: Federation, attacker: Attacker
) -> None:
    """The IT manager (database and ledger key) makes the teacher a DSL in every cached registry row,
    then seals a pupil's registration the teacher signed: the cache's digest is not the one the
    auditor's checkpoint signed, so the registry is replayed from the entries, and the entry named."""
    fed = federation
    saved = saved_checkpoint(fed)
    assert saved.registry is not None
    with fed.ledger.engine.begin() as conn:
        for table, column, value in ((registry_history, registry_history.c.digest, saved.registry),
                                     (registry_state, registry_state.c.name, sealer.REGISTRY_ROW)):
            data = conn.execute(select(table.c.state).where(column == value)).scalar_one()
            registry = Registry.loads(bytes(data))
            _give_the_teacher_the_dsl_role(registry)
            conn.execute(update(table).where(column == value).values(state=registry.dumps()))
    attacker.insert(attacker.forge(fed["teacher"].pair, subject_record_id("sb-forged"), SUBJECT,
                                   {"subject_id": "sb-forged", "kind": "pupil"}, version=1, record_class="subject"))
    attacker.seal_everything()
    report = audit_since(fed, saved)
    assert not report.ok
    assert report.resumed is None
    assert report.replayed is not None and "no cached registry state has the digest" in report.replayed
    assert f"{saved.size}|Subject.Registered|teacher (roles: staff) may not write Subject.Registered" in named(report)


def test_a_rewritten_entry_before_the_saved_checkpoint_fails_consistency(
    federation: Federation, attacker: Attacker
) -> None:
    """The IT manager changes an entry before the auditor's checkpoint, rebuilds the tree and re-signs
    every checkpoint: the log is consistent with itself, but no longer extends the saved one."""
    fed = federation
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Before")
    saved = saved_checkpoint(fed)
    row = attacker.rows()[saved.size - 1]
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(attacker.events).where(attacker.events.c.id == row.id).values(
            state=rewrite_header(bytes(row.state), {"recorded_at": "2026-01-01T00:00:00.000000+00:00"})))
    attacker.delete_entries_and_resign([])
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "After")
    report = audit_since(fed, saved)
    assert not report.ok
    text = named(report)
    assert f"the log no longer extends your saved checkpoint of size {saved.size}: the consistency proof" in text
    assert "history was rewritten" in text


def test_a_forged_entry_after_the_saved_checkpoint_is_named(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    saved = saved_checkpoint(fed)
    attacker.insert(attacker.forge(fed["teacher"].pair, subject_record_id("sb-new"), SUBJECT,
                                   {"subject_id": "sb-new", "kind": "pupil"}, version=1, record_class="subject"))
    attacker.seal_everything()
    report = audit_since(fed, saved)
    assert report.resumed is not None
    assert f"{saved.size}|Subject.Registered|teacher (roles: staff) may not write Subject.Registered" in named(report)


def test_a_new_entry_whose_bytes_were_changed_after_sealing_is_named(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    saved = saved_checkpoint(fed)
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Changed Later")
    row = attacker.rows()[-1]
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(attacker.events).where(attacker.events.c.id == row.id).values(
            state=rewrite_header(bytes(row.state), {"subjects": ["sb-someone-else"]})))
    report = audit_since(fed, saved)
    text = named(report)
    assert f"{saved.size}|Subject.Registered|bytes differ from what was sealed (leaf hash mismatch)" in text
    assert f"{saved.size}|Subject.Registered|signature does not verify" in text


def test_an_older_version_swapped_under_a_new_entry_is_named(federation: Federation, attacker: Attacker) -> None:
    """The record's entry before the checkpoint is changed in place (not re-sealed): the new entry's
    record is judged only from an earlier version proved to be in the saved tree, so the swap is named."""
    fed = federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-10T08:30", "Name-calling in the group chat", "I saw the messages"))
    saved = saved_checkpoint(fed)
    incidents.triage(fed.ledger, fed["dsl"], inc, "Bullying: speak to both families")
    aggregate = incident_record_id(inc)
    with fed.ledger.engine.begin() as conn:
        table = attacker.events
        row = conn.execute(select(table.c.id, table.c.state).where(
            table.c.originator_id == aggregate, table.c.originator_version == 1)).one()
        conn.execute(update(table).where(table.c.id == row.id).values(
            state=rewrite_header(bytes(row.state), {"record_class": "monitoring"})))
    report = audit_since(fed, saved)
    assert not report.ok
    assert (f"record {aggregate}'s version 1 before your saved checkpoint is not the entry the checkpoint covers"
            in named(report))
