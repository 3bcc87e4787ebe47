"""Each school's directory of pupils' names, for its own staff to pick a pupil by.

Kept current by the write paths that change who is in it: registering a pupil
lists them, registering a member of staff of a school admits them, a leaver is
withdrawn (their key wraps destroyed, the next entries under a new key). A
member of staff admitted after earlier entries were written is given those
entries' keys by the next person who can open them and writes to the
directory (the DSL, the Headteacher or SLT), or at once when they admit them.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from sqlalchemy import delete, func, select

from commands.services.access import record_access
from ledger import envelope, keystore
from ledger.domain.directory import SchoolDirectory, directory_record_id
from ledger.errors import NotFound, NotPermitted, RecordErased
from ledger.mapper import check_signed
from ledger.schema import key_wraps
from ledger.store import Actor, Ledger, Unit

#: Why a pick is recorded in the access log (the names shown are personal data).
PICK_REASON = "picked a pupil by name from the school's directory"


#: Entries after the last restatement before a writer who can read the directory restates it.
RESTATE_AFTER = 100


def load(work: Unit, school: str) -> SchoolDirectory | None:
    """``school``'s directory as far as the actor can open it (``withheld`` counts the rest), or None.

    Replayed from its latest ``Restated`` entry on (or its first), so a search
    opens one entry and at most :data:`RESTATE_AFTER` after it, not thousands.
    Each entry is checked against its signer's registered key first, and the record is refused
    if any of its entries was never sealed into the log.
    """
    record = directory_record_id(school)
    table = work.ledger.app.events_table
    where = table.c.originator_id == record
    start = work.conn.execute(select(func.max(table.c.originator_version)).where(
        where, table.c.topic == get_topic(SchoolDirectory.Restated))).scalar_one_or_none() or 1
    rows = work.conn.execute(select(table.c.originator_version, table.c.topic, table.c.state)
                             .where(where, table.c.originator_version >= start)
                             .order_by(table.c.originator_version)).all()
    if not rows:
        return None
    # Only the ledger seals: a row anyone wrote into the database with their own key (a pupil's
    # name pointed at another child, themselves admitted to another school) decides nothing.
    latest = work.conn.execute(select(func.max(table.c.originator_version)).where(where)).scalar_one()
    work.require_sealed(record, int(latest), f"directory of {school}")
    registry = work.ctx.registry or work.ledger.registry()
    mapper = work.ledger.app.mapper
    directory: SchoolDirectory | None = None
    work.ctx.allow_redacted = True
    try:
        for version, topic, state in rows:
            stored = StoredEvent(originator_id=record, originator_version=int(version), topic=str(topic),
                                 state=bytes(state))
            check_signed(envelope.parse(stored.state), str(record), stored.originator_version, stored.topic, registry)
            event: Any = mapper.to_domain_event(stored)  # a body this actor cannot open counts as withheld
            if directory is None:
                directory = (event.mutate(None) if isinstance(event, SchoolDirectory.Opened) else
                             SchoolDirectory.resume(record, int(version) - 1, str(event.school), event.timestamp))
                if isinstance(event, SchoolDirectory.Opened):
                    continue
            event.mutate(directory)
    finally:
        work.ctx.allow_redacted = False
    return directory


def _members(work: Unit, directory: SchoolDirectory) -> dict[str, bytes]:
    """Admitted staff still employed -> their current X25519 key, from the registry only."""
    people: dict[str, bytes] = {}
    for staff_id in directory.staff:
        key = work.registry.current_key(staff_id)
        fact = work.registry.staff.get(staff_id)
        if key is not None and fact is not None and fact.active:
            people[staff_id] = bytes.fromhex(key.agreement_key)
    return people


def _save(work: Unit, directory: SchoolDirectory) -> None:
    """Save ``directory``'s new entries wrapped to its members, then share older keys with newcomers."""
    people = _members(work, directory)
    work.ctx.case_readers[str(directory.id)] = people
    work.save(directory)
    given = _share(work, directory, people)
    if given:
        directory.record_sharing(given)
        work.save(directory)


def _share(work: Unit, directory: SchoolDirectory, people: dict[str, bytes]) -> list[str]:
    """Wrap every key of the directory this actor can open to each member who lacks it; who got one."""
    keyring = work.ctx.keyring
    given: set[str] = set()
    if keyring is None or not people:
        return []
    for key_id in keystore.keys_of_record(work.conn, str(directory.id)):
        have = {(str(r), str(k)) for r, k in work.conn.execute(
            select(key_wraps.c.recipient, key_wraps.c.recipient_key).where(key_wraps.c.key_id == key_id))}
        missing = [s for s, public in people.items() if (f"actor:{s}", public.hex()) not in have]
        if not missing:
            continue
        try:
            key = keyring.data_key(work.conn, key_id)
        except (NotPermitted, RecordErased):
            continue
        for staff_id in missing:
            keystore.grant_to_actor(work.conn, key_id, key, staff_id, people[staff_id])
            given.add(staff_id)
    return sorted(given)


def list_pupils(work: Unit, school: str, pupils: list[tuple[str, str, str | None]]) -> None:
    """List (or correct) pupils ``(id, name, year group)`` in ``school``'s directory, opening it if need be.

    The directory is loaded once; a writer who can read all of it restates it
    whole once :data:`RESTATE_AFTER` entries follow the last restatement.
    """
    directory = load(work, school) or SchoolDirectory.open(school)
    directory.list_pupils(pupils, RESTATE_AFTER)
    if directory.since_restated > RESTATE_AFTER and not directory.withheld:
        directory.restate()
    _save(work, directory)


def admit(work: Unit, school: str, staff_id: str) -> None:
    """Let ``staff_id`` pick pupils of ``school`` by name (idempotent)."""
    directory = load(work, school) or SchoolDirectory.open(school)
    if staff_id in directory.staff:
        return
    directory.admit(staff_id)
    _save(work, directory)


def withdraw(work: Unit, schools: list[str], staff_id: str, reason: str) -> list[str]:
    """Take ``staff_id`` out of every directory of ``schools`` that admits them; their wraps go.

    Returns the schools they were withdrawn from. The directory's current keys
    are retired, so what is listed from now on is under keys they never had.
    """
    left = []
    for school in schools:
        directory = load(work, school)
        if directory is None or staff_id not in directory.staff:
            continue
        directory.withdraw(staff_id, reason)
        record = str(directory.id)
        key_ids = keystore.keys_of_record(work.conn, record)
        work.conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(key_ids),
                                                  key_wraps.c.recipient == f"actor:{staff_id}"))
        keystore.retire(work.conn, record, work.now)
        work.ctx.case_readers[record] = _members(work, directory)
        work.save(directory)
        left.append(school)
    return left


def unlist_everywhere(work: Unit, subject_ids: list[str], reason: str) -> None:
    """Take these pupils out of every directory that lists them and this actor can read (the
    next restatement then leaves them out; entries written before still hold them)."""
    for school in work.registry.schools:
        directory = load(work, school)
        if directory is None or directory.withheld:
            continue
        listed = [s for s in subject_ids if s in directory.pupils]
        for subject_id in listed:
            directory.unlist(subject_id, reason)
        if listed:
            _save(work, directory)


def share(ledger: Ledger, actor: Actor, school: str) -> list[str]:
    """Give every member of ``school``'s directory the keys of entries written before they joined.

    Only someone who can open those keys can (the DSL, the Headteacher, SLT);
    the sharing is a signed entry naming who was given them. Returns them.
    """
    with ledger.unit(actor, write=True) as work:
        directory = load(work, school)
        if directory is None:
            raise NotFound(f"{school} has no directory yet", "it is opened when its first pupil is registered")
        if directory.withheld:
            raise NotPermitted(f"{actor.actor_id} cannot open every entry of the directory of {school}",
                               "the DSL, the Headteacher or SLT shares it")
        people = _members(work, directory)
        given = _share(work, directory, people)
        if given:
            directory.record_sharing(given)
            work.ctx.case_readers[str(directory.id)] = people
            work.save(directory)
        return given


def schools_of(work: Unit, actor_id: str, schools: list[str]) -> list[str]:
    """The schools whose directory admits ``actor_id`` (from signed claims)."""
    return [s for s in schools if (d := load(work, s)) is not None and actor_id in d.staff]


def log_pick(work: Unit, actor: Actor, schools: list[str], shown: list[str]) -> None:
    """Record that ``actor`` was shown these pupils' names from these schools' directories."""
    if shown:
        record_access(work, actor.actor_id, "read", [str(directory_record_id(s)) for s in schools], shown,
                      PICK_REASON)
