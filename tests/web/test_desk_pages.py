"""Every page with the role that may use it and the roles that may not (refused, nothing written)."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest

from commands.services import approvals, export, incidents
from ledger.domain.approvals import APPROVED
from tests.conftest import local_today, row_counts
from tests.web.conftest import Site, Visitor, text_of

YESTERDAY_NOON = "2026-01-05T12:00"


def days_ahead(days: int) -> str:
    """A date ``days`` from today, where the federation is."""
    return local_today(days)


def report(visitor: Visitor, summary: str, category: str = "child-on-child", **extra: str) -> str:
    """Report through the form; the new incident's id (from the reporter's own list)."""
    form = {"do": "report", "category": category, "occurred_at": YESTERDAY_NOON, "precision": "approximate",
            "source": "seen", "summary": summary, "facts": f"Facts of {summary}", "people": "sb-pip:victim",
            "child_words": "  they said it was a joke  "}
    form.update(extra)
    response = visitor.post("/report", form)
    assert response.status_code == 303, text_of(response)
    mine = text_of(visitor.get("/mine"))
    found = re.findall(r"(inc-[0-9a-f]{8}) " + re.escape(incidents.codes.CATEGORIES[category].title), mine)
    assert found, mine
    return found[-1]


def refused(site: Site, visitor: Visitor, method: str, path: str, status: int, message: str,
            data: dict[str, str] | None = None) -> str:
    """The request is refused with the service's message, and the ledger is unchanged."""
    before = row_counts(site.fed)
    response = visitor.read(path) if method == "GET" else visitor.post(path, data or {})
    text = text_of(response)
    assert response.status_code == status, text
    assert message in text and "Nothing was recorded" in text
    assert row_counts(site.fed) == before
    return text


# -- signing in ---------------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused_with_the_ledgers_message(site: Site) -> None:
    response = Visitor(site.app).sign_in("teacher", "wrong passphrase!")
    assert response.status_code == 401
    assert "wrong passphrase for teacher" in text_of(response)


@pytest.mark.parametrize(("who", "start"), [("dsl", "/inbox"), ("head", "/inbox"), ("teacher", "/mine"),
                                            ("auditor", "/audit"), ("investigator", "/inbox")])
def test_each_role_starts_on_its_own_page(site: Site, who: str, start: str) -> None:
    response = Visitor(site.app).sign_in(who)
    assert response.headers["Location"].endswith(start)


# -- staff ---------------------------------------------------------------------------------


def test_a_teacher_reports_and_follows_the_status_without_reading_it(site: Site) -> None:
    teacher = site.visitor("teacher")
    inc = report(teacher, "Group chat image")
    mine = text_of(teacher.get("/mine"))
    assert inc in mine and "reported" in mine and "Group chat image" not in mine
    refused(site, teacher, "GET", f"/incidents/{inc}", 403, f"teacher may not see or act on {inc}")
    dsl = site.visitor("dsl")
    page = text_of(dsl.read(f"/incidents/{inc}"))
    assert "Facts of Group chat image" in page and "“ they said it was a joke ”" in page.replace("  ", " ")
    assert "around 2026-01-05 12:00" in page


def test_a_refused_report_keeps_what_was_typed(site: Site) -> None:
    teacher = site.visitor("teacher")
    before = row_counts(site.fed)
    response = teacher.post("/report", {"do": "report", "category": "child-on-child", "occurred_at": YESTERDAY_NOON,
                                        "summary": "Kept summary", "facts": " ", "source": "seen"})
    assert response.status_code == 400
    assert "facts must not be empty" in text_of(response) and 'value="Kept summary"' in response.text
    assert row_counts(site.fed) == before


def test_a_teacher_picks_a_pupil_by_id_not_by_name(site: Site) -> None:
    teacher = site.visitor("teacher")
    before = row_counts(site.fed)
    by_name = teacher.post("/report", {"do": "find", "find": "Pip"})
    assert by_name.status_code == 400
    assert "teacher may not read people's records, so cannot search them by name" in text_of(by_name)
    by_id = teacher.post("/report", {"do": "find", "find": "sb-pip", "summary": "kept"})
    assert 'value="sb-pip:victim"' in by_id.text and 'value="kept"' in by_id.text and "Pip Pupil" not in by_id.text
    added = teacher.post("/report", {"add": "sb-pip:witness"})
    assert 'name="people" value="sb-pip:witness"' in added.text
    assert row_counts(site.fed) == before


def test_a_staff_member_acknowledges_the_policy_once(site: Site) -> None:
    poster = site.visitor("poster")
    assert "I have read and understood version 2026.1" in text_of(poster.get("/policy"))
    assert poster.post("/policy/acknowledge", {"version": "2026.1"}).status_code == 303
    page = text_of(poster.get("/policy"))
    assert "You acknowledged version 2026.1" in page and "acknowledged poster" not in page
    refused(site, poster, "POST", "/policy/acknowledge", 409, "poster has already acknowledged version 2026.1",
            {"version": "2026.1"})


def test_an_auditor_is_not_asked_to_acknowledge(site: Site) -> None:
    refused(site, site.visitor("auditor"), "POST", "/policy/acknowledge", 400,
            "auditor is not a member of staff covered by the policy", {"version": "2026.1"})


def test_staff_request_a_device_a_permission_and_a_post(site: Site) -> None:
    teacher = site.visitor("teacher")
    assert teacher.post("/requests/device", {"device": "my phone", "purpose": "trip photos",
                                             "needed_from": days_ahead(7), "needed_until": days_ahead(8)}).status_code == 303
    assert teacher.post("/requests/permission", {"kind": "linkedin", "details": "mention my job"}).status_code == 303
    post = teacher.post("/requests/post", {"text": "Sports day!", "children": "sb-pip", "account": "facebook",
                                           "images": (io.BytesIO(b"jpeg bytes"), "day.jpg")},
                        content_type="multipart/form-data")
    assert post.status_code == 303
    page = text_of(teacher.get("/requests"))
    assert re.search(r"dev-[0-9a-f]{8} device teacher", page) and re.search(r"perm-[0-9a-f]{8} linkedin", page)
    assert re.search(r"post-[0-9a-f]{8} post teacher", page)
    refused(site, teacher, "POST", "/requests/permission", 400, "unknown permission kind",
            {"kind": "fly", "details": "x"})


# -- DSL and Headteacher ------------------------------------------------------------------------


def test_the_dsl_works_a_case_from_the_inbox_to_closing(site: Site) -> None:
    inc = report(site.visitor("teacher"), "Case to work")
    dsl = site.visitor("dsl")
    inbox = text_of(dsl.get("/inbox"))
    assert inc in inbox and "waiting for triage" in inbox
    steps = [
        ("triage", {"category": "child-on-child", "rationale": "Sharing images: safeguarding"}, "escalated to dsl"),
        ("action", {"action": "parents-informed", "details": "Both families called"}, "recorded: parents or carers informed"),
        ("note", {"kind": "child-words", "text": " it was only a joke "}, "child-words noted"),
        ("outcome", {"finding": "upheld", "summary": "Pupils supported", "disciplinary": "none"}, "Outcome upheld"),
        ("close", {"summary": "Done"}, f"{inc} closed"),
    ]
    for step, data, said in steps:
        response = dsl.post(f"/incidents/{inc}/{step}", data)
        assert response.status_code == 303, text_of(response)
        assert said in text_of(dsl.read(f"/incidents/{inc}"))
    assert inc not in text_of(dsl.get("/inbox"))
    page = text_of(dsl.read(f"/incidents/{inc}"))
    assert "“ it was only a joke ”" in page and "Both families called" in page and "closed" in page


def test_evidence_is_hashed_at_intake_and_its_hash_shown(site: Site) -> None:
    inc = report(site.visitor("teacher"), "With evidence")
    dsl = site.visitor("dsl")
    content = b"\x89PNG screenshot of the chat"
    response = dsl.post(f"/incidents/{inc}/evidence", {
        "file": (io.BytesIO(content), "chat.png"), "captured_by": "Dee Lead", "captured_at": "2026-01-05T13:00",
        "method": "screenshot", "device": "school iPad"}, content_type="multipart/form-data")
    assert response.status_code == 303, text_of(response)
    page = text_of(dsl.read(f"/incidents/{inc}"))
    assert "taken in" in page and hashlib.sha256(content).hexdigest() in page
    refused(site, dsl, "POST", f"/incidents/{inc}/evidence", 400, "does not match the SHA-256 given", {
        "file": (io.BytesIO(b"other"), "x.png"), "captured_by": "x", "captured_at": "2026-01-05T13:00",  # type: ignore[dict-item]
        "method": "x", "device": "x", "sha256": "0" * 64})


@pytest.mark.parametrize(("who", "status", "message"), [
    ("teacher", 403, "teacher may not see or act on"),
    ("auditor", 403, "auditor may not see or act on"),
    ("slt", 403, "slt may not see or act on"),
])
def test_roles_that_may_not_act_on_a_case_are_refused(site: Site, who: str, status: int, message: str) -> None:
    inc = report(site.visitor("teacher"), f"Refused for {who}")
    refused(site, site.visitor(who), "POST", f"/incidents/{inc}/triage", status, message,
            {"rationale": "I would like to triage"})
    refused(site, site.visitor(who), "GET", f"/incidents/{inc}", status, message)


def test_reading_a_case_asks_the_reason_once_and_logs_every_view(site: Site) -> None:
    inc = report(site.visitor("teacher"), "Reason once")
    head = site.visitor("head")
    first = head.get(f"/incidents/{inc}")
    assert "Why do you need incident" in text_of(first)
    head.read(f"/incidents/{inc}", reason="strategy meeting")
    again = head.get(f"/incidents/{inc}")
    assert again.status_code == 200 and "Opened for: strategy meeting" in text_of(again)
    log = head.read("/registers/access", reason="oversight")
    reads = re.findall(rf"head read {inc} Incident strategy meeting", text_of(log))
    assert len(reads) == 2


def test_the_head_assigns_an_investigator_who_sees_and_exports_only_that_case(site: Site) -> None:
    teacher = site.visitor("teacher")
    assigned = report(teacher, "Phone in class", category="staff-phone-use", people="teacher:alleged")
    other = report(teacher, "Not theirs", category="staff-phone-use", people="poster:alleged")
    head = site.visitor("head")
    for inc in (assigned, other):
        assert head.post(f"/incidents/{inc}/triage", {"rationale": "phone use"}).status_code == 303
    assert head.post(f"/incidents/{assigned}/assign", {"investigator": "investigator", "remit": "Interview"}).status_code == 303
    investigator = site.visitor("investigator")
    listed = text_of(investigator.get("/incidents"))
    assert assigned in listed and other not in listed
    assert assigned in text_of(investigator.get("/inbox"))
    assert "Interview" in text_of(investigator.read(f"/incidents/{assigned}"))
    refused(site, investigator, "GET", f"/incidents/{other}", 403, f"investigator may not see or act on {other}")
    response = investigator.post(f"/incidents/{assigned}/export", {"reason": "disciplinary hearing"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert hashlib.sha256(response.data).hexdigest() == response.headers["X-Bundle-SHA256"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as bundle:
        assert "SHA256SUMS" in bundle.namelist() and "timeline.html" in bundle.namelist()
    refused(site, investigator, "POST", f"/incidents/{other}/export", 403, f"investigator may not see or act on {other}",
            {"reason": "curious"})
    refused(site, site.visitor("teacher"), "POST", f"/incidents/{assigned}/export", 403,
            "teacher may not export evidence bundles", {"reason": "curious"})


def test_an_exported_bundle_verifies_like_the_cli_one(site: Site, tmp_path: object) -> None:
    inc = report(site.visitor("teacher"), "Bundle check")
    dsl = site.visitor("dsl")
    dsl.post(f"/incidents/{inc}/triage", {"rationale": "safeguarding"})
    response = dsl.post(f"/incidents/{inc}/export", {"reason": "referral", "redact": "pupils"})
    assert response.status_code == 200, text_of(response)
    path = site.fed.home / f"{inc}.zip"
    path.write_bytes(response.data)
    assert export.verify_bundle(path).ok


def test_the_dsl_finds_a_child_by_name_and_opens_their_chronology(site: Site) -> None:
    inc = report(site.visitor("teacher"), "For the chronology")
    dsl = site.visitor("dsl")
    found = dsl.post("/people", {"name": "pip", "kind": "pupil"})
    assert found.status_code == 200 and "Pip Pupil" in text_of(found) and "Oak Primary" in text_of(found)
    page = text_of(dsl.read("/people/sb-pip", reason="case review"))
    assert "Name Pip Pupil" in page and "Date of birth 2016-04-12" in page
    assert inc in page and "For the chronology" in page
    printed = dsl.get("/people/sb-pip?view=print")
    assert 'class="print-view"' in printed.text and "OFFICIAL-SENSITIVE" in printed.text
    refused(site, site.visitor("teacher"), "POST", "/people", 403, "teacher may not read people's records",
            {"name": "pip", "kind": "pupil"})


def test_a_teacher_may_not_open_a_childs_chronology(site: Site) -> None:
    report(site.visitor("teacher"), "Withheld from teachers")
    page = text_of(site.visitor("teacher").read("/people/sb-pip"))
    assert "teacher may not read the chronology of sb-pip" in page
    assert "Pip Pupil" not in page and "Withheld from teachers" not in page


def test_the_head_decides_a_request_and_the_dsl_may_not(site: Site) -> None:
    request_id = approvals.request_device(site.fed.ledger, site.fed["teacher"], "own camera", "sports day",
                                          days_ahead(7), days_ahead(8))
    head = site.visitor("head")
    assert request_id in text_of(head.get("/inbox"))
    assert "waiting for headteacher's decision" in text_of(head.read(f"/approvals/{request_id}")).lower()
    refused(site, site.visitor("dsl"), "POST", f"/approvals/{request_id}/decide", 403,
            f"dsl may not see device request {request_id}", {"outcome": APPROVED, "reason": "fine"})
    response = head.post(f"/approvals/{request_id}/decide", {"outcome": APPROVED, "reason": "no school camera free",
                                                            "valid_until": days_ahead(8)})
    assert response.status_code == 303
    assert f"{request_id}: approved" in text_of(head.read(f"/approvals/{request_id}"))
    assert request_id not in text_of(head.get("/inbox"))


@pytest.mark.parametrize("name", ["incidents", "approvals", "acknowledgements"])
def test_registers_show_clear_facts_to_the_head(site: Site, name: str) -> None:
    response = site.visitor("head").get(f"/registers/{name}")
    assert response.status_code == 200 and "Why do you need" not in text_of(response)


def test_the_access_register_asks_why(site: Site) -> None:
    head = site.visitor("head")
    assert "Why do you need the access register" in text_of(head.get("/registers/access"))
    assert "reader" in text_of(head.read("/registers/access", reason="termly check"))


def test_the_governors_report_counts_what_the_register_holds(site: Site) -> None:
    head = site.visitor("head")
    report(site.visitor("teacher"), "Counted", category="other")
    page = text_of(head.get("/governors?from=2000-01-01&to=2100-12-31"))
    rows = [r for r in incidents.list_incidents(site.fed.ledger, site.fed["head"])]
    assert f"across the federation: {len(rows)}" in page
    assert "Other breach of the policy" in page and "Pip" not in page


# -- auditor -------------------------------------------------------------------------------------


def test_the_auditor_sees_the_verify_result_and_checkpoints_and_nothing_personal(site: Site) -> None:
    report(site.visitor("teacher"), "Zanzibar sentinel summary")
    auditor = site.visitor("auditor")
    page = auditor.get("/audit")
    assert "Checkpoints" in text_of(page) and "Latest checkpoint" in text_of(page)
    verified = auditor.post("/audit/verify", {})
    text = text_of(verified)
    assert verified.status_code == 200 and "OK: the ledger verifies" in text
    trust = (site.fed.home / "trust.json").read_bytes()
    uploaded = auditor.post("/audit/verify", {"trust": (io.BytesIO(trust), "trust.json")},
                            content_type="multipart/form-data")
    assert "OK: the ledger verifies" in text_of(uploaded) and "the one beside the ledger" not in text_of(uploaded).split("Verify the whole")[0]
    for response in (page, verified, auditor.get("/incidents"), auditor.get("/registers/incidents")):
        assert "Pip Pupil" not in response.text and "Zanzibar" not in response.text


def test_linking_unassigning_and_reopening_go_through_their_services(site: Site) -> None:
    inc = report(site.visitor("teacher"), "Linked and reopened", category="staff-phone-use", people="teacher:alleged")
    head = site.visitor("head")
    for step, data in (("triage", {"rationale": "phone"}), ("link", {"person": "sb-pip", "part": "witness",
                                                                      "reason": "was in the room"}),
                       ("assign", {"investigator": "investigator", "remit": "look"}),
                       ("unassign", {"investigator": "investigator", "reason": "done"}),
                       ("outcome", {"finding": "not-upheld", "summary": "no breach"}), ("close", {}),
                       ("reopen", {"reason": "appeal"})):
        response = head.post(f"/incidents/{inc}/{step}", data)
        assert response.status_code == 303, (step, text_of(response))
    page = text_of(head.read(f"/incidents/{inc}"))
    assert "sb-pip · witness" in page and "reopened: appeal" in page and "no longer assigned: done" in page
    refused(site, head, "POST", f"/incidents/{inc}/reopen", 409, f"{inc} is not closed", {"reason": "again"})
    assert head.post(f"/incidents/{inc}/no-such-step", {}).status_code == 404


def test_a_request_is_refused_to_those_who_may_not_read_it(site: Site) -> None:
    request_id = approvals.request_permission(site.fed.ledger, site.fed["teacher"], "brand", "logo on a poster")
    refused(site, site.visitor("dsl"), "GET", f"/approvals/{request_id}", 403, f"dsl may not see permission request {request_id}")


def test_every_page_prints_on_a4_with_page_numbers_and_the_marking(site: Site) -> None:
    sheet = site.visitor().get("/static/desk.css").text
    assert "size:A4" in sheet and 'counter(page) " of " counter(pages)' in sheet and "OFFICIAL-SENSITIVE" in sheet
    dsl = site.visitor("dsl")
    for path in ("/inbox", "/incidents", "/governors", "/people/sb-pip"):
        printed = dsl.read(path + "?view=print")
        assert 'class="print-view"' in printed.text and "OFFICIAL-SENSITIVE" in printed.text
        assert "Back to the normal view" in printed.text


def test_a_childs_chronology_leaves_out_the_access_log_unless_asked(site: Site) -> None:
    dsl = site.visitor("dsl")
    plain = text_of(dsl.read("/people/sb-pip", reason="first look"))
    assert "dsl read" not in plain and "include the access log" in plain
    with_log = text_of(dsl.read("/people/sb-pip?with=access"))
    assert "dsl read" in with_log and "first look" in with_log
