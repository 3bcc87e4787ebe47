"""Finding a record from what a person types: a short id or an aggregate id."""

from __future__ import annotations

import uuid

from ledger.domain.base import record_id
from ledger.text import check_id
from ledger.errors import InvalidInput, NotFound
from ledger.store import Unit

#: Kinds of record reachable by their short id, as ``record_id(kind, id)``.
KINDS = ("incident", "approval", "subject", "staff", "alert", "policy", "ack")


def resolve(work: Unit, ref: str) -> uuid.UUID:
    """The aggregate id of ``ref`` (e.g. ``inc-1a2b3c4d``, ``sb-…``, a UUID)."""
    ref = check_id("record id", ref)
    try:
        candidate = uuid.UUID(ref)
    except ValueError:
        matches = [record_id(kind, ref) for kind in KINDS if work.exists(record_id(kind, ref))]
        if len(matches) > 1:
            raise InvalidInput(f"{ref!r} names more than one record", "give the record's full id (a UUID)") from None
        if matches:
            return matches[0]
        raise NotFound(f"no record {ref!r}", "give an id such as inc-1a2b3c4d, post-…, sb-…, or a UUID") from None
    if not work.exists(candidate):
        raise NotFound(f"no record {ref}")
    return candidate
