"""Roles, record classes, and the one table of who may write and read what.

``WRITERS`` maps each event type (the event class's qualified name, e.g.
``StaffMember.KeyRegistered``) to the roles allowed to append it. It is
enforced when writing and re-checked by ``verify`` from the signed headers.
``SELF`` means the actor is the person the record is about (e.g. rotating
one's own key).

``READERS`` maps each record class to the roles whose key its data keys are
wrapped to. The offline recovery key can always read; investigators read only
the cases granted to them.

``GRANTS`` says who may give (and take away) each role, and ``EXCLUSIVE``
which roles one person may never hold together. Nobody grants a role to
themselves.

These tables are the code's *proposal*. What decides is the table **in
force**: adopted by a signed ``PermissionTable`` entry (at ``init``, and
later by a two-person proposal and approval), replayed from the log by the
registry, so ``verify`` judges each entry by the table in force when it was
written. :class:`Permissions` answers questions about one table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from ledger import canonical, crypto

ROLES: Final = (
    "staff", "headteacher", "dsl", "slt", "investigator", "auditor", "admin", "poster", "governor",
)

#: Roles that hold an X25519 reader key.
READER_ROLES: Final = ("headteacher", "dsl", "slt", "admin", "poster")

SELF: Final = "self"

#: The offline recovery key, acting as a signer (it approves role recovery).
RECOVERY: Final = "recovery"

#: The role that keeps every other reader role's key in custody.
CUSTODIAN: Final = "headteacher"

#: Version of the tables below; bump it whenever they change.
TABLE_VERSION: Final = 11

#: Record class -> roles that may read it (besides the recovery key).
READERS: Final[dict[str, tuple[str, ...]]] = {
    "identity": ("admin", "headteacher"),
    "staff": ("admin", "headteacher", "slt"),
    "subject": ("headteacher", "dsl", "slt"),
    # a school's directory of pupils' names: also wrapped to each member of staff it admitted
    "directory": ("headteacher", "dsl", "slt"),
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
    # issue 16: the rest of the policy
    "policy_review": ("admin", "headteacher", "slt"),
    "training": ("admin", "headteacher", "slt"),
    "recruitment": ("headteacher", "slt"),
    "monitoring_authorisation": ("admin", "headteacher", "dsl"),
}

_MANAGERS: Final = ("admin", "headteacher")

#: Event type -> roles that may append it.
WRITERS: Final[dict[str, tuple[str, ...]]] = {
    # the ledger's own set-up: permission tables, the recovery key, role keys
    # (the registry adds the rules: bootstrap, two people, grant table)
    "PermissionTable.Proposed": ("admin",),
    "PermissionTable.Adopted": _MANAGERS,
    "RecoveryKey.Published": ("admin",),
    "Settings.Configured": ("admin",),
    "Settings.Changed": _MANAGERS,
    "RecoveryKey.RoleRecoveryApproved": (RECOVERY,),
    "ReaderRole.KeyCreated": _MANAGERS + ("dsl",),
    "ReaderRole.KeyRotated": ("headteacher", "dsl", "slt", "admin", "poster"),
    # people and keys: a key is registered by its owner only (the first one
    # signed by the new key itself); anyone else's new key is a two-person reset
    "StaffMember.Registered": _MANAGERS,
    "StaffMember.KeyRegistered": (SELF,),
    "StaffMember.KeyResetProposed": _MANAGERS,
    "StaffMember.KeyResetApproved": _MANAGERS,
    "StaffMember.KeyRevoked": _MANAGERS + (SELF,),
    "StaffMember.RoleGranted": _MANAGERS + ("dsl",),
    "StaffMember.RoleRemoved": _MANAGERS + ("dsl",),
    "StaffMember.RoleKeysRestored": _MANAGERS + ("dsl",),
    "StaffMember.DetailsCorrected": _MANAGERS,
    "StaffMember.EmploymentEnded": _MANAGERS,
    "Subject.Registered": _MANAGERS + ("dsl", "slt"),
    "Subject.DetailsCorrected": _MANAGERS + ("dsl", "slt"),
    "Subject.Related": ("headteacher", "dsl", "slt"),
    "Subject.RelationEnded": ("headteacher", "dsl", "slt"),
    # a school's directory: opened and kept by whoever registers pupils or staff; who
    # belongs is a clear claim (the registry checks they are current staff)
    "SchoolDirectory.Opened": _MANAGERS + ("dsl", "slt"),
    "SchoolDirectory.StaffAdmitted": _MANAGERS + ("dsl", "slt"),
    "SchoolDirectory.StaffWithdrawn": _MANAGERS + ("dsl", "slt"),
    "SchoolDirectory.KeysShared": ("headteacher", "dsl", "slt"),
    "SchoolDirectory.Restated": ("headteacher", "dsl", "slt"),
    "SchoolDirectory.PupilListed": _MANAGERS + ("dsl", "slt"),
    "SchoolDirectory.PupilUnlisted": _MANAGERS + ("dsl", "slt"),
    # access log: anyone who may read something records that they did
    "AccessRecord.Recorded": ROLES,
    # -- policy versions and acknowledgements --
    # The Board approves; the Headteacher (or the IT manager) records it. Every
    # member of staff acknowledges for themselves (auditors and external
    # investigators are not staff covered by the policy).
    "PolicyVersion.Published": _MANAGERS,
    "PolicyVersion.StaffNotified": _MANAGERS,
    "PolicyAcknowledgement.Recorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    # someone who never logs in acknowledges on a signed paper form: their line
    # manager (any member of staff; the service checks it is theirs) or the office
    "PolicyAcknowledgement.AssistedRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "StaffMember.WorkerTypeRecorded": _MANAGERS + ("slt",),
    # the Head of Operations (SLT) and the Network Manager review the policy;
    # the Headteacher monitors its operation
    "PolicyReview.Recorded": _MANAGERS + ("slt",),
    # the Headteacher sees that those administering the policy or investigating are trained
    "TrainingRecord.Recorded": _MANAGERS + ("slt",),
    # pre-employment internet searches on candidates
    "RecruitmentCheck.Recorded": ("headteacher", "slt"),
    # a targeted review of one person's use of the systems, authorised before it is used
    "MonitoringAuthorisation.Granted": ("headteacher",),
    "MonitoringAuthorisation.Withdrawn": ("headteacher",),
    # -- approvals --
    # Any member of staff proposes or requests and records consents, training
    # and deletions for their own requests; the Headteacher alone decides and
    # revokes; the reader roles of a post check it; designated posters publish.
    "SocialMediaPost.Proposed": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "SocialMediaPost.ParentalPermissionRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
    "SocialMediaPost.IdentifyingInfoChecked": ("headteacher", "slt", "poster"),
    "SocialMediaPost.Decided": ("headteacher",),
    "SocialMediaPost.ContentConfirmed": ("headteacher",),
    "SocialMediaPost.ConditionsSet": ("headteacher",),
    "DeviceApproval.ConditionsSet": ("headteacher",),
    "PermissionRequest.ConditionsSet": ("headteacher",),
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
    "PermissionRequest.DiscussionRecorded": tuple(r for r in ROLES if r not in ("auditor", "investigator")),
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
    "Incident.ActionPlanned": ("headteacher", "dsl", "slt", "investigator"),
    # the owner of a planned action marks it done (the service checks it is theirs)
    "Incident.ActionDone": tuple(r for r in ROLES if r != "auditor"),
    "Incident.ActionCancelled": ("headteacher", "dsl", "slt", "investigator"),
    "Incident.PersonUnlinked": ("headteacher", "dsl", "slt"),
    # anyone reporting may describe evidence they must not take in (UKCIS)
    "Incident.EvidenceDescribed": tuple(r for r in ROLES if r != "auditor"),
    "Incident.EvidenceRemoved": ("headteacher", "dsl"),
    "Incident.OutcomeRecorded": ("headteacher", "dsl", "slt"),
    "Incident.Closed": ("headteacher", "dsl", "slt"),
    "Incident.Reopened": ("headteacher", "dsl", "slt"),
    # a suspect is asked to co-operate (passwords, log-ins, removing a posting)
    "Incident.CooperationRequested": ("headteacher", "dsl", "slt", "investigator"),
    "Incident.CooperationAnswered": ("headteacher", "dsl", "slt", "investigator"),
    # a senior leader decides whether to contact the police about racist, sexist, sexual or hate comments
    "Incident.HateCrimeAssessed": ("headteacher", "dsl", "slt"),
    # -- monitoring --
    # The IT Network Manager imports alerts, in liaison with the Headteacher
    # (policy: "Personnel responsible"); linking needs a key that opens the
    # alert. Decisions and reviews: SLT and DSL own them under the DfE standards.
    "ImportBatch.Imported": ("admin", "headteacher"),
    "Alert.Recorded": ("admin", "headteacher"),
    "Alert.Linked": ("admin", "dsl", "headteacher"),
    "Alert.Unlinked": ("admin", "dsl", "headteacher"),
    "Alert.Dismissed": ("admin", "dsl", "headteacher"),
    "FilterDecision.Recorded": ("admin", "headteacher", "dsl", "slt"),
    "FilteringReview.Recorded": ("admin", "headteacher", "dsl", "slt"),
    # -- retention and erasure --
    # Erasure and sweeps: the Headteacher or the IT manager only, and (registry
    # rules) a record is erased on a ground, or its class's rule set, only by a
    # role that may read that class: the IT manager never destroys or shortens
    # what they may not read. Holds may be placed by anyone running a case; only
    # the Headteacher or admin lift one.
    "Erasure.Recorded": _MANAGERS,
    "RetentionSweep.Completed": _MANAGERS,
    "RetentionRule.Set": _MANAGERS,
    "RetentionRule.Changed": _MANAGERS,
    "LegalHold.Placed": _MANAGERS + ("dsl", "investigator"),
    "LegalHold.Renewed": _MANAGERS + ("dsl", "investigator"),
    "LegalHold.Released": _MANAGERS,
    # -- exports --
    # Evidence bundles for a third party: the Headteacher, the DSL (safeguarding
    # records) and an investigator (the cases assigned to them); the service
    # checks the record. Each export is recorded by the one who made it.
    "EvidenceExport.Exported": ("headteacher", "dsl", "investigator"),
    # -- transfer of a child protection file (KCSIE: the DSL) --
    # The DSL (or the Headteacher) records a pupil leaving, sends the file, records the receipt,
    # and takes in a file another school sent; closure days are set by whoever sets the settings.
    "ChildFileTransfer.PupilLeft": ("headteacher", "dsl"),
    "ChildFileTransfer.ChildIntroduced": ("headteacher", "dsl"),
    "ChildFileTransfer.FileSent": ("headteacher", "dsl"),
    "ChildFileTransfer.ReceiptRecorded": ("headteacher", "dsl"),
    "ChildFileTransfer.NoFileHeld": ("headteacher", "dsl"),
    "ReceivedFile.Received": ("headteacher", "dsl"),
    "ClosureDays.Set": _MANAGERS,
    "ClosureDays.Changed": _MANAGERS,
}


#: Role -> roles that may grant it to someone else (and take it away). The
#: first admin comes from the trust file; the first Headteacher is granted by
#: the admin while nobody has ever held the role; a role whose members are all
#: gone comes back only with the offline recovery key's approval.
GRANTS: Final[dict[str, tuple[str, ...]]] = {
    "staff": _MANAGERS,
    "headteacher": ("headteacher",),
    "admin": ("headteacher",),
    "dsl": ("headteacher", "dsl"),
    "slt": ("headteacher",),
    "investigator": ("headteacher", "dsl"),
    "auditor": _MANAGERS,
    "poster": ("headteacher",),
    # the Board of Directors: overall responsibility, so counts and the verify result, nothing personal
    "governor": ("headteacher",),
}

#: Roles one person may never hold together: the IT manager never becomes a
#: reader of safeguarding or allegation records.
EXCLUSIVE: Final[dict[str, tuple[str, ...]]] = {
    "admin": ("headteacher", "dsl", "investigator"),
}


def current_table() -> dict[str, Any]:
    """The code's tables as one document (what ``init`` adopts)."""
    return {
        "version": TABLE_VERSION,
        "writers": {k: sorted(v) for k, v in sorted(WRITERS.items())},
        "readers": {k: list(v) for k, v in sorted(READERS.items())},
        "grants": {k: sorted(v) for k, v in sorted(GRANTS.items())},
        "exclusive": {k: sorted(v) for k, v in sorted(EXCLUSIVE.items())},
    }


def table_digest(table: dict[str, Any]) -> str:
    """The hash that names a permission table (hex SHA-256, domain-separated)."""
    return crypto.tagged_hash("permission-table/v1", canonical.dumps(table)).hex()


@dataclass(frozen=True)
class Permissions:
    """Questions answered by one permission table (the one in force, or the code's)."""

    table: dict[str, Any] = field(default_factory=current_table)

    @cached_property
    def digest(self) -> str:
        """This table's name."""
        return table_digest(self.table)

    @property
    def version(self) -> int:
        """The table's version number."""
        return int(self.table["version"])

    def writers_of(self, event: str) -> tuple[str, ...]:
        """Roles (and ``self``) that may append ``event``."""
        return tuple(self.table["writers"].get(event, ()))

    def may_write(self, roles: frozenset[str] | set[str], event: str, is_self: bool = False) -> bool:
        """Whether someone holding ``roles`` may append an event of type ``event``."""
        allowed = self.writers_of(event)
        return bool(set(roles) & set(allowed)) or (is_self and SELF in allowed)

    def readers_of(self, record_class: str) -> tuple[str, ...]:
        """Roles whose keys a record of ``record_class`` is wrapped to."""
        return tuple(self.table["readers"].get(record_class, ()))

    def knows_class(self, record_class: str) -> bool:
        """Whether ``record_class`` is a record class of this table."""
        return record_class in self.table["readers"]

    def reader_roles(self) -> tuple[str, ...]:
        """Roles that hold a reader key (they read some record class)."""
        return tuple(sorted({r for readers in self.table["readers"].values() for r in readers}))

    def granters_of(self, role: str) -> tuple[str, ...]:
        """Roles that may grant ``role``."""
        return tuple(self.table["grants"].get(role, ()))

    def conflicts(self, held: set[str] | frozenset[str], role: str) -> list[str]:
        """Roles in ``held`` that may not be held together with ``role``."""
        exclusive = self.table["exclusive"]
        bad = set(exclusive.get(role, ())) | {r for r, others in exclusive.items() if role in others}
        return sorted(bad & set(held))


def event_name(topic: str) -> str:
    """The table key of an event topic: ``module:Aggregate.Event`` -> ``Aggregate.Event``."""
    return topic.rsplit(":", 1)[-1]
