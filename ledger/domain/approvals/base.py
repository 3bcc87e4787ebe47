"""What every approval request shares: decisions, revocations, the request lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput, RuleViolation

APPROVED, REJECTED = "approved", "rejected"
GRANTED, WITHDRAWN = "granted", "withdrawn"
NONE_FOUND, FOUND = "none-found", "found"

#: The Headteacher's "requirements and restrictions" an approval may carry (Educational or Extra
#: Curricular Use of Social Media), as codes a register can count; details are encrypted.
CONDITIONS: dict[str, str] = {
    "training-first": "complete the Headteacher's training before using social media for the Federation",
    "no-pupil-faces": "no pupil's face may be identifiable",
    "first-names-only": "first names only, never surnames",
    "delete-after-upload": "delete the photos from the device as soon as they are uploaded",
    "cite-sources": "reference and cite the sources of what is posted",
    "own-views-disclaimer": "state that the views are your own, not the Federation's",
    "personal-email-only": "use a personal, not a school, email address",
    "review-before-posting": "show the Headteacher each post before it is made",
    "named-accounts-only": "only on the Federation accounts named in the request",
}


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


class Conditions(Aggregate.Event):
    """The requirements and restrictions an approval carries (shape shared by every request)."""

    clear_fields: ClassVar[tuple[str, ...]] = ("decision_no", "conditions")
    decision_no: int
    conditions: list[str]
    details: str | None

    def apply(self, aggregate: Request) -> None:
        aggregate.conditions = list(self.conditions)

    def describe(self) -> str:
        """One line for the timeline."""
        said = "; ".join(CONDITIONS.get(c, c) for c in self.conditions)
        return f"approval {self.decision_no} carries conditions: {said}" + (f" ({self.details})" if self.details else "")


class Request(Aggregate):
    """What every request shares: a requester, decisions and revocations."""

    def __init__(self, request_id: str, requested_by: str, school: str | None = None) -> None:
        self.request_id = request_id
        self.requested_by = requested_by
        self.school = school
        self.decision: str | None = None
        self.decision_no = 0
        self.decided_on: str | None = None
        self.valid_until: str | None = None
        self.waived: list[str] = []
        self.ever_approved = False
        self.revoked_on: str | None = None
        self.conditions: list[str] = []

    def _set_conditions(self, event: type[Aggregate.Event], conditions: Sequence[str], details: str | None) -> None:
        """Attach conditions to the standing approval (just given)."""
        unknown = sorted(set(conditions) - set(CONDITIONS))
        if unknown:
            raise InvalidInput(f"unknown condition {', '.join(unknown)}", f"conditions are: {', '.join(CONDITIONS)}")
        if self.decision != APPROVED:
            raise InvalidInput("conditions go with an approval", "approve the request to set its conditions")
        self.trigger_event(event, decision_no=self.decision_no, conditions=sorted(set(conditions)),
                           details=details.strip() if details and details.strip() else None)

    def set_conditions(self, conditions: Sequence[str], details: str | None = None) -> None:
        """The Headteacher's requirements and restrictions on the approval just given."""
        self._set_conditions(getattr(type(self), "ConditionsSet"), conditions, details)

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
            "school": self.school,
            "status": self.status,
            "decided_on": self.decided_on,
            "valid_until": self.valid_until,
            "blocked_by": self.next_step(today),
            "conditions": ",".join(self.conditions) if self.decision == APPROVED else "",
        }

    def next_step(self, today: str) -> str:
        """What this request is waiting for, or '' when nothing."""
        if self.decision:
            return ""
        missing = self.missing_steps(self.waived)
        return "; ".join(missing) if missing else "Headteacher's decision"
