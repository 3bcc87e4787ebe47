"""The incident's rules on their own: no database, no keys, just the aggregate (as in cosmicpython's model tests)."""

from __future__ import annotations

import pytest

from ledger.domain.incidents import Incident
from ledger.localtime import zone_named
from ledger.domain.incidents import actions as action_rules
from ledger.errors import InvalidInput, NotPermitted, RuleViolation

NOW = "2026-03-10T10:00:00.000000+00:00"
LONDON = zone_named("Europe/London")
TODAY = "2026-03-10"
DSL = frozenset({"dsl", "staff"})


def incident(category: str = "child-on-child", against_staff: bool = False) -> Incident:
    people = [{"id": "sb-pip", "part": "victim", "kind": "subject"}]
    if against_staff:
        people.append({"id": "teacher-2", "part": "alleged", "kind": "staff"})
    return Incident.report("inc-test0001", category, "teacher-1", "staff", "seen",
                           {"at": "2026-03-09T12:00:00+00:00", "precision": "exact", "until": None},
                           "A summary", "The facts", people, NOW, against_staff=against_staff)


def triaged(category: str = "child-on-child") -> Incident:
    inc = incident(category)
    inc.triage(DSL, "safeguarding: the DSL leads")
    return inc


def test_an_action_dated_in_the_future_is_planned_for_its_owner() -> None:
    inc = triaged()
    inc.plan_action("social-care-referral", "dsl", "2026-03-12", "refer to MASH", TODAY, "act-1")
    assert inc.actions[-1] == {"action_id": "act-1", "action": "social-care-referral", "owner": "dsl",
                               "due_on": "2026-03-12", "taken_on": None, "status": "open", "details": "refer to MASH"}
    assert not action_rules.overdue(inc.actions[-1], TODAY)
    assert action_rules.overdue(inc.actions[-1], "2026-03-13")


def test_a_planned_action_cannot_be_due_in_the_past_nor_a_done_one_dated_in_the_future() -> None:
    inc = triaged()
    with pytest.raises(InvalidInput, match="due date 2026-03-01 is in the past"):
        inc.plan_action("parent-meeting", "teacher-1", "2026-03-01", "meet", TODAY, "act-1")
    with pytest.raises(InvalidInput, match="is in the future"):
        inc.record_action("parents-informed", "2026-03-11", "phoned", TODAY, "act-2", LONDON)


def test_the_owner_marks_their_action_done_and_nobody_else_without_reading_the_case() -> None:
    inc = triaged()
    inc.plan_action("parent-meeting", "teacher-1", "2026-03-12", "meet the mother", TODAY, "act-1")
    with pytest.raises(NotPermitted, match="it is teacher-1's"):
        inc.complete_action("act-1", TODAY, TODAY, "teacher-2", frozenset({"staff"}), LONDON)
    inc.complete_action("act-1", TODAY, TODAY, "teacher-1", frozenset({"staff"}), LONDON, "she came in")
    assert inc.actions[-1]["status"] == "done" and inc.actions[-1]["taken_on"] == TODAY
    with pytest.raises(RuleViolation, match="already done"):
        inc.complete_action("act-1", TODAY, TODAY, "teacher-1", frozenset({"staff"}), LONDON)


def test_a_cancelled_action_is_no_longer_open() -> None:
    inc = triaged()
    inc.plan_action("strategy-meeting", "dsl", "2026-03-15", "book the room", TODAY, "act-1")
    inc.cancel_action("act-1", "held by social care instead")
    assert inc.actions[-1]["status"] == "cancelled" and not action_rules.overdue(inc.actions[-1], "2026-04-01")


def test_an_allegation_closes_only_after_the_lado_referral_is_done_not_merely_planned() -> None:
    inc = incident("personal-social-media", against_staff=True)
    inc.triage(frozenset({"headteacher"}), "allegation")
    inc.record_outcome("unfounded", "no case to answer", TODAY, TODAY)
    inc.plan_action("lado-referral", "head", "2026-03-11", "call the LADO", TODAY, "act-1")
    with pytest.raises(RuleViolation, match="referred to the local authority designated officer"):
        inc.close()
    inc.complete_action("act-1", TODAY, TODAY, "head", frozenset({"headteacher"}), LONDON)
    inc.close()
    assert inc.status == "closed"


def test_images_are_never_taken_in_for_nudes_and_semi_nudes() -> None:
    inc = incident("nudes-semi-nudes")
    with pytest.raises(RuleViolation, match="an image is never taken in as evidence"):
        inc.add_evidence("att-1", "a" * 64, 10, "IMG_0412.jpg", "teacher-1", NOW, "photo", "phone", media="image")
    inc.add_evidence("att-2", "b" * 64, 10, "chat.txt", "teacher-1", NOW, "typed out", "laptop", media="document")
    inc.describe_evidence("desc-1", "Snapchat", "a picture was shared in the Year 6 group", "c" * 64)
    assert inc.described[-1]["platform"] == "Snapchat"


def test_triage_into_nudes_and_semi_nudes_waits_until_images_are_removed() -> None:
    inc = incident("child-on-child")
    inc.add_evidence("att-1", "a" * 64, 10, "shot.png", "teacher-1", NOW, "screenshot", "phone", media="image")
    with pytest.raises(RuleViolation, match="images are never kept"):
        inc.triage(DSL, "it is image sharing", "nudes-semi-nudes")
    inc.remove_evidence("att-1", "an image of a child must not be kept (UKCIS)")
    inc.triage(DSL, "it is image sharing", "nudes-semi-nudes")
    assert inc.category == "nudes-semi-nudes" and "att-1" in inc.removed_evidence


def test_a_wrong_link_is_undone_but_an_allegation_keeps_its_member_of_staff() -> None:
    inc = incident("personal-social-media", against_staff=True)
    inc.unlink_person("sb-pip", "wrong pupil")
    assert inc.linked_ids == {"teacher-2"}
    with pytest.raises(RuleViolation, match="keeps the member of staff it is about"):
        inc.unlink_person("teacher-2", "wrong")


def test_a_supplied_hash_must_be_a_sha256() -> None:
    with pytest.raises(InvalidInput, match="64 hexadecimal characters"):
        incident("nudes-semi-nudes").describe_evidence("d", "WhatsApp", "shared", "not-a-hash")


def test_a_case_is_triaged_again_only_to_correct_its_category_while_open() -> None:
    """A case reported as bullying turns out to be image sharing: the DSL corrects the category."""
    inc = triaged("online-bullying")
    with pytest.raises(RuleViolation, match="already triaged"):
        inc.triage(DSL, "again, same category")
    inc.triage(DSL, "turned out to be image sharing", "nudes-semi-nudes")
    assert inc.category == "nudes-semi-nudes" and inc.status == "triaged"
    assert inc.no_images, "the UKCIS image rule now applies to the case"
    with pytest.raises(RuleViolation, match="kept as allegation|kept as incident"):
        inc.triage(DSL, "wrong class", "staff-phone-use")


def test_an_action_cannot_predate_the_incident_nor_be_planned_years_ahead() -> None:
    inc = triaged()  # happened on 2026-03-09
    with pytest.raises(InvalidInput, match="before the incident happened"):
        inc.record_action("parents-informed", "2026-03-08", "phoned", TODAY, "act-1", LONDON)
    inc.record_action("parents-informed", "2026-03-09", "phoned", TODAY, "act-1", LONDON)
    with pytest.raises(InvalidInput, match="more than a year ahead"):
        inc.plan_action("parent-meeting", "teacher-1", "2031-03-12", "meet", TODAY, "act-2")
