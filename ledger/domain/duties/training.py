"""The training register: who was trained in what, when, and when it must be renewed.

"The Headteacher has responsibility for ensuring that any person who may be
involved with administration or investigations carried out under this Policy
receives regular and appropriate training." A record is current until its
renewal date; an investigator without current investigation training is
flagged when a case is assigned to them.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput

#: What the policy asks people to be trained for.
TRAINING_TOPICS: dict[str, str] = {
    "investigation": "carrying out investigations under the policy",
    "administration": "administering the policy (approvals, registers, acknowledgements)",
    "social-media": "using social media on behalf of the Federation",
    "safeguarding": "safeguarding and online safety",
}

#: Training that lets someone investigate: the register flags an investigator without it.
INVESTIGATION_TOPICS = ("investigation",)


def training_record_id(training_id: str) -> uuid.UUID:
    """The aggregate id of one training record."""
    return record_id("training", training_id)


class TrainingRecord(Aggregate):
    """One person's completion of one training, current until it is due for renewal."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("training_id", "staff_id", "topic", "completed_on", "renewal_due")
        training_id: str
        staff_id: str
        topic: str
        completed_on: str
        renewal_due: str
        course: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return (f"{self.staff_id} completed {self.topic} training on {self.completed_on} (renewal due "
                    f"{self.renewal_due}): {self.course}")

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return self.course

    @staticmethod
    def create_id(training_id: str) -> uuid.UUID:
        return training_record_id(training_id)

    @classmethod
    def record(cls, training_id: str, staff_id: str, topic: str, completed_on: str, renewal_due: str, course: str,
               today: str) -> TrainingRecord:
        """Training ``staff_id`` completed (not in the future), to be renewed by ``renewal_due``."""
        if topic not in TRAINING_TOPICS:
            raise InvalidInput(f"unknown training topic {topic!r}", f"topics are: {', '.join(TRAINING_TOPICS)}")
        if completed_on > today:
            raise InvalidInput(f"the completion date {completed_on} is in the future",
                               "record training once it is done")
        if renewal_due <= completed_on:
            raise InvalidInput(f"the renewal date ({renewal_due}) must come after the training ({completed_on})",
                               "training is regular: give the date it must be refreshed by")
        return cls._create(
            cls.Recorded, training_id=training_id, staff_id=staff_id, topic=topic, completed_on=completed_on,
            renewal_due=renewal_due, course=require_text("course", course, 500), record_class="training",
            subjects=[staff_id],
        )

    def __init__(self, training_id: str, staff_id: str, topic: str, completed_on: str, renewal_due: str,
                 course: str | None, subjects: list[str]) -> None:
        self.training_id = training_id
        self.staff_id = staff_id
        self.topic = topic
        self.completed_on = completed_on
        self.renewal_due = renewal_due
        self.course = course

    def current_on(self, day: str) -> bool:
        """Whether this training counts on ``day`` (done by then, not yet due for renewal)."""
        return self.completed_on <= day < self.renewal_due
