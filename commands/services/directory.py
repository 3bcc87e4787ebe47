"""Finding people by name, picking a pupil, and naming people in listings.

Names exist only in encrypted bodies. Three doors, one matching rule (every
typed word starts a word of the name, case- and accent-insensitive):

- :func:`find`, for readers of people's records: pupils from every school's
  directory (one entry to open per school, see ``school_directory``), other
  people by opening their records; the names shown are recorded in the access log.
- :func:`pick_pupils`, for a member of staff reporting: the pupils of the
  schools whose directory admits them, name, id and year group only, logged too.
- :func:`resolve`, used by every command that takes a person: an id, or a name
  that names exactly one person this actor may see.

:func:`labels` puts names beside ids in listings for those who may read them.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from commands.services import school_directory
from commands.services.access import record_access
from commands.services.readside import ensure_current
from ledger.domain.base import require_text
from ledger.domain.directory import directory_record_id
from ledger.domain.people import SUBJECT_KINDS, StaffMember, Subject, staff_record_id, subject_record_id
from ledger.errors import InvalidInput, NotFound, NotPermitted, RecordErased
from ledger.store import Actor, Ledger, Unit
from projections.records import records

#: Most matches one search shows.
LIMIT = 50
SEARCH_REASON = "found by name to pick or open their record"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
#: What ``find`` and ``resolve`` may be asked for.
KINDS = SUBJECT_KINDS + ("staff",)


def fold(text: str) -> str:
    """Lower case without accents: ``Zoë`` -> ``zoe``."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matcher(query: str) -> Callable[[str], bool]:
    """A test of names against ``query`` (folded once): every typed word starts a word of the name."""
    typed = fold(query).split()

    def test(name: str) -> bool:
        words = fold(name).split()
        return bool(typed) and all(any(w.startswith(q) for w in words) for q in typed)

    return test


def matches(name: str, query: str) -> bool:
    """Whether every typed word starts some word of ``name`` (and something was typed)."""
    return matcher(query)(name)


def may_search(ledger: Ledger, actor: Actor) -> bool:
    """Whether ``actor``'s roles read subject records (and so may search them by name), under the
    permission table in force."""
    return bool(ledger.registry().roles_of(actor.actor_id) & set(ledger.permissions().readers_of("subject")))


def reads_staff(ledger: Ledger, actor: Actor) -> bool:
    """Whether ``actor``'s roles read staff records (their names), under the permission table in force."""
    return bool(ledger.registry().roles_of(actor.actor_id) & set(ledger.permissions().readers_of("staff")))


def label(name: str, person_id: str) -> str:
    """How a person is named to someone who may read the name: ``Pip Evans (sb-1a2b3c4d)``."""
    return f"{name} ({person_id})" if name else person_id


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")


def _school_matches(school: str | None, value: str) -> bool:
    return not school or fold(value) == fold(school)


def erased_subjects(work: Unit) -> set[str]:
    """Ids of subjects whose record was erased: their names are no longer shown, though the
    directory entries written before the erasure still hold them (docs/threat-model.md)."""
    return {str(a) for (a,) in work.conn.execute(select(records.c.alias).where(
        records.c.kind == "Subject", records.c.erased_at.is_not(None)))}


def _pupils_from_directories(work: Unit, schools: list[str], query: str, school: str | None,
                             ) -> tuple[list[dict[str, Any]], set[str], list[str]]:
    """(matching pupils, every pupil id the directories list, directories read)."""
    found, listed, read = [], set(), []
    wanted = matcher(query)
    erased = erased_subjects(work)
    for name in schools:
        directory = school_directory.load(work, name)
        if directory is None:
            continue
        read.append(name)
        listed |= set(directory.pupils)
        if not _school_matches(school, directory.school):
            continue
        found += [{"id": sid, **entry, "school": directory.school} for sid, entry in directory.pupils.items()
                  if (wanted(entry["name"]) or query == sid) and sid not in erased]
    return found, listed, read


def _open(work: Unit, cls: Any, record: uuid.UUID) -> Any:
    try:
        return work.get(cls, record, "person")
    except (NotPermitted, RecordErased, NotFound):
        return None


def _on_a_directory(ledger: Ledger, actor: Actor) -> bool:
    with ledger.unit(actor) as work:
        return bool(school_directory.schools_of(work, actor.actor_id, list(ledger.registry().schools)))


def _by_id(ledger: Ledger, actor: Actor, query: str, kind: str) -> list[dict[str, Any]]:
    """For someone on no school's directory who may not read records: the person whose id they typed."""
    with ledger.unit(actor) as work:
        exists = bool(ID_PATTERN.match(query)) and work.exists(subject_record_id(query))
        subject = work.get(Subject, subject_record_id(query), "subject", redacted=True) if exists else None
    if subject is None:
        raise NotPermitted(
            f"{actor.actor_id} may not read people's records, so cannot search them by name",
            f"no person has the id {query!r}: type the pupil's id (sb-…) from the class list, or ask the IT "
            "manager to record your school so you can pick its pupils by name",
        )
    if subject.kind != kind:
        raise InvalidInput(f"{query} is a {subject.kind}, not a {kind}")
    return [{"id": query, "kind": subject.kind, "name": "", "school": "", "year_group": "", "date_of_birth": ""}]


def find(ledger: Ledger, actor: Actor, query: str, kind: str | None = "pupil",
         school: str | None = None, reason: str = SEARCH_REASON, log: bool = True) -> list[dict[str, Any]]:
    """People of ``kind`` (any kind when None) whose name matches ``query``, for readers; logged
    (unless ``log`` is false: for a caller that shows nothing of what it found).

    Pupils come from the schools' directories; anyone else (and a pupil no
    directory lists) from their own record. Staff are searched only by those
    who read staff records. A reader who may not search by name is refused.
    """
    query = require_text("name", query, 200)
    reason = require_text("reason", reason, 2000)
    _check_kind(kind)
    staff_too = kind in (None, "staff") and reads_staff(ledger, actor)
    if kind == "staff" and not staff_too:
        raise NotPermitted(f"{actor.actor_id} may not read staff records, so cannot search staff by name",
                           "give the staff id; the Headteacher, SLT or the IT manager can find them by name")
    if not may_search(ledger, actor) and not staff_too:
        if kind in (None, "pupil") and _on_a_directory(ledger, actor):
            return [{"id": p["id"], "kind": "pupil", "name": p["name"], "school": p["school"],
                     "year_group": p["year_group"], "date_of_birth": ""}
                    for p in pick_pupils(ledger, actor, query, school, log)]
        return _by_id(ledger, actor, query, kind or "pupil")
    ensure_current(ledger)
    found: list[dict[str, Any]] = []
    records: list[str] = []
    with ledger.unit(actor, write=True) as work:
        if may_search(ledger, actor):
            found, records = _find_subjects(work, query, kind, school)
        if staff_too:
            for fact in work.registry.staff.values():
                member = _open(work, StaffMember, staff_record_id(fact.staff_id))
                details = (member.details or {}) if member is not None else {}
                name = str(details.get("name") or "")
                if (matches(name, query) or query == fact.staff_id) and _school_matches(
                        school, str(details.get("school") or "")):
                    found.append({"id": fact.staff_id, "kind": "staff", "name": name,
                                  "school": str(details.get("school") or ""), "year_group": "",
                                  "date_of_birth": "", "record": str(staff_record_id(fact.staff_id))})
        found.sort(key=lambda p: (fold(p["name"]), p["id"]))
        found = found[:LIMIT]
        if found and log:
            record_access(work, actor.actor_id, "read", sorted(set(records) | {p["record"] for p in found}),
                          [p["id"] for p in found], reason)
    return [{k: v for k, v in p.items() if k != "record"} for p in found]


def _find_subjects(work: Unit, query: str, kind: str | None, school: str | None,
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """(matching subjects with their details, directory records read)."""
    found: list[dict[str, Any]] = []
    listed: set[str] = set()
    read: list[str] = []
    if kind in (None, "pupil"):
        pupils, listed, read = _pupils_from_directories(work, list(work.registry.schools), query, school)
        for entry in pupils[:LIMIT]:
            subject = _open(work, Subject, subject_record_id(entry["id"]))
            details = (subject.details or {}) if subject is not None else {}
            found.append({"id": entry["id"], "kind": "pupil", "name": str(details.get("name") or entry["name"]),
                          "school": entry["school"], "year_group": entry["year_group"],
                          "date_of_birth": str(details.get("date_of_birth") or ""),
                          "record": str(subject_record_id(entry["id"]))})
    wanted = matcher(query)
    rows = work.conn.execute(select(records.c.aggregate, records.c.alias, records.c.claims).where(
        records.c.kind == "Subject", records.c.erased_at.is_(None)).order_by(records.c.created_at, records.c.aggregate))
    for aggregate, alias, raw in rows:
        if kind == "pupil" and alias in listed:
            continue  # the directory answered for them, without opening their claims
        claims = json.loads(raw) if raw else {}
        if kind not in (None, claims.get("kind")) or (claims.get("kind") == "pupil" and claims.get("subject_id") in listed):
            continue
        subject = _open(work, Subject, uuid.UUID(aggregate))
        if subject is None:
            continue
        details = subject.details or {}
        name = str(details.get("name") or "")
        if not _school_matches(school, str(details.get("school") or "")):
            continue
        if wanted(name) or query == subject.subject_id:
            found.append({"id": subject.subject_id, "kind": subject.kind, "name": name,
                          "school": str(details.get("school") or ""),
                          "year_group": str(details.get("year_group") or ""),
                          "date_of_birth": str(details.get("date_of_birth") or ""), "record": aggregate})
    return found, [str(directory_record_id(s)) for s in read]


def pick_pupils(ledger: Ledger, actor: Actor, query: str, school: str | None = None,
                log: bool = True) -> list[dict[str, Any]]:
    """Pupils of the actor's school(s) whose name matches ``query``: id, name, year group, school.

    For a member of staff reporting a concern (and for the web desk's report
    form): only the schools whose directory admits them (readers of people's
    records: every school), never a date of birth or anything of the record.
    The names shown are recorded in the access log.
    """
    query = require_text("name", query, 200)
    _checked_school_name(ledger, school)
    ensure_current(ledger)
    with ledger.unit(actor, write=True) as work:
        every = list(work.registry.schools)
        loaded = {s: d for s in every if (d := school_directory.load(work, s)) is not None
                  and (may_search(ledger, actor) or actor.actor_id in d.staff)}
        mine = list(loaded)
        if school:
            wanted = [s for s in every if fold(s) == fold(school)]
            if wanted[0] not in mine:
                raise NotPermitted(f"{actor.actor_id} does not pick pupils of {wanted[0]}",
                                   "a member of staff sees the pupils of their own school only")
            mine = wanted
        if not mine:
            raise NotPermitted(f"{actor.actor_id} is on no school's directory, so cannot pick pupils by name",
                               "the IT manager or Headteacher records your school (`people add-staff --school`, "
                               "`people join-school`); meanwhile give the pupil's id, or name the child in the facts")
        found: list[dict[str, Any]] = []
        picked = matcher(query)
        erased = erased_subjects(work)
        for name in mine:
            directory = loaded[name]
            if directory.withheld:
                raise NotPermitted(
                    f"part of the directory of {name} was written before {actor.actor_id} joined and has not been "
                    "shared with them yet",
                    f"the DSL or Headteacher runs `ledger people share-directory \"{name}\"`")
            found += [{"id": sid, **e, "school": directory.school} for sid, e in directory.pupils.items()
                      if (picked(e["name"]) or query == sid) and sid not in erased]
        found.sort(key=lambda p: (fold(p["name"]), p["id"]))
        found = found[:LIMIT]
        if log:
            school_directory.log_pick(work, actor, mine, [p["id"] for p in found])
    return found


def _checked_school_name(ledger: Ledger, school: str | None) -> None:
    every = list(ledger.registry().schools)
    if school and fold(school) not in {fold(s) for s in every}:
        raise InvalidInput(f"{school!r} is not one of the federation's schools",
                           f"schools are: {', '.join(every) or 'none yet'}")


def _exists(ledger: Ledger, actor: Actor, person_id: str) -> bool:
    if not ID_PATTERN.match(person_id):
        return False
    with ledger.unit(actor) as work:
        return work.exists(subject_record_id(person_id)) or work.exists(staff_record_id(person_id))


def resolve(ledger: Ledger, actor: Actor, person: str, kind: str | None = None) -> str:
    """The id of the person ``person`` names: their id, or a name naming exactly one person
    this actor may see (a reader: anyone they read; a member of staff: a pupil of their school).

    A name naming several or nobody is refused with what to do, writing nothing and showing no
    name (`people find` or `people pick` list the candidates, logged); a name naming one is
    resolved, and that search is recorded in the access log as any search is.
    """
    person = require_text("person", person, 200)
    _check_kind(kind)
    if _exists(ledger, actor, person):
        return person
    searching = may_search(ledger, actor) or (kind in (None, "staff") and reads_staff(ledger, actor))
    if searching:
        candidates = find(ledger, actor, person, kind, log=False)
    elif kind in (None, "pupil"):
        try:
            candidates = [{**p, "kind": "pupil"} for p in pick_pupils(ledger, actor, person, log=False)]
        except NotPermitted as exc:
            raise NotFound(f"no person has the id {person!r}, and {exc.message}", exc.hint) from None
    else:
        raise NotFound(f"no person has the id {person!r}",
                       f"{actor.actor_id} may not read people's records: give the person's id")
    if len(candidates) > 1:
        exact = [c for c in candidates if fold(c["name"]) == fold(person)]
        candidates = exact if len(exact) == 1 else candidates
    if len(candidates) == 1:
        _log_resolved(ledger, actor, candidates[0], searching)
        return str(candidates[0]["id"])
    if not candidates:
        raise NotFound(f"no person {person!r}",
                       "no one has that id, and no one you may see has that name: check the spelling, or search "
                       "with `ledger people find` (readers) or `ledger people pick` (staff), then give the id")
    how = "people find" if searching else "people pick"
    raise InvalidInput(f"{person!r} names {len(candidates)} people", f"see who with `ledger {how} \"{person}\"`"
                       f"{' --reason …' if searching else ''}, then give the id of the one you mean")


def _log_resolved(ledger: Ledger, actor: Actor, person: dict[str, Any], searching: bool) -> None:
    """Record the one person a name was resolved to, as the search that found them would have
    (without searching again): their record for a reader, the school's directory for a pick."""
    person_id = str(person["id"])
    with ledger.unit(actor, write=True) as work:
        if searching:
            record = staff_record_id(person_id) if person.get("kind") == "staff" else subject_record_id(person_id)
            record_access(work, actor.actor_id, "read", [str(record)], [person_id], SEARCH_REASON)
        else:
            school_directory.log_pick(work, actor, [str(person["school"])], [person_id])


def resolve_spec(ledger: Ledger, actor: Actor, spec: str) -> str:
    """``PERSON:PART`` with the person given by id or name -> ``ID:PART`` (see :func:`resolve`)."""
    person, sep, part = spec.rpartition(":")
    if not sep or not person.strip():
        return spec  # the caller names the shape it wants
    return f"{resolve(ledger, actor, person)}:{part}"


def _candidate(person: dict[str, Any]) -> str:
    facts = [f for f in (person.get("kind"), person.get("year_group"), person.get("school")) if f]
    return f"{label(person['name'], person['id'])}" + (f", {', '.join(facts)}" if facts else "")


def labels(ledger: Ledger, actor: Actor, ids: set[str] | list[str]) -> dict[str, str]:
    """``id -> "Name (id)"`` for the people among ``ids`` whose names ``actor`` may read; others keep the id.

    Pupils' names come from the schools' directories (one entry per school to
    open), other subjects' and staff's from their records. Not logged: a
    listing names those whose records the reader may open anyway; opening a
    record or searching by name is what the access log records.
    """
    wanted = {i for i in ids if i}
    names: dict[str, str] = {}
    if not wanted:
        return {}
    subjects, staff = may_search(ledger, actor), reads_staff(ledger, actor)
    if subjects:
        ensure_current(ledger)  # erased subjects are known from the read models
    with ledger.unit(actor) as work:
        registry = ledger.registry()
        if subjects:
            erased = erased_subjects(work)
            for school in registry.schools:
                directory = school_directory.load(work, school)
                if directory is not None:
                    names.update({sid: e["name"] for sid, e in directory.pupils.items()
                                  if sid in wanted and sid not in erased})
        for person_id in sorted(wanted - set(names)):
            if not ID_PATTERN.match(person_id):
                continue
            if person_id in registry.staff:
                member = _open(work, StaffMember, staff_record_id(person_id)) if staff else None
                name = str((member.details or {}).get("name") or "") if member is not None else ""
            elif subjects and work.exists(subject_record_id(person_id)):
                subject = _open(work, Subject, subject_record_id(person_id))
                name = str((subject.details or {}).get("name") or "") if subject is not None else ""
            else:
                continue
            if name:
                names[person_id] = name
    return {i: label(names.get(i, ""), i) for i in wanted}


def name_columns(ledger: Ledger, actor: Actor, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """``rows`` with the ids in ``columns`` (one id, or several joined by commas) named as :func:`labels` names them."""
    if not rows or not (may_search(ledger, actor) or reads_staff(ledger, actor)):
        return rows
    def ids_in(value: Any) -> list[str]:
        items = value if isinstance(value, list) else str(value or "").split(",")
        return [str(i).strip() for i in items if str(i).strip()]

    named = labels(ledger, actor, {i for row in rows for c in columns for i in ids_in(row.get(c))})
    for row in rows:
        for c in columns:
            value = row.get(c)
            if value:
                shown = [named.get(i, i) for i in ids_in(value)]
                row[c] = shown if isinstance(value, list) else ",".join(shown)
    return rows
