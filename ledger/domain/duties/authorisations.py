"""Authorising a targeted review of one person's use of the federation's systems.

"The Federation reserves the right to monitor, intercept and review, without
further notice, staff members activities using our IT resources and
communications systems." Routine filtering needs nothing more; a review aimed
at one named member of staff is authorised first: who authorised it, why,
which systems (scope) and for what period. Until it is, no alert about them
is linked to a case.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput, RuleViolation

#: What a targeted review may cover.
SCOPES = ("email", "web-filtering", "network-logs", "devices", "accounts", "social-media")


def authorisation_record_id(auth_id: str) -> uuid.UUID:
    """The aggregate id of one monitoring authorisation."""
    return record_id("monitoring-authorisation", auth_id)


class MonitoringAuthorisation(Aggregate):
    """The Headteacher's authorisation to review one person's use of the systems."""

    class Granted(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("auth_id", "person", "authorised_by", "scope", "starts_on",
                                                   "ends_on")
        auth_id: str
        person: str
        authorised_by: str
        scope: list[str]
        starts_on: str
        ends_on: str
        reason: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return (f"{self.authorised_by} authorised a targeted review of {self.person}'s {', '.join(self.scope)} "
                    f"from {self.starts_on} to {self.ends_on}: {self.reason}")

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return self.reason

    class Withdrawn(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("withdrawn_on",)
        withdrawn_on: str
        reason: str

        def apply(self, aggregate: MonitoringAuthorisation) -> None:
            aggregate.withdrawn_on = self.withdrawn_on

        def describe(self) -> str:
            """One line for the timeline."""
            return f"authorisation withdrawn on {self.withdrawn_on}: {self.reason}"

    @staticmethod
    def create_id(auth_id: str) -> uuid.UUID:
        return authorisation_record_id(auth_id)

    @classmethod
    def grant(cls, auth_id: str, person: str, authorised_by: str, scope: list[str], starts_on: str, ends_on: str,
              reason: str) -> MonitoringAuthorisation:
        """Authorise reviewing ``person``'s ``scope`` from ``starts_on`` to ``ends_on`` (both included)."""
        if authorised_by == person:
            raise InvalidInput("nobody authorises a review of their own use of the systems")
        unknown = sorted(set(scope) - set(SCOPES))
        if unknown or not scope:
            raise InvalidInput(f"unknown scope {', '.join(unknown) or '(none given)'}",
                               f"give --scope one or more of: {', '.join(SCOPES)}")
        if ends_on < starts_on:
            raise InvalidInput(f"the period ends ({ends_on}) before it starts ({starts_on})")
        return cls._create(
            cls.Granted, auth_id=auth_id, person=person, authorised_by=authorised_by, scope=sorted(set(scope)),
            starts_on=starts_on, ends_on=ends_on, reason=require_text("reason", reason, 2000),
            record_class="monitoring_authorisation", subjects=[person],
        )

    def __init__(self, auth_id: str, person: str, authorised_by: str, scope: list[str], starts_on: str, ends_on: str,
                 reason: str | None, subjects: list[str]) -> None:
        self.auth_id = auth_id
        self.person = person
        self.authorised_by = authorised_by
        self.scope = scope
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.reason = reason
        self.withdrawn_on: str | None = None

    def covers(self, person: str, day: str) -> bool:
        """Whether this authorisation covers ``person`` on ``day`` (and was not withdrawn by then)."""
        if person != self.person or not self.starts_on <= day <= self.ends_on:
            return False
        return self.withdrawn_on is None or day < self.withdrawn_on

    def withdraw(self, reason: str, today: str) -> None:
        """End the authorisation early."""
        if self.withdrawn_on is not None:
            raise RuleViolation(f"{self.auth_id} was already withdrawn on {self.withdrawn_on}")
        self.trigger_event(self.Withdrawn, withdrawn_on=today, reason=require_text("reason", reason, 2000))
