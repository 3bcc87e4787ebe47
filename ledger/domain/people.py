"""People: staff who act and sign, and pseudonymous subjects they write about.

Names, dates of birth and contact details only ever travel in encrypted
bodies (``details``); headers carry the pseudonymous id, roles and keys.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger import text
from ledger.domain.base import parse_date, record_id
from ledger.errors import InvalidInput, RuleViolation
from ledger.roles import ROLES

SUBJECT_KINDS = ("pupil", "parent", "carer", "candidate", "other")

#: Who the policy covers ("Who is covered by this Policy?"): every kind of worker, and third
#: parties with access to the federation's systems. Kept in clear: it is how the register counts.
WORKER_TYPES = (
    "director", "employee", "consultant", "contractor", "trainee", "homeworker", "part-time", "fixed-term",
    "casual", "agency", "volunteer", "third-party",
)
#: How one subject is related to a child: who may be a parent or carer, who a sibling.
RELATIONS = {"parent": ("parent", "carer"), "carer": ("parent", "carer"), "sibling": ("pupil", "other")}
#: What a person's details may hold, and how long each may be.
DETAIL_LIMITS = {"name": 200, "email": 254, "school": 200, "job_title": 200, "notes": 10_000, "date_of_birth": 10,
                 "year_group": 40}


def check_details(details: dict[str, Any]) -> dict[str, Any]:
    """Personal details with known fields, each bounded text free of control and
    direction characters; a date of birth is a date from 1900 (the service checks
    it is not in the future against its clock)."""
    unknown = sorted(set(details) - set(DETAIL_LIMITS))
    if unknown:
        raise InvalidInput(f"unknown personal detail {', '.join(unknown)}")
    for field, value in details.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{field} must be text")
        text.check(field.replace("_", " "), value, DETAIL_LIMITS[field])
        if field == "date_of_birth":
            parse_date("date of birth", value)
    return details


def staff_record_id(staff_id: str) -> uuid.UUID:
    """The aggregate id of a member of staff."""
    return record_id("staff", staff_id)


def subject_record_id(subject_id: str) -> uuid.UUID:
    """The aggregate id of a subject."""
    return record_id("subject", subject_id)


def check_roles(roles: list[str]) -> list[str]:
    """Known role names, deduplicated and sorted."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidInput(f"unknown role {', '.join(unknown)}", f"roles are: {', '.join(ROLES)}")
    if not roles:
        raise InvalidInput("a member of staff needs at least one role", "give --role staff")
    return sorted(set(roles))


class StaffMember(Aggregate):
    """A person who works for the Federation and signs what they record."""

    class Registered(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "roles")
        staff_id: str
        roles: list[str]
        details: dict[str, Any]
        record_class: str

    class KeyRegistered(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("owner", "key_id", "public_key", "agreement_key")
        owner: str
        key_id: str
        public_key: str
        agreement_key: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.keys[self.key_id] = "active"

    class KeyResetProposed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("owner", "reset_id", "key_id", "public_key", "agreement_key")
        owner: str
        reset_id: str
        key_id: str
        public_key: str
        agreement_key: str
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.resets[self.reset_id] = self.key_id

        def describe(self) -> str:
            """One line for the timeline."""
            return f"New key {self.key_id} proposed for {self.owner} (reset {self.reset_id}): {self.reason}"

    class KeyResetApproved(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("owner", "reset_id", "key_id")
        owner: str
        reset_id: str
        key_id: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.resets.pop(self.reset_id, None)
            aggregate.keys[self.key_id] = "active"

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Key reset {self.reset_id} approved: {self.owner} now signs with {self.key_id}"

    class KeyRevoked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("owner", "key_id")
        owner: str
        key_id: str
        reason: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.keys[self.key_id] = "revoked"

    class RoleGranted(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "role")
        staff_id: str
        role: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.roles = sorted(set(aggregate.roles) | {self.role})

    class RoleKeysRestored(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "role")
        staff_id: str
        role: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.role} reader keys sealed again to {self.staff_id}'s current key"

    class RoleRemoved(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "role")
        staff_id: str
        role: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.roles = [r for r in aggregate.roles if r != self.role]

    class EmploymentEnded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "ended_on")
        staff_id: str
        ended_on: str

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.ended_on = self.ended_on

    class WorkerTypeRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "worker_type", "line_manager", "signs_in")
        staff_id: str
        worker_type: str
        line_manager: str | None
        signs_in: bool

        def apply(self, aggregate: StaffMember) -> None:
            aggregate.worker_type = self.worker_type
            aggregate.line_manager = self.line_manager
            aggregate.signs_in = self.signs_in

        def describe(self) -> str:
            """One line for the timeline."""
            manager = f", line manager {self.line_manager}" if self.line_manager else ""
            how = "" if self.signs_in else ", does not sign in (acknowledges on paper)"
            return f"{self.staff_id} is covered by the policy as {self.worker_type}{manager}{how}"

    @staticmethod
    def create_id(staff_id: str) -> uuid.UUID:
        return staff_record_id(staff_id)

    @classmethod
    def register(cls, staff_id: str, roles: list[str], details: dict[str, Any]) -> StaffMember:
        """A new member of staff with roles and (encrypted) personal details."""
        return cls._create(
            cls.Registered,
            staff_id=staff_id,
            roles=check_roles(roles),
            details=check_details(details),
            record_class="staff",
        )

    def __init__(self, staff_id: str, roles: list[str], details: dict[str, Any]) -> None:
        self.staff_id = staff_id
        self.roles = roles
        self.details = details
        self.keys: dict[str, str] = {}
        self.resets: dict[str, str] = {}
        self.ended_on: str | None = None
        self.worker_type = "employee"
        self.line_manager: str | None = None
        self.signs_in = True

    def record_worker_type(self, worker_type: str, line_manager: str | None, signs_in: bool) -> None:
        """Say how the policy covers this person, who manages them, and whether they sign in."""
        if worker_type not in WORKER_TYPES:
            raise InvalidInput(f"unknown worker type {worker_type!r}", f"types are: {', '.join(WORKER_TYPES)}")
        if line_manager == self.staff_id:
            raise InvalidInput("nobody is their own line manager")
        if not signs_in and self.keys:
            raise RuleViolation(f"{self.staff_id} has a signing key: they sign in",
                                "only someone without a key acknowledges on paper")
        self.trigger_event(self.WorkerTypeRecorded, staff_id=self.staff_id, worker_type=worker_type,
                           line_manager=line_manager, signs_in=signs_in)

    def register_key(self, key_id: str, public_key: bytes, agreement_key: bytes) -> None:
        """Add a signing key for this person."""
        if key_id in self.keys:
            raise RuleViolation(f"key {key_id} is already registered")
        self.trigger_event(
            self.KeyRegistered,
            owner=self.staff_id,
            key_id=key_id,
            public_key=public_key.hex(),
            agreement_key=agreement_key.hex(),
        )

    def propose_key_reset(self, reset_id: str, key_id: str, public_key: bytes, agreement_key: bytes, reason: str) -> None:
        """Someone else proposes a new key for this person (a second person must approve)."""
        if self.ended_on:
            raise RuleViolation(f"{self.staff_id} has left: their key is not reset")
        self.trigger_event(
            self.KeyResetProposed, owner=self.staff_id, reset_id=reset_id, key_id=key_id,
            public_key=public_key.hex(), agreement_key=agreement_key.hex(), reason=reason,
        )

    def approve_key_reset(self, reset_id: str, key_id: str) -> None:
        """A second person approves a proposed reset: the new key becomes this person's."""
        if self.resets.get(reset_id) != key_id:
            raise RuleViolation(f"no pending key reset {reset_id} for {self.staff_id}")
        self.trigger_event(self.KeyResetApproved, owner=self.staff_id, reset_id=reset_id, key_id=key_id)

    def revoke_key(self, key_id: str, reason: str) -> None:
        """Stop a key from signing anything further."""
        if self.keys.get(key_id) != "active":
            raise RuleViolation(f"{key_id} is not an active key of {self.staff_id}")
        self.trigger_event(self.KeyRevoked, owner=self.staff_id, key_id=key_id, reason=reason)

    def grant_role(self, role: str) -> None:
        """Give this person another role."""
        check_roles([role])
        if role in self.roles:
            raise RuleViolation(f"{self.staff_id} already has the role {role}")
        self.trigger_event(self.RoleGranted, staff_id=self.staff_id, role=role)

    def restore_role_keys(self, role: str) -> None:
        """Note that this person's copies of a role's keys were sealed again to their current key."""
        if role not in self.roles:
            raise RuleViolation(f"{self.staff_id} does not have the role {role}")
        self.trigger_event(self.RoleKeysRestored, staff_id=self.staff_id, role=role)

    def remove_role(self, role: str) -> None:
        """Take a role away."""
        if role not in self.roles:
            raise RuleViolation(f"{self.staff_id} does not have the role {role}")
        self.trigger_event(self.RoleRemoved, staff_id=self.staff_id, role=role)

    def end_employment(self, ended_on: str) -> None:
        """Record the end of employment (drives retention of their records)."""
        if self.ended_on:
            raise RuleViolation(f"{self.staff_id} already left on {self.ended_on}")
        self.trigger_event(self.EmploymentEnded, staff_id=self.staff_id, ended_on=ended_on)


class Subject(Aggregate):
    """A pupil, parent, carer or other person the records are about."""

    class Registered(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("subject_id", "kind")
        subject_id: str
        kind: str
        details: dict[str, Any]
        record_class: str
        subjects: list[str]

    class DetailsCorrected(Aggregate.Event):
        details: dict[str, Any]
        reason: str

        def apply(self, aggregate: Subject) -> None:
            aggregate.details = {**aggregate.details, **self.details}

    class Related(Aggregate.Event):
        """Another subject linked to this child (a parent, a carer, a sibling). Both ids are in the
        clear ``subjects`` so the link shows in both chronologies; the kind of link and the note
        are encrypted."""

        clear_fields: ClassVar[tuple[str, ...]] = ("related",)
        related: str
        relation: str
        note: str | None
        subjects: list[str]

        def apply(self, aggregate: Subject) -> None:
            aggregate.relations = [*getattr(aggregate, "relations", []), {"id": self.related,
                                                                           "relation": self.relation}]

        def describe(self) -> str:
            """One line for the timeline."""
            note = f": {self.note}" if self.note else ""
            return f"{self.related} linked as {self.relation} of {self.subjects[0]}{note}"

    class RelationEnded(Aggregate.Event):
        """A link recorded in error or no longer true (the original stays in the log)."""

        clear_fields: ClassVar[tuple[str, ...]] = ("related",)
        related: str
        reason: str
        subjects: list[str]

        def apply(self, aggregate: Subject) -> None:
            aggregate.relations = [r for r in getattr(aggregate, "relations", []) if r["id"] != self.related]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.related} no longer linked to {self.subjects[0]}: {self.reason}"

    @staticmethod
    def create_id(subject_id: str) -> uuid.UUID:
        return subject_record_id(subject_id)

    @classmethod
    def register(cls, subject_id: str, kind: str, details: dict[str, Any]) -> Subject:
        """A new pseudonymous subject with encrypted personal details."""
        if kind not in SUBJECT_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(SUBJECT_KINDS)}")
        return cls._create(
            cls.Registered,
            subject_id=subject_id,
            kind=kind,
            details=check_details(details),
            record_class="subject",
            subjects=[subject_id],
        )

    def __init__(self, subject_id: str, kind: str, details: dict[str, Any], subjects: list[str]) -> None:
        self.subject_id = subject_id
        self.kind = kind
        self.details = details
        self.relations: list[dict[str, str]] = []

    def correct(self, details: dict[str, Any], reason: str) -> None:
        """Correct personal details; the original stays in the log."""
        self.trigger_event(self.DetailsCorrected, details=check_details(details), reason=reason)

    def relate(self, other: Subject, relation: str, note: str | None) -> None:
        """Link ``other`` to this child as ``relation`` (see RELATIONS for who may be what)."""
        if relation not in RELATIONS:
            raise InvalidInput(f"relation must be one of {', '.join(RELATIONS)}")
        if other.subject_id == self.subject_id:
            raise InvalidInput("a person cannot be linked to themselves")
        if self.kind not in ("pupil", "other"):
            raise RuleViolation(f"{self.subject_id} is a {self.kind}: family is linked to a child",
                                "give the child first, then the parent, carer or sibling")
        if other.kind not in RELATIONS[relation]:
            raise RuleViolation(f"{other.subject_id} is a {other.kind} and cannot be linked as a {relation}",
                                f"a {relation} is a {' or '.join(RELATIONS[relation])}")
        if any(r["id"] == other.subject_id for r in getattr(self, "relations", [])):
            raise RuleViolation(f"{other.subject_id} is already linked to {self.subject_id}",
                                "end the link first to record it differently")
        if note is not None:
            text.check("note", note, 2000)
        self.trigger_event(self.Related, related=other.subject_id, relation=relation, note=note,
                           subjects=[self.subject_id, other.subject_id])

    def end_relation(self, other_id: str, reason: str) -> None:
        """End the link to ``other_id``: recorded in error, or no longer true."""
        if not any(r["id"] == other_id for r in getattr(self, "relations", [])):
            raise RuleViolation(f"{other_id} is not linked to {self.subject_id}", "`ledger people show` lists the links")
        text.check("reason", reason, 2000)
        self.trigger_event(self.RelationEnded, related=other_id, reason=reason, subjects=[self.subject_id, other_id])
