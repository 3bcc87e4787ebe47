"""Casework end to end: actions with owners and due dates, the inbox, evidence under UKCIS, the governors' report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.services import governors, inbox, incidents, monitoring, people, readside
from commands.services.evidence import EvidenceFile
from ledger import envelope
from ledger.domain.incidents import categories as codes
from ledger.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.schema import attachments
from tests.adversary.conftest import audit, findings
from tests.conftest import PASSPHRASE, Federation, refused

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _today(fed: Federation) -> dt.date:
    with fed.ledger.unit() as work:
        return dt.date.fromisoformat(work.now[:10])


def report(fed: Federation, category: str = "child-on-child", who: str = "teacher", **kw: object) -> str:
    when = (_today(fed) - dt.timedelta(days=1)).isoformat() + "T10:00"
    return incidents.report(fed.ledger, fed[who], incidents.IncidentReport(
        category, when, "Shared in a group chat", "Pip showed me the chat", **kw))  # type: ignore[arg-type]


def test_an_action_due_next_week_waits_in_its_owners_inbox_until_they_mark_it_done(federation: Federation) -> None:
    fed = federation
    inc = report(fed)
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    due = (_today(fed) + dt.timedelta(days=7)).isoformat()
    planned = incidents.record_action(fed.ledger, fed["dsl"], inc, "parent-meeting", "meet Pip's mother", due,
                                      owner="teacher")
    items = [i for i in inbox.waiting_for(fed.ledger, fed["teacher"]) if i["kind"] == "action"]
    assert [i["ref"] for i in items] == [f"{inc} {planned.action_id}"] and f"due {due}" in items[0]["what"]
    # the teacher may not read the safeguarding incident, yet marks their own action done
    with pytest.raises(NotPermitted):
        incidents.show(fed.ledger, fed["teacher"], inc, "curious")
    refused(fed, NotPermitted, lambda: incidents.complete_action(fed.ledger, fed["slt"], inc, planned.action_id))
    incidents.complete_action(fed.ledger, fed["teacher"], inc, planned.action_id, details="she came in")
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["teacher"]) if i["kind"] == "action"]
    shown = incidents.show(fed.ledger, fed["dsl"], inc, "review")
    assert shown["actions"][-1]["status"] == "done"
    assert audit(fed).ok, findings(fed)


def test_the_inbox_gathers_what_waits_for_the_dsl_and_the_headteacher(federation: Federation, tmp_path: Path) -> None:
    fed = federation
    inc = report(fed)
    alerts = tmp_path / "alerts.csv"
    alerts.write_text("time,source_system,source_record_id,user,category,severity,action,detail\n"
                      f"{_today(fed) - dt.timedelta(days=1)}T08:00:00Z,smoothwall,SW-9,sb-x,self-harm,critical,"
                      "flagged,search\n",  # yesterday: an alert is never dated in the future, whatever the hour
                      encoding="utf-8")
    monitoring.import_alerts(fed.ledger, fed["admin"], alerts)
    kinds = Counter(i["kind"] for i in inbox.waiting_for(fed.ledger, fed["dsl"]))
    assert kinds["triage"] == 1 and kinds["alert"] == 1
    alert_id = next(i["ref"] for i in inbox.waiting_for(fed.ledger, fed["dsl"]) if i["kind"] == "alert")
    monitoring.dismiss_alert(fed.ledger, fed["dsl"], alert_id, "a lesson on online safety")
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    assert not {"triage", "alert"} & {i["kind"] for i in inbox.waiting_for(fed.ledger, fed["dsl"])}
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], "teacher", PASSPHRASE, "forgot it")
    head = [i for i in inbox.waiting_for(fed.ledger, fed["head"]) if i["kind"] == "approve-reset"]
    assert [i["ref"] for i in head] == [proposal.reset_id]
    assert not [i for i in inbox.waiting_for(fed.ledger, fed["admin"]) if i["kind"] == "approve-reset"], \
        "the proposer is not asked to approve their own proposal"


def test_overdue_actions_reach_the_role_the_incident_is_escalated_to(federation: Federation) -> None:
    fed = federation
    inc = report(fed)
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    planned = incidents.record_action(fed.ledger, fed["dsl"], inc, "social-care-referral", "refer to MASH",
                                      (_today(fed) + dt.timedelta(days=1)).isoformat(), owner="dsl")
    from ledger.clock import FixedClock
    from ledger.store import Ledger

    later = Ledger(fed.ledger.config, clock=FixedClock(dt.datetime.combine(
        _today(fed) + dt.timedelta(days=3), dt.time(9), tzinfo=dt.timezone.utc)))
    try:
        mine = [i for i in inbox.waiting_for(later, fed["dsl"]) if i["kind"] == "action"]
        assert mine and "OVERDUE" in mine[0]["what"] and mine[0]["ref"].endswith(planned.action_id)
        head = [i for i in inbox.waiting_for(later, fed["head"]) if i["kind"] == "overdue"]
        assert any(planned.action_id in i["ref"] for i in head)
    finally:
        later.close()


def test_an_image_is_refused_for_nudes_and_semi_nudes_and_described_instead(federation: Federation) -> None:
    fed = federation
    shot = EvidenceFile("IMG_0412.HEIC.renamed.txt", PNG, "teacher", "2026-01-05T10:00", "photo", "phone")
    refused(fed, RuleViolation, lambda: report(fed, "nudes-semi-nudes", evidence=(shot,)),
            match="an image is never taken in as evidence")
    with pytest.raises(RuleViolation) as caught:
        report(fed, "nudes-semi-nudes", evidence=(shot,))
    assert "Report again without the file (nothing was recorded)" in str(caught.value.hint), \
        "a refused report has no id yet: the hint must not name one"
    inc = report(fed, "nudes-semi-nudes")
    incidents.describe_evidence(fed.ledger, fed["teacher"], inc, "Snapchat", "a picture of Pip in the Y6 group",
                                "a" * 64)
    shown = incidents.show(fed.ledger, fed["dsl"], inc, "review")["timeline"]
    assert any("evidence described, not taken in (on Snapchat" in line["what"] for line in shown)


def test_an_image_taken_in_by_mistake_is_removed_and_the_ledger_still_verifies(federation: Federation,
                                                                               tmp_path: Path) -> None:
    fed = federation
    shot = EvidenceFile("shot.png", PNG, "teacher", "2026-01-05T10:00", "screenshot", "phone")
    inc = report(fed, evidence=(shot,))
    attachment = str(incidents.show(fed.ledger, fed["dsl"], inc, "check")["evidence"][0]["attachment_id"])
    refused(fed, RuleViolation, lambda: incidents.triage(fed.ledger, fed["dsl"], inc, "sharing nudes",
                                                          "nudes-semi-nudes"), match="images are never kept")
    incidents.remove_evidence(fed.ledger, fed["dsl"], inc, attachment, "an image of a child must not be kept")
    with fed.ledger.engine.connect() as conn:
        assert conn.execute(select(attachments).where(attachments.c.attachment_id == attachment)).first() is None
    refused(fed, NotFound, lambda: incidents.get_evidence(fed.ledger, fed["dsl"], inc, attachment,
                                                          tmp_path / "shot.png", "check"), match="was destroyed")
    incidents.triage(fed.ledger, fed["dsl"], inc, "sharing nudes", "nudes-semi-nudes")
    assert audit(fed).ok, findings(fed)


def test_the_governors_report_matches_the_log_and_is_the_same_for_every_reader(federation: Federation) -> None:
    fed = federation
    first = report(fed, "online-bullying")
    second = report(fed, "staff-phone-use", who="slt")
    incidents.triage(fed.ledger, fed["dsl"], first, "bullying")
    incidents.record_action(fed.ledger, fed["dsl"], first, "early-help", "early help assessment started")
    incidents.record_action(fed.ledger, fed["dsl"], first, "parents-informed", "phoned")
    incidents.triage(fed.ledger, fed["slt"], second, "phone use")
    found = governors.report(fed.ledger, fed["head"], "2000-01-01", "2100-01-01")
    expected = Counter()
    referrals = Counter()
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        for (state,) in conn.execute(select(table.c.state)):
            header = envelope.parse(bytes(state)).header
            name = header["topic"].rsplit(":", 1)[-1]
            if name == "Incident.Reported":
                expected[header["claims"]["category"]] += 1
            if name == "Incident.ActionRecorded" and header["claims"]["action"] in codes.REFERRALS:
                referrals[codes.ACTION_TITLES[header["claims"]["action"]]] += 1
    assert {r["category"]: r["count"] for r in found.by_category} == dict(expected)
    assert found.referrals == dict(referrals) == {"early help assessment or referral": 1}
    assert found.triage_hours["triaged"] == 2 and found.by_status == {"triaged": 2}
    assert governors.report(fed.ledger, fed["auditor"], "2000-01-01", "2100-01-01").rows() == found.rows()
    with pytest.raises(NotPermitted):
        governors.report(fed.ledger, fed["teacher"])
    assert "Pip" not in str(found.rows())


def test_careless_action_dates_and_owners_are_refused_and_write_nothing(federation: Federation) -> None:
    """A mistyped year, an action before the incident, an owner who does not work with children."""
    fed = federation
    inc = report(fed)  # happened yesterday
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    today = _today(fed)
    act = incidents.record_action
    refused(fed, InvalidInput, lambda: act(fed.ledger, fed["dsl"], inc, "parent-meeting", "meet",
                                           (today + dt.timedelta(days=400)).isoformat()),
            match="more than a year ahead")
    refused(fed, InvalidInput, lambda: act(fed.ledger, fed["dsl"], inc, "social-care-referral", "MASH",
                                           (today - dt.timedelta(days=3)).isoformat()),
            match="before the incident happened")
    refused(fed, RuleViolation, lambda: act(fed.ledger, fed["dsl"], inc, "parent-meeting", "meet",
                                            (today + dt.timedelta(days=7)).isoformat(), owner="admin"),
            match="not on the staff who work with children")
    done = act(fed.ledger, fed["dsl"], inc, "social-care-referral", "MASH", (today - dt.timedelta(days=1)).isoformat())
    assert not done.planned, "the day the incident happened is a fine day to act"


def test_a_chronology_as_of_a_day_to_come_is_refused(federation: Federation) -> None:
    fed = federation
    inc = report(fed)
    later = (_today(fed) + dt.timedelta(days=2)).isoformat()
    refused(fed, InvalidInput, lambda: readside.timeline(fed.ledger, fed["dsl"], "review", incident=inc, as_of=later),
            match="after today")
    assert readside.timeline(fed.ledger, fed["dsl"], "review", incident=inc, as_of=_today(fed).isoformat()).rows
