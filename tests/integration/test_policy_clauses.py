"""Clauses the ledger held before issue 16, each with a test quoting it, and the coverage table's own check.

``docs/policy-coverage.md`` lists every clause of the policy a ledger can hold. The last test
here reads that table: every quote must be in the policy (``tests/data/policy.txt``) and every
test it names must exist, so the table cannot drift from the policy or the suite.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from commands.services import approvals, incidents
from ledger.domain.incidents import categories as codes
from ledger.domain.policy import ACKNOWLEDGEMENT_STATEMENT
from ledger.errors import NotPermitted, RuleViolation
from tests.conftest import Federation, refused

ROOT = Path(__file__).resolve().parents[2]


def _day(fed: Federation, n: int) -> str:
    return (dt.date.fromisoformat(fed.ledger.today()) + dt.timedelta(days=n)).isoformat()


@pytest.mark.parametrize("code, owner, clause", [
    ("staff-phone-use", "slt", "If a member of staff feels that a colleague is using their mobile phone/smart "
                               "technology which is in breach of this policy, they must report this to SLT or the DSL."),
    ("pupil-contact", "slt", "Notify the senior leadership team or the headteacher about what's happening"),
    ("parent-contact", "slt", "A parent adds you on social media"),
    ("defamatory-post", "headteacher", "he or she is required to report this in the first instance to the "
                                       "Headteacher without unreasonable delay"),
    ("other", "headteacher", "Any misuse of social media should be reported to the Headteacher in the first "
                             "instance."),
    ("media-comment", "headteacher", "you must direct the inquiry to the Headteacher and must not respond "
                                     "without advanced written approval"),
    ("personal-social-media", "headteacher", "Personal use of social media is never permitted during working "
                                             "time or by means of our computers"),
    ("social-reference", "headteacher", "Staff should never provide references for other individuals on social "
                                        "or professional networking sites"),
    ("logo-ip-misuse", "headteacher", "Staff must not use the Federation's logos, brand names, slogans or other "
                                      "trademarks"),
    ("confidentiality-breach", "headteacher", "Breach any obligations they may have relating to confidentiality"),
])
def test_each_report_goes_to_the_role_the_policy_names(code: str, owner: str, clause: str) -> None:
    """The clause quoted in ``clause`` names who hears of the breach: the category's owner is that role."""
    assert codes.owner_for(code, against_staff=False) == owner
    assert _flat(clause) in _flat((ROOT / "tests" / "data" / "policy.txt").read_text(encoding="utf-8"))


def test_acknowledging_the_policy_consents_to_its_monitoring() -> None:
    """"you consent to such monitoring by your acknowledgement of this policy and your use of such
    resources and systems" (Monitoring)"""
    assert "acknowledge the monitoring it describes" in ACKNOWLEDGEMENT_STATEMENT


def test_a_media_enquiry_needs_the_headteachers_advance_written_approval(sqlite_federation: Federation) -> None:
    """"if you are contacted for comments about the Federation for publication anywhere, including in any
    social media outlet, you must direct the inquiry to the Headteacher and must not respond without
    advanced written approval." (Educational or Extra Curricular Use of Social Media)"""
    fed = sqlite_federation
    perm = approvals.request_permission(fed.ledger, fed["teacher"], "media", "Local paper asked about sports day")
    refused(fed, NotPermitted, lambda: approvals.decide(fed.ledger, fed["slt"], perm, "approved", "ok"))
    approvals.decide(fed.ledger, fed["head"], perm, "approved", "Reply with the agreed statement")


def test_linkedin_mentions_of_employment_need_prior_permission(sqlite_federation: Federation) -> None:
    """"any personal social media page should not make reference to their employment with the Federation,
    (excluding LinkedIn, where prior permission is sought from the Headteacher)." (Personal use of social
    media)"""
    fed = sqlite_federation
    perm = approvals.request_permission(fed.ledger, fed["teacher"], "linkedin", "List my job title")
    approvals.decide(fed.ledger, fed["head"], perm, "approved", "Fine")
    refused(fed, RuleViolation, lambda: approvals.decide(fed.ledger, fed["head"], perm, "approved", "again"))


def test_reporting_to_the_platform_and_asking_for_removal_are_actions(sqlite_federation: Federation) -> None:
    """"Report the material to Facebook or the relevant social network and ask them to remove it"
    (Appendix 1: You're being harassed on social media)"""
    fed = sqlite_federation
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "staff-harassed", _day(fed, -1) + "T10:00", "Abuse", "Comments about me"))
    incidents.triage(fed.ledger, fed["head"], inc, "conduct")
    for kind in ("reported-to-platform", "removal-requested", "removal-confirmed"):
        incidents.record_action(fed.ledger, fed["head"], inc, kind, "done")
    assert "removal-requested" in codes.ACTIONS and "reported-to-platform" in codes.ACTIONS


# -- the coverage table ---------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def _coverage_rows() -> list[list[str]]:
    rows = []
    for line in (ROOT / "docs" / "policy-coverage.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| #") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_the_coverage_table_quotes_the_policy_and_names_tests_that_exist() -> None:
    """"All Federation Staff are responsible for the success of this Policy": every clause the ledger
    can hold is in docs/policy-coverage.md, quoted exactly, held, with a test that exists."""
    policy = _flat((ROOT / "tests" / "data" / "policy.txt").read_text(encoding="utf-8"))
    rows = _coverage_rows()
    assert len(rows) >= 63
    known = _test_names()
    for number, section, quote, held, how, tests in rows:
        for part in re.findall(r"\u201c(.+?)\u201d", quote):
            for piece in part.split(" … "):
                assert _flat(piece.strip(" .…")) in policy, f"row {number}: not in the policy: {piece!r}"
        assert held == "held", f"row {number} is {held}"
        named = re.findall(r"`(test_\w+)`", tests)
        assert named, f"row {number} names no test"
        missing = [n for n in named if n not in known]
        assert not missing, f"row {number}: no such test {missing}"
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
