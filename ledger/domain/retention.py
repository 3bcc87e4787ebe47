"""Retention rules, legal holds and erasures, as signed entries.

An erasure entry names the record, the rule or lawful ground and the data
keys destroyed, in clear (verification needs them); the free-text reason is
encrypted. It holds none of the erased content.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import RuleViolation


def hold_record_id(target: str) -> uuid.UUID:
    """One hold aggregate per held record."""
    return record_id("hold", target)


class Erasure(Aggregate):
    """The crypto-shredding of records: one, or a sweep's batch of one class under one rule."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("records", "erased_class", "basis", "keys_destroyed", "entries")
        records: list[str]
        erased_class: str
        basis: str
        keys_destroyed: list[str]
        entries: int
        reason: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"record erased under {self.basis}: {self.entries} entries scrubbed, keys destroyed"

    @classmethod
    def record(cls, targets: list[str], target_class: str, basis: str, keys: list[str], entries: int, reason: str,
               subjects: list[str]) -> Erasure:
        """Note that ``targets`` (records of ``target_class``) were erased under ``basis`` (a rule or a
        lawful ground); ``entries`` is how many entries were scrubbed in all."""
        return cls._create(
            cls.Recorded, id=uuid.uuid4(), records=list(targets), erased_class=target_class, basis=basis, keys_destroyed=sorted(keys),
            entries=entries, reason=require_text("reason", reason, 2000), record_class="erasure",
            subjects=sorted(set(subjects)),
        )

    def __init__(self, records: list[str], basis: str) -> None:
        self.records = records
        self.basis = basis


class LegalHold(Aggregate):
    """A hold that blocks erasure of one record until released."""

    class Placed(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("target",)
        target: str
        reason: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"legal hold placed: {self.reason}"

    class Renewed(Aggregate.Event):
        reason: str

        def apply(self, aggregate: LegalHold) -> None:
            aggregate.active = True

        def describe(self) -> str:
            """One line for the timeline."""
            return f"legal hold placed again: {self.reason}"

    class Released(Aggregate.Event):
        reason: str

        def apply(self, aggregate: LegalHold) -> None:
            aggregate.active = False

        def describe(self) -> str:
            """One line for the timeline."""
            return f"legal hold released: {self.reason}"

    @staticmethod
    def create_id(target: str) -> uuid.UUID:
        return hold_record_id(target)

    @classmethod
    def place(cls, target: str, reason: str) -> LegalHold:
        """Hold ``target`` (an aggregate id) against erasure."""
        return cls._create(cls.Placed, target=target, reason=require_text("reason", reason, 2000),
                           record_class="retention")

    def __init__(self, target: str) -> None:
        self.target = target
        self.active = True

    def renew(self, reason: str) -> None:
        """Place the hold again after a release."""
        if self.active:
            raise RuleViolation("that record is already on hold")
        self.trigger_event(self.Renewed, reason=require_text("reason", reason, 2000))

    def release(self, reason: str) -> None:
        """Lift the hold."""
        if not self.active:
            raise RuleViolation("that record is not on hold", "`ledger hold list` shows active holds")
        self.trigger_event(self.Released, reason=require_text("reason", reason, 2000))


class RetentionRule(Aggregate):
    """The retention rule of one record class; changes are signed entries."""

    class Set(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("target_class", "trigger", "months")
        target_class: str
        trigger: str
        months: int | None
        reason: str
        record_class: str

    class Changed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("target_class", "trigger", "months")
        target_class: str
        trigger: str
        months: int | None
        reason: str

        def apply(self, aggregate: RetentionRule) -> None:
            aggregate.trigger, aggregate.months = self.trigger, self.months

    @staticmethod
    def create_id(target_class: str) -> uuid.UUID:
        return record_id("retention-rule", target_class)

    @classmethod
    def set(cls, target_class: str, trigger: str, months: int | None, reason: str) -> RetentionRule:
        """The first change of a class's rule from its default."""
        return cls._create(cls.Set, target_class=target_class, trigger=trigger, months=months,
                           reason=require_text("reason", reason, 2000), record_class="retention")

    def __init__(self, target_class: str, trigger: str, months: int | None) -> None:
        self.target_class, self.trigger, self.months = target_class, trigger, months

    def change(self, trigger: str, months: int | None, reason: str) -> None:
        """A later change."""
        self.trigger_event(self.Changed, target_class=self.target_class, trigger=trigger, months=months,
                           reason=require_text("reason", reason, 2000))


class RetentionSweep(Aggregate):
    """The deletion certificate of one sweep."""

    class Completed(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("erased", "held", "undetermined", "checkpoint_size", "as_of")
        erased: list[str]
        held: list[str]
        undetermined: int
        checkpoint_size: int
        as_of: str
        reason: str
        certificate: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"retention sweep erased {len(self.erased)} record(s): {self.reason}"

    @classmethod
    def complete(cls, erased: list[str], held: list[str], undetermined: int, checkpoint_size: int, as_of: str,
                 reason: str, certificate: str) -> RetentionSweep:
        """Record a finished sweep and its certificate."""
        return cls._create(cls.Completed, id=uuid.uuid4(), erased=erased, held=held, undetermined=undetermined,
                           checkpoint_size=checkpoint_size, as_of=as_of, reason=reason, certificate=certificate,
                           record_class="erasure")

    def __init__(self, erased: list[str]) -> None:
        self.erased = erased
