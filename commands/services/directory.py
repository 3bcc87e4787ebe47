"""Finding a person by name, for those whose roles may read people's records.

Names exist only in encrypted bodies, so a search decrypts each subject
record with the reader's own keys and matches the typed words against the
start of each part of the name (case- and accent-insensitive). The names
shown are personal data: the search is recorded in the access log, naming
the records it showed. Someone who may not read subject records (a teacher
reporting a concern) can only pick a person by their pseudonymous id until
the ledger keeps a blind index of names.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from commands.services.access import record_access
from commands.services.readside import ensure_current
from ledger.domain.base import require_text
from ledger.domain.people import SUBJECT_KINDS, Subject, subject_record_id
from ledger.errors import InvalidInput, NotPermitted
from ledger.store import Actor, Ledger
from projections.records import record_rows

#: Most matches one search shows.
LIMIT = 50
SEARCH_REASON = "found by name to pick or open their record"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def fold(text: str) -> str:
    """Lower case without accents: ``Zoë`` -> ``zoe``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matches(name: str, query: str) -> bool:
    """Whether every typed word starts some word of ``name``."""
    words = fold(name).split()
    return all(any(w.startswith(q) for w in words) for q in fold(query).split())


def may_search(ledger: Ledger, actor: Actor) -> bool:
    """Whether ``actor``'s roles read subject records (and so may search them by name), under the
    permission table in force."""
    return bool(ledger.registry().roles_of(actor.actor_id) & set(ledger.permissions().readers_of("subject")))


def _by_id(ledger: Ledger, actor: Actor, query: str, kind: str) -> list[dict[str, Any]]:
    with ledger.unit(actor) as work:
        exists = bool(ID_PATTERN.match(query)) and work.exists(subject_record_id(query))
        subject = work.get(Subject, subject_record_id(query), "subject", redacted=True) if exists else None
    if subject is None:
        raise NotPermitted(
            f"{actor.actor_id} may not read people's records, so cannot search them by name",
            f"no person has the id {query!r}: type the pupil's id (sb-…) from the class list, or name the "
            "child in the facts and the DSL links them when triaging",
        )
    if subject.kind != kind:
        raise InvalidInput(f"{query} is a {subject.kind}, not a {kind}")
    return [{"id": query, "kind": subject.kind, "name": "", "school": "", "date_of_birth": ""}]


def find(ledger: Ledger, actor: Actor, query: str, kind: str = "pupil", school: str | None = None) -> list[dict[str, Any]]:
    """People of ``kind`` whose name matches ``query`` (readers), or the one whose id it is (others)."""
    query = require_text("name", query, 200)
    if kind not in SUBJECT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(SUBJECT_KINDS)}")
    if not may_search(ledger, actor):
        return _by_id(ledger, actor, query, kind)
    ensure_current(ledger)
    found: list[dict[str, Any]] = []
    with ledger.unit(actor, write=True) as work:
        for record in record_rows(work.conn, kinds=("Subject",)):
            if record["claims"].get("kind") != kind:
                continue
            subject = work.get(Subject, uuid.UUID(record["aggregate"]), "subject")
            details = subject.details or {}
            name = str(details.get("name") or "")
            if school and fold(str(details.get("school") or "")) != fold(school):
                continue
            if matches(name, query) or query == subject.subject_id:
                found.append({"id": subject.subject_id, "kind": subject.kind, "name": name,
                              "school": str(details.get("school") or ""),
                              "date_of_birth": str(details.get("date_of_birth") or ""),
                              "record": record["aggregate"]})
        found.sort(key=lambda p: (fold(p["name"]), p["id"]))
        found = found[:LIMIT]
        if found:
            record_access(work, actor.actor_id, "read", [p["record"] for p in found], [p["id"] for p in found],
                          SEARCH_REASON)
    return [{k: v for k, v in p.items() if k != "record"} for p in found]
