"""A school's directory: the names a member of staff picks a pupil by.

A teacher reporting a concern must name the child without being able to read
the child's record (date of birth, notes, casework). Each school keeps one
``SchoolDirectory`` record: its entries list (pupil id, name, year group) in
encrypted bodies, so its data keys are wrapped, like every record's, to the
reader roles of the ``directory`` class and the recovery key, and besides to
each member of staff the directory has admitted (``actor:<id>``, as an
assigned case is). Who belongs is a clear, signed fact (``StaffAdmitted`` /
``StaffWithdrawn``); the names never are.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger import text
from ledger.domain.base import record_id
from ledger.errors import RuleViolation

#: A year group or class as a school writes it ("Year 7", "7B", "Reception").
YEAR_LIMIT = 40


def directory_record_id(school: str) -> uuid.UUID:
    """The aggregate id of ``school``'s directory (the settings' spelling, any case)."""
    return record_id("directory", school.casefold())


class SchoolDirectory(Aggregate):
    """The pupils of one school by name, readable by its own staff."""

    class Opened(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("school",)
        school: str
        record_class: str

    class StaffAdmitted(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id",)
        staff_id: str

        def apply(self, aggregate: SchoolDirectory) -> None:
            aggregate.staff = sorted(set(aggregate.staff) | {self.staff_id})

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.staff_id} may now pick pupils of this school by name"

    class StaffWithdrawn(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id",)
        staff_id: str
        reason: str

        def apply(self, aggregate: SchoolDirectory) -> None:
            aggregate.staff = [s for s in aggregate.staff if s != self.staff_id]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.staff_id} no longer reads this school's directory"

    class KeysShared(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_ids",)
        staff_ids: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"entries listed before they joined shared with {', '.join(self.staff_ids)}"

    class Restated(Aggregate.Event):
        """The whole directory in one entry, so a search opens one entry and the few after it."""

        clear_fields: ClassVar[tuple[str, ...]] = ("school", "staff")
        school: str
        staff: list[str]
        #: ``[id, name, year group]`` rows (arrays, not objects: thousands read back quickly)
        pupils: list[list[str]]

        def apply(self, aggregate: SchoolDirectory) -> None:
            aggregate.school = self.school
            aggregate.staff = list(self.staff)
            aggregate.since_restated = 0
            if self.pupils is None:
                aggregate.withheld += 1
                return
            aggregate.pupils = {sid: {"name": name, "year_group": year} for sid, name, year in self.pupils}

    class PupilListed(Aggregate.Event):
        subject_id: str
        name: str
        year_group: str

        def apply(self, aggregate: SchoolDirectory) -> None:
            if self.subject_id is None:  # a redacted load: the body was not opened
                aggregate.withheld += 1
                return
            aggregate.pupils[self.subject_id] = {"name": self.name, "year_group": self.year_group or ""}
            aggregate.since_restated += 1

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.subject_id} listed by name"

    class PupilUnlisted(Aggregate.Event):
        subject_id: str
        reason: str

        def apply(self, aggregate: SchoolDirectory) -> None:
            if self.subject_id is None:
                aggregate.withheld += 1
                return
            aggregate.pupils.pop(self.subject_id, None)
            aggregate.since_restated += 1

    @staticmethod
    def create_id(school: str) -> uuid.UUID:
        return directory_record_id(school)

    @classmethod
    def open(cls, school: str) -> SchoolDirectory:
        """A new, empty directory for ``school``."""
        return cls._create(cls.Opened, school=school, record_class="directory")

    def __init__(self, school: str) -> None:
        self.school = school
        self.staff: list[str] = []
        self.pupils: dict[str, dict[str, str]] = {}
        self.withheld = 0
        self.since_restated = 0

    def admit(self, staff_id: str) -> None:
        """Let a member of staff of this school pick its pupils by name."""
        if staff_id in self.staff:
            raise RuleViolation(f"{staff_id} already reads the directory of {self.school}")
        self.trigger_event(self.StaffAdmitted, staff_id=staff_id)

    def withdraw(self, staff_id: str, reason: str) -> None:
        """Stop a member of staff (a leaver, a move) reading this directory from now on."""
        if staff_id not in self.staff:
            raise RuleViolation(f"{staff_id} does not read the directory of {self.school}")
        self.trigger_event(self.StaffWithdrawn, staff_id=staff_id, reason=reason)

    def record_sharing(self, staff_ids: list[str]) -> None:
        """Note that older entries' keys were wrapped to these members (who joined after them)."""
        self.trigger_event(self.KeysShared, staff_ids=sorted(staff_ids))

    def list_pupil(self, subject_id: str, name: str, year_group: str | None) -> None:
        """Add a pupil, or give one already listed their corrected name or year group."""
        year = text.check("year group", year_group, YEAR_LIMIT).strip() if year_group else ""
        self.trigger_event(self.PupilListed, subject_id=subject_id, name=name, year_group=year)

    def list_pupils(self, pupils: list[tuple[str, str, str | None]], restate_over: int) -> None:
        """List many pupils: one ``Restated`` entry holding the whole directory when more than
        ``restate_over`` change and the writer can read all of it, else one entry each."""
        if len(pupils) <= restate_over or self.withheld:
            for subject_id, name, year_group in pupils:
                self.list_pupil(subject_id, name, year_group)
            return
        merged = {k: dict(v) for k, v in self.pupils.items()}
        for subject_id, name, year_group in pupils:
            year = text.check("year group", year_group, YEAR_LIMIT).strip() if year_group else ""
            merged[subject_id] = {"name": name, "year_group": year}
        self.restate(merged)

    def unlist(self, subject_id: str, reason: str) -> None:
        """Take a pupil out (they left the school)."""
        if subject_id not in self.pupils:
            raise RuleViolation(f"{subject_id} is not listed in the directory of {self.school}")
        self.trigger_event(self.PupilUnlisted, subject_id=subject_id, reason=reason)

    def restate(self, pupils: dict[str, dict[str, str]] | None = None) -> None:
        """Write the whole directory (or ``pupils``, its new whole) as one entry; only someone
        who could read every entry may."""
        if self.withheld:
            raise RuleViolation(f"the directory of {self.school} cannot be restated by someone who cannot read it")
        whole = pupils if pupils is not None else self.pupils
        self.trigger_event(self.Restated, school=self.school, staff=list(self.staff),
                           pupils=[[k, v["name"], v["year_group"]] for k, v in sorted(whole.items())])

    @classmethod
    def resume(cls, aggregate_id: uuid.UUID, version: int, school: str, timestamp: dt.datetime) -> SchoolDirectory:
        """An empty directory at ``version``, for a ``Restated`` entry at ``version + 1`` to fill."""
        directory = cls.__new__(cls)
        directory.__base_init__(aggregate_id, version, timestamp)
        directory.__init__(school)  # type: ignore[misc]
        return directory

    def entries(self) -> list[dict[str, Any]]:
        """(id, name, year group) of every listed pupil."""
        return [{"id": sid, **entry} for sid, entry in sorted(self.pupils.items())]
