"""Casework on the desk: actions with owners and due dates, referrals, UKCIS evidence, alerts,
the whole inbox, schools, and a form that survives the session timing out."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from commands.services import monitoring, setup
from tests.conftest import local_today, row_counts
from tests.web.conftest import Site, Visitor, text_of
from tests.web.test_desk_pages import YESTERDAY_NOON, refused, report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def triaged(site: Site, summary: str, category: str = "child-on-child") -> tuple[str, Visitor]:
    """A case reported by the teacher and triaged by the DSL; the DSL's browser."""
    inc = report(site.visitor("teacher"), summary, category)
    dsl = site.visitor("dsl")
    response = dsl.post(f"/incidents/{inc}/triage", {"category": category, "rationale": "safeguarding"})
    assert response.status_code == 303, text_of(response)
    return inc, dsl


# -- actions, owners, due dates, referrals -------------------------------------------------


def test_an_action_due_next_week_waits_in_its_owners_inbox_until_they_mark_it_done(site: Site) -> None:
    inc, dsl = triaged(site, "Action owned by the teacher")
    next_week = local_today(7)
    response = dsl.post(f"/incidents/{inc}/action", {"action": "parent-meeting", "details": "Meet Pip's parents",
                                                     "on": next_week, "owner": "teacher"})
    assert response.status_code == 303, text_of(response)
    page = text_of(dsl.read(f"/incidents/{inc}"))
    assert f"planned: meeting with parents or carers, for teacher, due {next_week}" in page
    action_id = re.search(r"Action (act-[0-9a-f]{8}) planned", page).group(1)  # type: ignore[union-attr]
    assert re.search(rf"{action_id} meeting with parents or carers teacher {next_week} open Meet Pip's parents", page)

    teacher = site.visitor("teacher")
    inbox = teacher.get("/inbox")
    assert f"Mark {action_id} done today" in text_of(inbox) and "due soon" in text_of(inbox)
    assert refused(site, teacher, "GET", f"/incidents/{inc}", 403, "may not see or act on")  # cannot read the case
    response = teacher.post(f"/incidents/{inc}/done", {"action_id": action_id, "back": "inbox"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")
    after = text_of(teacher.get("/inbox"))
    assert f"Action {action_id} of {inc} marked done." in after and f"Mark {action_id} done" not in after
    assert re.search(rf"{action_id} meeting with parents or carers teacher {next_week} {local_today()} done",
                     text_of(dsl.read(f"/incidents/{inc}")))


def test_a_planned_action_is_cancelled_with_a_reason_and_cannot_be_done_twice(site: Site) -> None:
    inc, dsl = triaged(site, "Action to cancel")
    dsl.post(f"/incidents/{inc}/action", {"action": "strategy-meeting", "details": "Strategy meeting with MASH",
                                          "on": local_today(3)})
    page = text_of(dsl.read(f"/incidents/{inc}"))
    action_id = re.search(r"(act-[0-9a-f]{8}) strategy meeting REFERRAL dsl", page).group(1)  # type: ignore[union-attr]
    assert f"strategy meeting: open, due {local_today(3)} (dsl)" in page
    assert dsl.post(f"/incidents/{inc}/cancel", {"action_id": action_id, "reason": "held by phone instead"}
                    ).status_code == 303
    assert re.search(rf"{action_id} strategy meeting REFERRAL dsl {local_today(3)} cancelled",
                     text_of(dsl.read(f"/incidents/{inc}")))
    refused(site, dsl, "POST", f"/incidents/{inc}/done", 409, "is already cancelled", {"action_id": action_id})


def test_a_referral_made_today_is_listed_apart(site: Site) -> None:
    inc, dsl = triaged(site, "Referral made")
    dsl.post(f"/incidents/{inc}/action", {"action": "social-care-referral", "details": "MASH ref 1234"})
    page = text_of(dsl.read(f"/incidents/{inc}"))
    assert f"referral to children's social care (MASH): done on {local_today()}" in page


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"action": "parent-meeting", "details": "x", "on": "2026-01-01", "owner": "teacher"}, 400,
     "an owner is for a planned action"),
    ({"action": "parent-meeting", "details": "x", "on": "in a fortnight"}, 400, "date"),
    ({"action": "tea-and-biscuits", "details": "x"}, 400, "tea-and-biscuits"),
    ({"action": "parent-meeting", "details": "x", "on": "2099-01-01", "owner": "nobody"}, 404, "no member of staff"),
])
def test_actions_the_cli_refuses_are_refused_here(site: Site, data: dict[str, str], status: int, message: str) -> None:
    inc, dsl = triaged(site, f"Refused action {message}")
    refused(site, dsl, "POST", f"/incidents/{inc}/action", status, message, data)


@pytest.mark.parametrize("who", ["teacher", "auditor", "slt"])
def test_those_who_may_not_read_the_case_may_not_add_or_cancel_its_actions(site: Site, who: str) -> None:
    inc, dsl = triaged(site, f"Not for {who}")
    dsl.post(f"/incidents/{inc}/action", {"action": "parent-meeting", "details": "x", "on": local_today(2)})
    action_id = re.search(r"(act-[0-9a-f]{8})", text_of(dsl.read(f"/incidents/{inc}"))).group(1)  # type: ignore[union-attr]
    visitor = site.visitor(who)
    refused(site, visitor, "POST", f"/incidents/{inc}/action", 403, "may not",
            {"action": "parent-meeting", "details": "x"})
    refused(site, visitor, "POST", f"/incidents/{inc}/cancel", 403, "may not", {"action_id": action_id, "reason": "x"})
    refused(site, visitor, "POST", f"/incidents/{inc}/done", 403, "may not", {"action_id": action_id})


def test_the_dsl_links_a_child_by_name(site: Site) -> None:
    inc = report(site.visitor("teacher"), "Linked by name", people="")
    dsl = site.visitor("dsl")
    response = dsl.post(f"/incidents/{inc}/link", {"person": "Pip Pupil", "part": "witness", "reason": "named by staff"})
    assert response.status_code == 303, text_of(response)
    assert re.search(r"sb-pip .* witness \(subject\)", text_of(dsl.read(f"/incidents/{inc}")))
    refused(site, site.visitor("teacher"), "POST", f"/incidents/{inc}/link", 403, "may not",
            {"person": "sb-pip", "part": "victim", "reason": "x"})


# -- evidence: hashes at intake, and the UKCIS rule for images of children ----------------


def test_a_nudes_case_shows_the_guidance_refuses_images_and_records_a_description(site: Site) -> None:
    inc, dsl = triaged(site, "Image shared", "nudes-semi-nudes")
    page = dsl.read(f"/incidents/{inc}")
    text = text_of(page)
    assert "UKCIS: sharing nudes and semi-nudes. Do not view, copy, print, share, save or send the image" in text
    assert 'type="file"' not in page.text and "Describe evidence without taking it in" in text
    refused(site, dsl, "POST", f"/incidents/{inc}/evidence", 409, "an image is never taken in as evidence", {
        "file": (io.BytesIO(PNG), "chat.png"), "captured_by": "DSL", "captured_at": "2026-01-05 13:00",
        "method": "screenshot", "device": "school laptop"})
    digest = "ab" * 32
    response = dsl.post(f"/incidents/{inc}/describe", {"platform": "Snapchat", "sha256": digest,
                                                       "description": "A semi-nude image of Pip, described by Pip"})
    assert response.status_code == 303, text_of(response)
    text = text_of(dsl.read(f"/incidents/{inc}"))
    assert re.search(r"desc-[0-9a-f]{8} Snapchat A semi-nude image of Pip, described by Pip " + digest, text)
    refused(site, dsl, "POST", f"/incidents/{inc}/describe", 400, "64 hexadecimal",
            {"platform": "x", "description": "y", "sha256": "not-a-hash"})


def test_a_teacher_reporting_a_nudes_case_describes_the_image_and_cannot_upload_it(site: Site) -> None:
    teacher = site.visitor("teacher")
    assert "Never upload, copy or view the image" in text_of(teacher.get("/report"))
    form = {"do": "report", "category": "nudes-semi-nudes", "occurred_at": YESTERDAY_NOON, "precision": "exact",
            "source": "told", "source_detail": "Pip told me", "summary": "Image of Pip shared", "facts": "Pip told me",
            "people": "sb-pip:victim"}
    before = row_counts(site.fed)
    response = teacher.post("/report", {**form, "evidence": (io.BytesIO(PNG), "photo.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 400 and "an image is never taken in as evidence" in text_of(response)
    assert row_counts(site.fed) == before
    inc = report(teacher, "Image of Pip shared", "nudes-semi-nudes", source="told", source_detail="Pip told me",
                 platform="Instagram", described="Pip says a picture of her in underwear was sent round")
    text = text_of(site.visitor("dsl").read(f"/incidents/{inc}"))
    assert "Instagram Pip says a picture of her in underwear was sent round none supplied" in text


def test_evidence_of_another_case_is_taken_in_and_its_hash_shown(site: Site) -> None:
    inc, dsl = triaged(site, "Evidence hashed")
    import hashlib

    content = b"chat export text"
    response = dsl.post(f"/incidents/{inc}/evidence", {
        "file": (io.BytesIO(content), "chat.txt"), "captured_by": "DSL", "captured_at": "2026-01-05 13:00",
        "method": "export", "device": "school laptop"}, content_type="multipart/form-data")
    assert response.status_code == 303, text_of(response)
    text = text_of(dsl.read(f"/incidents/{inc}"))
    assert "SHA-256 at intake is signed into the ledger" in text and hashlib.sha256(content).hexdigest() in text
    attachment = re.search(r"(att-[0-9a-f]{8})", text).group(1)  # type: ignore[union-attr]
    assert dsl.post(f"/incidents/{inc}/remove-evidence", {"attachment": attachment, "reason": "wrong file"}
                    ).status_code == 303
    assert "No evidence taken in." in text_of(dsl.read(f"/incidents/{inc}"))


# -- the inbox and monitoring alerts ------------------------------------------------------


@pytest.fixture(scope="module")
def alert_ids(site: Site, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two urgent alerts about Pip, imported by the IT manager."""
    path = Path(tmp_path_factory.mktemp("alerts")) / "alerts.csv"
    path.write_text("time,source_system,source_record_id,device,user,category,severity,rule,action,detail\n"
                    f"{local_today(-1)}T10:40:00Z,smoothwall,SW-1,OAK-07,sb-pip,bullying,high,Keyword,flagged,"
                    "Zanzibar names typed\n"
                    f"{local_today(-1)}T11:40:00Z,smoothwall,SW-2,OAK-07,sb-pip,self-harm,critical,Keyword,flagged,"
                    "Zanzibar search\n", encoding="utf-8")
    monitoring.import_alerts(site.fed.ledger, site.fed["admin"], path)
    return [str(a["id"]) for a in monitoring.list_alerts(site.fed.ledger, reader=site.fed["dsl"])]


def test_the_inbox_lists_alerts_and_the_dsl_dismisses_or_links_them(site: Site, alert_ids: list[str]) -> None:
    first, second = alert_ids[-2:]
    dsl = site.visitor("dsl")
    inbox = dsl.get("/inbox")
    text = text_of(inbox)
    assert f"alert high bullying alert (smoothwall): not linked or dismissed {first}" in text
    assert f'href="/alerts/{first}"' in inbox.text and "Zanzibar" not in inbox.text
    opened = dsl.read(f"/alerts/{first}")
    assert "Zanzibar names typed" in text_of(opened)
    assert f'value="{first}"' in dsl.get(f"/report?alert={first}").text  # a report from it starts with its id
    assert dsl.post(f"/alerts/{first}/dismiss", {"reason": "name-calling dealt with in class"}).status_code == 303
    inc, _ = triaged(site, "Alert to link")
    assert dsl.post(f"/alerts/{second}/link", {"incident": inc, "note": "same child"}).status_code == 303
    after = dsl.get("/inbox").text
    assert f'href="/alerts/{first}"' not in after and f'href="/alerts/{second}"' not in after
    listed = text_of(dsl.get("/alerts"))
    assert re.search(rf"{first} .* dismissed", listed) and re.search(rf"{second} .* {inc} linked", listed)
    refused(site, dsl, "POST", f"/alerts/{first}/dismiss", 409, "already dismissed", {"reason": "again"})


@pytest.mark.parametrize("who", ["teacher", "slt", "auditor", "investigator"])
def test_alerts_are_refused_to_roles_that_do_not_read_monitoring(site: Site, alert_ids: list[str], who: str) -> None:
    visitor = site.visitor(who)
    assert "Alerts" not in text_of(visitor.get("/mine")).split("Print view")[0] or who == "dsl"
    refused(site, visitor, "GET", "/alerts", 403, "may not list monitoring alerts")
    refused(site, visitor, "GET", f"/alerts/{alert_ids[0]}", 403, "may not read alert")
    refused(site, visitor, "POST", f"/alerts/{alert_ids[0]}/dismiss", 403, "may not read alert", {"reason": "x"})


def test_the_inbox_shows_every_kind_the_cli_lists(site: Site) -> None:
    from commands.services import inbox as service

    inc, dsl = triaged(site, "Open case of the DSL's role")
    for who in ("dsl", "head", "teacher", "investigator"):
        listed = service.waiting_for(site.fed.ledger, site.fed[who])
        page = site.visitor(who).get("/inbox").text
        for item in listed:
            assert f">{item['kind']}<" in page and str(item["ref"]).split(" ")[0] in page
    text = text_of(dsl.get("/inbox"))
    assert re.search(rf"case Child-on-child online abuse \(other\).*: open \(triaged\), escalated to your role {inc}",
                     text)
    teacher = text_of(site.visitor("teacher").get("/inbox"))
    assert "acknowledge policy version 2026.1: not yet acknowledged by you" in teacher
    assert "Show what each is" not in teacher  # no case of theirs to describe
    assert "Nothing waits for you." in text_of(site.visitor("auditor").get("/inbox"))


def test_given_a_reason_the_inbox_says_what_each_case_is_and_logs_it(site: Site) -> None:
    inc, dsl = triaged(site, "Summary shown with a reason")
    assert "Summary shown with a reason" not in dsl.get("/inbox").text
    before = row_counts(site.fed)
    response = dsl.post("/reason", {"record": "inbox", "next": "/inbox", "reason": "morning check"})
    assert response.status_code == 303 and response.headers["Location"] == "/inbox"
    text = text_of(dsl.get("/inbox"))
    assert "Summary shown with a reason" in text and "for: morning check" in text
    assert row_counts(site.fed)["events"] > before["events"]  # the read is in the access log


# -- schools ------------------------------------------------------------------------------


def test_an_unknown_school_is_refused_on_every_filter(site: Site) -> None:
    head = site.visitor("head")
    for path in ("/incidents?school=Hogwarts", "/alerts?school=Hogwarts"):
        response = head.get(path)
        assert response.status_code == 400 and "'Hogwarts' is not one of the federation's schools" in text_of(response)
    teacher = site.visitor("teacher")
    refused(site, teacher, "POST", "/requests/device", 400, "not one of the federation's schools",
            {"device": "phone", "purpose": "trip", "needed_from": local_today(1), "needed_until": local_today(2),
             "school": "Hogwarts"})


def test_with_two_schools_every_form_asks_which_and_every_list_filters_by_it(site: Site) -> None:
    setup.change_settings(site.fed.ledger, site.fed["admin"], None, ("Oak Primary", "Elm Primary"), "two schools")
    teacher = site.visitor("teacher")
    for path in ("/report", "/requests"):
        assert '<option>Elm Primary</option>' in teacher.get(path).text
    oak = report(teacher, "At Oak", school="Oak Primary")
    elm = report(teacher, "At Elm", school="elm primary")
    dsl = site.visitor("dsl")
    assert "School Elm Primary" in text_of(dsl.read(f"/incidents/{elm}"))
    listed = text_of(dsl.get("/incidents?status=all&school=Oak+Primary"))
    assert oak in listed and elm not in listed
    for path in ("/incidents", "/alerts", "/people", "/governors"):
        assert "<option" in dsl.get(path).text.split("Elm Primary")[0][-80:], path
    assert teacher.post("/requests/device", {"device": "own phone", "purpose": "trip photos", "school": "Elm Primary",
                                             "needed_from": local_today(1), "needed_until": local_today(2)}
                        ).status_code == 303
    register = site.visitor("head").get("/registers/approvals?school=Elm+Primary")
    assert '<option selected>Elm Primary</option>' in register.text
    rows = text_of(register).split(" Show ", 1)[1]
    assert re.search(r"dev-[0-9a-f]{8} device Elm Primary pending", rows)
    assert "Oak Primary" not in rows and "own phone" not in rows


# -- a session that times out while a form is typed ---------------------------------------


def test_a_form_sent_after_the_session_ended_is_kept_and_sent_after_signing_in(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    teacher = site.visitor("teacher")
    teacher.get("/report")
    site.clock.advance(16)
    typed = {"do": "report", "category": "online-bullying", "occurred_at": YESTERDAY_NOON, "precision": "exact",
             "source": "seen", "summary": "Typed while the session ran out", "facts": "Long account of <b>it</b>",
             "people": "sb-pip:victim", "child_words": "  leave me alone  "}
    before = row_counts(site.fed)
    held = teacher.post("/report", typed)
    assert held.status_code == 401 and row_counts(site.fed) == before
    assert "Your session ended" in text_of(held) and "Long account of &lt;b&gt;it&lt;/b&gt;" in held.text
    assert "Typed while the session ran out" not in (held.headers.get("Location") or "")
    kept = dict(re.findall(r'name="(kept:[^"]+)" value="([^"]*)"', held.text))
    assert kept["kept:summary"] == "Typed while the session ran out" and kept["kept:child_words"] == "  leave me alone  "
    resume = teacher.post("/sign-in", {"actor_id": "teacher", "passphrase": "correct horse battery",
                                       "resume": "/report", "kept_for": "teacher", **{
                                           k: v.replace("&lt;", "<").replace("&gt;", ">") for k, v in kept.items()}})
    assert resume.status_code == 200 and "Send it now" in text_of(resume)
    assert row_counts(site.fed) == before
    again = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', resume.text))
    assert again["summary"] == "Typed while the session ran out"
    sent = teacher.post("/report", {k: v.replace("&lt;", "<").replace("&gt;", ">") for k, v in again.items()
                                    if k != "csrf"})
    assert sent.status_code == 303, text_of(sent)
    assert "Typed while the session ran out" not in text_of(teacher.get("/mine"))  # the teacher cannot read it back
    assert "Long account of <b>it</b>" in text_of(site.visitor("dsl").read(
        "/incidents/" + re.findall(r"inc-[0-9a-f]{8}", text_of(teacher.get("/mine")))[-1]))
    assert "Typed while" not in caplog.text and "leave me alone" not in caplog.text


def test_a_form_with_another_pages_token_after_the_session_ended_is_refused_not_kept(site: Site) -> None:
    teacher = site.visitor("teacher")
    teacher.get("/report")
    site.clock.advance(16)
    before = row_counts(site.fed)
    response = teacher.post("/report", {"do": "report", "summary": "forged", "csrf": "not-the-sessions-token"})
    assert response.status_code == 400 and "did not come from the desk" in text_of(response)
    assert "kept:" not in response.text and row_counts(site.fed) == before


def test_a_kept_form_is_offered_only_to_the_person_who_typed_it(site: Site) -> None:
    visitor = site.visitor()
    visitor.get("/sign-in")
    response = visitor.post("/sign-in", {"actor_id": "dsl", "passphrase": "correct horse battery",
                                         "resume": "/report", "kept_for": "teacher", "kept:summary": "not yours"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")
    elsewhere = site.visitor()
    elsewhere.get("/sign-in")
    response = elsewhere.post("/sign-in", {"actor_id": "dsl", "passphrase": "correct horse battery",
                                           "resume": "//evil.example/x", "kept_for": "dsl", "kept:summary": "x"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox")


def test_a_sign_out_sent_after_the_session_ended_is_not_kept_to_send_again(site: Site) -> None:
    visitor = site.visitor("slt")
    site.clock.advance(16)
    response = visitor.post("/sign-out")
    assert response.status_code == 400 and "kept:" not in response.text and "Send it now" not in response.text
