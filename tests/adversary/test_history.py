"""History: no entry removed, no file altered, no row slipped in (attacks 9 and 10, and more)."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update

from commands.services import incidents, people
from commands.services.evidence import EvidenceFile
from ledger.errors import NotPermitted, VerificationFailed
from ledger.schema import attachments, registry_state
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import audit, findings
from tests.conftest import Federation, refused


def case_with_evidence(fed: Federation) -> tuple[str, str]:
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Image shared", "Seen", evidence=(EvidenceFile(
            "chat.txt", b"the chat as typed", "teacher", "2026-01-05T10:05", "copied text", "school laptop"),)))
    attachment = str(incidents.show(fed.ledger, fed["head"], inc, "check")["evidence"][0]["attachment_id"])
    return inc, attachment


def test_a_middle_entry_deleted_with_every_checkpoint_resigned_is_named(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    inc, _ = case_with_evidence(fed)
    for n in range(3):
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", f"note {n}")
    rows = attacker.rows()
    middle = next(i for i, r in enumerate(rows) if r.topic.endswith("Incident.NoteAdded"))
    attacker.delete_entries_and_resign([middle])
    text = findings(fed)
    assert "|Incident.NoteAdded|the record jumps from version" in text and "missing from the log" in text


def test_a_flipped_byte_in_a_stored_evidence_file_is_named(federation: Federation) -> None:
    fed = federation
    inc, attachment = case_with_evidence(fed)
    with fed.ledger.engine.begin() as conn:
        blob = bytes(conn.execute(select(attachments.c.ciphertext)
                                  .where(attachments.c.attachment_id == attachment)).scalar_one())
        conn.execute(update(attachments).where(attachments.c.attachment_id == attachment)
                     .values(ciphertext=blob[:-1] + bytes([blob[-1] ^ 1])))
    assert f"evidence file {attachment} does not match the hash its entry signed" in findings(fed)


def test_a_deleted_evidence_file_is_named(federation: Federation) -> None:
    fed = federation
    inc, attachment = case_with_evidence(fed)
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(attachments).where(attachments.c.attachment_id == attachment))
    assert f"evidence file {attachment} is missing from the store" in findings(fed)


def test_an_edited_registry_row_stops_writes_until_it_is_rebuilt_from_the_log(federation: Federation) -> None:
    fed = federation
    with fed.ledger.engine.begin() as conn:
        state = bytes(conn.execute(select(registry_state.c.state)).scalar_one())
        conn.execute(update(registry_state).values(state=state.replace(b'"slt","staff"', b'"dsl","slt","staff"')))
    fresh = type(fed.ledger)(fed.ledger.config)
    try:
        refused(fed, VerificationFailed, lambda: people.add_subject(fresh, fed["slt"], "pupil", "Not Written"))
        from commands.services.integrity import rebuild_registry

        rebuild_registry(fresh)
        people.add_subject(fresh, fed["dsl"], "pupil", "Written Again")
    finally:
        fresh.close()
    assert audit(fed).ok


def test_a_registry_row_edited_while_another_writer_keeps_the_registry_decides_nothing(federation: Federation) -> None:
    """A writer keeps the registry it holds while the signed digest stays the same (another
    writer's entries changed no key or role). An edited row granting a teacher the DSL role
    is then never read by it, so it authorises nothing there; a writer that does read the
    row refuses it."""
    fed = federation
    other = type(fed.ledger)(fed.ledger.config)
    try:
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Written Here")
        people.add_subject(other, fed["dsl"], "pupil", "Written There")  # a new head, the same registry digest
        with fed.ledger.engine.begin() as conn:
            state = bytes(conn.execute(select(registry_state.c.state)).scalar_one())
            edited = re.sub(rb'("teacher":\["[^"]+",\[)"staff"\]', rb'\1"dsl","staff"]', state)
            assert edited != state
            conn.execute(update(registry_state).values(state=edited))
        refused(fed, NotPermitted, lambda: people.add_subject(fed.ledger, fed["teacher"], "pupil", "Not Written"))
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Written With The Kept Registry")
        fresh = type(fed.ledger)(fed.ledger.config)
        try:
            refused(fed, VerificationFailed, lambda: people.add_subject(fresh, fed["dsl"], "pupil", "Not Written"))
        finally:
            fresh.close()
    finally:
        other.close()
