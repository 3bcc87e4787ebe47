"""Family links: a parent or carer of a child, siblings of each other.

A link is a signed entry on the child's record that names both people (their
pseudonymous ids, in the clear, so the link shows in both chronologies); the
kind of link and any note are encrypted for readers of subject records. A
chronology can then take in the child's linked family on request
(``ledger timeline --person … --with-family``).
"""

from __future__ import annotations

from ledger.domain.base import require_text
from ledger.domain.people import Subject, subject_record_id
from ledger.errors import NotFound, NotPermitted
from ledger.store import Actor, Ledger, Unit


def _subject(work: Unit, subject_id: str, actor: Actor) -> Subject:
    record = subject_record_id(subject_id)
    if not work.exists(record):
        raise NotFound(f"no pupil, parent or carer {subject_id!r}", "`ledger people list` shows them")
    try:
        found: Subject = work.get(Subject, record, "subject")
    except NotPermitted as exc:
        raise NotPermitted(f"{actor.actor_id} may not link people: they cannot read subject records",
                           "the DSL, the Headteacher or SLT can") from exc
    return found


def relate(ledger: Ledger, actor: Actor, child_id: str, other_id: str, relation: str, note: str | None = None) -> None:
    """Link ``other_id`` to the child ``child_id`` as their parent, carer or sibling."""
    with ledger.unit(actor, write=True) as work:
        child = _subject(work, child_id, actor)
        other = _subject(work, other_id, actor)
        child.relate(other, relation, note)
        work.save(child)


def end_relation(ledger: Ledger, actor: Actor, child_id: str, other_id: str, reason: str) -> None:
    """End a link recorded in error or no longer true; the original stays in the log."""
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        child = _subject(work, child_id, actor)
        child.end_relation(other_id, reason)
        work.save(child)
