"""Roles, record classes, and the one table of who may write and read what.

``WRITERS`` maps each event type (the event class's qualified name, e.g.
``StaffMember.KeyRegistered``) to the roles allowed to append it. It is
enforced when writing and re-checked by ``verify`` from the signed headers.
``SELF`` means the actor is the person the record is about (e.g. rotating
one's own key).

``READERS`` maps each record class to the roles whose key its data keys are
wrapped to. The offline recovery key can always read; investigators read only
the cases granted to them.
"""

from __future__ import annotations

from typing import Final

ROLES: Final = (
    "staff", "headteacher", "dsl", "slt", "investigator", "auditor", "admin", "poster",
)

#: Roles that hold an X25519 reader key.
READER_ROLES: Final = ("headteacher", "dsl", "slt", "admin", "poster")

SELF: Final = "self"

#: Record class -> roles that may read it (besides the recovery key).
READERS: Final[dict[str, tuple[str, ...]]] = {
    "identity": ("admin", "headteacher"),
    "staff": ("admin", "headteacher", "slt"),
    "subject": ("headteacher", "dsl", "slt"),
    "policy": ("admin", "headteacher", "slt", "dsl"),
    "acknowledgement": ("admin", "headteacher", "slt"),
    "approval": ("headteacher", "slt", "poster"),
    "device_approval": ("headteacher", "slt"),
    "permission": ("headteacher", "slt"),
    "incident": ("headteacher", "slt"),
    "safeguarding": ("headteacher", "dsl"),
    "allegation": ("headteacher",),
    "monitoring": ("admin", "dsl", "headteacher"),
    "monitoring_check": ("admin", "headteacher"),
    "access_log": ("admin", "headteacher", "dsl"),
    "retention": ("admin", "headteacher"),
    "erasure": ("admin", "headteacher"),
    "export": ("headteacher", "dsl"),
}

_MANAGERS: Final = ("admin", "headteacher")

#: Event type -> roles that may append it.
WRITERS: Final[dict[str, tuple[str, ...]]] = {
    # people and keys
    "StaffMember.Registered": ("admin",),
    "StaffMember.KeyRegistered": ("admin", SELF),
    "StaffMember.KeyRevoked": _MANAGERS + (SELF,),
    "StaffMember.RoleGranted": _MANAGERS + ("dsl", "slt"),
    "StaffMember.RoleRemoved": _MANAGERS,
    "StaffMember.DetailsCorrected": _MANAGERS,
    "StaffMember.EmploymentEnded": _MANAGERS,
    "Subject.Registered": _MANAGERS + ("dsl", "slt"),
    "Subject.DetailsCorrected": _MANAGERS + ("dsl", "slt"),
    # access log: anyone who may read something records that they did
    "AccessRecord.Recorded": ROLES,
    # -- policy versions and acknowledgements --
    # The Board approves; the Headteacher (or the IT manager) records it. Every
    # member of staff acknowledges for themselves (auditors and external
    # investigators are not staff covered by the policy).
    "PolicyVersion.Published": _MANAGERS,
    "PolicyVersion.StaffNotified": _MANAGERS,
    "PolicyAcknowledgement.Recorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    # -- approvals --
    # Any member of staff proposes or requests and records consents, training
    # and deletions for their own requests; the Headteacher alone decides and
    # revokes; the reader roles of a post check it; designated posters publish.
    "SocialMediaPost.Proposed": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "SocialMediaPost.ParentalPermissionRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "SocialMediaPost.IdentifyingInfoChecked": ("headteacher", "slt", "poster"),
    "SocialMediaPost.Decided": ("headteacher",),
    "SocialMediaPost.DecisionRevoked": ("headteacher",),
    "SocialMediaPost.Published": ("poster",),
    "SocialMediaPost.Removed": ("poster", "headteacher"),
    "DeviceApproval.Requested": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "DeviceApproval.Decided": ("headteacher",),
    "DeviceApproval.DecisionRevoked": ("headteacher",),
    "DeviceApproval.DeletionConfirmed": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "PermissionRequest.Requested": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "PermissionRequest.ConsentRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "PermissionRequest.TrainingRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "PermissionRequest.Decided": ("headteacher",),
    "PermissionRequest.DecisionRevoked": ("headteacher",),
    # -- incidents --
    # Any member of staff reports (and hands in evidence with the report);
    # every later step also needs a key that opens the incident's record.
    "Incident.Reported": tuple(r for r in ROLES if r != "auditor"),
    "Incident.EvidenceAdded": tuple(r for r in ROLES if r != "auditor"),
    "Incident.Triaged": ("headteacher", "dsl", "slt"),
    "Incident.PersonLinked": ("headteacher", "dsl", "slt", "investigator"),
    "Incident.InvestigatorAssigned": ("headteacher", "dsl"),
    "Incident.InvestigatorUnassigned": ("headteacher", "dsl"),
    "Incident.NoteAdded": ("headteacher", "dsl", "slt", "investigator"),
    "Incident.ActionRecorded": ("headteacher", "dsl", "slt", "investigator"),
    "Incident.OutcomeRecorded": ("headteacher", "dsl", "slt"),
    "Incident.Closed": ("headteacher", "dsl", "slt"),
    "Incident.Reopened": ("headteacher", "dsl", "slt"),
    # -- monitoring --
    # The IT Network Manager imports alerts, in liaison with the Headteacher
    # (policy: "Personnel responsible"); linking needs a key that opens the
    # alert. Decisions and reviews: SLT and DSL own them under the DfE standards.
    "ImportBatch.Imported": ("admin", "headteacher"),
    "Alert.Recorded": ("admin", "headteacher"),
    "Alert.Linked": ("admin", "dsl", "headteacher"),
    "Alert.Unlinked": ("admin", "dsl", "headteacher"),
    "FilterDecision.Recorded": ("admin", "headteacher", "dsl", "slt"),
    "FilteringReview.Recorded": ("admin", "headteacher", "dsl", "slt"),
    # -- retention and erasure --
    # Erasure and sweeps: the Headteacher or the IT manager only. Holds may be
    # placed by anyone running a case; only the Headteacher or admin lift one.
    "Erasure.Recorded": _MANAGERS,
    "RetentionSweep.Completed": _MANAGERS,
    "RetentionRule.Set": ("admin",),
    "RetentionRule.Changed": ("admin",),
    "LegalHold.Placed": _MANAGERS + ("dsl", "investigator"),
    "LegalHold.Renewed": _MANAGERS + ("dsl", "investigator"),
    "LegalHold.Released": _MANAGERS,
    # -- exports --
    # Evidence bundles for a third party: the Headteacher, the DSL (safeguarding
    # records) and an investigator (the cases assigned to them); the service
    # checks the record. Each export is recorded by the one who made it.
    "EvidenceExport.Exported": ("headteacher", "dsl", "investigator"),
}


def event_name(topic: str) -> str:
    """The table key of an event topic: ``module:Aggregate.Event`` -> ``Aggregate.Event``."""
    return topic.rsplit(":", 1)[-1]


def may_write(roles: frozenset[str] | set[str], event: str, is_self: bool = False) -> bool:
    """Whether someone holding ``roles`` may append an event of type ``event``."""
    allowed = WRITERS.get(event, ())
    return bool(set(roles) & set(allowed)) or (is_self and SELF in allowed)


def writers_of(event: str) -> tuple[str, ...]:
    """Roles that may append ``event`` (for error messages)."""
    return tuple(r for r in WRITERS.get(event, ()) if r != SELF)


def readers_of(record_class: str) -> tuple[str, ...]:
    """Roles allowed to read records of ``record_class``."""
    return READERS[record_class]
