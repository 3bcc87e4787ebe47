"""The policy's own review: who reviewed it, when, what they found, and when it is next due.

"The Head of Operations and the Network Manager shall be responsible for
reviewing this Policy from time to time"; the cover gives an annual review
date. Each review is a record; the next due date is a clear fact the inbox
and the governors' report read without a key.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput

#: A review is due again at most this many months later (the cover's annual review date).
MAX_INTERVAL_MONTHS = 12


def review_record_id(review_id: str) -> uuid.UUID:
    """The aggregate id of one review of the policy."""
    return record_id("policy-review", review_id)


class PolicyReview(Aggregate):
    """One review of the policy by the people it names."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("review_id", "reviewed_on", "reviewers", "policy_version", "next_due")
        review_id: str
        reviewed_on: str
        reviewers: list[str]
        policy_version: str | None
        next_due: str
        findings: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (f"policy reviewed on {self.reviewed_on} by {', '.join(self.reviewers)}; next review due "
                    f"{self.next_due}: {self.findings}")

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return self.findings

    @staticmethod
    def create_id(review_id: str) -> uuid.UUID:
        return review_record_id(review_id)

    @classmethod
    def record(cls, review_id: str, reviewed_on: str, reviewers: list[str], policy_version: str | None,
               next_due: str, findings: str, today: str, latest_due: str) -> PolicyReview:
        """A review held on ``reviewed_on`` (not in the future), due again by ``next_due``
        (after the review, and no later than ``latest_due``: a year on)."""
        if reviewed_on > today:
            raise InvalidInput(f"the review date {reviewed_on} is in the future", "record a review once it is held")
        if not reviewers:
            raise InvalidInput("say who reviewed the policy", "give --reviewer for each reviewer")
        if next_due <= reviewed_on:
            raise InvalidInput(f"the next review ({next_due}) must come after this one ({reviewed_on})")
        if next_due > latest_due:
            raise InvalidInput(
                f"the next review ({next_due}) is more than {MAX_INTERVAL_MONTHS} months after this one",
                f"the policy is reviewed every year: give --next-due on or before {latest_due}",
            )
        return cls._create(
            cls.Recorded, review_id=review_id, reviewed_on=reviewed_on, reviewers=sorted(set(reviewers)),
            policy_version=policy_version, next_due=next_due, findings=require_text("findings", findings, 10_000),
            record_class="policy_review",
        )

    def __init__(self, review_id: str, reviewed_on: str, reviewers: list[str], policy_version: str | None,
                 next_due: str, findings: str | None) -> None:
        self.review_id = review_id
        self.reviewed_on = reviewed_on
        self.reviewers = reviewers
        self.policy_version = policy_version
        self.next_due = next_due
        self.findings = findings
