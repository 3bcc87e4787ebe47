"""The demo's chapter for the rest of the policy (issue 16): who is covered, the policy's review,
training, recruitment, copyright and personal-views permissions, targeted monitoring,
co-operation with an investigation and a hate-crime decision."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

from commands.services import (approvals, authorisations, cooperation, incidents, people, recruitment, reviews,
                               training, workforce)
from ledger.errors import LedgerError
from ledger.store import Actor, Ledger


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Walk each duty once, as the people the policy names."""
    today = dt.date.fromisoformat(ledger.today())
    head, slt = actors["head"], actors["slt"]
    yield "The rest of the policy: who is covered, review, training, recruitment, monitoring"
    vol = workforce.add_covered_person(ledger, head, "Val Unteer", "volunteer", line_manager="teacher-1",
                                       staff_id="volunteer-1")
    with tempfile.TemporaryDirectory() as folder:
        form = Path(folder) / "signed-form.pdf"
        form.write_bytes(b"%PDF-1.4 signed acknowledgement form, volunteer-1")
        done = workforce.acknowledge_for(ledger, actors["teacher-1"], vol, form, (today - dt.timedelta(days=1)).isoformat())
    yield (f"  {vol} (volunteer, never signs in): paper acknowledgement of version {done['version']} entered by "
           f"teacher-1, marked assisted (form sha256 {done['form_hash'][:12]}…)")
    workforce.set_worker_type(ledger, head, "teacher-2", "agency", line_manager="slt")
    yield "  teacher-2 recorded as agency staff, line manager slt"
    review = reviews.record_review(ledger, slt, (today - dt.timedelta(days=2)).isoformat(), ["slt", "it-manager"],
                                   "Meets legal requirements; add guidance on AI image tools")
    yield f"  slt recorded the policy's review with the IT manager; next review due {review['next_due']}"
    assigned = training.record_training(ledger, head, "investigator", "investigation",
                                        (today - dt.timedelta(days=30)).isoformat(), "Investigating under the policy")
    yield f"  head recorded investigator's investigation training (renewal due {assigned['renewal_due']})"
    candidate = people.add_subject(ledger, head, "candidate", "Casey Candidate")
    check = recruitment.record_check(ledger, head, candidate, "no-concerns", "Legitimate interests; public posts only",
                                     "Year 3 teacher", True)
    yield f"  head recorded pre-employment search {check} on candidate {candidate} (erased six months on)"
    perm = approvals.request_permission(ledger, actors["teacher-1"], "copyright", "Use a publisher's map in a post")
    approvals.decide(ledger, head, perm, "approved", "Licensed for schools", conditions=["cite-sources"])
    yield f"  copyright question {perm}: approved on condition the source is cited"
    views = approvals.request_permission(ledger, actors["teacher-2"], "personal-views", "Blog about phonics teaching")
    try:
        approvals.decide(ledger, head, views, "approved", "ok")
    except LedgerError as refused:
        yield f"  refused: {refused.message}"
    approvals.record_discussion(ledger, slt, views, "line-manager", True)
    approvals.decide(ledger, head, views, "approved", "Discussed; says the views are their own")
    yield f"  {views}: slt (line manager) recorded the discussion; head approved"
    inc = incidents.report(ledger, head, incidents.IncidentReport(
        "offensive-post", (today - dt.timedelta(days=1)).isoformat() + "T19:00", "Offensive comments online",
        "Comments about a colleague on a public page", against_staff=True, people=("teacher-2:alleged",)))
    incidents.triage(ledger, head, inc, "allegation about a member of staff")
    auth = authorisations.grant(ledger, head, "teacher-2", ["social-media", "web-filtering"],
                                (today - dt.timedelta(days=7)).isoformat(), (today + dt.timedelta(days=14)).isoformat(),
                                f"Allegation {inc}")
    yield f"  head authorised a targeted review of teacher-2's use of the systems ({auth}) before linking any alert"
    coop = cooperation.request(ledger, head, inc, "teacher-2", ["login-details", "remove-posting"],
                               (today + dt.timedelta(days=5)).isoformat(), "Asked at the meeting to remove the post")
    cooperation.answer(ledger, head, inc, coop, "co-operated", note="Post removed in the meeting")
    cooperation.assess_hate_crime(ledger, head, inc, ["none-of-these"], "not-contacted", "Offensive, not a hate crime")
    yield f"  {inc}: teacher-2 asked to co-operate ({coop}): co-operated; police not contacted, with why"
