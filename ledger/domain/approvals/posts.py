"""A social media post on a Federation account: proposed, checked, decided, published, removed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import optional_text, require_text
from ledger.errors import InvalidInput, RuleViolation
from ledger.domain.approvals.base import (
    APPROVED, FOUND, GRANTED, NONE_FOUND, REJECTED, WITHDRAWN, Conditions, Decision, Request, Revocation, check_account,
    request_record_id,
)


#: What the Headteacher confirms in approving a post to go live.
POSITIVE_AND_RELEVANT = ("the post is positive and relevant, relating to the children, the good work of staff, "
                         "the Federation or its achievements")


class SocialMediaPost(Request):
    """A post on the Federation's own accounts, from proposal to removal."""

    class Proposed(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "requested_by", "account", "image_hashes", "school")
        request_id: str
        requested_by: str
        account: str
        image_hashes: list[str]
        school: str | None
        text: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"{self.requested_by} proposed post {self.request_id} on {self.account} "
                f"({len(self.image_hashes)} image(s), children {', '.join(self.subjects) or 'none'}): {self.text}"
            )

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return f"{self.account}: {self.text}"

    class ParentalPermissionRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("child", "parent", "outcome", "given_on", "evidence_hash")
        child: str
        parent: str | None
        outcome: str
        given_on: str
        evidence_hash: str | None
        note: str | None
        subjects: list[str]

        def apply(self, aggregate: SocialMediaPost) -> None:
            aggregate.permissions[self.child] = self.outcome

        def describe(self) -> str:
            """One line for the timeline."""
            by = f" by parent {self.parent}" if self.parent else ""
            return f"parental permission for {self.child} {self.outcome}{by} on {self.given_on}" + (
                f": {self.note}" if self.note else ""
            )

    class IdentifyingInfoChecked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("result", "checked_on")
        result: str
        checked_on: str
        note: str | None

        def apply(self, aggregate: SocialMediaPost) -> None:
            aggregate.identifying_check = self.result

        def describe(self) -> str:
            """One line for the timeline."""
            found = "identifying information found" if self.result == FOUND else "nothing identifies a child"
            return f"checked on {self.checked_on}: {found}" + (f": {self.note}" if self.note else "")

    class Decided(Decision):
        pass

    class DecisionRevoked(Revocation):
        pass

    class ConditionsSet(Conditions):
        pass

    class ContentConfirmed(Aggregate.Event):
        """The Headteacher's check that the post is positive and relevant (Staff Protocol)."""

        clear_fields: ClassVar[tuple[str, ...]] = ("positive", "relevant", "confirmed_on")
        positive: bool
        relevant: bool
        confirmed_on: str
        statement: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Headteacher confirmed on {self.confirmed_on}: {self.statement}"

    class Published(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("published_on", "account")
        published_on: str
        account: str
        link: str | None

        def apply(self, aggregate: SocialMediaPost) -> None:
            aggregate.published_on = self.published_on

        def describe(self) -> str:
            """One line for the timeline."""
            return f"published on {self.account} on {self.published_on}" + (f" at {self.link}" if self.link else "")

    class Removed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("removed_on",)
        removed_on: str
        reason: str

        def apply(self, aggregate: SocialMediaPost) -> None:
            aggregate.removed_on = self.removed_on

        def describe(self) -> str:
            """One line for the timeline."""
            return f"removed on {self.removed_on}: {self.reason}"

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        return request_record_id(request_id)

    @classmethod
    def propose(
        cls, request_id: str, requested_by: str, account: str, text: str, children: list[str], image_hashes: list[str],
        school: str | None = None,
    ) -> SocialMediaPost:
        """A proposed post; ``children`` are the pupils involved as subjects."""
        return cls._create(
            cls.Proposed,
            request_id=request_id,
            requested_by=requested_by,
            account=check_account(account),
            image_hashes=sorted(set(image_hashes)),
            school=school,
            text=require_text("post text", text, 5000),
            record_class="approval",
            subjects=sorted(set(children)),
        )

    def __init__(
        self, request_id: str, requested_by: str, account: str, image_hashes: list[str], text: str | None,
        subjects: list[str], school: str | None = None,
    ) -> None:
        super().__init__(request_id, requested_by, school)
        self.account = account
        self.image_hashes = image_hashes
        self.text = text
        self.children = subjects
        self.permissions: dict[str, str] = {}
        self.identifying_check: str | None = None
        self.published_on: str | None = None
        self.removed_on: str | None = None

    def missing_steps(self, waived: Sequence[str] = ()) -> list[str]:
        """The steps still missing before the post may go live."""
        missing = []
        for child in self.children:
            state = self.permissions.get(child)
            if state is None:
                missing.append(f"parental permission for {child}")
            elif state == WITHDRAWN:
                missing.append(f"parental permission for {child} (withdrawn)")
        if self.identifying_check is None:
            missing.append("check that nothing identifies a child")
        elif self.identifying_check == FOUND:
            missing.append("identifying information was found (propose a corrected post)")
        return missing

    @property
    def status(self) -> str:
        """Request status, or published / removed."""
        if self.removed_on:
            return "removed"
        if self.published_on:
            return "published"
        return super().status

    def next_step(self, today: str) -> str:
        if self.removed_on:
            return ""
        if self.published_on:
            if self.decision != APPROVED:
                return "approval revoked: remove the post"
            withdrawn = [c for c in self.children if self.permissions.get(c) == WITHDRAWN]
            return f"permission withdrawn for {', '.join(withdrawn)}: remove the post" if withdrawn else ""
        if self.decision == APPROVED:
            missing = self.missing_steps()
            return "; ".join(missing) if missing else "publication by a designated poster"
        return super().next_step(today)

    def row(self, today: str) -> dict[str, Any]:
        return {
            **super().row(today),
            "kind": "post",
            "subjects": list(self.children),
            "covered": sorted(c for c, s in self.permissions.items() if s == GRANTED),
            "published_on": self.published_on,
            "removed_on": self.removed_on,
        }

    def _check_open(self) -> None:
        if self.removed_on:
            raise RuleViolation(f"post {self.request_id} was removed on {self.removed_on}")
        if self.decision == REJECTED:
            raise RuleViolation(
                f"post {self.request_id} was rejected on {self.decided_on}",
                "propose a new post, or the Headteacher may revoke the rejection",
            )

    def record_permission(
        self, child: str, outcome: str, given_on: str, today: str, parent: str | None = None,
        evidence_hash: str | None = None, note: str | None = None,
    ) -> None:
        """Record that a child's parent granted (or withdrew) permission."""
        self._check_open()
        if child not in self.children:
            raise InvalidInput(
                f"{child} is not one of the children in post {self.request_id}",
                f"children in this post: {', '.join(self.children) or 'none'}",
            )
        if outcome not in (GRANTED, WITHDRAWN):
            raise InvalidInput(f"permission is {GRANTED} or {WITHDRAWN}, not {outcome!r}")
        if given_on > today:
            raise InvalidInput(f"the permission date {given_on} is in the future")
        if outcome == WITHDRAWN and child not in self.permissions:
            raise RuleViolation(f"no permission for {child} was recorded, so none can be withdrawn")
        if self.permissions.get(child) == outcome:
            raise RuleViolation(f"permission for {child} is already {outcome}")
        if outcome == GRANTED and self.published_on:
            raise RuleViolation(f"post {self.request_id} is already published")
        self.trigger_event(
            self.ParentalPermissionRecorded,
            child=child,
            parent=parent,
            outcome=outcome,
            given_on=given_on,
            evidence_hash=evidence_hash,
            note=optional_text("note", note, 2000),
            subjects=sorted({child} | ({parent} if parent else set())),
        )

    def check_identifying(self, found: bool, today: str, note: str | None = None) -> None:
        """Record the check that nothing in the post identifies a child."""
        self._check_open()
        if self.decision or self.published_on:
            raise RuleViolation(
                f"post {self.request_id} is already {self.status}",
                "the check is made before the Headteacher decides",
            )
        if found and not note:
            raise InvalidInput("say what identifies a child", "give --note (stored encrypted)")
        self.trigger_event(self.IdentifyingInfoChecked, result=FOUND if found else NONE_FOUND, checked_on=today,
                           note=optional_text("note", note, 2000))

    def decide(self, outcome: str, reason: str, today: str) -> None:
        """The Headteacher confirms the post may go live, or rejects it."""
        if self.removed_on or self.published_on:
            raise RuleViolation(f"post {self.request_id} is already {self.status}")
        self._decide(self.Decided, outcome, reason, today)
        if outcome == APPROVED:
            self.trigger_event(self.ContentConfirmed, positive=True, relevant=True, confirmed_on=today,
                               statement=POSITIVE_AND_RELEVANT)

    def revoke(self, reason: str, today: str) -> None:
        """Revoke the standing decision (a published post must then be removed)."""
        if self.removed_on:
            raise RuleViolation(f"post {self.request_id} was removed on {self.removed_on}")
        self._revoke(self.DecisionRevoked, reason, today)

    def publish(self, on: str, today: str, link: str | None = None) -> None:
        """A designated poster publishes the approved post."""
        self._check_open()
        if self.published_on:
            raise RuleViolation(f"post {self.request_id} was already published on {self.published_on}")
        missing = self.missing_steps()
        if self.decision != APPROVED or missing:
            steps = missing + ([] if self.decision == APPROVED else ["the Headteacher's approval to go live"])
            raise RuleViolation(
                f"post {self.request_id} cannot be published: missing {'; '.join(steps)}",
                "`ledger approvals list` shows what blocks each post",
            )
        if on > today or (self.decided_on and on < self.decided_on):
            raise InvalidInput(f"the publication date must be between the approval ({self.decided_on}) and today")
        self.trigger_event(self.Published, published_on=on, account=self.account, link=optional_text("link", link, 2000))

    def remove(self, reason: str, on: str, today: str) -> None:
        """Take a published post down."""
        if not self.published_on or self.removed_on:
            raise RuleViolation(f"post {self.request_id} is {self.status}, not published")
        if on > today or on < self.published_on:
            raise InvalidInput(f"the removal date must be between the publication ({self.published_on}) and today")
        self.trigger_event(self.Removed, removed_on=on, reason=require_text("reason", reason, 2000))
