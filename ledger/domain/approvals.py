"""What the Headteacher approves: posts, photo devices and permissions.

Every request ends in decisions by the Headteacher: approve or reject, always
with a reason. A decision is never changed: a later event revokes it, after
which a new decision may be made. Every rule here depends only on clear
header facts (ids, statuses, dates, which children are covered), so staff who
may not read a request (e.g. the teacher who proposed a post) can still take
their own steps on it; post text, reasons, notes and device descriptions are
encrypted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import optional_text, record_id, require_text
from ledger.errors import InvalidInput, RuleViolation

APPROVED, REJECTED = "approved", "rejected"
GRANTED, WITHDRAWN = "granted", "withdrawn"
NONE_FOUND, FOUND = "none-found", "found"


def check_account(account: str) -> str:
    """A Federation account label such as ``facebook`` or ``oak-instagram`` (kept in clear)."""
    if not account or len(account) > 40 or not all(c.isalnum() or c in "-_." for c in account):
        raise InvalidInput(
            f"account {account!r} is not a usable label", "name the Federation account, e.g. facebook or oak-instagram"
        )
    return account.lower()


def request_record_id(request_id: str) -> uuid.UUID:
    """The aggregate id of an approval request (post, device or permission)."""
    return record_id("approval", request_id)


class Decision(Aggregate.Event):
    """The Headteacher approves or rejects, with a reason (shape shared by every request)."""

    clear_fields: ClassVar[tuple[str, ...]] = ("outcome", "decision_no", "decided_on", "valid_until", "waived")
    outcome: str
    decision_no: int
    decided_on: str
    valid_until: str | None
    waived: list[str]
    reason: str

    def apply(self, aggregate: Request) -> None:
        aggregate.decision = self.outcome
        aggregate.decision_no = self.decision_no
        aggregate.decided_on = self.decided_on
        aggregate.valid_until = self.valid_until
        aggregate.waived = list(self.waived)
        aggregate.ever_approved = aggregate.ever_approved or self.outcome == APPROVED

    def describe(self) -> str:
        """One line for the timeline."""
        until = f" until {self.valid_until}" if self.valid_until else ""
        waived = f" (waived: {', '.join(self.waived)})" if self.waived else ""
        return f"Headteacher {self.outcome}{until}{waived} on {self.decided_on}: {self.reason}"


class Revocation(Aggregate.Event):
    """A later event that revokes a standing decision (shape shared by every request)."""

    clear_fields: ClassVar[tuple[str, ...]] = ("decision_no", "revoked_outcome", "revoked_on")
    decision_no: int
    revoked_outcome: str
    revoked_on: str
    reason: str

    def apply(self, aggregate: Request) -> None:
        aggregate.decision = None
        aggregate.valid_until = None
        aggregate.waived = []
        aggregate.revoked_on = self.revoked_on

    def describe(self) -> str:
        """One line for the timeline."""
        return f"decision {self.decision_no} ({self.revoked_outcome}) revoked on {self.revoked_on}: {self.reason}"


class Request(Aggregate):
    """What every request shares: a requester, decisions and revocations."""

    def __init__(self, request_id: str, requested_by: str) -> None:
        self.request_id = request_id
        self.requested_by = requested_by
        self.decision: str | None = None
        self.decision_no = 0
        self.decided_on: str | None = None
        self.valid_until: str | None = None
        self.waived: list[str] = []
        self.ever_approved = False
        self.revoked_on: str | None = None

    def missing_steps(self, waived: Sequence[str] = ()) -> list[str]:
        """What must happen before this request can be approved (none by default)."""
        return []

    @property
    def status(self) -> str:
        """awaiting-decision, approved, rejected or revoked (awaiting a new decision)."""
        if self.decision:
            return self.decision
        return "revoked" if self.revoked_on else "awaiting-decision"

    def _decide(
        self, event: type[Aggregate.Event], outcome: str, reason: str, today: str,
        valid_until: str | None = None, waived: list[str] | None = None,
    ) -> None:
        if outcome not in (APPROVED, REJECTED):
            raise InvalidInput(f"a decision is {APPROVED} or {REJECTED}, not {outcome!r}")
        if self.decision:
            raise RuleViolation(
                f"{self.request_id} was already {self.decision} on {self.decided_on}",
                f"a decision is never changed: revoke it first (`… revoke {self.request_id} --reason …`)",
            )
        if outcome == APPROVED:
            missing = self.missing_steps(waived or ())
            if missing:
                raise RuleViolation(
                    f"{self.request_id} cannot be approved yet: missing {'; '.join(missing)}",
                    "record the missing steps first; `ledger approvals list` shows what blocks each request",
                )
        if valid_until is not None and valid_until < today:
            raise InvalidInput(f"an approval cannot end ({valid_until}) before it is given ({today})")
        self.trigger_event(
            event,
            outcome=outcome,
            decision_no=self.decision_no + 1,
            decided_on=today,
            valid_until=valid_until if outcome == APPROVED else None,
            waived=sorted(waived or []) if outcome == APPROVED else [],
            reason=require_text("reason", reason, 2000),
        )

    def _revoke(self, event: type[Aggregate.Event], reason: str, today: str) -> None:
        if not self.decision:
            raise RuleViolation(f"{self.request_id} has no standing decision to revoke")
        self.trigger_event(
            event,
            decision_no=self.decision_no,
            revoked_outcome=self.decision,
            revoked_on=today,
            reason=require_text("reason", reason, 2000),
        )

    def row(self, today: str) -> dict[str, Any]:
        """Clear facts for a register (no text, names or reasons)."""
        return {
            "id": self.request_id,
            "requested_by": self.requested_by,
            "status": self.status,
            "decided_on": self.decided_on,
            "valid_until": self.valid_until,
            "blocked_by": self.next_step(today),
        }

    def next_step(self, today: str) -> str:
        """What this request is waiting for, or '' when nothing."""
        if self.decision:
            return ""
        missing = self.missing_steps(self.waived)
        return "; ".join(missing) if missing else "Headteacher's decision"


class SocialMediaPost(Request):
    """A post on the Federation's own accounts, from proposal to removal."""

    class Proposed(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "requested_by", "account", "image_hashes")
        request_id: str
        requested_by: str
        account: str
        image_hashes: list[str]
        text: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"{self.requested_by} proposed post {self.request_id} on {self.account} "
                f"({len(self.image_hashes)} image(s), children {', '.join(self.subjects) or 'none'}): {self.text}"
            )

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
        cls, request_id: str, requested_by: str, account: str, text: str, children: list[str], image_hashes: list[str]
    ) -> SocialMediaPost:
        """A proposed post; ``children`` are the pupils involved as subjects."""
        return cls._create(
            cls.Proposed,
            request_id=request_id,
            requested_by=requested_by,
            account=check_account(account),
            image_hashes=sorted(set(image_hashes)),
            text=require_text("post text", text, 5000),
            record_class="approval",
            subjects=sorted(set(children)),
        )

    def __init__(
        self, request_id: str, requested_by: str, account: str, image_hashes: list[str], text: str | None,
        subjects: list[str],
    ) -> None:
        super().__init__(request_id, requested_by)
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


class DeviceApproval(Request):
    """Approval to take photos on a device the Federation does not own."""

    class Requested(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "requested_by", "needed_from", "needed_until")
        request_id: str
        requested_by: str
        needed_from: str
        needed_until: str
        device: str
        purpose: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"{self.requested_by} asked to take photos on {self.device} from {self.needed_from} "
                f"to {self.needed_until}: {self.purpose}"
            )

    class Decided(Decision):
        pass

    class DecisionRevoked(Revocation):
        pass

    class DeletionConfirmed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("uploaded_on", "deleted_on", "photo_count", "deleted_late")
        uploaded_on: str
        deleted_on: str
        photo_count: int
        deleted_late: bool
        note: str | None

        def apply(self, aggregate: DeviceApproval) -> None:
            aggregate.deletions.append(self.deleted_on)

        def describe(self) -> str:
            """One line for the timeline."""
            late = " (not immediately after upload)" if self.deleted_late else ""
            return (
                f"{self.photo_count} photo(s) uploaded on {self.uploaded_on} and deleted from the device on "
                f"{self.deleted_on}{late}" + (f": {self.note}" if self.note else "")
            )

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        return request_record_id(request_id)

    @classmethod
    def request(
        cls, request_id: str, requested_by: str, device: str, purpose: str, needed_from: str, needed_until: str,
        today: str,
    ) -> DeviceApproval:
        """Ask in advance to use a non-Federation device for photos."""
        if needed_until < needed_from:
            raise InvalidInput("the period ends before it starts")
        if needed_until < today:
            raise RuleViolation(
                f"the period ended on {needed_until}: devices are approved in advance",
                "if photos were taken on an unapproved device, report it as an incident",
            )
        return cls._create(
            cls.Requested,
            request_id=request_id,
            requested_by=requested_by,
            needed_from=needed_from,
            needed_until=needed_until,
            device=require_text("device", device, 200),
            purpose=require_text("purpose", purpose, 2000),
            record_class="device_approval",
        )

    def __init__(
        self, request_id: str, requested_by: str, needed_from: str, needed_until: str, device: str | None,
        purpose: str | None,
    ) -> None:
        super().__init__(request_id, requested_by)
        self.needed_from = needed_from
        self.needed_until = needed_until
        self.device = device
        self.purpose = purpose
        self.deletions: list[str] = []

    def status_on(self, today: str) -> str:
        """The status on ``today`` (approved turns expired after valid_until)."""
        if self.decision == APPROVED and self.valid_until and self.valid_until < today:
            return "expired"
        return self.status

    def next_step(self, today: str) -> str:
        if self.ever_approved and not self.deletions and self.needed_from <= today:
            return "confirmation that photos were deleted from the device after upload (or none taken)"
        return super().next_step(today)

    def row(self, today: str) -> dict[str, Any]:
        return {
            **super().row(today),
            "kind": "device",
            "status": self.status_on(today),
            "subjects": [],
            "needed_from": self.needed_from,
            "needed_until": self.needed_until,
            "deletions_confirmed": len(self.deletions),
            "photos_deleted_on": max(self.deletions, default=None),
        }

    def decide(self, outcome: str, reason: str, today: str, valid_until: str | None = None) -> None:
        """Approve (until the requested end date, or ``valid_until``) or reject."""
        until = valid_until or (self.needed_until if outcome == APPROVED else None)
        self._decide(self.Decided, outcome, reason, today, until)

    def revoke(self, reason: str, today: str) -> None:
        """Withdraw the approval (or rejection)."""
        self._revoke(self.DecisionRevoked, reason, today)

    def confirm_deleted(
        self, uploaded_on: str, deleted_on: str, photo_count: int, today: str, note: str | None = None
    ) -> None:
        """Confirm photos were deleted from the device once uploaded."""
        if not self.ever_approved:
            raise RuleViolation(
                f"device request {self.request_id} was never approved",
                "photos on an unapproved device are a breach: report it as an incident",
            )
        if photo_count < 0:
            raise InvalidInput("the photo count cannot be negative")
        if deleted_on < uploaded_on:
            raise InvalidInput("photos cannot be deleted before they were uploaded")
        if deleted_on > today:
            raise InvalidInput(f"the deletion date {deleted_on} is in the future")
        self.trigger_event(
            self.DeletionConfirmed,
            uploaded_on=uploaded_on,
            deleted_on=deleted_on,
            photo_count=photo_count,
            deleted_late=deleted_on > uploaded_on,
            note=optional_text("note", note, 2000),
        )


#: Permission kinds the policy names, with what each allows.
PERMISSION_KINDS: dict[str, str] = {
    "linkedin": "mention employment with the Federation on LinkedIn",
    "brand": "use the Federation's logos, brand names, slogans or trademarks",
    "media": "respond to a media enquiry about the Federation",
    "speak": "speak on behalf of the Federation on social media",
    "post-about": "post about a colleague, pupil or parent",
}


class PermissionRequest(Request):
    """Advance written permission the policy requires for a named activity."""

    class Requested(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "kind", "requested_by")
        request_id: str
        kind: str
        requested_by: str
        details: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            about = f" about {', '.join(self.subjects)}" if self.subjects else ""
            return f"{self.requested_by} asked permission to {PERMISSION_KINDS[self.kind]}{about}: {self.details}"

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

    class Decided(Decision):
        pass

    class DecisionRevoked(Revocation):
        pass

    @staticmethod
    def create_id(request_id: str) -> uuid.UUID:
        return request_record_id(request_id)

    @classmethod
    def request(cls, request_id: str, requested_by: str, kind: str, details: str, about: list[str]) -> PermissionRequest:
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
            details=require_text("details", details, 2000),
            record_class="permission",
            subjects=sorted(set(about)),
        )

    def __init__(self, request_id: str, kind: str, requested_by: str, details: str | None, subjects: list[str]) -> None:
        super().__init__(request_id, requested_by)
        self.kind = kind
        self.details = details
        self.about = subjects
        self.consents: set[str] = set()
        self.trained_on: str | None = None

    def missing_steps(self, waived: Sequence[str] = ()) -> list[str]:
        """post-about needs everyone's written permission; speak needs training unless waived."""
        missing = [f"written permission of {p}" for p in self.about if p not in self.consents]
        if self.kind == "speak" and self.trained_on is None and "training" not in waived:
            missing.append("training (or the Headteacher waives it)")
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
