"""Data keys, their wraps, and role reader keys.

A data key is never stored in clear: each is wrapped to the X25519 key of
every role allowed to read its record class and to the offline recovery key
(recipient ``role:<name>`` / ``recovery``), to one person for a granted case
(``actor:<id>``), or under a batch key (``parent:<key id>``) for bulk imports.
Writing needs only public keys; reading needs a private key that opens one
of the wraps.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, select

from ledger import crypto, roles
from ledger.errors import NotPermitted, RecordErased, RuleViolation
from ledger.identity import KeyPair
from ledger.schema import data_keys, key_wraps, ledger_meta, role_keys, role_members

RECOVERY = "recovery"


def _context(key_id: str, recipient: str) -> bytes:
    return f"data key {key_id} for {recipient}".encode()


def _role_context(role: str, actor_id: str) -> bytes:
    return f"role key {role} for {actor_id}".encode()


def recovery_public_key(conn: Connection) -> bytes:
    """The offline recovery key's public half, stored at init."""
    value = conn.execute(
        select(ledger_meta.c.value).where(ledger_meta.c.name == "recovery_public_key")
    ).scalar_one()
    return bytes.fromhex(value)


def role_public_keys(conn: Connection) -> dict[str, bytes]:
    """Public reader keys of every role that has one."""
    rows = conn.execute(select(role_keys.c.role, role_keys.c.public_key))
    return {role: bytes.fromhex(pub) for role, pub in rows}


def new_data_key(
    conn: Connection, record_id: str, record_class: str, now: str, parent: tuple[str, bytes] | None = None
) -> tuple[str, bytes]:
    """Create and store (wrapped) a fresh data key for ``record_id``.

    Without ``parent`` the key is wrapped to the reader roles of
    ``record_class`` and the recovery key; with ``parent`` (a batch key id and
    key) it is AES-KW wrapped under that key only.
    """
    key_id = "dk" + uuid.uuid4().hex
    key = crypto.random_key()
    conn.execute(
        insert(data_keys).values(
            key_id=key_id,
            record_id=record_id,
            record_class=record_class,
            parent_key_id=parent[0] if parent else None,
            created_at=now,
        )
    )
    if parent:
        wraps = {f"parent:{parent[0]}": crypto.wrap_under(parent[1], key)}
    else:
        wraps = _wraps_for_class(conn, key_id, key, record_class)
    conn.execute(
        insert(key_wraps),
        [{"key_id": key_id, "recipient": r, "wrapped": w} for r, w in wraps.items()],
    )
    return key_id, key


def _wraps_for_class(conn: Connection, key_id: str, key: bytes, record_class: str) -> dict[str, bytes]:
    publics = role_public_keys(conn)
    wraps = {RECOVERY: crypto.seal_to(recovery_public_key(conn), key, _context(key_id, RECOVERY))}
    for role in roles.readers_of(record_class):
        if role in publics:
            recipient = f"role:{role}"
            wraps[recipient] = crypto.seal_to(publics[role], key, _context(key_id, recipient))
    return wraps


def grant_to_actor(conn: Connection, key_id: str, key: bytes, actor_id: str, agreement_key: bytes) -> None:
    """Wrap one data key to one person (an investigator given a case)."""
    recipient = f"actor:{actor_id}"
    conn.execute(delete(key_wraps).where(key_wraps.c.key_id == key_id, key_wraps.c.recipient == recipient))
    conn.execute(
        insert(key_wraps).values(
            key_id=key_id,
            recipient=recipient,
            wrapped=crypto.seal_to(agreement_key, key, _context(key_id, recipient)),
        )
    )


def keys_of_record(conn: Connection, record_id: str) -> list[str]:
    """Ids of the record's live (not destroyed) data keys, oldest first."""
    rows = conn.execute(
        select(data_keys.c.key_id)
        .where(data_keys.c.record_id == record_id, data_keys.c.destroyed_at.is_(None))
        .order_by(data_keys.c.created_at)
    )
    return [r for (r,) in rows]


def record_class_of(conn: Connection, record_id: str) -> str | None:
    """The record class a record was created with, or None for a new record."""
    return conn.execute(
        select(data_keys.c.record_class).where(data_keys.c.record_id == record_id).limit(1)
    ).scalar_one_or_none()


# -- role keys ---------------------------------------------------------------


def add_role_member(
    conn: Connection, role: str, actor_id: str, agreement_key: bytes, granter: KeyRing | None, now: str
) -> None:
    """Give ``actor_id`` the private key of reader role ``role``.

    The first member's grant creates the role key (its private half is wrapped
    to that member and the recovery key, then forgotten). Later grants need a
    granter who holds the role key, since only they can re-wrap it.
    """
    if role not in roles.READER_ROLES:
        return
    existing = conn.execute(select(role_keys.c.public_key).where(role_keys.c.role == role)).scalar_one_or_none()
    if existing is None:
        private = crypto.new_agreement_key()
        conn.execute(
            insert(role_keys).values(
                role=role, public_key=crypto.agreement_public_key(private).hex(), created_at=now
            )
        )
        conn.execute(
            insert(role_members).values(
                role=role,
                actor_id=RECOVERY,
                wrapped=crypto.seal_to(recovery_public_key(conn), private, _role_context(role, RECOVERY)),
            )
        )
        _add_custody(conn, role, private, granter)
        if granter is not None:
            _catch_up(conn, role, crypto.agreement_public_key(private), granter)
    else:
        if granter is None or not granter.holds_role(conn, role):
            who = f"a current {role} member" + (" or the Headteacher" if role != CUSTODIAN else "")
            raise RuleViolation(
                f"only {who} can add another {role}",
                f"the {role} reader key must be re-wrapped by someone who holds it: "
                f"ask {who} to run `ledger people grant-role`",
            )
        private = granter.role_private(conn, role)
    conn.execute(
        delete(role_members).where(role_members.c.role == role, role_members.c.actor_id == actor_id)
    )
    conn.execute(
        insert(role_members).values(
            role=role,
            actor_id=actor_id,
            wrapped=crypto.seal_to(agreement_key, private, _role_context(role, actor_id)),
        )
    )


CUSTODIAN = "headteacher"


def _add_custody(conn: Connection, role: str, private: bytes, granter: KeyRing | None) -> None:
    """Let the Headteacher's role re-wrap every other reader role's key.

    The Headteacher may read every record class, so holding the other roles'
    keys gives no extra reading; it means a role whose members cannot grant
    roles (posters) can still gain members, and a role whose only member lost
    their key can be restored without the offline recovery key.
    """
    publics = role_public_keys(conn)
    custodian = f"role:{CUSTODIAN}"
    if role != CUSTODIAN and CUSTODIAN in publics:
        conn.execute(insert(role_members).values(
            role=role, actor_id=custodian,
            wrapped=crypto.seal_to(publics[CUSTODIAN], private, _role_context(role, custodian)),
        ))
    if role == CUSTODIAN and granter is not None:
        for other in publics:
            if other != CUSTODIAN and granter.holds_role(conn, other):
                conn.execute(insert(role_members).values(
                    role=other, actor_id=custodian,
                    wrapped=crypto.seal_to(publics[CUSTODIAN], granter.role_private(conn, other),
                                           _role_context(other, custodian)),
                ))


def _catch_up(conn: Connection, role: str, role_public: bytes, granter: KeyRing) -> None:
    """Wrap to a new role key every earlier record of its classes the granter can open.

    Records written before a reader role had any member were wrapped only to
    the other roles and the recovery key; this gives the new role the ones
    its first granter can read. The rest stay readable through recovery.
    """
    classes = [c for c, readers in roles.READERS.items() if role in readers]
    recipient = f"role:{role}"
    wrapped_already = select(key_wraps.c.key_id).where(key_wraps.c.recipient == recipient)
    rows = conn.execute(
        select(data_keys.c.key_id).where(
            data_keys.c.record_class.in_(classes),
            data_keys.c.parent_key_id.is_(None),
            data_keys.c.key_id.not_in(wrapped_already),
        )
    ).all()
    for (key_id,) in rows:
        try:
            key = granter.data_key(conn, key_id)
        except NotPermitted:
            continue
        conn.execute(
            insert(key_wraps).values(
                key_id=key_id, recipient=recipient, wrapped=crypto.seal_to(role_public, key, _context(key_id, recipient))
            )
        )


def rewrap_role(conn: Connection, role: str, actor_id: str, private: bytes, agreement_key: bytes) -> None:
    """Re-wrap a role key a member already holds to their new key."""
    remove_role_member(conn, role, actor_id)
    conn.execute(
        insert(role_members).values(
            role=role,
            actor_id=actor_id,
            wrapped=crypto.seal_to(agreement_key, private, _role_context(role, actor_id)),
        )
    )


def remove_role_member(conn: Connection, role: str, actor_id: str) -> None:
    """Take away a member's copy of a role key."""
    conn.execute(delete(role_members).where(role_members.c.role == role, role_members.c.actor_id == actor_id))


@dataclass
class KeyRing:
    """What one unlocked person (or the recovery key) can open.

    Role keys and data keys are unwrapped lazily and cached for the session.
    """

    actor_id: str
    agreement_private: bytes
    is_recovery: bool = False
    _roles: dict[str, bytes | None] = field(default_factory=dict)
    _data_keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def for_pair(cls, pair: KeyPair) -> KeyRing:
        """The key ring of an unlocked actor key."""
        return cls(pair.actor_id, pair.agreement_private)

    @classmethod
    def for_recovery(cls, recovery_private: bytes) -> KeyRing:
        """The key ring of the offline recovery key (reads everything)."""
        return cls(RECOVERY, recovery_private, is_recovery=True)

    def role_private(self, conn: Connection, role: str) -> bytes:
        """This holder's copy of ``role``'s private key; NotPermitted if none."""
        if role not in self._roles:
            wrapped = conn.execute(
                select(role_members.c.wrapped).where(
                    role_members.c.role == role, role_members.c.actor_id == self.actor_id
                )
            ).scalar_one_or_none()
            opened = None
            if wrapped is not None:
                try:
                    opened = crypto.open_sealed(self.agreement_private, wrapped, _role_context(role, self.actor_id))
                except crypto.CryptoError:
                    opened = None
            if opened is None and role != CUSTODIAN:
                opened = self._through_custody(conn, role)
            self._roles[role] = opened
        private = self._roles[role]
        if private is None:
            raise NotPermitted(f"{self.actor_id} does not hold the {role} reader key")
        return private

    def _through_custody(self, conn: Connection, role: str) -> bytes | None:
        custodian = f"role:{CUSTODIAN}"
        wrapped = conn.execute(
            select(role_members.c.wrapped).where(role_members.c.role == role, role_members.c.actor_id == custodian)
        ).scalar_one_or_none()
        if wrapped is None or not self.holds_role(conn, CUSTODIAN):
            return None
        try:
            return crypto.open_sealed(self.role_private(conn, CUSTODIAN), wrapped, _role_context(role, custodian))
        except crypto.CryptoError:
            return None

    def holds_role(self, conn: Connection, role: str) -> bool:
        """Whether this holder can open ``role``'s private key."""
        try:
            self.role_private(conn, role)
        except NotPermitted:
            return False
        return True

    def data_key(self, conn: Connection, key_id: str) -> bytes:
        """Unwrap ``key_id``; NotPermitted when no wrap opens for this holder."""
        if key_id in self._data_keys:
            return self._data_keys[key_id]
        rows = conn.execute(
            select(key_wraps.c.recipient, key_wraps.c.wrapped).where(key_wraps.c.key_id == key_id)
        ).all()
        for recipient, wrapped in rows:
            key = self._try_open(conn, key_id, recipient, wrapped)
            if key is not None:
                self._data_keys[key_id] = key
                return key
        if not rows:
            raise RecordErased(
                "that record was erased: its content no longer exists",
                "the erasure entry in the timeline says when and under which rule",
            )
        raise NotPermitted(f"{self.actor_id} may not read records under data key {key_id}")

    def _try_open(self, conn: Connection, key_id: str, recipient: str, wrapped: bytes) -> bytes | None:
        kind, _, name = recipient.partition(":")
        try:
            if recipient == RECOVERY and self.is_recovery:
                return crypto.open_sealed(self.agreement_private, wrapped, _context(key_id, recipient))
            if kind == "actor" and name == self.actor_id:
                return crypto.open_sealed(self.agreement_private, wrapped, _context(key_id, recipient))
            if kind == "role":
                if not self.is_recovery and self.holds_role(conn, name):
                    private = self.role_private(conn, name)
                    return crypto.open_sealed(private, wrapped, _context(key_id, recipient))
            if kind == "parent":
                return crypto.unwrap_under(self.data_key(conn, name), wrapped)
        except (crypto.CryptoError, NotPermitted):
            return None
        return None
