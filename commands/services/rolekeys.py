"""Reader-role keys inside a unit: create, give, take back, rotate.

Each new key generation is published by a signed ``ReaderRole`` entry before
anything is wrapped to it, and its private half is sealed only to the role's
members, the recovery key and the Headteacher role's custody: public-key work
that never needs the role's old private key. Giving the role to someone needs
a granter who holds every generation (a member, or the Headteacher).
"""

from __future__ import annotations

from sqlalchemy import select

from ledger import keystore, signed_records
from ledger.domain.keys import ReaderRole, reader_role_id
from ledger.errors import NotFound, NotPermitted, RecordErased, RuleViolation, VerificationFailed
from ledger.keystore import KeyRing
from ledger.roles import CUSTODIAN
from ledger.schema import data_keys, key_wraps
from ledger.store import Unit


def is_reader_role(work: Unit, role: str) -> bool:
    """Whether ``role`` holds a reader key under the table in force."""
    perms = work.registry.permissions
    return perms is not None and role in perms.reader_roles()


def create_role_key(work: Unit, role: str, reason: str, granter: KeyRing | None = None) -> bytes:
    """Make and publish ``role``'s first key; returns its private half (kept in the unit).

    Earlier records of the role's classes that ``granter`` can open are wrapped
    to it too (they were written before the role had a key). A new Headteacher
    key also takes into custody every other role key the granter holds.
    """
    private, public = keystore.new_role_epoch(work.conn, work.registry, role, 1)
    work.save(ReaderRole.create(role, public, reason))
    work.ctx.role_privates[role] = private
    if granter is not None:
        _catch_up(work, role, public, granter)
        if role == CUSTODIAN:
            for other in work.registry.role_keys:
                if other == role:
                    continue
                for pub, key in granter.role_keys(work.conn, work.registry, other).items():
                    epoch = next(e.epoch for e in work.registry.epochs(other) if e.public_key == pub)
                    keystore.seal_role_key(work.conn, other, epoch, keystore.CUSTODY, key, public)
    return private


def rotate_role_key(work: Unit, role: str, reason: str) -> None:
    """Publish ``role``'s next key generation, sealed to its members as the registry now says."""
    registry = work.registry
    current = registry.current_epoch(role)
    if current is None:
        return
    private, public = keystore.new_role_epoch(work.conn, registry, role, current.epoch + 1)
    record = work.get(ReaderRole, reader_role_id(role), "reader role", redacted=True)
    record.rotate(public, reason)
    work.save(record)
    registry = work.registry  # the unit's registry now holds the new generation
    for member in registry.members(role):
        fact = registry.current_key(member)
        if fact is not None:
            keystore.seal_role_key(work.conn, role, current.epoch + 1, member, private,
                                   bytes.fromhex(fact.agreement_key))
    perms = registry.permissions
    recipient = f"role:{role}"
    wrapped_already = set(work.conn.execute(select(key_wraps.c.key_id).where(
        key_wraps.c.recipient == recipient,
        key_wraps.c.key_id.in_([key_id for _, key_id, _ in work.ctx.record_keys.values()]))).scalars())
    for record_class, key_id, data_key in work.ctx.record_keys.values():
        # keys made in this unit while the role waited for its new key get it; a key made
        # before keeps the generation its earlier entries were wrapped to
        if perms is not None and role in perms.readers_of(record_class) and key_id not in wrapped_already:
            keystore.add_wrap(work.conn, key_id, data_key, recipient, public)


def give_role(work: Unit, role: str, staff_id: str, granter: KeyRing, reason: str) -> None:
    """Seal every generation of ``role``'s key to ``staff_id`` (creating the first one if needed)."""
    if not is_reader_role(work, role):
        return
    key = work.registry.current_key(staff_id)
    if key is None:
        raise NotFound(f"{staff_id} has no active key", "ask the IT manager to propose a key reset for them")
    agreement = bytes.fromhex(key.agreement_key)
    if work.registry.current_epoch(role) is None:
        private = create_role_key(work, role, reason, granter)
        keystore.seal_role_key(work.conn, role, 1, staff_id, private, agreement)
        return
    keystore.give_role(work.conn, work.registry, role, staff_id, agreement, granter)


def take_roles(work: Unit, lost: list[str], staff_id: str, reason: str) -> None:
    """Delete ``staff_id``'s copies of the ``lost`` roles' keys and give every role they could open
    a new key they never had.

    Which roles need a new key is the registry's answer (``rotation_due``):
    each reader role lost and, when a Headteacher goes, every reader role, whose
    keys the Headteacher role kept in custody. The Headteacher key is replaced
    first, so the others' new keys go into a custody the leaver cannot open.
    Only someone who may read what a role reads may make its new key (a member
    of the role, or a Headteacher): anyone else is refused here, with nothing
    written, before a key could be generated in their process.
    """
    for role in lost:
        if is_reader_role(work, role):
            keystore.take_role(work.conn, role, staff_id)
    registry = work.registry
    due = [role for role in registry.replaced_when_gone(lost) if role in registry.rotation_due]
    for role in due:
        require_rotator(work, role, f"{staff_id} loses access to it")
    for role in due:
        rotate_role_key(work, role, reason)


def require_rotator(work: Unit, role: str, why: str) -> None:
    """Refuse, before any key is made, unless the acting person may make ``role``'s next key."""
    held = work.registry.roles_of(work.ctx.pair.actor_id if work.ctx.pair else "")
    if not (role in held or "headteacher" in held or (role == "admin" and "admin" in held)):
        raise RuleViolation(
            f"the {role} reader key must be replaced when {why}, and only a member of {role} "
            "or a Headteacher may make that key",
            f"ask the Headteacher (or another {role}) to run this command",
        )


def _catch_up(work: Unit, role: str, public: bytes, granter: KeyRing) -> None:
    """Wrap to ``role``'s first key the earlier keys of the classes it reads that ``granter`` can open.

    The ``data_keys`` rows only propose: each key is wrapped when the entries of the record it is
    filed under, checked against their signers' keys, were written with it and make the record one
    of those classes. Otherwise a database user who relabelled a safeguarding record's key as a
    class the role reads would have it handed to the role; such a row is refused, naming it, and
    nothing is written.
    """
    perms = work.registry.permissions
    if perms is None:
        return
    classes = [c for c in perms.table["readers"] if role in perms.readers_of(c)]
    recipient = f"role:{role}"
    wrapped_already = select(key_wraps.c.key_id).where(key_wraps.c.recipient == recipient)
    rows = work.conn.execute(
        select(data_keys.c.key_id, data_keys.c.record_id).where(
            data_keys.c.record_class.in_(classes),
            data_keys.c.parent_key_id.is_(None),
            data_keys.c.destroyed_at.is_(None),
            data_keys.c.key_id.not_in(wrapped_already),
        )
    ).all()
    events = work.ledger.app.events_table
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        signed = signed_records.read(work.conn, events, work.registry, sorted({str(r) for _, r in chunk}))
        for key_id, record_id in chunk:
            facts = signed[str(record_id)]
            if str(key_id) not in facts.keys:
                found = "were not written with it"
            elif facts.record_class not in classes:
                found = f"make it a {facts.record_class} record"
            else:
                found = ""
            if found:
                raise VerificationFailed(
                    f"data key {key_id} is filed under record {record_id} as a record {role} reads, but that "
                    f"record's signed entries {found} (data_keys row altered?): giving {role} its first key "
                    "would hand it a key it may not have", signed_records.HINT)
            try:
                key = granter.data_key(work.conn, key_id)
            except (NotPermitted, RecordErased):
                continue
            keystore.add_wrap(work.conn, key_id, key, recipient, public)


#: Records whose entries are read and checked per statement.
CHUNK = 500
