"""The ledger's own set-up as signed records: permission tables, the recovery key, role keys.

These decide who may read and write, so they are entries like any other:
signed, sealed, replayed by the registry and by ``verify``. Their facts are
clear claims (public keys, a table); their bodies hold only a reason.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.roles import table_digest


def permission_table_id(version: int) -> uuid.UUID:
    """The record of one version of the permission table."""
    return record_id("permission-table", str(version))


def recovery_key_id() -> uuid.UUID:
    """The record of the offline recovery key."""
    return record_id("recovery-key", "offline")


def settings_id() -> uuid.UUID:
    """The record of the federation's settings."""
    return record_id("settings", "federation")


def reader_role_id(role: str) -> uuid.UUID:
    """The record of a reader role's key epochs."""
    return record_id("reader-role", role)


class PermissionTable(Aggregate):
    """One version of who may write, read and grant what: proposed, then adopted by a second person."""

    class Proposed(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("table_version", "digest", "table")
        table_version: int
        digest: str
        table: dict[str, Any]
        reason: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Permission table v{self.table_version} proposed: {self.reason}"

    class Adopted(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("table_version", "digest", "table")
        table_version: int
        digest: str
        table: dict[str, Any]

        def apply(self, aggregate: PermissionTable) -> None:
            aggregate.adopted = True

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Permission table v{self.table_version} adopted"

    @classmethod
    def propose(cls, table: dict[str, Any], reason: str) -> PermissionTable:
        """Propose ``table`` (it takes effect only when adopted)."""
        return cls._create(
            cls.Proposed, id=permission_table_id(int(table["version"])), table_version=int(table["version"]),
            digest=table_digest(table), table=table, reason=require_text("reason", reason, 2000),
            record_class="identity",
        )

    def __init__(self, table_version: int, digest: str, table: dict[str, Any], reason: str) -> None:
        self.table_version = table_version
        self.digest = digest
        self.table = table
        self.reason = reason
        self.adopted = False

    def adopt(self) -> None:
        """Put the proposed table in force."""
        self.trigger_event(self.Adopted, table_version=self.table_version, digest=self.digest, table=self.table)


class RecoveryKey(Aggregate):
    """The offline recovery key: its public halves, and the role recoveries it approved."""

    class Published(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("agreement_key", "signing_key", "key_id")
        agreement_key: str
        signing_key: str
        key_id: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Offline recovery key {self.key_id} published"

    class RoleRecoveryApproved(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("role", "staff_id")
        role: str
        staff_id: str
        reason: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Recovery key approved giving {self.role} to {self.staff_id}: {self.reason}"

    @classmethod
    def publish(cls, agreement_key: bytes, signing_key: bytes, key_id: str) -> RecoveryKey:
        """Publish the recovery key's public halves (once, at ``init``)."""
        return cls._create(
            cls.Published, id=recovery_key_id(), agreement_key=agreement_key.hex(),
            signing_key=signing_key.hex(), key_id=key_id, record_class="identity",
        )

    def __init__(self, agreement_key: str, signing_key: str, key_id: str) -> None:
        self.agreement_key = agreement_key
        self.signing_key = signing_key
        self.key_id = key_id

    def approve_recovery(self, role: str, staff_id: str, reason: str) -> None:
        """The recovery key holder approves giving a memberless role to ``staff_id``."""
        self.trigger_event(self.RoleRecoveryApproved, role=role, staff_id=staff_id,
                           reason=require_text("reason", reason, 2000))


class ReaderRole(Aggregate):
    """A reader role's key generations: each new one is published here."""

    class KeyCreated(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("role", "epoch", "public_key")
        role: str
        epoch: int
        public_key: str
        reason: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Reader key of {self.role} created: {self.reason}"

    class KeyRotated(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("role", "epoch", "public_key")
        role: str
        epoch: int
        public_key: str
        reason: str

        def apply(self, aggregate: ReaderRole) -> None:
            aggregate.epoch = self.epoch

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Reader key of {self.role} replaced (generation {self.epoch}): {self.reason}"

    @classmethod
    def create(cls, role: str, public_key: bytes, reason: str) -> ReaderRole:
        """The role's first key."""
        return cls._create(
            cls.KeyCreated, id=reader_role_id(role), role=role, epoch=1, public_key=public_key.hex(),
            reason=require_text("reason", reason, 2000), record_class="identity",
        )

    def __init__(self, role: str, epoch: int, public_key: str, reason: str) -> None:
        self.role = role
        self.epoch = epoch

    def rotate(self, public_key: bytes, reason: str) -> None:
        """Publish the role's next key generation."""
        self.trigger_event(self.KeyRotated, role=self.role, epoch=self.epoch + 1, public_key=public_key.hex(),
                           reason=require_text("reason", reason, 2000))


class Settings(Aggregate):
    """The federation's own settings everyone reads by: its time zone and its schools.

    Clear claims (nothing personal), replayed by the registry, so every date
    and time a person types or reads is interpreted in a zone a signed entry set.
    """

    class Configured(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("timezone", "schools")
        timezone: str
        schools: list[str]
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Federation settings: time zone {self.timezone}; schools {', '.join(self.schools) or 'none yet'}"

    class Changed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("timezone", "schools")
        timezone: str
        schools: list[str]
        reason: str

        def apply(self, aggregate: Settings) -> None:
            aggregate.timezone = self.timezone
            aggregate.schools = list(self.schools)

        def describe(self) -> str:
            """One line for the timeline."""
            return f"Federation settings changed: time zone {self.timezone}; schools {', '.join(self.schools)}"

    @classmethod
    def configure(cls, timezone: str, schools: list[str]) -> Settings:
        """The settings a ledger starts with."""
        return cls._create(cls.Configured, id=settings_id(), timezone=timezone, schools=list(schools),
                           record_class="identity")

    def __init__(self, timezone: str, schools: list[str]) -> None:
        self.timezone = timezone
        self.schools = list(schools)

    def change(self, timezone: str, schools: list[str], reason: str) -> None:
        """Change the time zone or the list of schools."""
        self.trigger_event(self.Changed, timezone=timezone, schools=list(schools),
                           reason=require_text("reason", reason, 2000))
