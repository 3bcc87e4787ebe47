"""Data keys, their wraps, and reader-role keys: ciphertext stores checked against the registry.

A data key is never stored in clear. Each is wrapped, for one record, to the
current key of every role allowed to read the record's class and to the
offline recovery key (recipient ``role:<name>`` / ``recovery``), to one person
for a case they were assigned (``actor:<id>``), or under a batch key
(``parent:<key id>``) for bulk imports. Every wrap row names the exact public
key it is sealed to (``recipient_key``), and the write path takes those public
keys only from the registry replayed from signed entries, never from a row.

A reader role's key has generations (epochs), each published by a signed
``ReaderRole.KeyCreated``/``KeyRotated`` entry. Its private half is stored sealed to each
member, to the recovery key and (for every role but the Headteacher's) to the
Headteacher role, which keeps every other role's keys in custody. A member
holds every epoch; a leaver keeps only the epochs they had, and the role gets
a new one before anything new is wrapped to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, select, update

from ledger import batch, crypto
from ledger.errors import KeyMaterialMissing, NotPermitted, RecordErased, RuleViolation
from ledger.identity import KeyPair
from ledger.registry import Registry
from ledger.roles import CUSTODIAN, RECOVERY
from ledger.schema import data_keys, key_wraps, role_members

CUSTODY = f"role:{CUSTODIAN}"


def _context(key_id: str, recipient: str) -> bytes:
    return f"data key {key_id} for {recipient}".encode()


def _role_context(role: str, epoch: int, holder: str) -> bytes:
    return f"role key {role}#{epoch} for {holder}".encode()


@dataclass(frozen=True)
class Recipient:
    """Someone a data key is wrapped to: a recipient name and the public key it is sealed to."""

    name: str
    public_key: bytes


def recipients_for(registry: Registry, record_class: str, people: dict[str, bytes] | None = None) -> list[Recipient]:
    """Who a new key of ``record_class`` is wrapped to now, from the registry only.

    The current epoch of each reader role of the class under the table in
    force, the recovery key, and ``people`` (actor id -> X25519 key) for an
    assigned case. A reader role still waiting for a new key after a member
    left is left out (the leaver must not read anything new); its next key
    generation is given what was written meanwhile.
    """
    perms = registry.permissions
    if perms is not None and not perms.knows_class(record_class):
        raise RuleViolation(f"the permission table in force does not say who reads {record_class!r} records")
    if perms is None and registry.bootstrap is None:
        raise RuleViolation("no permission table is in force", "the ledger was not set up by `ledger init`")
    recovery = registry.recovery_public()
    if recovery is None:
        raise RuleViolation("the recovery key was never published", "the ledger was not set up by `ledger init`")
    found = [Recipient(RECOVERY, recovery)]
    for role in perms.readers_of(record_class) if perms else ():
        if role in registry.rotation_due:
            continue  # its key is still one a leaver holds; the next generation gets the key instead
        epoch = registry.current_epoch(role)
        if epoch is not None:
            found.append(Recipient(f"role:{role}", bytes.fromhex(epoch.public_key)))
    found += [Recipient(f"actor:{who}", key) for who, key in sorted((people or {}).items())]
    return found


@dataclass
class StagedKeys:
    """New data keys and their wraps waiting to be written in one statement per table.

    A writing unit stages the keys its entries are encrypted under and writes them
    (:meth:`flush`) in the same transaction, just before the entries themselves, so
    an import of 20,000 alerts costs two inserts for its keys instead of 40,000.
    """

    keys: list[dict[str, object]] = field(default_factory=list)
    wraps: list[dict[str, object]] = field(default_factory=list)

    def flush(self, conn: Connection) -> None:
        """Insert every staged key and wrap (nothing when none is staged)."""
        batch.insert_all(conn, [(data_keys, self.keys), (key_wraps, self.wraps)])
        self.keys, self.wraps = [], []


def new_data_key(
    conn: Connection, registry: Registry, record_id: str, record_class: str, now: str,
    parent: tuple[str, bytes] | None = None, people: dict[str, bytes] | None = None,
    staged: StagedKeys | None = None,
) -> tuple[str, bytes]:
    """Create and store (wrapped) a fresh data key for ``record_id``.

    Without ``parent`` the key is wrapped to :func:`recipients_for`; with
    ``parent`` (a batch key id and key) it is AES-KW wrapped under that key only.
    With ``staged`` the rows are left there for the unit to write with its entries
    (in the same transaction); otherwise they are written now.
    """
    key_id = "dk" + uuid.uuid4().hex
    key = crypto.random_key()
    rows: list[dict[str, object]]
    if parent:
        rows = [{"key_id": key_id, "recipient": f"parent:{parent[0]}", "recipient_key": parent[0],
                 "wrapped": crypto.wrap_under(parent[1], key)}]
    else:
        rows = [
            {"key_id": key_id, "recipient": r.name, "recipient_key": r.public_key.hex(),
             "wrapped": crypto.seal_to(r.public_key, key, _context(key_id, r.name))}
            for r in recipients_for(registry, record_class, people)
        ]
    target = staged if staged is not None else StagedKeys()
    target.keys.append({"key_id": key_id, "record_id": record_id, "record_class": record_class,
                        "parent_key_id": parent[0] if parent else None, "created_at": now})
    target.wraps.extend(rows)
    if staged is None:
        target.flush(conn)
    return key_id, key


def is_current(conn: Connection, registry: Registry, key_id: str, record_class: str,
               people: dict[str, bytes] | None = None) -> bool:
    """Whether ``key_id`` is wrapped to exactly the readers a new key would get now.

    A key made before a reader role got a new key (someone left), or shared with
    an investigator no longer on the case, is not reused for new entries.
    """
    retired = conn.execute(select(data_keys.c.retired_at).where(data_keys.c.key_id == key_id)).scalar_one_or_none()
    if retired:
        return False
    try:
        wanted = {(r.name, r.public_key.hex()) for r in recipients_for(registry, record_class, people)}
    except RuleViolation:
        return False
    have = {(r, k) for r, k in conn.execute(
        select(key_wraps.c.recipient, key_wraps.c.recipient_key).where(key_wraps.c.key_id == key_id))}
    batch = record_class == "monitoring" and len(have) == 1 and next(iter(have))[0].startswith("parent:")
    return have == wanted or batch  # an import batch key wraps only alerts, read by those who read monitoring


def add_wrap(conn: Connection, key_id: str, key: bytes, recipient: str, public_key: bytes) -> None:
    """Wrap an existing data key to one more recipient (replacing an older wrap to them)."""
    conn.execute(delete(key_wraps).where(key_wraps.c.key_id == key_id, key_wraps.c.recipient == recipient))
    conn.execute(insert(key_wraps).values(
        key_id=key_id, recipient=recipient, recipient_key=public_key.hex(),
        wrapped=crypto.seal_to(public_key, key, _context(key_id, recipient)),
    ))


def retire(conn: Connection, record_id: str, now: str) -> None:
    """Never use the record's current keys for new entries again (someone lost access to them)."""
    conn.execute(update(data_keys).where(data_keys.c.record_id == record_id, data_keys.c.retired_at.is_(None))
                 .values(retired_at=now))


def grant_to_actor(conn: Connection, key_id: str, key: bytes, actor_id: str, agreement_key: bytes) -> None:
    """Wrap one data key to one person (an investigator given a case)."""
    add_wrap(conn, key_id, key, f"actor:{actor_id}", agreement_key)


def keys_of_record(conn: Connection, record_id: str) -> list[str]:
    """Ids of the record's live (not destroyed) data keys, oldest first."""
    rows = conn.execute(
        select(data_keys.c.key_id)
        .where(data_keys.c.record_id == record_id, data_keys.c.destroyed_at.is_(None))
        .order_by(data_keys.c.created_at, data_keys.c.key_id)
    )
    return [r for (r,) in rows]


def record_class_of(conn: Connection, record_id: str) -> str | None:
    """The record class a record was created with, or None for a new record."""
    return conn.execute(
        select(data_keys.c.record_class).where(data_keys.c.record_id == record_id).limit(1)
    ).scalar_one_or_none()


# -- reader-role keys ---------------------------------------------------------


def new_role_epoch(conn: Connection, registry: Registry, role: str, epoch: int) -> tuple[bytes, bytes]:
    """Make epoch ``epoch`` of ``role``'s key: (private, public).

    Its private half is sealed at once to the recovery key and, for every role
    but the Headteacher's, into the Headteacher role's custody; members are
    added by :func:`seal_role_key`. The caller publishes the public half.
    """
    private = crypto.new_agreement_key()
    recovery = registry.recovery_public()
    if recovery is None:
        raise RuleViolation("the recovery key was never published", "the ledger was not set up by `ledger init`")
    seal_role_key(conn, role, epoch, RECOVERY, private, recovery)
    custodian = registry.current_epoch(CUSTODIAN)
    if role != CUSTODIAN and CUSTODIAN in registry.rotation_due:
        raise RuleViolation(
            f"the {role} reader key cannot be replaced while the Headteacher key waits to be replaced "
            "(a Headteacher who left still holds it)",
            "replace the headteacher key first: `ledger people rotate-role-key headteacher --reason ...`",
        )
    if role != CUSTODIAN and custodian is not None:
        seal_role_key(conn, role, epoch, CUSTODY, private, bytes.fromhex(custodian.public_key))
    return private, crypto.agreement_public_key(private)


def seal_role_key(conn: Connection, role: str, epoch: int, holder: str, private: bytes, to: bytes) -> None:
    """Store epoch ``epoch`` of ``role``'s private key sealed to ``holder``'s X25519 key ``to``."""
    conn.execute(delete(role_members).where(
        role_members.c.role == role, role_members.c.epoch == epoch, role_members.c.holder == holder))
    conn.execute(insert(role_members).values(
        role=role, epoch=epoch, holder=holder, sealed_to=to.hex(),
        wrapped=crypto.seal_to(to, private, _role_context(role, epoch, holder)),
    ))


def give_role(conn: Connection, registry: Registry, role: str, actor_id: str, agreement_key: bytes,
              granter: KeyRing) -> None:
    """Seal every epoch of ``role``'s key to a new member; the granter must hold them all."""
    privates = granter.role_keys(conn, registry, role)
    for epoch in registry.epochs(role):
        private = privates.get(epoch.public_key)
        if private is None:
            raise RuleViolation(
                f"{granter.actor_id} does not hold the {role} reader key (generation {epoch.epoch}), "
                f"so cannot give it to {actor_id}",
                f"ask a current {role} member or the Headteacher to grant the role",
            )
        seal_role_key(conn, role, epoch.epoch, actor_id, private, agreement_key)


def take_role(conn: Connection, role: str, holder: str) -> None:
    """Delete every copy of ``role``'s keys held by ``holder``."""
    conn.execute(delete(role_members).where(role_members.c.role == role, role_members.c.holder == holder))


@dataclass
class KeyRing:
    """What one unlocked person (or the recovery key) can open.

    Role keys and data keys are unwrapped lazily and cached for the session.
    An opened role key is only used when its public half is one the registry
    published for that role.
    """

    actor_id: str
    agreement_private: bytes
    is_recovery: bool = False
    _roles: dict[str, dict[str, bytes]] = field(default_factory=dict)
    _data_keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def for_pair(cls, pair: KeyPair) -> KeyRing:
        """The key ring of an unlocked actor key."""
        return cls(pair.actor_id, pair.agreement_private)

    @classmethod
    def for_recovery(cls, recovery_private: bytes) -> KeyRing:
        """The key ring of the offline recovery key (reads everything)."""
        return cls(RECOVERY, recovery_private, is_recovery=True)

    @property
    def holder(self) -> str:
        """The ``holder`` name of this ring's own copies of role keys."""
        return RECOVERY if self.is_recovery else self.actor_id

    def role_keys(self, conn: Connection, registry: Registry | None, role: str) -> dict[str, bytes]:
        """Every epoch of ``role``'s private key this holder can open, by public key (hex)."""
        if role in self._roles:
            return self._roles[role]
        opened = self._open_copies(conn, role, self.holder, {self.agreement_public: self.agreement_private})
        if role != CUSTODIAN and not self.is_recovery:
            head = self.role_keys(conn, registry, CUSTODIAN)
            if head:
                opened.update(self._open_copies(conn, role, CUSTODY, head))
        if registry is not None:
            published = {e.public_key for e in registry.epochs(role)}
            opened = {pub: key for pub, key in opened.items() if pub in published}
        self._roles[role] = opened
        return opened

    @property
    def agreement_public(self) -> str:
        """This ring's own X25519 public key (hex)."""
        return crypto.agreement_public_key(self.agreement_private).hex()

    def _open_copies(self, conn: Connection, role: str, holder: str, privates: dict[str, bytes]) -> dict[str, bytes]:
        rows = conn.execute(
            select(role_members.c.epoch, role_members.c.sealed_to, role_members.c.wrapped)
            .where(role_members.c.role == role, role_members.c.holder == holder)
        ).all()
        opened: dict[str, bytes] = {}
        for epoch, sealed_to, wrapped in rows:
            private = privates.get(sealed_to)
            if private is None:
                continue
            try:
                key = crypto.open_sealed(private, wrapped, _role_context(role, int(epoch), holder))
            except crypto.CryptoError:
                continue
            opened[crypto.agreement_public_key(key).hex()] = key
        return opened

    def holds_role(self, conn: Connection, role: str, registry: Registry | None = None) -> bool:
        """Whether this holder can open some epoch of ``role``'s key."""
        return bool(self.role_keys(conn, registry, role))

    def forget(self) -> None:
        """Drop every cached role and data key (e.g. at sign-out)."""
        self._roles.clear()
        self._data_keys.clear()

    def data_key(self, conn: Connection, key_id: str) -> bytes:
        """Unwrap ``key_id``; NotPermitted when no wrap opens for this holder.

        RecordErased only when the key is marked destroyed by an erasure;
        callers showing that to a person check the signed erasure entry too.
        """
        if key_id in self._data_keys:
            return self._data_keys[key_id]
        rows = conn.execute(
            select(key_wraps.c.recipient, key_wraps.c.recipient_key, key_wraps.c.wrapped)
            .where(key_wraps.c.key_id == key_id)
        ).all()
        for recipient, recipient_key, wrapped in rows:
            key = self._try_open(conn, key_id, recipient, recipient_key, wrapped)
            if key is not None:
                self._data_keys[key_id] = key
                return key
        if not rows:
            destroyed = conn.execute(
                select(data_keys.c.destroyed_at).where(data_keys.c.key_id == key_id)).scalar_one_or_none()
            if destroyed:
                raise RecordErased(
                    "that record was erased: its content no longer exists",
                    "the erasure entry in the timeline says when and under which rule",
                )
            raise KeyMaterialMissing(f"data key {key_id} has no wraps left although no erasure destroyed it")
        raise NotPermitted(f"{self.actor_id} may not read records under data key {key_id}")

    def _try_open(self, conn: Connection, key_id: str, recipient: str, recipient_key: str, wrapped: bytes) -> bytes | None:
        kind, _, name = recipient.partition(":")
        try:
            if recipient == RECOVERY and self.is_recovery:
                return crypto.open_sealed(self.agreement_private, wrapped, _context(key_id, recipient))
            if kind == "actor" and name == self.actor_id and recipient_key == self.agreement_public:
                return crypto.open_sealed(self.agreement_private, wrapped, _context(key_id, recipient))
            if kind == "role" and not self.is_recovery:
                private = self.role_keys(conn, None, name).get(recipient_key)
                if private is None:  # a newer generation than this ring has seen: look again once
                    self._roles.pop(name, None)
                    if name != CUSTODIAN:
                        self._roles.pop(CUSTODIAN, None)
                    private = self.role_keys(conn, None, name).get(recipient_key)
                if private is not None:
                    return crypto.open_sealed(private, wrapped, _context(key_id, recipient))
            if kind == "parent":
                return crypto.unwrap_under(self.data_key(conn, name), wrapped)
        except (crypto.CryptoError, NotPermitted, RecordErased):
            return None
        return None
