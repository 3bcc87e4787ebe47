"""The rest of the policy (issue 16): each test quotes the clause it holds.

Who the policy covers and assisted acknowledgement, the policy's own review,
the training register, recruitment checks, copyright and personal-views
permissions, targeted-monitoring authorisation and co-operation with an
investigation. Every refusal writes nothing (``refused``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commands.services import (approvals, authorisations, cooperation, governors, inbox, incidents, monitoring, people,
                               recruitment, reviews, training, workforce)
from commands.services import policy as policy_service
from commands.services.retention_plan import plan
from ledger import envelope, retention
from ledger.domain.policy import acknowledgement_record_id, one_month_after
from ledger.errors import AlreadyExists, InvalidInput, NotPermitted, RuleViolation
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import Federation, refused

SENTINEL = "Quentin Marchbanks-Oduya"


def today(fed: Federation) -> dt.date:
    return dt.date.fromisoformat(fed.ledger.today())


def days(fed: Federation, n: int) -> str:
    return (today(fed) + dt.timedelta(days=n)).isoformat()


def in_force(fed: Federation, label: str = "v1") -> None:
    """A version approved 60 days ago, notified 45 days ago, in force a month later."""
    notified = today(fed) - dt.timedelta(days=45)
    policy_service.publish_version(fed.ledger, fed["head"], label, days(fed, -60), one_month_after(notified).isoformat(),
                                   "Board of Directors", text="Policy text", notified_on=notified.isoformat())


def stored(fed: Federation) -> bytes:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return b"".join(bytes(s) for (s,) in conn.execute(select(table.c.state)))


def headers(fed: Federation, topic_end: str) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(select(table.c.state).where(table.c.topic.like(f"%{topic_end}")).order_by(table.c.id))
        return [envelope.parse(bytes(s)).header for (s,) in rows]


def verified(fed: Federation) -> None:
    with fed.ledger.engine.connect() as conn:
        report = verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path))
    assert report.ok, report.findings


def form(tmp_path: Path) -> Path:
    path = tmp_path / "signed-form.pdf"
    path.write_bytes(b"%PDF signed acknowledgement form")
    return path


# -- who the policy covers, assisted acknowledgement ------------------------------------


def test_a_volunteer_who_never_signs_in_acknowledges_on_a_paper_form_entered_by_their_line_manager(
        federation: Federation, tmp_path: Path) -> None:
    """"This Policy covers directors and all individuals working at all levels and grades within the
    Federation, including employees, consultants, contractors, trainees, homeworkers, part-time and
    fixed-term employees, casual and agency staff and volunteers" (Who is covered by this Policy?)"""
    fed = federation
    in_force(fed)
    vol = workforce.add_covered_person(fed.ledger, fed["head"], SENTINEL, "volunteer", line_manager="teacher",
                                       staff_id="vol-1")
    done = workforce.acknowledge_for(fed.ledger, fed["teacher"], vol, form(tmp_path), days(fed, -1))
    assert done["entered_by"] == "teacher" and len(done["form_hash"]) == 64
    claims = headers(fed, "PolicyAcknowledgement.AssistedRecorded")[0]["claims"]
    assert claims["assisted"] is True and claims["entered_by"] == "teacher" and claims["form_hash"] == done["form_hash"]
    status = {r["staff_id"]: r for r in policy_service.acknowledgement_status(fed.ledger, fed["head"])}
    assert status["vol-1"]["acknowledged"] and status["vol-1"]["assisted_by"] == "teacher"
    assert status["teacher"]["assisted_by"] == ""
    rows = {r["staff_id"]: r for r in workforce.worker_rows(fed.ledger)}
    assert rows["vol-1"]["worker_type"] == "volunteer" and rows["vol-1"]["signs_in"] is False
    assert SENTINEL.encode() not in stored(fed)
    verified(fed)


def test_third_parties_are_a_worker_type_of_their_own(sqlite_federation: Federation) -> None:
    """"Third parties who have access to our electronic communication systems and equipment are also
    required to comply with this Policy." (Who is covered by this Policy?)"""
    fed = sqlite_federation
    workforce.set_worker_type(fed.ledger, fed["head"], "teacher", "third-party", line_manager="slt")
    rows = {r["staff_id"]: r for r in workforce.worker_rows(fed.ledger)}
    assert rows["teacher"] == {"staff_id": "teacher", "worker_type": "third-party", "line_manager": "slt",
                               "signs_in": True, "active": True}
    refused(fed, InvalidInput, lambda: workforce.set_worker_type(fed.ledger, fed["head"], "teacher", "robot"))


def test_someone_who_signs_in_cannot_have_their_acknowledgement_entered_for_them(
        sqlite_federation: Federation, tmp_path: Path) -> None:
    """"all staff are required to comply with its contents": a member of staff with a key acknowledges
    for themselves; an assisted entry is only for people who never sign in. (Introduction)"""
    fed = sqlite_federation
    in_force(fed)
    refused(fed, InvalidInput, lambda: workforce.acknowledge_for(fed.ledger, fed["head"], "teacher", form(tmp_path),
                                                                 days(fed, -1)), "signs in")


def test_only_the_line_manager_or_the_office_enters_a_paper_acknowledgement(
        sqlite_federation: Federation, tmp_path: Path) -> None:
    """"All Federation Staff are responsible for the success of this Policy and should ensure that they
    take the time to read and understand it." (Personnel responsible for implementing the Policy)"""
    fed = sqlite_federation
    in_force(fed)
    vol = workforce.add_covered_person(fed.ledger, fed["head"], "Val", "casual", line_manager="teacher")
    refused(fed, NotPermitted, lambda: workforce.acknowledge_for(fed.ledger, fed["poster"], vol, form(tmp_path),
                                                                 days(fed, -1)))
    workforce.acknowledge_for(fed.ledger, fed["slt"], vol, form(tmp_path), days(fed, -1))
    refused(fed, AlreadyExists, lambda: workforce.acknowledge_for(fed.ledger, fed["teacher"], vol, form(tmp_path),
                                                                  days(fed, -1)))


def test_the_registry_refuses_an_assisted_acknowledgement_for_someone_who_holds_a_key(
        sqlite_federation: Federation) -> None:
    """"staff will be notified of any changes" and acknowledge them: a forged assisted entry for a
    member of staff who signs in is refused by the rules ``verify`` replays. (Introduction)"""
    fed = sqlite_federation
    in_force(fed)
    from ledger.domain.policy import PolicyAcknowledgement, PolicyVersion, policy_record_id

    def forge() -> None:
        with fed.ledger.unit(fed["head"], write=True) as work:
            version = work.get(PolicyVersion, policy_record_id("v1"), "policy", redacted=True)
            work.save(PolicyAcknowledgement.record_assisted("teacher", version, work.today, [version], "head",
                                                            "0" * 64, work.today))
    refused(fed, NotPermitted, forge, "acknowledge for themselves")
    with fed.ledger.unit() as work:
        assert not work.exists(acknowledgement_record_id("teacher", "v1"))


# -- the policy's own review ----------------------------------------------------------


def test_a_review_records_who_when_findings_and_next_due_and_the_inbox_shows_it_when_due(
        federation: Federation) -> None:
    """"The Head of Operations and the Network Manager shall be responsible for reviewing this Policy
    from time to time to ensure that it meets legal requirements and reflects best practice."
    (Monitoring and review of this Policy); the cover's "Annual Review Date"."""
    fed = federation
    in_force(fed)
    status = reviews.status(fed.ledger)
    assert status["last_reviewed_on"] is None and status["next_due"] == (
        retention.add_months(today(fed) - dt.timedelta(days=60), 12).isoformat())
    done = reviews.record_review(fed.ledger, fed["slt"], days(fed, -340), ["slt", "admin"],
                                 f"Reflects practice; {SENTINEL} asked about AI tools")
    assert done["next_due"] == retention.add_months(today(fed) - dt.timedelta(days=340), 12).isoformat()
    items = [i for i in inbox.waiting_for(fed.ledger, fed["head"]) if i["kind"] == "review-policy"]
    assert len(items) == 1 and items[0]["note"] == "due soon" and done["next_due"] in items[0]["what"]
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["teacher"]) if i["kind"] == "review-policy"]
    report = governors.report(fed.ledger, fed["head"])
    assert report.review["next_due"] == done["next_due"] and report.review["reviewers"] == "admin,slt"
    assert SENTINEL.encode() not in stored(fed)
    verified(fed)


def test_a_review_is_due_again_within_a_year_and_not_recorded_ahead_of_time(sqlite_federation: Federation) -> None:
    """"Annual Review Date: December 2024" (the policy's cover): the next review is at most a year on."""
    fed = sqlite_federation
    refused(fed, InvalidInput, lambda: reviews.record_review(fed.ledger, fed["head"], days(fed, -1), ["slt"], "ok",
                                                             next_due=days(fed, 400)), "more than 12 months")
    refused(fed, InvalidInput, lambda: reviews.record_review(fed.ledger, fed["head"], days(fed, 3), ["slt"], "ok"),
            "future")
    refused(fed, NotPermitted, lambda: reviews.record_review(fed.ledger, fed["teacher"], days(fed, -1), ["slt"], "ok"))


# -- training -------------------------------------------------------------------------


def test_an_investigator_without_current_training_is_flagged_when_assigned(federation: Federation) -> None:
    """"The Headteacher has responsibility for ensuring that any person who may be involved with
    administration or investigations carried out under this Policy receives regular and appropriate
    training to assist them with these duties." (Monitoring and review of this Policy)"""
    fed = federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "other", days(fed, -1) + "T10:00", "A post", "Seen online"))
    incidents.triage(fed.ledger, fed["head"], inc, "conduct")
    training.record_training(fed.ledger, fed["head"], "investigator", "investigation", days(fed, -400), "Course",
                             renewal_due=days(fed, -35))
    flag = incidents.assign(fed.ledger, fed["head"], inc, "investigator", "Interview the witnesses")
    assert flag == f"investigator's investigation training was due for renewal on {days(fed, -35)}"
    items = [i for i in inbox.waiting_for(fed.ledger, fed["head"]) if i["kind"] == "training"]
    assert [i["ref"] for i in items] == [inc] and items[0]["what"].startswith("investigator's")
    training.record_training(fed.ledger, fed["head"], "investigator", "investigation", days(fed, -2), "Refresher")
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["head"]) if i["kind"] == "training"]
    rows = training.register(fed.ledger)
    assert [r["state"] for r in rows] == ["renewal overdue", "current"]
    assert governors.report(fed.ledger, fed["head"]).training == {"current: investigation": 1}


def test_training_is_regular_and_only_the_office_records_it(sqlite_federation: Federation) -> None:
    """"receives regular and appropriate training" (Monitoring and review of this Policy): a record
    has a renewal date after it, and staff cannot sign off their own training."""
    fed = sqlite_federation
    refused(fed, InvalidInput, lambda: training.record_training(fed.ledger, fed["head"], "dsl", "investigation",
                                                                days(fed, -1), "C", renewal_due=days(fed, -1)))
    refused(fed, InvalidInput, lambda: training.record_training(fed.ledger, fed["head"], "dsl", "juggling",
                                                                days(fed, -1), "C"))
    refused(fed, NotPermitted, lambda: training.record_training(fed.ledger, fed["teacher"], "teacher",
                                                                "social-media", days(fed, -1), "C"))


# -- recruitment ----------------------------------------------------------------------


def test_a_recruitment_search_names_the_candidate_and_falls_due_under_its_own_rule(federation: Federation) -> None:
    """"The Federation may use internet searches to perform pre-employment checks on candidates in the
    course of recruitment. Where the Federation does this, it will act in accordance with its data
    protection and equal opportunities obligations." (Recruitment)"""
    fed = federation
    candidate = people.add_subject(fed.ledger, fed["head"], "candidate", SENTINEL)
    check = recruitment.record_check(fed.ledger, fed["head"], candidate, "no-concerns",
                                     "Legitimate interests; public profiles only", "Year 3 teacher", True)
    assert recruitment.list_checks(fed.ledger) == [{"check_id": check, "candidate": candidate, "checked_by": "head",
                                                    "checked_on": today(fed).isoformat(), "outcome": "no-concerns"}]
    decisions, _ = plan(fed.ledger, fed["head"], today(fed) + dt.timedelta(days=200))
    mine = [d for d in decisions if d.label == check]
    assert mine and mine[0].action == "erase" and mine[0].rule == "date the record was made + 6 months"
    assert SENTINEL.encode() not in stored(fed)


def test_a_search_on_one_candidate_only_or_on_a_non_candidate_is_refused(sqlite_federation: Federation) -> None:
    """"it will act in accordance with its data protection and equal opportunities obligations"
    (Recruitment): a search must be made as for every candidate, and only on a candidate."""
    fed = sqlite_federation
    candidate = people.add_subject(fed.ledger, fed["head"], "candidate", "Cand")
    pupil = people.add_subject(fed.ledger, fed["head"], "pupil", "Pup")
    refused(fed, InvalidInput, lambda: recruitment.record_check(fed.ledger, fed["head"], candidate, "no-concerns",
                                                                "basis", "TA", False), "every candidate")
    refused(fed, InvalidInput, lambda: recruitment.record_check(fed.ledger, fed["head"], pupil, "no-concerns",
                                                                "basis", "TA", True), "not a candidate")
    refused(fed, NotPermitted, lambda: recruitment.record_check(fed.ledger, fed["teacher"], candidate, "no-concerns",
                                                                "basis", "TA", True))


# -- copyright and speaking about the federation --------------------------------------


def test_copyright_questions_go_to_the_headteacher_as_an_approval(sqlite_federation: Federation) -> None:
    """"If you have any questions about whether a particular post or upload might violate anyone's
    copyright or trademark, ask the Headteacher in the first instance before making the communication."
    (Respecting intellectual property and confidential information)"""
    fed = sqlite_federation
    perm = approvals.request_permission(fed.ledger, fed["teacher"], "copyright", "Use a publisher's worksheet image")
    approvals.decide(fed.ledger, fed["head"], perm, "approved", "Licensed for school use; cite the source")
    rows = {r["id"]: r for r in approvals.list_approvals(fed.ledger, fed["head"])}
    assert rows[perm]["kind"] == "copyright" and rows[perm]["status"] == "approved"
    other = approvals.request_permission(fed.ledger, fed["teacher"], "copyright", "Quote a newspaper article")
    refused(fed, NotPermitted, lambda: approvals.decide(fed.ledger, fed["slt"], other, "rejected", "no"))


def test_posting_as_identified_staff_needs_the_line_managers_discussion_and_an_own_views_statement(
        sqlite_federation: Federation) -> None:
    """"If Staff disclose whether directly or indirectly their affiliation to the Federation as a
    member of Staff ... they must also state that their views do not represent those of the Federation."
    and "he or she should refrain from making the communication until he or she has discussed it with
    his Line Manager, Head of Department or a member of the Senior Leadership Team." (Protecting our
    business reputation)"""
    fed = sqlite_federation
    perm = approvals.request_permission(fed.ledger, fed["teacher"], "personal-views", "Blog on phonics")
    refused(fed, RuleViolation, lambda: approvals.decide(fed.ledger, fed["head"], perm, "approved", "ok"),
            "discussion with the line manager")
    refused(fed, InvalidInput, lambda: approvals.record_discussion(fed.ledger, fed["teacher"], perm, "line-manager",
                                                                   True), "someone else")
    approvals.record_discussion(fed.ledger, fed["slt"], perm, "line-manager", False)
    refused(fed, RuleViolation, lambda: approvals.decide(fed.ledger, fed["head"], perm, "approved", "ok"),
            "views are the author's own")
    perm2 = approvals.request_permission(fed.ledger, fed["teacher"], "personal-views", "Blog on reading")
    approvals.record_discussion(fed.ledger, fed["slt"], perm2, "slt", True, note="Agreed wording")
    approvals.decide(fed.ledger, fed["head"], perm2, "approved", "Fine with the disclaimer")


# -- targeted monitoring --------------------------------------------------------------


def _staff_alert(fed: Federation, tmp_path: Path, user: str) -> str:
    day = days(fed, -3)
    path = tmp_path / "alerts.csv"
    path.write_text("time,source_system,source_record_id,device,user,category,severity,rule,action,detail\n"
                    f"{day}T09:12:00Z,smoothwall,SW-9001,OAK-1,{user},social-media,high,Social,flagged,posting\n")
    monitoring.import_alerts(fed.ledger, fed["admin"], path)
    return next(str(a["id"]) for a in monitoring.list_alerts(fed.ledger, reader=fed["head"]))


def test_an_alert_about_a_member_of_staff_is_linked_only_under_an_authorisation(
        federation: Federation, tmp_path: Path) -> None:
    """"The Federation reserves the right to monitor, intercept and review, without further notice,
    staff members activities using our IT resources and communications systems" (Monitoring): a review
    aimed at one person is authorised first (who, why, scope, period) before what it finds is linked."""
    fed = federation
    alert = _staff_alert(fed, tmp_path, "teacher")
    inc = incidents.report(fed.ledger, fed["head"], incidents.IncidentReport(
        "other", days(fed, -3) + "T10:00", "Posting", "Seen", against_staff=True, people=("teacher:alleged",)))
    refused(fed, RuleViolation, lambda: monitoring.link_alert(fed.ledger, fed["head"], alert, inc),
            "no authorisation covers")
    refused(fed, InvalidInput, lambda: authorisations.grant(fed.ledger, fed["head"], "head", ["email"], days(fed, -5),
                                                            days(fed, 5), "self"))
    refused(fed, NotPermitted, lambda: authorisations.grant(fed.ledger, fed["dsl"], "teacher", ["email"],
                                                            days(fed, -5), days(fed, 5), "r"))
    early = authorisations.grant(fed.ledger, fed["head"], "teacher", ["email"], days(fed, -30), days(fed, -10), "old")
    refused(fed, RuleViolation, lambda: monitoring.link_alert(fed.ledger, fed["head"], alert, inc))
    auth = authorisations.grant(fed.ledger, fed["head"], "teacher", ["web-filtering", "social-media"],
                                days(fed, -7), days(fed, 7), f"Allegation {inc} by {SENTINEL}")
    monitoring.link_alert(fed.ledger, fed["head"], alert, inc)
    rows = {r["auth_id"]: r for r in authorisations.list_authorisations(fed.ledger)}
    assert rows[auth]["in_force"] is True and rows[early]["in_force"] is False
    assert rows[auth]["scope"] == "social-media,web-filtering"
    assert SENTINEL.encode() not in stored(fed)
    verified(fed)


def test_a_pupils_alert_needs_no_authorisation(sqlite_federation: Federation, tmp_path: Path) -> None:
    """"to ensure that our rules are being complied with and for legitimate business purposes"
    (Monitoring): routine filtering of pupils' use is not a targeted review of staff."""
    fed = sqlite_federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip")
    alert = _staff_alert(fed, tmp_path, pupil)
    inc = incidents.report(fed.ledger, fed["dsl"], incidents.IncidentReport(
        "child-on-child", days(fed, -3) + "T10:00", "Chat", "Seen"))
    monitoring.link_alert(fed.ledger, fed["dsl"], alert, inc)


# -- co-operation with an investigation -----------------------------------------------


def test_a_suspect_is_asked_for_login_details_and_their_answer_is_recorded(federation: Federation) -> None:
    """"Any member of staff suspected of committing a breach of this Policy will be required to
    co-operate with our investigation, which may involve handing over relevant passwords and login
    details." (Scope and Purpose of this Policy)"""
    fed = federation
    inc = incidents.report(fed.ledger, fed["head"], incidents.IncidentReport(
        "other", days(fed, -2) + "T10:00", "Posting", "Seen", against_staff=True, people=("teacher:alleged",)))
    refused(fed, RuleViolation, lambda: cooperation.request(fed.ledger, fed["head"], inc, "poster", ["passwords"],
                                                            days(fed, 5), "asked"), "not linked")
    coop = cooperation.request(fed.ledger, fed["head"], inc, "teacher", ["login-details", "remove-posting"],
                               days(fed, 5), f"Asked in a meeting with {SENTINEL}")
    assert cooperation.requests(fed.ledger, fed["head"], inc)[0]["response"] == "awaiting"
    refused(fed, InvalidInput, lambda: cooperation.answer(fed.ledger, fed["head"], inc, coop, "maybe"))
    cooperation.answer(fed.ledger, fed["head"], inc, coop, "refused", note="Declined to open the account")
    row = cooperation.requests(fed.ledger, fed["head"], inc)[0]
    assert row["response"] == "refused" and row["asks"] == "login-details,remove-posting"
    refused(fed, RuleViolation, lambda: cooperation.answer(fed.ledger, fed["head"], inc, coop, "co-operated"),
            "already answered")
    refused(fed, NotPermitted, lambda: cooperation.request(fed.ledger, fed["teacher"], inc, "teacher",
                                                           ["passwords"], days(fed, 5), "x"))
    assert SENTINEL.encode() not in stored(fed)
    verified(fed)


@pytest.mark.parametrize("record_class", ["recruitment", "training", "policy_review", "monitoring_authorisation"])
def test_every_new_record_class_has_readers_and_a_retention_rule(record_class: str) -> None:
    """"The Federation may store copies of such data or communications for a period of time after they
    are created, and may delete such copies from time to time without notice." (Monitoring)"""
    from ledger.roles import READERS

    assert READERS[record_class]
    assert retention.DEFAULTS[record_class].trigger != "review"


# -- held only in part before -----------------------------------------------------------


@pytest.mark.parametrize("code, clause", [
    ("staff-harassment", "Harass or bully other staff in any way or breach our Anti-harassment and bullying Policy"),
    ("discrimination", "Unlawfully discriminate against other Staff or third parties or breach our Equal "
                       "Opportunities Policy"),
    ("impersonation", "never use social media in a false or misleading way, such as by claiming to be someone "
                      "other than yourself"),
    ("work-email-signup", "Staff should not use a work email address to sign up to any social media"),
    ("offensive-post", "Staff must not post anything that their colleagues ... may find offensive, including "
                       "discriminatory comments, insults or obscenity"),
    ("photo-misuse", "Staff must not take photos or posts from social media that belong to the Federation for "
                     "their own personal use"),
])
def test_each_breach_the_policy_names_has_a_category_of_its_own(sqlite_federation: Federation, code: str,
                                                                clause: str) -> None:
    """Compliance with related policies and agreements; Personal use of social media; Respecting
    colleagues: the clause is the parameter ``clause``."""
    fed = sqlite_federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        code, days(fed, -1) + "T10:00", "Seen", "What was seen"))
    rows = {r["id"]: r for r in incidents.list_incidents(fed.ledger, fed["head"])}
    assert rows[inc]["category"] == code
    assert clause


def test_a_pupils_phone_use_is_reported_to_the_class_teacher_named_in_the_report(
        sqlite_federation: Federation) -> None:
    """"Staff must ensure that they report usage of a mobile phone/smart technology to the class teacher
    immediately." (The use of Mobile Phones and Smart Technology)"""
    fed = sqlite_federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip")
    refused(fed, RuleViolation, lambda: incidents.report(fed.ledger, fed["poster"], incidents.IncidentReport(
        "pupil-phone-use", days(fed, -1) + "T09:00", "Phone in class", "Filming", people=(f"{pupil}:alleged",))),
        "class teacher")
    refused(fed, InvalidInput, lambda: incidents.report(fed.ledger, fed["poster"], incidents.IncidentReport(
        "pupil-phone-use", days(fed, -1) + "T09:00", "Phone", "Filming", people=(f"{pupil}:class-teacher",))))
    inc = incidents.report(fed.ledger, fed["poster"], incidents.IncidentReport(
        "pupil-phone-use", days(fed, -1) + "T09:00", "Phone", "Filming",
        people=(f"{pupil}:alleged", "teacher:class-teacher")))
    shown = incidents.show(fed.ledger, fed["head"], inc, "triage")
    assert {"id": "teacher", "part": "class-teacher", "kind": "staff"} in shown["people"]


def test_a_device_period_that_began_in_the_past_is_refused(sqlite_federation: Federation) -> None:
    """"Any photos for social media posts may only be taken using Federation cameras/devices or devices
    that have been approved in advance by THE Headteacher." (Photographs for use of Social Media)"""
    fed = sqlite_federation
    refused(fed, RuleViolation, lambda: approvals.request_device(fed.ledger, fed["teacher"], "phone", "trip",
                                                                 days(fed, -1), days(fed, 1)), "in advance")
    approvals.request_device(fed.ledger, fed["teacher"], "phone", "trip", days(fed, 0), days(fed, 1))


def test_photos_not_confirmed_deleted_after_upload_wait_in_the_inbox_and_register(
        sqlite_federation: Federation) -> None:
    """"Where any device is used that does not belong to the Federation all photos must be deleted
    immediately from the device, once the photos have been uploaded to a device belonging to the
    Federation." (Photographs for use of Social Media)"""
    fed = sqlite_federation
    dev = approvals.request_device(fed.ledger, fed["teacher"], "phone", "trip", days(fed, 0), days(fed, 1))
    approvals.decide(fed.ledger, fed["head"], dev, "approved", "ok", conditions=["delete-after-upload"])
    for who in ("teacher", "head"):
        assert [i["ref"] for i in inbox.waiting_for(fed.ledger, fed[who]) if i["kind"] == "confirm-deletion"] == [dev]
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["poster"]) if i["kind"] == "confirm-deletion"]
    approvals.confirm_deleted(fed.ledger, fed["teacher"], dev, days(fed, 0), days(fed, 0), 12)
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["teacher"]) if i["kind"] == "confirm-deletion"]


def test_an_approval_carries_the_headteachers_requirements_and_restrictions(sqlite_federation: Federation) -> None:
    """"The Headteacher may require you to undergo training before you use social media on behalf of the
    Federation and may impose certain requirements and restrictions with regard to your activities."
    (Educational or Extra Curricular Use of Social Media)"""
    fed = sqlite_federation
    perm = approvals.request_permission(fed.ledger, fed["teacher"], "speak", "Run the PE account")
    refused(fed, InvalidInput, lambda: approvals.decide(fed.ledger, fed["head"], perm, "approved", "ok",
                                                        waive_training=True, conditions=["wear-a-hat"]))
    refused(fed, InvalidInput, lambda: approvals.decide(fed.ledger, fed["head"], perm, "rejected", "no",
                                                        conditions=["first-names-only"]))
    approvals.decide(fed.ledger, fed["head"], perm, "approved", "ok", waive_training=True,
                     conditions=["first-names-only", "review-before-posting"], condition_details="Weekly")
    row = next(r for r in approvals.list_approvals(fed.ledger, fed["head"]) if r["id"] == perm)
    assert row["conditions"] == "first-names-only,review-before-posting"
    claims = headers(fed, "PermissionRequest.ConditionsSet")[0]["claims"]
    assert claims == {"decision_no": 1, "conditions": ["first-names-only", "review-before-posting"]}


def test_approving_a_post_records_the_headteachers_check_that_it_is_positive_and_relevant(
        sqlite_federation: Federation) -> None:
    """"The post must be a positive and relevant post relating to the children, the good work of staff,
    the Federation or any achievements." (Staff Protocol for use of Social Media)"""
    fed = sqlite_federation
    post = approvals.propose_post(fed.ledger, fed["teacher"], "Sports day was great", [], [], "facebook")
    approvals.check_identifying(fed.ledger, fed["slt"], post, False)
    approvals.decide(fed.ledger, fed["head"], post, "approved", "Lovely")
    claims = headers(fed, "SocialMediaPost.ContentConfirmed")[0]["claims"]
    assert claims["positive"] is True and claims["relevant"] is True
    assert headers(fed, "SocialMediaPost.ContentConfirmed")[0]["actor"] == "head"


def test_a_hate_crime_flag_records_the_police_decision_and_why(sqlite_federation: Federation) -> None:
    """"If the comments are racist, sexist, of a sexual nature or constitute a hate crime, you or a
    senior leader should consider contacting the police" (Appendix 1)"""
    fed = sqlite_federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "staff-harassed", days(fed, -1) + "T10:00", "Abuse", "Racist comments about me"))
    refused(fed, InvalidInput, lambda: cooperation.assess_hate_crime(fed.ledger, fed["head"], inc,
                                                                     ["racist", "none-of-these"], "contacted", "x"))
    refused(fed, NotPermitted, lambda: cooperation.assess_hate_crime(fed.ledger, fed["teacher"], inc, ["racist"],
                                                                     "contacted", "x"))
    cooperation.assess_hate_crime(fed.ledger, fed["head"], inc, ["racist"], "contacted", f"Told {SENTINEL}")
    claims = headers(fed, "Incident.HateCrimeAssessed")[0]["claims"]
    assert claims == {"natures": ["racist"], "police": "contacted", "decided_on": days(fed, 0)}
    assert SENTINEL.encode() not in stored(fed)


def test_mediation_and_a_meeting_with_the_person_are_actions(sqlite_federation: Federation) -> None:
    """"our mediation and disciplinary procedures are usually sufficient" and "a senior member of staff
    should invite them to a meeting to address any reasonable concerns" (Appendix 1)"""
    fed = sqlite_federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "staff-harassed", days(fed, -1) + "T10:00", "Abuse", "A parent's comments"))
    incidents.triage(fed.ledger, fed["head"], inc, "conduct")
    for kind in ("mediation", "meeting-with-person"):
        incidents.record_action(fed.ledger, fed["head"], inc, kind, "held")


def test_a_governor_reads_the_governors_report_and_nothing_personal(sqlite_federation: Federation) -> None:
    """"The Board of Directors have overall responsibility for the effective operation of this Policy"
    (Personnel responsible for implementing the Policy)"""
    fed = sqlite_federation
    people.add_staff(fed.ledger, fed["head"], "Gov Ernor", ["governor"], "correct horse battery staple 1",
                     "gov")
    gov = fed.ledger.unlock("gov", "correct horse battery staple 1")
    report = governors.report(fed.ledger, gov)
    assert report.incidents == 0
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "other", days(fed, -1) + "T10:00", "Seen", "What"))
    with pytest.raises(NotPermitted):
        incidents.show(fed.ledger, gov, inc, "curious")
    with pytest.raises(NotPermitted):
        people.read_details(fed.ledger, gov, "teacher", "curious")
    verified(fed)


def test_nobody_can_claim_the_record_of_someone_who_never_signs_in_with_a_first_key(
        sqlite_federation: Federation) -> None:
    """"This Policy covers ... volunteers" (Who is covered by this Policy?): a volunteer registered
    without a key cannot be impersonated by registering a first key on their record; a key for them
    comes only from a two-person reset, and then they sign in."""
    from ledger import identity
    from ledger.domain.people import StaffMember, staff_record_id

    fed = sqlite_federation
    vol = workforce.add_covered_person(fed.ledger, fed["head"], "Val", "volunteer", staff_id="vol-2")
    pair = identity.generate(vol)

    def claim() -> None:
        with fed.ledger.unit(fed["head"], write=True) as work:
            member = work.get(StaffMember, staff_record_id(vol), "member of staff", redacted=True)
            member.register_key(pair.key_id, pair.public.public_key, pair.public.agreement_key)
            with work.acting_as(pair):
                work.save(member)
    refused(fed, NotPermitted, claim, "two-person reset")
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], vol, "a new passphrase for val", "starts signing in")
    people.approve_key_reset(fed.ledger, fed["head"], vol, proposal.reset_id)
    assert fed.ledger.registry().staff[vol].keyed and not fed.ledger.registry().staff[vol].paper_only
    verified(fed)
