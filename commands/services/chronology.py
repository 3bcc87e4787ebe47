"""A person's file: who they are (for those who may read it) and their whole chronology.

One read, one reason: the timeline is selected and opened with the reader's
keys and recorded in the access log (``readside.timeline``); the person's
details are shown only when their own record is among the records that
access entry names, so nothing is shown that the log does not record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands.services import readside
from commands.services.directory import resolve
from ledger.domain.people import StaffMember, Subject, staff_record_id, subject_record_id
from ledger.errors import NotPermitted, RecordErased
from ledger.store import Actor, Ledger
from projections.timeline import FAMILIES, Timeline

#: Every family of records but the access log.
WITHOUT_ACCESS = tuple(name for name in FAMILIES if name != "access")


@dataclass(frozen=True)
class PersonFile:
    """A person's details (None when the reader may not read them) and chronology."""

    person_id: str
    kind: str
    details: dict[str, Any] | None
    timeline: Timeline
    with_access: bool = False


def person_file(ledger: Ledger, actor: Actor, person_id: str, reason: str, with_access: bool = False,
                as_of: str | None = None) -> PersonFile:
    """Everything about ``person_id`` that ``actor`` may read, oldest first; the read is logged.

    Who read their records (the access log) is left out unless ``with_access``:
    every view of the file adds a row there, which would soon bury the casework.
    """
    person_id = resolve(ledger, actor, person_id)
    categories = () if with_access else WITHOUT_ACCESS
    found = readside.timeline(ledger, actor, reason, person=person_id, categories=categories, as_of=as_of)
    details: dict[str, Any] | None = None
    kind = ""
    with ledger.unit(actor) as work:
        for record, cls in ((subject_record_id(person_id), Subject), (staff_record_id(person_id), StaffMember)):
            if not work.exists(record):
                continue
            person: Any = None
            if str(record) in found.records:
                try:
                    person = work.get(cls, record, "person")
                    details = dict(person.details or {})
                except (NotPermitted, RecordErased):
                    person = None
            if person is None:
                person = work.get(cls, record, "person", redacted=True)
            kind = str(getattr(person, "kind", "staff"))
            break
    return PersonFile(person_id, kind, details, found, with_access)
