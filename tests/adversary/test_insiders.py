"""Insiders through the front door: what a signed-in member of staff or the IT manager may not learn or destroy.

Found by trying the desk and the CLI as a teacher and as the IT manager would.
"""

from __future__ import annotations

import pytest

from commands.services import incidents, monitoring, people, readside, retention, retention_plan
from ledger.errors import NotPermitted
from tests.conftest import Federation, refused


def allegation_about(fed: Federation, staff: str) -> str:
    inc = incidents.report(fed.ledger, fed["slt"], incidents.IncidentReport(
        "personal-social-media", "2026-01-05T10:00", "Comment online", "Seen by a parent",
        people=(f"{staff}:alleged",), against_staff=True))
    incidents.triage(fed.ledger, fed["head"], inc, "allegation: the Headteacher leads")
    incidents.record_action(fed.ledger, fed["head"], inc, "lado-referral", "called the LADO")
    return inc


def test_staff_cannot_learn_of_an_allegation_against_them_from_their_own_chronology(federation: Federation) -> None:
    fed = federation
    allegation_about(fed, "teacher")
    refused(fed, NotPermitted, lambda: readside.timeline(fed.ledger, fed["teacher"], "me", person="teacher"),
            match="teacher may not read the chronology of teacher")


def test_staff_cannot_browse_a_pupils_chronology(federation: Federation) -> None:
    fed = federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Robin Reader")
    incidents.report(fed.ledger, fed["poster"], incidents.IncidentReport(
        "safeguarding-concern", "2026-01-05T10:00", "Worrying search", "Seen", people=(f"{pupil}:victim",)))
    refused(fed, NotPermitted, lambda: readside.timeline(fed.ledger, fed["teacher"], "curious", person=pupil))


def test_staff_cannot_list_monitoring_alerts(federation: Federation) -> None:
    with pytest.raises(NotPermitted, match="teacher may not list monitoring alerts"):
        monitoring.list_alerts(federation.ledger, reader=federation["teacher"])


def test_the_it_manager_cannot_erase_a_disclosure_they_may_not_read(federation: Federation) -> None:
    fed = federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "safeguarding-concern", "2026-01-05T10:00", "Disclosure", "He hits me", child_words="he hits me"))
    refused(fed, NotPermitted, lambda: retention.erase(fed.ledger, fed["admin"], inc, "data-subject-request",
                                                       "parent asked"),
            match="admin may not erase a safeguarding record on a ground of their own")


def test_the_it_manager_cannot_shorten_how_long_safeguarding_records_are_kept(federation: Federation) -> None:
    fed = federation
    refused(fed, NotPermitted, lambda: retention_plan.change_rule(fed.ledger, fed["admin"], "safeguarding",
                                                                  "recorded", 1, "tidy"),
            match="admin may not set how long safeguarding records are kept")
