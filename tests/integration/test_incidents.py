"""Incidents on both backends: need-to-know, lifecycle rules, evidence custody."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from commands.services import incidents as service
from commands.services import people
from commands.services.evidence import EvidenceFile
from ledger import envelope
from ledger.domain.incidents import incident_record_id
from ledger.errors import AlreadyExists, InvalidInput, LedgerError, NotFound, NotPermitted, RuleViolation, VerificationFailed
from ledger.schema import attachments, key_wraps
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import DemoRun, Federation, module_federation, refused, row_counts

SENTINEL = "Zebedee Quillfeather"
SHOT = b"\x89PNG screenshot bytes of a post"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation per backend shared by this module: every test works on
    its own incidents, and each refusal is checked to write nothing."""
    yield from module_federation(request, tmp_path_factory, "incidents")






def headers(fed: Federation, inc_id: str) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.state)
            .where(table.c.originator_id == incident_record_id(inc_id))
            .order_by(table.c.originator_version)
        )
        return [envelope.parse(bytes(s)).header for (s,) in rows]


def ids(fed: Federation, who: str, **filters: Any) -> list[str]:
    return [r["id"] for r in service.list_incidents(fed.ledger, fed[who], **filters)]


def fed_attachment_ciphertext(fed: Federation, attachment_id: str) -> bytes:
    """The stored (encrypted) bytes of one evidence file."""
    with fed.ledger.engine.connect() as conn:
        return bytes(conn.execute(
            select(attachments.c.ciphertext).where(attachments.c.attachment_id == attachment_id)).scalar_one())


def shot(content: bytes = SHOT, **kw: Any) -> EvidenceFile:
    fields = {"captured_by": "dsl", "captured_at": "2026-01-10T09:00", "method": "screenshot", "device": "school laptop"}
    fields.update(kw)
    return EvidenceFile("post.png", content, **fields)


def pupil(fed: Federation, name: str = "Pat Pupil") -> str:
    return people.add_subject(fed.ledger, fed["dsl"], "pupil", name)


def report(fed: Federation, who: str = "teacher", category: str = "child-on-child", **kw: Any) -> str:
    form: dict[str, Any] = {"occurred_at": "2026-01-10T08:30", "summary": "Something happened", "facts": "What was seen"}
    form.update(kw)
    return service.report(fed.ledger, fed[who], service.IncidentReport(category, **form))


def allegation(fed: Federation, **kw: Any) -> str:
    return report(fed, "head", "other", against_staff=True, people=("teacher:alleged",), **kw)


def conduct(fed: Federation) -> str:
    """A staff phone use incident, triaged by SLT."""
    inc = report(fed, "slt", "staff-phone-use", people=("teacher:alleged",))
    service.triage(fed.ledger, fed["slt"], inc, "phone use around children")
    return inc


def test_any_member_of_staff_reports_but_may_not_read_a_safeguarding_incident(fed: Federation) -> None:
    inc = report(fed, "teacher", people=(f"{pupil(fed)}:victim",), child_words="he sent it")
    assert inc.startswith("inc-")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed["teacher"], inc, "mine"))
    assert service.show(fed.ledger, fed["dsl"], inc, "triage")["child_words"] == "he sent it"
    assert service.show(fed.ledger, fed["head"], inc, "oversight")["record_class"] == "safeguarding"


@pytest.mark.parametrize("reader", ["slt", "teacher", "admin", "poster", "investigator", "auditor"])
def test_a_safeguarding_incident_is_hidden_from_roles_outside_its_class(fed: Federation, reader: str) -> None:
    inc = report(fed, "teacher")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed[reader], inc, "curious"))
    refused(fed, NotPermitted, lambda: service.add_note(fed.ledger, fed[reader], inc, "fact", "x"))
    assert inc not in ids(fed, reader)


def test_a_conduct_incident_is_for_slt_and_the_headteacher_not_the_dsl(fed: Federation) -> None:
    inc = report(fed, "teacher", "pupil-contact")
    assert inc in ids(fed, "slt") and inc not in ids(fed, "dsl")
    service.show(fed.ledger, fed["head"], inc, "oversight")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed["dsl"], inc, "curious"))


def test_an_allegation_against_staff_is_for_the_headteacher_only(fed: Federation) -> None:
    inc = allegation(fed)
    assert service.show(fed.ledger, fed["head"], inc, "case")["record_class"] == "allegation"
    for reader in ("dsl", "slt"):
        refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed[reader], inc, "x"))


def test_an_allegation_must_name_the_member_of_staff_alleged(fed: Federation) -> None:
    subject = pupil(fed)
    refused(fed, RuleViolation, lambda: report(fed, "head", "other", against_staff=True,
                                                      people=(f"{subject}:alleged",)), "names the member of staff")


MALFORMED_REPORTS: list[tuple[dict[str, Any], type[LedgerError]]] = [
    ({"occurred_at": "2099-01-01"}, InvalidInput),
    ({"precision": "range"}, InvalidInput),
    ({"precision": "sometime"}, InvalidInput),
    ({"source": "monitoring"}, InvalidInput),
    ({"alert_id": "al-1234"}, InvalidInput),
    ({"source": "told"}, InvalidInput),
    ({"facts": "   "}, InvalidInput),
    ({"child_words": "  "}, InvalidInput),
    ({"people": ("nobody-here:victim",)}, NotFound),
    ({"people": ("teacher:bystander",)}, InvalidInput),
    ({"people": ("teacher:witness", "teacher:victim")}, InvalidInput),
    ({"reporter_role": "dsl"}, InvalidInput),
]


@pytest.mark.parametrize(("changes", "error"), MALFORMED_REPORTS)
def test_a_malformed_report_is_refused_and_writes_nothing(
    fed: Federation, changes: dict[str, Any], error: type[LedgerError]
) -> None:
    refused(fed, error, lambda: report(fed, "teacher", **changes))


def test_an_unknown_category_is_refused(fed: Federation) -> None:
    refused(fed, InvalidInput, lambda: report(fed, "teacher", "gossip"), "unknown incident category")


def test_the_report_keeps_occurrence_precision_source_and_roles_in_clear_and_the_rest_encrypted(
    fed: Federation,
) -> None:
    subject = pupil(fed)
    inc = report(
        fed, "teacher", "staff-harassed", occurred_at="2026-01-05", precision="range", until="2026-01-08",
        source="monitoring", alert_id="al-77", people=(f"{subject}:alleged", "teacher:victim"),
        facts=f"Posts by {SENTINEL}", opinion="Looks deliberate",
    )
    header = headers(fed, inc)[0]
    assert header["record_class"] == "incident"
    assert header["occurred_at"]["precision"] == "range" and header["occurred_at"]["until"].startswith("2026-01-08")
    assert header["subjects"] == sorted([subject, "teacher"])
    assert header["claims"] == {
        "inc_id": inc, "category": "staff-harassed", "against_staff": False, "reporter": "teacher",
        "reporter_role": "staff", "source": "monitoring", "alert_id": "al-77", "school": None,
    }
    assert SENTINEL not in json.dumps(header)
    record = service.show(fed.ledger, fed["head"], inc, "case review")
    assert record["facts"] == f"Posts by {SENTINEL}" and record["opinion"] == "Looks deliberate"
    assert record["people"] == [{"id": subject, "part": "alleged", "kind": "subject"},
                                {"id": "teacher", "part": "victim", "kind": "staff"}]


def test_nothing_personal_reaches_the_database_file_in_clear(sqlite_federation: Federation) -> None:
    fed = sqlite_federation
    inc = report(fed, "teacher", facts=f"{SENTINEL} showed me", child_words=f"{SENTINEL} said so",
                 evidence=(shot(f"{SENTINEL} in a screenshot".encode()),))
    service.triage(fed.ledger, fed["dsl"], inc, f"Spoke to {SENTINEL}")
    service.add_note(fed.ledger, fed["dsl"], inc, "opinion", f"{SENTINEL} is at risk")
    fed.ledger.close()
    home = fed.home
    for path in home.glob("ledger.db*"):
        assert SENTINEL.encode() not in path.read_bytes(), path


def test_a_childs_words_are_kept_verbatim(fed: Federation) -> None:
    words = "  he said 'don't tell'\n  and then he LEFT  "
    inc = report(fed, "dsl", child_words=words)
    service.add_note(fed.ledger, fed["dsl"], inc, "child-words", words)
    record = service.show(fed.ledger, fed["dsl"], inc, "check")
    assert record["child_words"] == words
    assert record["notes"] == [{"kind": "child-words", "text": words}]


@pytest.mark.parametrize(
    ("category", "triager", "owner"),
    [("child-on-child", "dsl", "dsl"), ("staff-phone-use", "slt", "slt"), ("defamatory-post", "head", "headteacher"),
     ("pupil-contact", "head", "slt")],
)
def test_triage_escalates_to_the_owner_of_the_category(
    fed: Federation, category: str, triager: str, owner: str
) -> None:
    inc = report(fed, "teacher", category)
    assert service.triage(fed.ledger, fed[triager], inc, "triaged") == owner
    assert headers(fed, inc)[-1]["claims"]["escalated_to"] == owner


def test_triage_by_a_role_that_does_not_own_the_category_is_refused(fed: Federation) -> None:
    inc = report(fed, "teacher", "defamatory-post")
    refused(fed, NotPermitted, lambda: service.triage(fed.ledger, fed["slt"], inc, "mine"),
            "escalated to the headteacher")


def test_triage_may_correct_the_category_but_not_move_it_to_another_record_class(fed: Federation) -> None:
    inc = report(fed, "teacher", "other")
    refused(fed, RuleViolation,
            lambda: service.triage(fed.ledger, fed["head"], inc, "x", "child-on-child"), "kept as")
    assert service.triage(fed.ledger, fed["head"], inc, "actually a media comment", "media-comment") == "headteacher"
    assert service.show(fed.ledger, fed["slt"], inc, "check")["category"] == "media-comment"


def test_an_incident_is_triaged_once(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, RuleViolation, lambda: service.triage(fed.ledger, fed["head"], inc, "again"))


def test_an_investigator_is_assigned_only_after_triage(fed: Federation) -> None:
    inc = report(fed, "teacher")
    refused(fed, RuleViolation,
            lambda: service.assign(fed.ledger, fed["dsl"], inc, "investigator", "look"), "not been triaged")


def test_an_assigned_investigator_reads_and_works_on_the_case_until_unassigned(fed: Federation) -> None:
    inc = report(fed, "teacher", evidence=(shot(),))
    service.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed["investigator"], inc, "x"))
    service.assign(fed.ledger, fed["dsl"], inc, "investigator", "Interview both pupils")
    investigator = fed.reunlock("investigator")
    assert inc in ids(fed, "investigator")
    service.add_note(fed.ledger, investigator, inc, "fact", "Both pupils interviewed")
    service.record_action(fed.ledger, investigator, inc, "parents-informed", "Called both families")
    record = service.show(fed.ledger, investigator, inc, "investigation")
    assert record["investigators"] == ["investigator"] and record["status"] == "investigating"
    refused(fed, NotPermitted,
            lambda: service.record_outcome(fed.ledger, investigator, inc, "upheld", "mine to decide?"))

    service.unassign(fed.ledger, fed["dsl"], inc, "investigator", "Report delivered")
    with fed.ledger.engine.connect() as conn:
        assert conn.execute(select(key_wraps).where(key_wraps.c.recipient == "actor:investigator")).first() is None
    investigator = fed.reunlock("investigator")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, investigator, inc, "after"))
    assert inc not in ids(fed, "investigator")


def test_an_investigator_sees_only_the_cases_assigned_to_them(fed: Federation) -> None:
    mine, other = conduct(fed), conduct(fed)
    service.assign(fed.ledger, fed["head"], mine, "investigator", "look")
    investigator = fed.reunlock("investigator")
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, investigator, other, "x"))
    assert mine in ids(fed, "investigator") and other not in ids(fed, "investigator")


def test_only_the_headteacher_or_dsl_assigns_investigators(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, NotPermitted,
            lambda: service.assign(fed.ledger, fed["slt"], inc, "investigator", "look"))


def test_a_person_involved_cannot_investigate(fed: Federation) -> None:
    inc = conduct(fed)
    service.link_person(fed.ledger, fed["slt"], inc, "investigator:witness", "was in the room")
    refused(fed, RuleViolation,
            lambda: service.assign(fed.ledger, fed["head"], inc, "investigator", "look"), "involved")


def test_an_investigator_needs_a_role_that_may_investigate(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, RuleViolation,
            lambda: service.assign(fed.ledger, fed["head"], inc, "poster", "look"), "holds none")
    refused(fed, NotFound,
            lambda: service.assign(fed.ledger, fed["head"], inc, "ghost", "look"))


def test_assignment_twice_and_unassigning_someone_not_assigned_are_refused(fed: Federation) -> None:
    inc = conduct(fed)
    service.assign(fed.ledger, fed["head"], inc, "investigator", "look")
    refused(fed, RuleViolation,
            lambda: service.assign(fed.ledger, fed["head"], inc, "investigator", "again"), "already")
    refused(fed, RuleViolation,
            lambda: service.unassign(fed.ledger, fed["head"], inc, "slt", "never"), "not assigned")


def test_linking_a_person_puts_their_id_in_the_header_and_refuses_duplicates(fed: Federation) -> None:
    inc = conduct(fed)
    witness = pupil(fed)
    service.link_person(fed.ledger, fed["slt"], inc, f"{witness}:witness", "saw it")
    assert headers(fed, inc)[-1]["subjects"] == [witness]
    refused(fed, RuleViolation,
            lambda: service.link_person(fed.ledger, fed["slt"], inc, f"{witness}:victim", "again"))


def test_evidence_is_hashed_at_intake_stored_encrypted_and_read_back_under_the_access_log(
    fed: Federation, tmp_path: Path
) -> None:
    inc = conduct(fed)
    attachment = service.add_evidence(fed.ledger, fed["slt"], inc, shot(description="the post"))
    digest = hashlib.sha256(SHOT).hexdigest()
    entry = headers(fed, inc)[-1]
    stored = fed_attachment_ciphertext(fed, attachment)
    assert entry["claims"] == {"attachment_id": attachment, "sha256": digest, "size": len(SHOT),
                               "stored_sha256": hashlib.sha256(stored).hexdigest(), "media": "image"}
    with fed.ledger.engine.connect() as conn:
        row = conn.execute(select(attachments).where(attachments.c.attachment_id == attachment)).one()
    assert row.sha256 == digest and SHOT not in bytes(row.ciphertext)
    assert row.record_id == str(incident_record_id(inc))

    out = tmp_path / "copy.png"
    assert service.get_evidence(fed.ledger, fed["head"], inc, attachment, out, "hearing") == digest
    assert out.read_bytes() == SHOT
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        last = envelope.parse(bytes(conn.execute(select(table.c.state).order_by(table.c.id.desc())).first()[0])).header  # type: ignore[index]
    assert last["claims"]["action"] == "read-evidence" and last["actor"] == "head"
    assert last["claims"]["records"] == [str(incident_record_id(inc))]
    evidence = service.show(fed.ledger, fed["slt"], inc, "check")["evidence"][0]
    assert (evidence["captured_by"], evidence["method"], evidence["device"]) == ("dsl", "screenshot", "school laptop")
    assert evidence["captured_at"].isoformat() == "2026-01-10T09:00:00+00:00"  # typed in January: GMT


def test_evidence_that_does_not_match_its_capture_hash_is_refused(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, InvalidInput,
            lambda: service.add_evidence(fed.ledger, fed["slt"], inc, shot(expect_sha256="00" * 32)),
            "does not match")
    service.add_evidence(fed.ledger, fed["slt"], inc, shot(expect_sha256=hashlib.sha256(SHOT).hexdigest()))


def test_the_same_file_is_not_taken_in_twice_and_empty_files_are_refused(fed: Federation) -> None:
    inc = conduct(fed)
    service.add_evidence(fed.ledger, fed["slt"], inc, shot())
    refused(fed, RuleViolation, lambda: service.add_evidence(fed.ledger, fed["slt"], inc, shot()))
    refused(fed, InvalidInput, lambda: service.add_evidence(fed.ledger, fed["slt"], inc, shot(b"")))


@pytest.mark.parametrize("damage", ["flip", "swap"])
def test_altered_or_swapped_evidence_fails_its_check_and_is_not_written(
    federation: Federation, tmp_path: Path, damage: str
) -> None:
    fed = federation
    inc = conduct(fed)
    first = service.add_evidence(fed.ledger, fed["slt"], inc, shot())
    second = service.add_evidence(fed.ledger, fed["slt"], inc, shot(b"another file"))
    with fed.ledger.engine.begin() as conn:
        blobs = {r.attachment_id: bytes(r.ciphertext) for r in conn.execute(select(attachments))}
        changed = blobs[first][:-1] + bytes([blobs[first][-1] ^ 1]) if damage == "flip" else blobs[second]
        conn.execute(update(attachments).where(attachments.c.attachment_id == first).values(ciphertext=changed))
    out = tmp_path / "out.png"
    refused(fed, VerificationFailed,
            lambda: service.get_evidence(fed.ledger, fed["head"], inc, first, out, "hearing"))
    assert not out.exists()


def test_evidence_get_needs_a_reason_a_new_file_and_a_known_attachment(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    attachment = service.add_evidence(fed.ledger, fed["slt"], inc, shot())
    existing = tmp_path / "there.png"
    existing.write_bytes(b"keep me")
    refused(fed, AlreadyExists,
            lambda: service.get_evidence(fed.ledger, fed["head"], inc, attachment, existing, "x"))
    assert existing.read_bytes() == b"keep me"
    refused(fed, InvalidInput,
            lambda: service.get_evidence(fed.ledger, fed["head"], inc, attachment, tmp_path / "a", " "))
    refused(fed, NotFound,
            lambda: service.get_evidence(fed.ledger, fed["head"], inc, "att-none", tmp_path / "b", "x"))
    refused(fed, NotPermitted,
            lambda: service.get_evidence(fed.ledger, fed["dsl"], inc, attachment, tmp_path / "c", "x"))


def test_a_removal_is_confirmed_only_after_it_was_requested(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, RuleViolation, lambda: service.record_action(
        fed.ledger, fed["slt"], inc, "removal-confirmed", "gone"), "no removal was requested")
    service.record_action(fed.ledger, fed["slt"], inc, "removal-requested", "asked by email")
    service.record_action(fed.ledger, fed["slt"], inc, "removal-confirmed", "checked: gone")
    refused(fed, RuleViolation, lambda: service.record_action(
        fed.ledger, fed["slt"], inc, "removal-confirmed", "gone twice"))


def test_an_action_in_the_future_is_planned_and_an_unknown_one_refused(fed: Federation) -> None:
    inc = conduct(fed)
    due = (dt.date.fromisoformat(fed.ledger.today()) + dt.timedelta(days=60)).isoformat()
    planned = service.record_action(fed.ledger, fed["slt"], inc, "police-contacted", "call PCSO", due)
    assert planned.planned and planned.owner == "slt" and planned.day == due
    assert headers(fed, inc)[-1]["claims"] == {"action_id": planned.action_id, "action": "police-contacted",
                                               "owner": "slt", "due_on": due}
    refused(fed, InvalidInput, lambda: service.record_action(
        fed.ledger, fed["slt"], inc, "shrugged", "nothing"))
    refused(fed, InvalidInput, lambda: service.record_action(
        fed.ledger, fed["slt"], inc, "parents-informed", "phoned", "2026-01-10", owner="head"), "owner is for a planned")
    action_id = service.record_action(fed.ledger, fed["slt"], inc, "reported-to-platform", "ref 123",
                                      "2026-01-11").action_id
    last = headers(fed, inc)[-1]
    assert last["claims"] == {"action": "reported-to-platform", "taken_on": "2026-01-11", "action_id": action_id}
    assert last["occurred_at"]["precision"] == "day", "placed on the day it was done in the chronology"


def test_an_allegation_takes_only_kcsie_outcomes_and_malicious_is_flagged_in_clear(fed: Federation) -> None:
    inc = allegation(fed)
    service.triage(fed.ledger, fed["head"], inc, "allegation")
    refused(fed, InvalidInput,
            lambda: service.record_outcome(fed.ledger, fed["head"], inc, "upheld", "x"))
    service.record_outcome(fed.ledger, fed["head"], inc, "malicious", "Made up to cause harm")
    claims = headers(fed, inc)[-1]["claims"]
    assert claims["finding"] == "malicious" and claims["malicious"] is True and claims["disciplinary"] == "none"


def test_an_ordinary_incident_takes_only_ordinary_findings(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, InvalidInput,
            lambda: service.record_outcome(fed.ledger, fed["slt"], inc, "substantiated", "x"))


def test_an_outcome_needs_triage_first(fed: Federation) -> None:
    inc = report(fed, "slt", "staff-phone-use")
    refused(fed, RuleViolation,
            lambda: service.record_outcome(fed.ledger, fed["slt"], inc, "upheld", "x"), "not been triaged")


def test_a_disciplinary_warning_is_recorded_with_its_level_and_date_of_issue_in_clear(fed: Federation) -> None:
    inc = conduct(fed)
    service.record_outcome(fed.ledger, fed["head"], inc, "upheld", "Breach proven", "written",
                           "2026-01-20", "2026-01-19")
    claims = headers(fed, inc)[-1]["claims"]
    assert claims == {"finding": "upheld", "decided_on": "2026-01-19", "disciplinary": "written",
                      "warning_issued_on": "2026-01-20", "malicious": False, "supersedes": None}


INCONSISTENT_OUTCOMES: list[tuple[str, str, str | None, type[LedgerError], str]] = [
    ("not-upheld", "written", "2026-01-20", RuleViolation, "cannot carry"),
    ("upheld", "final", None, InvalidInput, "date of issue"),
    ("upheld", "none", "2026-01-20", InvalidInput, "needs a disciplinary"),
    ("upheld", "oral", "2099-01-01", InvalidInput, "future"),
    ("upheld", "dismissal", "2026-01-01", InvalidInput, "before the decision"),
]


@pytest.mark.parametrize(("finding", "disciplinary", "issued_on", "error", "match"), INCONSISTENT_OUTCOMES)
def test_a_disciplinary_outcome_must_be_consistent_with_its_finding_and_dates(
    fed: Federation, finding: str, disciplinary: str, issued_on: str | None, error: type[LedgerError], match: str
) -> None:
    inc = conduct(fed)
    refused(fed, error, lambda: service.record_outcome(
        fed.ledger, fed["head"], inc, finding, "x", disciplinary, issued_on, "2026-01-10"), match)


def test_a_disciplinary_outcome_needs_a_member_of_staff_alleged(fed: Federation) -> None:
    inc = report(fed, "slt", "parent-contact", people=(f"{pupil(fed)}:alleged",))
    service.triage(fed.ledger, fed["slt"], inc, "parent contact")
    refused(fed, RuleViolation, lambda: service.record_outcome(
        fed.ledger, fed["slt"], inc, "upheld", "x", "oral", "2026-01-10", "2026-01-10"), "member of staff")


def test_a_later_outcome_supersedes_the_earlier_one(fed: Federation) -> None:
    inc = conduct(fed)
    service.record_outcome(fed.ledger, fed["slt"], inc, "upheld", "first")
    first_version = len(headers(fed, inc))
    service.record_outcome(fed.ledger, fed["head"], inc, "not-upheld", "on review")
    assert headers(fed, inc)[-1]["claims"]["supersedes"] == first_version
    assert service.show(fed.ledger, fed["head"], inc, "x")["outcome"]["finding"] == "not-upheld"


def test_an_incident_closes_only_with_an_outcome(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, RuleViolation, lambda: service.close(fed.ledger, fed["slt"], inc), "no outcome")
    service.record_outcome(fed.ledger, fed["slt"], inc, "no-further-action", "Advice given")
    service.close(fed.ledger, fed["slt"], inc, "Done")
    assert inc in ids(fed, "slt", status="closed")


def test_an_allegation_closes_only_after_referral_to_the_lado(fed: Federation) -> None:
    inc = allegation(fed)
    service.triage(fed.ledger, fed["head"], inc, "allegation")
    service.record_outcome(fed.ledger, fed["head"], inc, "unfounded", "No basis")
    refused(fed, RuleViolation, lambda: service.close(fed.ledger, fed["head"], inc), "designated officer")
    service.record_action(fed.ledger, fed["head"], inc, "lado-referral", "Discussed with the LADO")
    service.close(fed.ledger, fed["head"], inc)


def test_a_closed_incident_refuses_further_work_until_reopened(fed: Federation) -> None:
    inc = conduct(fed)
    service.record_outcome(fed.ledger, fed["slt"], inc, "upheld", "done")
    service.close(fed.ledger, fed["slt"], inc)
    for step in (
        lambda: service.add_note(fed.ledger, fed["slt"], inc, "fact", "late"),
        lambda: service.record_action(fed.ledger, fed["slt"], inc, "other", "late"),
        lambda: service.add_evidence(fed.ledger, fed["slt"], inc, shot()),
        lambda: service.assign(fed.ledger, fed["head"], inc, "investigator", "late"),
        lambda: service.close(fed.ledger, fed["slt"], inc),
    ):
        refused(fed, RuleViolation, step, "is closed")


def test_a_reopened_incident_needs_a_fresh_outcome_before_it_closes_again(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, RuleViolation, lambda: service.reopen(fed.ledger, fed["slt"], inc, "early"), "not closed")
    service.record_outcome(fed.ledger, fed["slt"], inc, "upheld", "done")
    service.close(fed.ledger, fed["slt"], inc)
    service.reopen(fed.ledger, fed["head"], inc, "Appeal lodged")
    service.add_note(fed.ledger, fed["head"], inc, "fact", "Appeal heard")
    refused(fed, RuleViolation, lambda: service.close(fed.ledger, fed["head"], inc), "since it was reopened")
    service.record_outcome(fed.ledger, fed["head"], inc, "partly-upheld", "On appeal")
    service.close(fed.ledger, fed["head"], inc)
    timeline = service.show(fed.ledger, fed["head"], inc, "x")["timeline"]
    assert [t["event"] for t in timeline][-4:] == ["Reopened", "NoteAdded", "OutcomeRecorded", "Closed"]
    assert timeline[-4]["by"] == "head" and "Appeal lodged" in timeline[-4]["what"]


def test_show_needs_a_reason_and_records_the_read(fed: Federation) -> None:
    inc = conduct(fed)
    refused(fed, InvalidInput, lambda: service.show(fed.ledger, fed["slt"], inc, "  "))
    before = row_counts(fed)["events"]
    service.show(fed.ledger, fed["slt"], inc, "weekly review")
    assert row_counts(fed)["events"] == before + 1
    refused(fed, NotFound, lambda: service.show(fed.ledger, fed["slt"], "inc-00000000", "x"))


def test_the_list_shows_no_personal_data_and_filters(fed: Federation) -> None:
    inc = report(fed, "teacher", "staff-phone-use", facts=SENTINEL, summary=SENTINEL)
    other = conduct(fed)
    before = row_counts(fed)
    rows = service.list_incidents(fed.ledger, fed["head"])
    assert row_counts(fed) == before
    assert SENTINEL not in json.dumps(rows)
    assert set(rows[0]) == {"id", "category", "class", "school", "status", "escalated_to", "investigators", "reported",
                            "age_days"}
    assert inc in ids(fed, "head", status="reported") and inc not in ids(fed, "head", status="triaged")
    assert other in ids(fed, "head", status="triaged") and other not in ids(fed, "head", category="pupil-contact")
    with pytest.raises(InvalidInput):
        service.list_incidents(fed.ledger, fed["head"], status="lost")


def test_a_full_lifecycle_verifies_end_to_end(fed: Federation) -> None:
    inc = report(fed, "teacher", evidence=(shot(),), people=(f"{pupil(fed)}:victim",))
    service.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    service.assign(fed.ledger, fed["dsl"], inc, "investigator", "look")
    service.add_note(fed.ledger, fed.reunlock("investigator"), inc, "fact", "seen")
    service.record_outcome(fed.ledger, fed["dsl"], inc, "upheld", "done")
    service.close(fed.ledger, fed["dsl"], inc)
    service.reopen(fed.ledger, fed["head"], inc, "new information")
    trust = Trust.load(fed.ledger.config.trust_path)
    with fed.ledger.engine.connect() as conn:
        result = verify(conn, fed.ledger.app.events_table, trust, None)
    assert result.ok, result.findings


def test_the_demo_chapter_walks_every_workflow(demo_run: DemoRun, tmp_path: Path) -> None:
    from commands.services import demo
    from ledger import config as configuration
    from ledger.store import Ledger

    ledger = Ledger(configuration.resolve({}, home=str(demo_run.copy(tmp_path / "demo"))))
    try:
        names = ("it-manager", "head", "dsl", "slt", "poster-1", "teacher-1", "teacher-2", "investigator")
        actors = {n: ledger.unlock(n, demo.DEMO_PASSPHRASE) for n in names}
        ids = [r["id"] for r in people.list_people(ledger) if r["kind"] != "staff"]
        subjects = dict(zip(("pupil1", "pupil2", "pupil3", "parent1"), ids))
        before = {r["id"] for r in service.list_incidents(ledger, actors["head"])}
        lines = list(service.demo_chapter(ledger, actors, subjects))
        rows = [r for r in service.list_incidents(ledger, actors["head"]) if r["id"] not in before]
    finally:
        ledger.close()
    assert "teacher-1 cannot read it back" in "\n".join(lines)
    assert sorted(r["class"] for r in rows) == ["allegation", "incident", "safeguarding"]
    assert {r["status"] for r in rows} == {"closed", "reopened"}
    assert dt.date.fromisoformat(rows[0]["reported"])
