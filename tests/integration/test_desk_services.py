"""The services the desk added: inbox, own reports, finding people, a person's file, governors' counts, sign-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.services import (
    approvals, chronology, directory, governors, inbox, incidents, own_reports, people, readside, signin,
)
from ledger.errors import AuthenticationFailed, NotPermitted, RuleViolation
from tests.conftest import PASSPHRASE, Federation, local_today, module_federation, refused

NOON = f"{local_today(-1)}T12:00"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for federation in module_federation(request, tmp_path_factory, "desk_services"):
        people.add_subject(federation.ledger, federation["dsl"], "pupil", "Zoë Ångström", "2015-01-02", "Elm Primary",
                           "sb-zoe")
        people.add_subject(federation.ledger, federation["dsl"], "pupil", "Zachary Oak", "2015-03-04", "Oak Primary",
                           "sb-zac")
        people.add_subject(federation.ledger, federation["dsl"], "parent", "Zoe Parent", None, None, "sb-zp")
        yield federation


def _report(fed: Federation, who: str, category: str = "child-on-child", against: str = "sb-zoe") -> str:
    return incidents.report(fed.ledger, fed[who], incidents.IncidentReport(
        category, NOON, f"{category} by {who}", "Facts.", people=(f"{against}:victim",)))


def test_the_inbox_holds_untriaged_reports_of_my_role_only(fed: Federation) -> None:
    safeguarding = _report(fed, "teacher")
    conduct = _report(fed, "teacher", "staff-phone-use", "poster")
    mine = {i["ref"]: i["kind"] for i in inbox.waiting_for(fed.ledger, fed["dsl"])}
    assert mine.get(safeguarding) == "triage" and conduct not in mine
    slt = {i["ref"]: i["kind"] for i in inbox.waiting_for(fed.ledger, fed["slt"])}
    assert slt.get(conduct) == "triage" and safeguarding not in slt
    incidents.triage(fed.ledger, fed["dsl"], safeguarding, "safeguarding")
    after = {i["ref"]: i["kind"] for i in inbox.waiting_for(fed.ledger, fed["dsl"])}
    assert after.get(safeguarding) == "case", "triaged, it stays in view as an open case of the DSL's"
    incidents.record_outcome(fed.ledger, fed["dsl"], safeguarding, "upheld", "Supported both pupils.")
    incidents.close(fed.ledger, fed["dsl"], safeguarding)
    assert safeguarding not in {i["ref"] for i in inbox.waiting_for(fed.ledger, fed["dsl"])}
    assert {i["kind"] for i in inbox.waiting_for(fed.ledger, fed["teacher"])} <= {"acknowledge"}


def test_the_inbox_holds_cases_assigned_and_decisions_waiting(fed: Federation) -> None:
    case = _report(fed, "teacher", "staff-phone-use", "poster")
    incidents.triage(fed.ledger, fed["head"], case, "phone")
    incidents.assign(fed.ledger, fed["head"], case, "investigator", "find out")
    assert {"ref": case, "kind": "investigate"}.items() <= next(
        i for i in inbox.waiting_for(fed.ledger, fed["investigator"]) if i["ref"] == case).items()
    ahead = local_today(9)
    request_id = approvals.request_device(fed.ledger, fed["teacher"], "phone", "trip", ahead, ahead)
    waiting = [i for i in inbox.waiting_for(fed.ledger, fed["head"]) if i["ref"] == request_id]
    assert [i["kind"] for i in waiting] == ["decide"]
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["slt"]) if i["ref"] == request_id]


def test_a_reporter_sees_the_status_of_their_own_reports_only(fed: Federation) -> None:
    mine = _report(fed, "poster")
    theirs = _report(fed, "teacher")
    rows = own_reports.reported_by(fed.ledger, fed["poster"])
    assert [r["id"] for r in rows] == [mine] and rows[0]["status"] == "reported"
    assert theirs not in {r["id"] for r in rows} and "Facts." not in str(rows)
    incidents.triage(fed.ledger, fed["dsl"], mine, "seen")
    assert own_reports.reported_by(fed.ledger, fed["poster"])[0]["escalated_to"] == "dsl"


def test_readers_find_people_by_name_ignoring_case_and_accents_and_the_search_is_logged(fed: Federation) -> None:
    found = directory.find(fed.ledger, fed["dsl"], "zoe")
    assert [p["id"] for p in found] == ["sb-zoe"] and found[0]["name"] == "Zoë Ångström"
    assert [p["id"] for p in directory.find(fed.ledger, fed["dsl"], "z ang")] == ["sb-zoe"]
    assert [p["id"] for p in directory.find(fed.ledger, fed["dsl"], "z", school="oak primary")] == ["sb-zac"]
    assert [p["id"] for p in directory.find(fed.ledger, fed["head"], "zoe", kind="parent")] == ["sb-zp"]
    log = readside.register(fed.ledger, fed["head"], "access", "audit", reader="dsl")
    assert any(r["why"] == directory.SEARCH_REASON for r in log)


def test_staff_cannot_search_names_but_can_pick_by_id(fed: Federation) -> None:
    refused(fed, NotPermitted, lambda: directory.find(fed.ledger, fed["teacher"], "zoe"),
            "teacher may not read people's records")
    assert directory.find(fed.ledger, fed["teacher"], "sb-zoe") == [
        {"id": "sb-zoe", "kind": "pupil", "name": "", "school": "", "year_group": "", "date_of_birth": ""}]


def test_a_persons_file_shows_details_to_readers_and_logs_the_read(fed: Federation) -> None:
    inc = _report(fed, "teacher", against="sb-zac")
    shown = chronology.person_file(fed.ledger, fed["dsl"], "sb-zac", "strategy meeting")
    assert shown.details and shown.details["name"] == "Zachary Oak" and shown.kind == "pupil"
    assert any(inc in str(r["record"]) for r in shown.timeline.rows)
    with pytest.raises(NotPermitted, match="teacher may not read the chronology of sb-zac"):
        chronology.person_file(fed.ledger, fed["teacher"], "sb-zac", "curious")
    log = readside.register(fed.ledger, fed["head"], "access", "audit", reader="dsl")
    assert any(r["why"] == "strategy meeting" for r in log)


def test_the_governors_report_counts_what_the_incident_register_holds(fed: Federation) -> None:
    _report(fed, "teacher", "other", "sb-zac")
    counted = governors.report(fed.ledger, fed["head"], "2000-01-01", "2100-01-01")
    register = readside.register(fed.ledger, fed["head"], "incidents", status="all")
    assert counted.incidents == len(register) and sum(c["count"] for c in counted.by_category) == len(register)
    assert sum(counted.by_status.values()) == len(register)
    dsl = governors.report(fed.ledger, fed["dsl"], "2000-01-01", "2100-01-01")
    assert dsl.rows() == counted.rows(), "counts only, the same for every reader"
    assert governors.school_year_so_far("2026-10-01") == ("2026-09-01", "2026-10-01")
    assert governors.school_year_so_far("2027-03-01") == ("2026-09-01", "2027-03-01")


def test_a_session_acts_with_todays_roles_and_ends_when_its_key_does(fed: Federation) -> None:
    signed = signin.sign_in(fed.ledger, "slt", PASSPHRASE)
    people.grant_role(fed.ledger, fed["head"], "slt", "poster")
    assert "poster" in signin.refresh(fed.ledger, signed).roles
    people.remove_role(fed.ledger, fed["head"], "slt", "poster")
    assert "poster" not in signin.refresh(fed.ledger, signed).roles
    assert signin.refresh(fed.ledger, signed).keyring is not signed.keyring
    people.rotate_key(fed.ledger, fed["slt"], "a new passphrase here")
    with pytest.raises(AuthenticationFailed, match="no longer their current key"):
        signin.refresh(fed.ledger, signed)
    poster = signin.sign_in(fed.ledger, "poster", PASSPHRASE)
    people.end_employment(fed.ledger, fed["head"], "poster", "2026-01-31")
    with pytest.raises(RuleViolation, match="poster has left"):
        signin.refresh(fed.ledger, poster)
