"""Shared pieces of every aggregate: ids, occurrence times, validation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ledger.errors import InvalidInput

NAMESPACE = uuid.UUID("6f1c2b1e-8f0c-4f3b-9d55-5f0c1a9e7a11")
PRECISIONS = ("exact", "day", "approximate", "range")


def record_id(kind: str, key: str) -> uuid.UUID:
    """A stable aggregate id for a record known by a natural key."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def new_short_id(prefix: str) -> str:
    """A fresh pseudonymous id such as ``st-3f9a0c1d``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def require_text(name: str, value: str | None, limit: int = 10_000) -> str:
    """A non-empty, bounded piece of text."""
    if value is None or not value.strip():
        raise InvalidInput(f"{name} must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return value.strip()


def parse_date(name: str, value: str) -> str:
    """An ISO date (YYYY-MM-DD), returned normalised."""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} {value!r} is not a date", "write it as YYYY-MM-DD") from None


def parse_moment(name: str, value: str) -> str:
    """An ISO date-time or date, returned as ISO UTC."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{name} {value!r} is not a date or time", "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat()


def occurrence(at: str, precision: str = "exact", until: str | None = None) -> dict[str, Any]:
    """When something happened, with how precisely that is known."""
    if precision not in PRECISIONS:
        raise InvalidInput(f"precision must be one of {', '.join(PRECISIONS)}")
    start = parse_moment("occurred-at", at)
    end = parse_moment("until", until) if until else None
    if precision == "range" and end is None:
        raise InvalidInput("a range needs an end", "give --until as well")
    if end is not None and end < start:
        raise InvalidInput("the range ends before it starts")
    return {"at": start, "precision": precision, "until": end}
