"""Managing people, roles and keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from commands.services import rolekeys, school_directory
from commands.services.directory import labels, resolve
from commands.services.schools import checked_school
from commands.services.access import record_access
from commands.services.setup import RecoveryKeyFile
from ledger import identity, keystore
from ledger.domain.base import new_short_id, parse_birth_date, parse_date, require_text
from ledger.domain.keys import RecoveryKey, recovery_key_id
from ledger.domain.people import StaffMember, Subject, check_roles, staff_record_id, subject_record_id
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.schema import actors
from ledger.store import Actor, Ledger


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

    The new person types their own passphrase; their first key signs its own
    registration. Each role must be one the registering person may grant.
    A date of birth (encrypted) lets retention work out normal retirement age.
    """
    roles = check_roles(roles)
    identity.check_passphrase(passphrase)
    details = {"name": require_text("name", name, 200)}
    details.update({k: v for k, v in (("email", email), ("school", school), ("job_title", job_title)) if v})
    if date_of_birth:
        details["date_of_birth"] = parse_birth_date("date of birth", date_of_birth, ledger.today())
    staff_id = staff_id or new_short_id("st")
    _check_id(staff_id)
    directory_school = _directory_school(ledger, school)
    pair = identity.generate(staff_id)
    with ledger.unit(actor, write=True) as work:
        if work.exists(staff_record_id(staff_id)):
            raise AlreadyExists(f"staff id {staff_id} is already taken", "choose another --id")
        member = StaffMember.register(staff_id, roles, details)
        work.save(member)
        member.register_key(pair.key_id, pair.public.public_key, pair.public.agreement_key)
        with work.acting_as(pair):
            work.save(member)
        for role in roles:
            rolekeys.give_role(work, role, staff_id, actor.keyring, f"{staff_id} joined {role}")
        if directory_school:
            school_directory.admit(work, directory_school, staff_id)
        path = identity.save(ledger.config.keys_dir, pair, passphrase)
    return NewStaff(staff_id, pair.key_id, str(path))


def _directory_school(ledger: Ledger, school: str | None) -> str | None:
    """The federation's school ``school`` names (its settings' spelling), or the only school, or None.

    A school the settings do not name is kept as a detail but has no directory.
    """
    known = list(ledger.registry().schools)
    if school is None or not school.strip():
        return known[0] if len(known) == 1 else None
    return checked_school(ledger, school) if school.strip().casefold() in {s.casefold() for s in known} else None


def add_subject(
    ledger: Ledger,
    actor: Actor,
    kind: str,
    name: str,
    date_of_birth: str | None = None,
    school: str | None = None,
    subject_id: str | None = None,
    notes: str | None = None,
    year_group: str | None = None,
) -> str:
    """Register a pupil, parent, carer or other person under a pseudonymous id.

    A pupil of one of the federation's schools is also listed (name, id, year
    group) in that school's directory, so its staff can pick them by name.
    """
    details: dict[str, Any] = {"name": require_text("name", name, 200)}
    if year_group:
        details["year_group"] = year_group
    if date_of_birth:
        details["date_of_birth"] = parse_birth_date("date of birth", date_of_birth, ledger.today())
    if school:
        details["school"] = school
    if notes:
        details["notes"] = notes
    subject_id = subject_id or new_short_id("sb")
    _check_id(subject_id)
    directory_school = _directory_school(ledger, school) if kind == "pupil" else None
    with ledger.unit(actor, write=True) as work:
        if work.exists(subject_record_id(subject_id)):
            raise AlreadyExists(f"subject id {subject_id} is already taken", "choose another --id")
        subject = Subject.register(subject_id, kind, details)
        work.save(subject)
        if directory_school:
            school_directory.list_pupils(work, directory_school, [(subject_id, subject.details["name"], year_group)])
    return subject_id


def add_pupils(ledger: Ledger, actor: Actor, school: str, pupils: list[dict[str, str]]) -> list[str]:
    """Register a school's pupils in one transaction (a roll from the MIS): each needs a name,
    and may give ``date_of_birth``, ``year_group`` and ``id``. All are listed in the school's
    directory. Nothing is written if any row is refused. Returns the ids, in order."""
    known = _directory_school(ledger, school)
    if known is None:
        raise InvalidInput(f"{school!r} is not one of the federation's schools", "`ledger settings show` lists them")
    rows: list[tuple[str, dict[str, Any]]] = []
    for n, row in enumerate(pupils, 1):
        unknown = sorted(set(row) - {"name", "date_of_birth", "year_group", "id"})
        if unknown:
            raise InvalidInput(f"row {n}: unknown column {', '.join(unknown)}",
                               "columns are name, date_of_birth, year_group, id")
        details: dict[str, Any] = {"name": require_text(f"row {n}: name", row.get("name"), 200), "school": known}
        if row.get("date_of_birth"):
            details["date_of_birth"] = parse_birth_date(f"row {n}: date of birth", row["date_of_birth"], ledger.today())
        if row.get("year_group"):
            details["year_group"] = row["year_group"]
        subject_id = row.get("id") or new_short_id("sb")
        _check_id(subject_id)
        rows.append((subject_id, details))
    if len({sid for sid, _ in rows}) != len(rows):
        raise InvalidInput("the same id is given twice", "each pupil needs their own id")
    with ledger.unit(actor, write=True) as work:
        listed = []
        for subject_id, details in rows:
            if work.exists(subject_record_id(subject_id)):
                raise AlreadyExists(f"subject id {subject_id} is already taken", "choose another id")
            subject = Subject.register(subject_id, "pupil", details)
            work.save(subject)
            listed.append((subject_id, str(subject.details["name"]), details.get("year_group")))
        school_directory.list_pupils(work, known, listed)
    return [sid for sid, _ in rows]


def join_school(ledger: Ledger, actor: Actor, staff_id: str, school: str) -> None:
    """Let a current member of staff pick the pupils of ``school`` by name (its directory admits them)."""
    known = _directory_school(ledger, school)
    if known is None:
        raise InvalidInput(f"{school!r} is not one of the federation's schools", "`ledger settings show` lists them")
    with ledger.unit(actor, write=True) as work:
        fact = work.registry.staff.get(staff_id)
        if fact is None or not fact.active:
            raise NotFound(f"{staff_id} is not a current member of staff", "`ledger people list` shows them")
        directory = school_directory.load(work, known)
        if directory is not None and staff_id in directory.staff:
            raise RuleViolation(f"{staff_id} is already on the staff of {known}")
        school_directory.admit(work, known, staff_id)


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
        rolekeys.give_role(work, role, staff_id, actor.keyring, f"{staff_id} joined {role}")


def restore_role_keys(ledger: Ledger, actor: Actor, staff_id: str, role: str) -> None:
    """Seal every generation of a role's key again to someone who holds the role (after a reset)."""
    with ledger.unit(actor, write=True) as work:
        if not rolekeys.is_reader_role(work, role):
            raise InvalidInput(f"{role} has no reader key to restore")
        member = _load_staff(work, staff_id)
        member.restore_role_keys(role)
        work.save(member)
        key = work.registry.current_key(staff_id)
        if key is None:
            raise NotFound(f"{staff_id} has no active key", "approve a key reset for them first")
        keystore.give_role(work.conn, work.registry, role, staff_id, bytes.fromhex(key.agreement_key), actor.keyring)


def remove_role(ledger: Ledger, actor: Actor, staff_id: str, role: str) -> None:
    """Take a role away: their copies of its key go, and the role gets a new key they never had."""
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.remove_role(role)
        work.save(member)
        rolekeys.take_roles(work, [role], staff_id, f"{staff_id} no longer holds {role}")


def end_employment(ledger: Ledger, actor: Actor, staff_id: str, ended_on: str) -> None:
    """Record that someone has left: their keys are revoked, and each reader role they held gets a new key."""
    ended_on = parse_date("end date", ended_on)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.end_employment(ended_on)
        for key_id, state in list(member.keys.items()):
            if state == "active":
                member.revoke_key(key_id, f"left on {ended_on}")
        work.save(member)
        rolekeys.take_roles(work, list(member.roles), staff_id, f"{staff_id} left on {ended_on}")
        school_directory.withdraw(work, list(work.registry.schools), staff_id, f"left on {ended_on}")


def rotate_key(ledger: Ledger, actor: Actor, passphrase: str, revoke_old: bool = True) -> NewStaff:
    """Create and register a new key for the acting person; revoke their old ones.

    Only the owner rotates their key (signed with their current one); a new
    key for someone else is a two-person reset (:func:`propose_key_reset`).
    Their role keys are re-sealed to the new key.
    """
    identity.check_passphrase(passphrase)
    staff_id = actor.actor_id
    pair = identity.generate(staff_id)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        old = [k for k, state in member.keys.items() if state == "active"]
        member.register_key(pair.key_id, pair.public.public_key, pair.public.agreement_key)
        if revoke_old:
            for key_id in old:
                member.revoke_key(key_id, "rotated")
        work.save(member)
        _reseal_roles(work, actor.keyring, staff_id, member.roles, pair.public.agreement_key)
        path = identity.save(ledger.config.keys_dir, pair, passphrase)
    return NewStaff(staff_id, pair.key_id, str(path))


def _reseal_roles(work: Any, keyring: keystore.KeyRing, staff_id: str, held: list[str], agreement: bytes) -> list[str]:
    """Seal every reader-role key generation ``keyring`` holds for ``staff_id`` to their new key.

    Returns the reader roles it could not restore (the holder lacked them).
    """
    missing = []
    for role in held:
        if not rolekeys.is_reader_role(work, role):
            continue
        try:
            keystore.give_role(work.conn, work.registry, role, staff_id, agreement, keyring)
        except RuleViolation:
            missing.append(role)
    return missing


@dataclass(frozen=True)
class ResetProposal:
    """A proposed key reset, waiting for a second person's approval."""

    reset_id: str
    staff_id: str
    key_id: str
    key_file: str


def propose_key_reset(ledger: Ledger, actor: Actor, staff_id: str, passphrase: str, reason: str) -> ResetProposal:
    """Propose a new key for someone who lost theirs (the person types the new passphrase).

    Nothing changes until a second person approves it (:func:`approve_key_reset`);
    neither may be the person whose key it is.
    """
    identity.check_passphrase(passphrase)
    reason = require_text("reason", reason, 1000)
    pair = identity.generate(staff_id)
    reset_id = new_short_id("rs")
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.propose_key_reset(reset_id, pair.key_id, pair.public.public_key, pair.public.agreement_key, reason)
        work.save(member)
        path = identity.save(ledger.config.keys_dir, pair, passphrase)
    return ResetProposal(reset_id, staff_id, pair.key_id, str(path))


def approve_key_reset(ledger: Ledger, actor: Actor, staff_id: str, reset_id: str) -> list[str]:
    """Approve a proposed reset: the new key is registered and the old ones revoked.

    The approver re-seals the person's reader-role keys they hold (a
    Headteacher holds them all); returns the roles that still need a holder to
    grant them again.
    """
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        proposal = work.registry.resets.get(reset_id)
        if proposal is None or proposal["owner"] != staff_id or proposal.get("approved_leaf") is not None:
            raise NotFound(f"no pending key reset {reset_id} for {staff_id}", "`ledger keys resets` lists them")
        old = [k for k, state in member.keys.items() if state == "active"]
        member.approve_key_reset(reset_id, proposal["key_id"])
        for key_id in old:
            member.revoke_key(key_id, f"replaced by reset {reset_id}")
        work.save(member)
        return _reseal_roles(work, actor.keyring, staff_id, member.roles, bytes.fromhex(proposal["agreement_key"]))


def pending_resets(ledger: Ledger) -> list[dict[str, Any]]:
    """Key resets proposed and not yet approved."""
    registry = ledger.registry()
    return [
        {"reset_id": rid, "for": r["owner"], "key_id": r["key_id"], "proposed_by": r["proposed_by"],
         "proposed_at_entry": r["leaf"]}
        for rid, r in sorted(registry.resets.items()) if r.get("approved_leaf") is None
    ]


def revoke_key(ledger: Ledger, actor: Actor, staff_id: str, key_id: str, reason: str) -> None:
    """Revoke one key: nothing it signs from now on verifies."""
    reason = require_text("reason", reason, 1000)
    with ledger.unit(actor, write=True) as work:
        member = _load_staff(work, staff_id)
        member.revoke_key(key_id, reason)
        work.save(member)


def recover_role(ledger: Ledger, actor: Actor, recovery: RecoveryKeyFile, role: str, staff_id: str, reason: str) -> None:
    """Give a role whose members are all gone to ``staff_id``: two people, one of them the recovery key.

    The recovery key holder approves (their entry is signed by the offline
    recovery key), the acting admin grants, and the role's key generations,
    which the recovery key holds, are sealed to the new member.
    """
    reason = require_text("reason", reason, 1000)
    with ledger.unit(actor, write=True) as work:
        record = work.get(RecoveryKey, recovery_key_id(), "recovery key", redacted=True)
        record.approve_recovery(role, staff_id, reason)
        with work.acting_as(recovery.pair):
            work.save(record)
        member = _load_staff(work, staff_id)
        member.grant_role(role)
        work.save(member)
        if rolekeys.is_reader_role(work, role):
            rolekeys.give_role(work, role, staff_id, recovery.keyring, f"recovered for {staff_id}")


def rotate_role_key(ledger: Ledger, actor: Actor, role: str, reason: str) -> None:
    """Give a reader role a new key generation now (e.g. a member's laptop was lost)."""
    reason = require_text("reason", reason, 1000)
    with ledger.unit(actor, write=True) as work:
        if not rolekeys.is_reader_role(work, role):
            raise InvalidInput(f"{role} has no reader key", "reader roles: " + ", ".join(
                work.registry.permissions.reader_roles() if work.registry.permissions else ()))
        rolekeys.require_rotator(work, role, "a member lost their key")
        rolekeys.rotate_role_key(work, role, reason)


def list_people(ledger: Ledger, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Everyone registered: pseudonymous ids, kind, roles, active; with ``actor``, their names
    beside the ids where the actor may read them (``Pip Evans (sb-…)``), else the ids alone.

    Staff, their roles and whether they are active come from the registry
    replayed from signed entries; subjects from the id directory.
    """
    registry = ledger.registry()
    rows = [
        {"id": s.staff_id, "kind": "staff", "roles": ",".join(s.roles), "active": s.active}
        for s in registry.staff.values()
    ]
    with ledger.engine.connect() as conn:
        subjects = conn.execute(select(actors).where(actors.c.kind != "staff")).all()
    rows += [{"id": r.actor_id, "kind": r.kind, "roles": "", "active": True} for r in subjects]
    rows = sorted(rows, key=lambda r: (r["kind"], r["id"]))
    if actor is not None:
        named = labels(ledger, actor, {str(r["id"]) for r in rows})
        rows = [{"id": r["id"], "name": named.get(str(r["id"]), str(r["id"])),
                 **{k: v for k, v in r.items() if k != "id"}} for r in rows]
    return rows


def list_keys(ledger: Ledger) -> list[dict[str, Any]]:
    """Every registered key with its owner, status and whether a reset set it."""
    registry = ledger.registry()
    return [
        {
            "key_id": k.key_id,
            "owner": k.owner,
            "registered_at_entry": k.registered_leaf,
            "status": "active" if k.active else "revoked",
            "revoked_at_entry": k.revoked_leaf,
            "reset_by": f"{k.reset['proposed_by']}+{k.reset['approved_by']}" if k.reset else "",
            "public_key": k.public_key,
        }
        for k in sorted(registry.keys.values(), key=lambda k: (k.owner, k.registered_leaf))
    ]


def read_details(ledger: Ledger, actor: Actor, person_id: str, reason: str) -> dict[str, Any]:
    """A person's decrypted details, if the actor's roles may read them.

    The read is recorded in the access log with ``reason``.
    """
    reason = require_text("reason", reason, 2000)
    person_id = resolve(ledger, actor, person_id)
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
                family = [f"{r['relation']}: {r['id']}" for r in getattr(person, "relations", [])]
                return {"id": person_id, **person.details, **({"family": family} if family else {})}
    raise NotFound(f"no person {person_id!r}", "`ledger people list` shows them")
