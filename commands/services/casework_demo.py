"""The demo's casework chapter: a nude-image case handled as UKCIS asks, what waits
for the DSL, an action due next week, and the governors' report."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator

from commands.services import evidence, governors, inbox, incidents
from ledger.errors import LedgerError
from ledger.store import Actor, Ledger


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Walk a nudes and semi-nudes case the way the UKCIS guidance asks, then show the DSL's inbox
    and a governors' report for the school year so far."""
    today = ledger.today()
    next_week = (dt.date.fromisoformat(today) + dt.timedelta(days=7)).isoformat()
    teacher, dsl = actors["teacher-1"], actors["dsl"]
    yield "Casework:"
    report = incidents.IncidentReport(
        "nudes-semi-nudes", today, "Pupil says a semi-nude image of them is being passed round",
        "Pupil came to me at break and said an image of them had been shared in a Snapchat group.",
        precision="day", people=(f"{subjects['pupil2']}:victim",), school="Oak Primary",
        child_words="I only sent it to one person",
        immediate_action="Did not look at any phone; took the pupil to the DSL straight away.",
    )
    photo = evidence.EvidenceFile("screenshot.jpg", b"\xff\xd8\xff\xe0 demo photo", "teacher-1", None,
                                  "photo of a phone", "own phone")
    try:
        incidents.report(ledger, teacher, dataclasses.replace(report, evidence=(photo,)))
        yield "  (unexpected: an image of a child was taken in)"
    except LedgerError as refused:
        yield f"  teacher-1 tries to hand in a photo with the report: refused, nothing written ({refused.message})"
    inc = incidents.report(ledger, teacher, report)
    yield f"  {inc:<13} nudes and semi-nudes reported by teacher-1 without the image, as UKCIS asks"
    incidents.describe_evidence(ledger, teacher, inc, "Snapchat",
                                "Pupil says the image is in a group of about 20 pupils; not viewed by staff.")
    yield "                recorded instead: where the image is and what the pupil says of it, unseen"
    incidents.triage(ledger, dsl, inc, "Sharing nudes and semi-nudes: UKCIS advice followed")
    incidents.record_action(ledger, dsl, inc, "social-care-referral", "Referred to MASH the same day.")
    incidents.record_action(ledger, dsl, inc, "report-remove", "Pupil helped to use Report Remove (Childline).")
    planned = incidents.record_action(ledger, dsl, inc, "strategy-meeting", "Review with the pupil's family.",
                                      next_week)
    yield (f"                dsl referred it to children's social care, helped with Report Remove, and planned a "
           f"strategy meeting due {planned.day} ({planned.action_id}, owner {planned.owner})")

    waiting = inbox.waiting_for(ledger, dsl)
    kinds = Counter(item["kind"] for item in waiting)
    yield (f"  ledger --as dsl inbox: {len(waiting)} item(s) wait for the DSL: "
           + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
    counts = governors.report(ledger, actors["head"])
    referrals = sum(counts.referrals.values())
    yield (f"  ledger --as head report: {counts.incidents} incident(s) from {counts.start} to {counts.end}, "
           f"{referrals} referral(s) or contact(s) with other agencies, no personal data")
