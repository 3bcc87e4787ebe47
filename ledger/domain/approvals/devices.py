"""A personal device used for photos in school: requested in advance, decided, photos deleted after upload."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import optional_text, require_text
from ledger.errors import InvalidInput, RuleViolation
from ledger.domain.approvals.base import (
    APPROVED, Conditions, Decision, Request, Revocation, request_record_id,
)


class DeviceApproval(Request):
    """Approval to take photos on a device the Federation does not own."""

    class Requested(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "requested_by", "needed_from", "needed_until", "school")
        request_id: str
        requested_by: str
        needed_from: str
        needed_until: str
        school: str | None
        device: str
        purpose: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"{self.requested_by} asked to take photos on {self.device} from {self.needed_from} "
                f"to {self.needed_until}: {self.purpose}"
            )

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return f"{self.device}: {self.purpose}"

    class Decided(Decision):
        pass

    class DecisionRevoked(Revocation):
        pass

    class ConditionsSet(Conditions):
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
            aggregate.deleted_late = aggregate.deleted_late or self.deleted_late

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
        today: str, school: str | None = None,
    ) -> DeviceApproval:
        """Ask in advance to use a non-Federation device for photos."""
        if needed_until < needed_from:
            raise InvalidInput("the period ends before it starts")
        if needed_from < today:
            raise RuleViolation(
                f"the period began on {needed_from}: devices are approved in advance",
                "ask for a period from today on; if photos were already taken on an unapproved device, "
                "report it as an incident",
            )
        return cls._create(
            cls.Requested,
            request_id=request_id,
            requested_by=requested_by,
            needed_from=needed_from,
            needed_until=needed_until,
            school=school,
            device=require_text("device", device, 200),
            purpose=require_text("purpose", purpose, 2000),
            record_class="device_approval",
        )

    def __init__(
        self, request_id: str, requested_by: str, needed_from: str, needed_until: str, device: str | None,
        purpose: str | None, school: str | None = None,
    ) -> None:
        super().__init__(request_id, requested_by, school)
        self.needed_from = needed_from
        self.needed_until = needed_until
        self.device = device
        self.purpose = purpose
        self.deletions: list[str] = []
        self.deleted_late = False

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
            "deleted_late": self.deleted_late,
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
