"""Who the policy covers: worker types, people who never sign in, assisted acknowledgements.

"This Policy covers directors and all individuals working at all levels and
grades within the Federation, including employees, consultants, contractors,
trainees, homeworkers, part-time and fixed-term employees, casual and agency
staff and volunteers" and "Third parties who have access to our electronic
communication systems and equipment". Someone who never signs in is
registered without a key and acknowledges on a signed paper form, which
their line manager or the office enters: the entry is marked *assisted*
everywhere it shows and keeps the form's SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from commands.services.people import _check_id, _load_staff
from commands.services.policy import _load_version, _today, _versions, sha256_file
from ledger.domain.base import new_short_id, parse_date, require_text
from ledger.domain.people import WORKER_TYPES, StaffMember, staff_record_id
from ledger.domain.policy import PolicyAcknowledgement, acknowledgement_record_id, current_version
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from ledger.store import Actor, Ledger, Unit

#: Roles that act as "the office" for people who never sign in.
OFFICE_ROLES = ("admin", "headteacher", "slt")


def _check_manager(work: Unit, line_manager: str | None) -> None:
    if line_manager is None:
        return
    fact = work.registry.staff.get(line_manager)
    if fact is None or not fact.active:
        raise NotFound(f"no current member of staff {line_manager!r} to be the line manager",
                       "`ledger people list` shows them")


def add_covered_person(ledger: Ledger, actor: Actor, name: str, worker_type: str, line_manager: str | None = None,
                       staff_id: str | None = None, email: str | None = None, school: str | None = None) -> str:
    """Register someone the policy covers who never signs in (no key; the staff role only)."""
    if worker_type not in WORKER_TYPES:
        raise InvalidInput(f"unknown worker type {worker_type!r}", f"types are: {', '.join(WORKER_TYPES)}")
    details = {"name": require_text("name", name, 200)}
    details.update({k: v for k, v in (("email", email), ("school", school)) if v})
    staff_id = staff_id or new_short_id("st")
    _check_id(staff_id)
    with ledger.unit(actor, write=True) as work:
        if work.exists(staff_record_id(staff_id)):
            raise AlreadyExists(f"staff id {staff_id} is already taken", "choose another --id")
        _check_manager(work, line_manager)
        member = StaffMember.register(staff_id, ["staff"], details)
        member.record_worker_type(worker_type, line_manager, signs_in=False)
        work.save(member)
    return staff_id


def set_worker_type(ledger: Ledger, actor: Actor, staff_id: str, worker_type: str,
                    line_manager: str | None = None) -> None:
    """Record how the policy covers someone who signs in (contractor, volunteer…) and their line manager."""
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        _check_manager(work, line_manager)
        member.record_worker_type(worker_type, line_manager, signs_in=bool(member.keys))
        work.save(member)


def acknowledge_for(ledger: Ledger, actor: Actor, staff_id: str, form: Path, signed_on: str,
                    version: str | None = None) -> dict[str, Any]:
    """Enter the signed paper form of someone who never signs in (their line manager or the office)."""
    form_hash = sha256_file(form, "signed form")
    signed = parse_date("signing date", signed_on)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        if member.signs_in or member.keys:
            raise InvalidInput(f"{staff_id} signs in with their own key",
                               f"they acknowledge for themselves: `ledger --as {staff_id} policy acknowledge`")
        if actor.actor_id != member.line_manager and not set(actor.roles) & set(OFFICE_ROLES):
            raise NotPermitted(f"{actor.actor_id} may not enter {staff_id}'s acknowledgement",
                               f"their line manager ({member.line_manager or 'none recorded'}) or the office "
                               f"({', '.join(OFFICE_ROLES)}) may")
        today = _today(work)
        versions = _versions(work)
        chosen = _load_version(work, version) if version else current_version(versions, today)
        if chosen is None:
            raise NotFound(f"no policy version is in effect on {today}", "name the version on the form")
        if work.exists(acknowledgement_record_id(staff_id, chosen.label)):
            raise AlreadyExists(f"{staff_id} has already acknowledged version {chosen.label}")
        work.save(PolicyAcknowledgement.record_assisted(staff_id, chosen, today, versions, actor.actor_id,
                                                        form_hash, signed))
        return {"staff_id": staff_id, "version": chosen.label, "form_hash": form_hash, "entered_by": actor.actor_id}


def worker_rows(ledger: Ledger) -> list[dict[str, Any]]:
    """Everyone the policy covers, by worker type, line manager and whether they sign in (no personal data)."""
    registry = ledger.registry()
    with ledger.unit() as work:
        rows = []
        for fact in sorted(registry.staff.values(), key=lambda f: f.staff_id):
            member: StaffMember = work.get(StaffMember, staff_record_id(fact.staff_id), "member of staff",
                                           redacted=True)
            rows.append({"staff_id": fact.staff_id, "worker_type": member.worker_type,
                         "line_manager": member.line_manager or "", "signs_in": member.signs_in,
                         "active": fact.active})
    return rows
