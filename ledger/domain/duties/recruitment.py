"""Pre-employment internet searches on candidates.

"The Federation may use internet searches to perform pre-employment checks on
candidates in the course of recruitment. Where the Federation does this, it
will act in accordance with its data protection and equal opportunities
obligations." A check names the candidate (a pseudonymous subject), who made
it, its outcome, and (encrypted) its lawful basis and what was searched; it
has a retention rule of its own.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import optional_text, record_id, require_text
from ledger.errors import InvalidInput

#: What a check found, in the words the register counts.
CHECK_OUTCOMES = ("no-concerns", "concerns-raised", "not-completed")


def recruitment_record_id(check_id: str) -> uuid.UUID:
    """The aggregate id of one pre-employment check."""
    return record_id("recruitment", check_id)


class RecruitmentCheck(Aggregate):
    """One internet search on one candidate, made for one vacancy."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("check_id", "candidate", "checked_by", "checked_on", "outcome",
                                                   "equal_opportunities")
        check_id: str
        candidate: str
        checked_by: str
        checked_on: str
        outcome: str
        equal_opportunities: bool
        basis: str
        vacancy: str
        notes: str | None
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            notes = f"; {self.notes}" if self.notes else ""
            return (f"pre-employment internet search on candidate {self.candidate} for {self.vacancy} by "
                    f"{self.checked_by} on {self.checked_on}: {self.outcome} (basis: {self.basis}){notes}")

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return f"{self.vacancy}: {self.outcome}"

    @staticmethod
    def create_id(check_id: str) -> uuid.UUID:
        return recruitment_record_id(check_id)

    @classmethod
    def record(cls, check_id: str, candidate: str, checked_by: str, checked_on: str, outcome: str, basis: str,
               vacancy: str, equal_opportunities: bool, today: str, notes: str | None = None) -> RecruitmentCheck:
        """A search already made (not in the future), on its lawful basis, applied as for every candidate."""
        if outcome not in CHECK_OUTCOMES:
            raise InvalidInput(f"unknown outcome {outcome!r}", f"outcomes are: {', '.join(CHECK_OUTCOMES)}")
        if checked_on > today:
            raise InvalidInput(f"the check date {checked_on} is in the future", "record a check once it is made")
        if not equal_opportunities:
            raise InvalidInput(
                "a check is recorded only when it was made as for every candidate for the vacancy",
                "the policy binds searches to equal opportunities obligations: confirm with --same-for-all-candidates",
            )
        return cls._create(
            cls.Recorded, check_id=check_id, candidate=candidate, checked_by=checked_by, checked_on=checked_on,
            outcome=outcome, equal_opportunities=True, basis=require_text("basis", basis, 2000),
            vacancy=require_text("vacancy", vacancy, 200), notes=optional_text("notes", notes, 10_000),
            record_class="recruitment", subjects=[candidate],
        )

    def __init__(self, check_id: str, candidate: str, checked_by: str, checked_on: str, outcome: str,
                 equal_opportunities: bool, basis: str | None, vacancy: str | None, notes: str | None,
                 subjects: list[str]) -> None:
        self.check_id = check_id
        self.candidate = candidate
        self.checked_by = checked_by
        self.checked_on = checked_on
        self.outcome = outcome
        self.basis = basis
        self.vacancy = vacancy
        self.notes = notes
