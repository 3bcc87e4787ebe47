"""Managing people, roles and keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from commands.services.access import record_access
from ledger import identity, keystore
from ledger.registry import current_key
from ledger.domain.base import new_short_id, parse_birth_date, parse_date, require_text
from ledger.domain.people import StaffMember, Subject, check_roles, staff_record_id, subject_record_id
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted
from ledger.schema import actor_keys, actors
from ledger.store import Actor, Ledger, utcnow


@dataclass(frozen=True)
class NewStaff:
    """A registered member of staff and where their key file went."""

    staff_id: str
    key_id: str
    key_file: str


def add_staff(
    ledger: Ledger,
    actor: Actor,
    name: str,
    roles: list[str],
    passphrase: str,
    staff_id: str | None = None,
    email: str | None = None,
    school: str | None = None,
    job_title: str | None = None,
    date_of_birth: str | None = None,
) -> NewStaff:
    """Register a member of staff with roles and a new passphrase-protected key.

    A date of birth (encrypted) lets retention work out normal retirement age.
    """
    roles = check_roles(roles)
    identity.check_passphrase(passphrase)
    details = {"name": require_text("name", name, 200)}
    details.update({k: v for k, v in (("email", email), ("school", school), ("job_title", job_title)) if v})
    if date_of_birth:
        details["date_of_birth"] = parse_birth_date("date of birth", date_of_birth, utcnow())
    staff_id = staff_id or new_short_id("st")
    _check_id(staff_id)
    pair = identity.generate(staff_id)
    with ledger.unit(actor, write=True) as work:
        if work.exists(staff_record_id(staff_id)):
            raise AlreadyExists(f"staff id {staff_id} is already taken", "choose another --id")
        member = StaffMember.register(staff_id, roles, details)
        member.register_key(pair.key_id, pair.public.public_key, pair.public.agreement_key)
        work.save(member)
        for role in roles:
            keystore.add_role_member(work.conn, role, staff_id, pair.public.agreement_key, actor.keyring, work.now)
        path = identity.save(ledger.config.keys_dir, pair, passphrase)
    return NewStaff(staff_id, pair.key_id, str(path))


def add_subject(
    ledger: Ledger,
    actor: Actor,
    kind: str,
    name: str,
    date_of_birth: str | None = None,
    school: str | None = None,
    subject_id: str | None = None,
    notes: str | None = None,
) -> str:
    """Register a pupil, parent, carer or other person under a pseudonymous id."""
    details: dict[str, Any] = {"name": require_text("name", name, 200)}
    if date_of_birth:
        details["date_of_birth"] = parse_birth_date("date of birth", date_of_birth, utcnow())
    if school:
        details["school"] = school
    if notes:
        details["notes"] = notes
    subject_id = subject_id or new_short_id("sb")
    _check_id(subject_id)
    with ledger.unit(actor, write=True) as work:
        if work.exists(subject_record_id(subject_id)):
            raise AlreadyExists(f"subject id {subject_id} is already taken", "choose another --id")
        work.save(Subject.register(subject_id, kind, details))
    return subject_id


def _check_id(value: str) -> None:
    if not value or len(value) > 40 or not all(c.isalnum() or c in "-_." for c in value):
        raise InvalidInput(
            f"id {value!r} is not usable", "use up to 40 letters, digits, '-', '_' or '.'"
        )


def _load_staff(work: Any, staff_id: str) -> StaffMember:
    if not work.exists(staff_record_id(staff_id)):
        raise NotFound(f"no member of staff {staff_id!r}", "`ledger people list` shows them")
    member: StaffMember = work.get(StaffMember, staff_record_id(staff_id), "member of staff", redacted=True)
    return member


def grant_role(ledger: Ledger, actor: Actor, staff_id: str, role: str) -> None:
    """Give a member of staff another role (and that role's reader key)."""
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.grant_role(role)
        work.save(member)
        _, agreement = current_key(work.conn, staff_id)
        keystore.add_role_member(work.conn, role, staff_id, agreement, actor.keyring, work.now)


def remove_role(ledger: Ledger, actor: Actor, staff_id: str, role: str) -> None:
    """Take a role (and its reader key) away from a member of staff."""
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.remove_role(role)
        work.save(member)
        keystore.remove_role_member(work.conn, role, staff_id)


def end_employment(ledger: Ledger, actor: Actor, staff_id: str, ended_on: str) -> None:
    """Record that someone has left: their keys are revoked and their role keys taken away."""
    ended_on = parse_date("end date", ended_on)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.end_employment(ended_on)
        for key_id, state in list(member.keys.items()):
            if state == "active":
                member.revoke_key(key_id, f"left on {ended_on}")
        work.save(member)
        for role in member.roles:
            keystore.remove_role_member(work.conn, role, staff_id)


def rotate_key(ledger: Ledger, actor: Actor, staff_id: str, passphrase: str, revoke_old: bool = True) -> NewStaff:
    """Create and register a new key for ``staff_id``; revoke the old ones.

    The person's role reader keys are re-wrapped to the new key by whoever
    rotates it and holds them: the person themselves, or an admin for the
    admin role (other roles then need a current member to re-grant them).
    """
    identity.check_passphrase(passphrase)
    pair = identity.generate(staff_id)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        old = [k for k, state in member.keys.items() if state == "active"]
        member.register_key(pair.key_id, pair.public.public_key, pair.public.agreement_key)
        if revoke_old:
            for key_id in old:
                member.revoke_key(key_id, "rotated")
        work.save(member)
        for role in member.roles:
            if actor.keyring.holds_role(work.conn, role):
                private = actor.keyring.role_private(work.conn, role)
                keystore.rewrap_role(work.conn, role, staff_id, private, pair.public.agreement_key)
        path = identity.save(ledger.config.keys_dir, pair, passphrase)
    return NewStaff(staff_id, pair.key_id, str(path))


def revoke_key(ledger: Ledger, actor: Actor, staff_id: str, key_id: str, reason: str) -> None:
    """Revoke one key: nothing it signs from now on verifies."""
    reason = require_text("reason", reason, 1000)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.revoke_key(key_id, reason)
        work.save(member)


def list_people(ledger: Ledger) -> list[dict[str, Any]]:
    """Everyone registered: pseudonymous ids, kind, roles, active (no personal data)."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(actors).order_by(actors.c.kind, actors.c.actor_id)).all()
    return [
        {"id": r.actor_id, "kind": r.kind, "roles": ",".join(json.loads(r.roles)), "active": bool(r.active)}
        for r in rows
    ]


def list_keys(ledger: Ledger) -> list[dict[str, Any]]:
    """Every registered key with its owner and status."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(actor_keys).order_by(actor_keys.c.actor_id, actor_keys.c.registered_leaf)).all()
    return [
        {
            "key_id": r.key_id,
            "owner": r.actor_id,
            "registered_at_entry": r.registered_leaf,
            "status": "revoked" if r.revoked_leaf is not None else "active",
            "revoked_at_entry": r.revoked_leaf,
            "public_key": r.public_key,
        }
        for r in rows
    ]


def read_details(ledger: Ledger, actor: Actor, person_id: str, reason: str) -> dict[str, Any]:
    """A person's decrypted details, if the actor's roles may read them.

    The read is recorded in the access log with ``reason``.
    """
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        for record_id, cls, what in (
            (staff_record_id(person_id), StaffMember, "member of staff"),
            (subject_record_id(person_id), Subject, "subject"),
        ):
            if work.exists(record_id):
                try:
                    person: Any = work.get(cls, record_id, what)
                except NotPermitted as exc:
                    raise NotPermitted(
                        f"{actor.actor_id} may not read the details of {person_id}",
                        "only roles allowed to read this record class can",
                    ) from exc
                record_access(work, actor.actor_id, "read", [str(record_id)], [person_id], reason)
                return {"id": person_id, **person.details}
    raise NotFound(f"no person {person_id!r}", "`ledger people list` shows them")
