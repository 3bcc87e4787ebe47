"""A permission (e.g. to contact a pupil online for a club): consents and training, then a decision."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import optional_text, require_text
from ledger.errors import InvalidInput, RuleViolation
from ledger.domain.approvals.base import (
    Conditions, Decision, Request, Revocation, request_record_id,
)


#: Permission kinds the policy names, with what each allows.
PERMISSION_KINDS: dict[str, str] = {
    "linkedin": "mention employment with the Federation on LinkedIn",
    "brand": "use the Federation's logos, brand names, slogans or trademarks",
    "media": "respond to a media enquiry about the Federation",
    "speak": "speak on behalf of the Federation on social media",
    "post-about": "post about a colleague, pupil or parent",
    "copyright": "post or upload material that might use someone else's copyright or trademark",
    "personal-views": "post as an identified member of Federation staff, in a personal capacity",
}

#: Who a member of staff discusses an uncertain posting with before making it.
DISCUSSED_WITH = ("line-manager", "head-of-department", "slt")


class PermissionRequest(Request):
    """Advance written permission the policy requires for a named activity."""

    class Requested(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "kind", "requested_by", "school")
        request_id: str
        kind: str
        requested_by: str
        school: str | None
        details: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            about = f" about {', '.join(self.subjects)}" if self.subjects else ""
            return f"{self.requested_by} asked permission to {PERMISSION_KINDS[self.kind]}{about}: {self.details}"

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return self.details

    class ConsentRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("person", "given_by", "given_on", "evidence_hash")
        person: str
        given_by: str | None
        given_on: str
        evidence_hash: str | None
        note: str | None
        subjects: list[str]

        def apply(self, aggregate: PermissionRequest) -> None:
            aggregate.consents.add(self.person)

        def describe(self) -> str:
            """One line for the timeline."""
            by = f" (given by {self.given_by})" if self.given_by else ""
            return f"written permission of {self.person}{by} given on {self.given_on}" + (
                f": {self.note}" if self.note else ""
            )

    class TrainingRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("completed_on",)
        completed_on: str
        course: str

        def apply(self, aggregate: PermissionRequest) -> None:
            aggregate.trained_on = self.completed_on

        def describe(self) -> str:
            """One line for the timeline."""
            return f"training completed on {self.completed_on}: {self.course}"

    class DiscussionRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("discussed_with", "discussed_by", "discussed_on",
                                                   "own_views_statement")
        discussed_with: str
        discussed_by: str
        discussed_on: str
        own_views_statement: bool
        note: str | None

        def apply(self, aggregate: PermissionRequest) -> None:
            aggregate.discussed_on = self.discussed_on
            aggregate.own_views_statement = self.own_views_statement

        def describe(self) -> str:
            """One line for the timeline."""
            said = ("the post will say the views are the author's own and not the Federation's"
                    if self.own_views_statement else "NO statement that the views are the author's own")
            note = f": {self.note}" if self.note else ""
            return f"discussed with {self.discussed_by} ({self.discussed_with}) on {self.discussed_on}; {said}{note}"

    class Decided(Decision):
        pass

    class DecisionRevoked(Revocation):
        pass

    class ConditionsSet(Conditions):
        pass

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        return request_record_id(request_id)

    @classmethod
    def request(cls, request_id: str, requested_by: str, kind: str, details: str, about: list[str],
                school: str | None = None) -> PermissionRequest:
        """Ask the Headteacher for a permission of ``kind``."""
        if kind not in PERMISSION_KINDS:
            raise InvalidInput(f"unknown permission kind {kind!r}", f"kinds are: {', '.join(PERMISSION_KINDS)}")
        if kind == "post-about" and not about:
            raise InvalidInput("say who the post is about", "give --about ID for each person")
        if kind != "post-about" and about:
            raise InvalidInput("--about is only for a post-about permission")
        if requested_by in about:
            raise InvalidInput("no permission is needed to post about yourself")
        return cls._create(
            cls.Requested,
            request_id=request_id,
            kind=kind,
            requested_by=requested_by,
            school=school,
            details=require_text("details", details, 2000),
            record_class="permission",
            subjects=sorted(set(about)),
        )

    def __init__(self, request_id: str, kind: str, requested_by: str, details: str | None, subjects: list[str],
                 school: str | None = None) -> None:
        super().__init__(request_id, requested_by, school)
        self.kind = kind
        self.details = details
        self.about = subjects
        self.consents: set[str] = set()
        self.trained_on: str | None = None
        self.discussed_on: str | None = None
        self.own_views_statement = False

    def missing_steps(self, waived: Sequence[str] = ()) -> list[str]:
        """post-about needs everyone's written permission; speak needs training unless waived."""
        missing = [f"written permission of {p}" for p in self.about if p not in self.consents]
        if self.kind == "speak" and self.trained_on is None and "training" not in waived:
            missing.append("training (or the Headteacher waives it)")
        if self.kind == "personal-views":
            if self.discussed_on is None:
                missing.append("discussion with the line manager")
            elif not self.own_views_statement:
                missing.append("a statement that the views are the author's own")
        return missing

    def row(self, today: str) -> dict[str, Any]:
        return {
            **super().row(today),
            "kind": self.kind,
            "subjects": list(self.about),
            "covered": sorted(self.consents),
            "trained_on": self.trained_on,
        }

    def _check_undecided(self, what: str) -> None:
        if self.decision:
            raise RuleViolation(
                f"{self.request_id} was already {self.decision} on {self.decided_on}",
                f"{what} is recorded before the decision",
            )

    def record_consent(
        self, person: str, given_on: str, today: str, given_by: str | None = None,
        evidence_hash: str | None = None, note: str | None = None,
    ) -> None:
        """Record the advance written permission of someone the post is about."""
        self._check_undecided("written permission")
        if person not in self.about:
            raise InvalidInput(
                f"{person} is not someone {self.request_id} is about",
                f"it is about: {', '.join(self.about) or 'nobody'}",
            )
        if person in self.consents:
            raise RuleViolation(f"the written permission of {person} is already recorded")
        if given_on > today:
            raise InvalidInput(f"the permission date {given_on} is in the future")
        self.trigger_event(
            self.ConsentRecorded,
            person=person,
            given_by=optional_text("given by", given_by, 200),
            given_on=given_on,
            evidence_hash=evidence_hash,
            note=optional_text("note", note, 2000),
            subjects=sorted({person} | ({given_by} if given_by else set())),
        )

    def record_training(self, completed_on: str, course: str, today: str) -> None:
        """Record the training the Headteacher requires before speaking for the Federation."""
        if self.kind != "speak":
            raise InvalidInput(f"training is recorded for a speak permission, not {self.kind}")
        self._check_undecided("training")
        if completed_on > today:
            raise InvalidInput(f"the completion date {completed_on} is in the future")
        self.trigger_event(self.TrainingRecorded, completed_on=completed_on, course=require_text("course", course, 500))

    def record_discussion(self, discussed_with: str, discussed_by: str, discussed_on: str, own_views_statement: bool,
                          today: str, note: str | None = None) -> None:
        """Record the discussion with the line manager (or head of department, or SLT) before posting."""
        if self.kind != "personal-views":
            raise InvalidInput(f"a discussion is recorded for a personal-views permission, not {self.kind}")
        self._check_undecided("the discussion")
        if discussed_with not in DISCUSSED_WITH:
            raise InvalidInput(f"unknown discussion partner {discussed_with!r}",
                               f"choose one of: {', '.join(DISCUSSED_WITH)}")
        if discussed_by == self.requested_by:
            raise InvalidInput("the discussion is with someone else: name your line manager")
        if discussed_on > today:
            raise InvalidInput(f"the discussion date {discussed_on} is in the future")
        self.trigger_event(self.DiscussionRecorded, discussed_with=discussed_with, discussed_by=discussed_by,
                           discussed_on=discussed_on, own_views_statement=own_views_statement,
                           note=optional_text("note", note, 2000))

    def decide(
        self, outcome: str, reason: str, today: str, valid_until: str | None = None, waive_training: bool = False
    ) -> None:
        """Approve (optionally until a date) or reject."""
        if waive_training and self.kind != "speak":
            raise InvalidInput("only a speak permission has training to waive")
        waived = ["training"] if waive_training and self.trained_on is None else []
        self._decide(self.Decided, outcome, reason, today, valid_until, waived)

    def revoke(self, reason: str, today: str) -> None:
        """Revoke the standing decision."""
        self._revoke(self.DecisionRevoked, reason, today)
