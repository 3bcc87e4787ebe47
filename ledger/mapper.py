"""The envelope as an ``eventsourcing`` Mapper.

Writing: each domain event becomes a signed envelope. Standard fields
(``record_class``, ``subjects``, ``occurred_at``) and the event class's
``clear_fields`` are lifted into the clear header; everything else is
encrypted under the record's data key. The actor's permission to append the
event type is checked here, so no write path can skip it.

Reading: the envelope is parsed, its body checked and decrypted with the
reader's key ring, and the lifted fields put back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from sqlalchemy import Connection, Table, select

from ledger import envelope, keystore, roles
from ledger.errors import InvalidInput, NotPermitted, RecordErased, RuleViolation, VerificationFailed
from ledger.identity import KeyPair
from ledger.registry import Denied, NotAWriter, Registry, is_registry_event as registry_changes
from ledger.roles import Permissions

LIFTED = ("record_class", "subjects", "occurred_at")


@dataclass
class UnitContext:
    """Who is acting and on which connection, for one unit of work.

    A writing unit holds the registry replayed from signed entries (checked
    against the latest signed checkpoint), the tree size it started at (it
    holds the write lock, so the leaves it adds are known in advance) and the
    envelopes it produced, which the sealer seals without reading them back.
    """

    ledger_id: str
    conn: Connection
    pair: KeyPair | None
    keyring: keystore.KeyRing | None
    now: str
    registry: Registry | None = None
    registry_shared: bool = False
    registry_changed: bool = False
    first_leaf: int = 0
    produced: list[envelope.Envelope] = field(default_factory=list)
    batch_key: tuple[str, bytes] | None = None
    allow_redacted: bool = False
    record_keys: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    case_readers: dict[str, dict[str, bytes]] = field(default_factory=dict)
    role_privates: dict[str, bytes] = field(default_factory=dict)
    events: Table | None = None
    staged_keys: keystore.StagedKeys = field(default_factory=keystore.StagedKeys)
    #: Whether this unit holds the write lock (taken as it began, see ``Ledger.unit``).
    write_locked: bool = False
    #: Statements to send with the sealer's inserts (PostgreSQL: the recorder's ``NOTIFY``).
    after_insert: list[str] = field(default_factory=list)

    @property
    def next_leaf(self) -> int:
        """The leaf index the next entry of this unit will get."""
        return self.first_leaf + len(self.produced)

    def checked_registry(self) -> Registry:
        """The unit's registry (writing units only)."""
        if self.registry is None:
            raise NotPermitted("this command cannot write: it holds no checked registry")
        return self.registry

    def permissions(self) -> Permissions:
        """The permission table in force for this writing unit (from its checked registry)."""
        perms = self.checked_registry().permissions
        if perms is None:
            raise RuleViolation("no permission table is in force", "the ledger was not set up by `ledger init`")
        return perms

    def data_key_for(self, record_id: str, record_class: str | None, new: bool = False) -> tuple[str, str, bytes]:
        """(record class, key id, key) to encrypt a new entry of ``record_id``.

        Reuses the record's newest key when this actor can open it and it is
        still wrapped to exactly the readers a new key would get now; otherwise
        (a new record, an append by someone who may not read it, a reader role
        whose key was replaced, an investigator taken off the case) creates a
        new key for the record. ``new`` (the record's first entry) skips looking
        for keys that cannot exist yet.
        """
        if record_id in self.record_keys:
            return self.record_keys[record_id]
        registry = self.checked_registry()
        cls = (None if new else self._signed_class(registry, record_id)) or record_class
        if cls is None:
            raise InvalidInput(f"record {record_id} has no record class")
        perms = registry.permissions or roles.Permissions()
        if not perms.knows_class(cls):
            raise InvalidInput(f"unknown record class {cls!r}")
        people = self.case_readers.get(record_id)
        key = None
        if self.keyring is not None and not new and self.batch_key is None:
            for key_id in reversed(keystore.keys_of_record(self.conn, record_id)):
                if not keystore.is_current(self.conn, registry, key_id, cls, people):
                    continue
                try:
                    key = (key_id, self.keyring.data_key(self.conn, key_id))
                    break
                except (NotPermitted, RecordErased):
                    continue
        if key is None:
            key = keystore.new_data_key(self.conn, registry, record_id, cls, self.now, self.batch_key, people,
                                          staged=self.staged_keys)
        self.record_keys[record_id] = (cls, key[0], key[1])
        return self.record_keys[record_id]

    def _signed_class(self, registry: Registry, record_id: str) -> str | None:
        """The class of an existing record, from its first entry as its signer signed it.

        Not from ``data_keys``: whoever can edit that row would choose who reads
        what is written next. (Without the event table, as in a reading unit, the row.)
        """
        if self.events is None:
            return keystore.record_class_of(self.conn, record_id)
        row = self.conn.execute(select(self.events.c.originator_version, self.events.c.topic, self.events.c.state)
                                .where(self.events.c.originator_id == uuid.UUID(record_id))
                                .order_by(self.events.c.originator_version).limit(1)).first()
        if row is None:
            return None
        sealed = envelope.parse(bytes(row.state))
        check_signed(sealed, record_id, int(row.originator_version), str(row.topic), registry)
        return str(sealed.header["record_class"])


unit: ContextVar[UnitContext] = ContextVar("ledger_unit")


class EnvelopeMapper(Mapper[uuid.UUID]):
    """Maps domain events to signed, encrypted envelopes and back."""

    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        ctx = unit.get()
        if ctx.pair is None:
            raise NotPermitted("this command cannot write: no identity is unlocked")
        registry = ctx.checked_registry()
        topic = get_topic(type(domain_event))
        name = roles.event_name(topic)
        state = dict(vars(domain_event))
        aggregate_id = str(state.pop("originator_id"))
        version = state.pop("originator_version")
        state.pop("timestamp")
        lifted = {k: state.pop(k) for k in LIFTED if k in state}
        clear = getattr(type(domain_event), "clear_fields", ())
        claims = {k: state.pop(k) for k in clear}
        header = {
            "ledger": ctx.ledger_id,
            "aggregate": aggregate_id,
            "version": version,
            "topic": topic,
            "class_version": getattr(type(domain_event), "class_version", 1),
            "recorded_at": ctx.now,
            "occurred_at": lifted.get("occurred_at"),
            "actor": ctx.pair.actor_id,
            "actor_key": ctx.pair.key_id,
            "claims": claims,
            "lifted": sorted(lifted),
        }
        problem = registry.check(header, ctx.next_leaf)
        if problem is None:  # the record class is part of what the rules judge (who assigns a case)
            record_class, key_id, data_key = ctx.data_key_for(aggregate_id, lifted.get("record_class"),
                                                              new=version == 1)
            header["record_class"] = record_class
            header["subjects"] = list(lifted.get("subjects") or [])
            problem = registry.check(header, ctx.next_leaf)
        if isinstance(problem, NotAWriter):
            perms = registry.permissions or roles.Permissions()
            allowed = ", ".join(r for r in perms.writers_of(name) if r != roles.SELF) or "nobody (its owner only)"
            raise NotPermitted(f"{ctx.pair.actor_id} may not record an entry of this kind ({in_words(name)})",
                               f"only these roles may: {allowed}")
        if problem is not None:
            raise (NotPermitted if isinstance(problem, Denied) else RuleViolation)(str(problem))
        sealed = envelope.seal(header, state, key_id, data_key, ctx.pair.signing_key)
        if registry_changes(topic):
            if ctx.registry_shared:
                ctx.registry = registry = registry.copy()
                ctx.registry_shared = False
            registry.apply(sealed.header, ctx.next_leaf)
            ctx.registry_changed = True
        ctx.produced.append(sealed)
        return StoredEvent(
            originator_id=uuid.UUID(aggregate_id),
            originator_version=version,
            topic=topic,
            state=sealed.to_bytes(),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        ctx = unit.get()
        sealed = envelope.parse(stored_event.state)
        header = sealed.header
        if ctx.registry is not None:
            check_signed(sealed, str(stored_event.originator_id), stored_event.originator_version,
                          stored_event.topic, ctx.registry)
        cls = resolve_topic(stored_event.topic)
        try:
            if ctx.keyring is None:
                raise NotPermitted("no reader key is unlocked")
            data_key = ctx.keyring.data_key(ctx.conn, header["data_key"])
            state = envelope.open_body(sealed, data_key)
        except (NotPermitted, RecordErased):
            if not ctx.allow_redacted:
                raise
            state = {f.name: None for f in dataclasses.fields(cls)}
            if "originator_topic" in state:  # a Created event: the aggregate's topic
                state["originator_topic"] = stored_event.topic.rsplit(".", 1)[0]
        for name in header["lifted"]:
            state[name] = header[name]
        state.update(header["claims"])
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        state["timestamp"] = dt.datetime.fromisoformat(header["recorded_at"])
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


def check_signed(sealed: envelope.Envelope, aggregate: str, version: int, topic: str, registry: Registry) -> None:
    """Refuse to act on a stored entry its signer did not sign as it is, or that sits in another row.

    A writing unit decides from the records it loads (who a case is shared
    with, what a record's state allows), so those entries must be the ones
    their signers signed: checked against the key the registry gives the signer
    (revoked keys included, for what they signed before), not taken on trust
    from rows anyone with the database can edit.
    """
    header = sealed.header
    name = f"{roles.event_name(topic)} v{version} of record {aggregate}"
    hint = "nothing was written; run `ledger verify --trust trust.json` and restore the row from a backup"
    if (header["aggregate"], header["version"], header["topic"]) != (aggregate, version, topic):
        raise VerificationFailed(f"the stored entry {name} belongs to another record or version (moved?)", hint)
    actor, key_id = str(header["actor"]), str(header["actor_key"])
    if actor == roles.RECOVERY:
        public = registry.recovery_signing_public()
    else:
        fact = registry.keys.get(key_id)
        public = fact.public if fact is not None and fact.owner == actor else None
    if public is None:
        raise VerificationFailed(f"the stored entry {name} is signed by key {key_id}, which the registry does not "
                                 f"give to {actor}", hint)
    try:
        envelope.verify_signature(sealed, public)
    except VerificationFailed:
        raise VerificationFailed(f"the stored entry {name} does not match its signature: it was altered", hint) from None


def in_words(name: str) -> str:
    """An event's name as a person reads it: ``ClosureDays.Set`` -> ``closure days: set``."""
    return ": ".join(re.sub(r"(?<!^)(?=[A-Z])", " ", part).lower() for part in name.split(".") if part)
