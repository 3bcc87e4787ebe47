"""Shared pieces of every aggregate: ids, occurrence times, validation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ledger import text
from ledger.errors import InvalidInput

NAMESPACE = uuid.UUID("6f1c2b1e-8f0c-4f3b-9d55-5f0c1a9e7a11")
PRECISIONS = ("exact", "day", "approximate", "range")
#: Dates and times a person or a file may give: anything else is a typing mistake.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def record_id(kind: str, key: str) -> uuid.UUID:
    """A stable aggregate id for a record known by a natural key."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def new_short_id(prefix: str) -> str:
    """A fresh pseudonymous id such as ``st-3f9a0c1d``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def require_text(name: str, value: str | None, limit: int = 10_000) -> str:
    """A non-empty, bounded piece of text with no control or direction characters
    (tab and line breaks allowed; a Windows line break is kept as a plain one)."""
    if value is None or not value.strip():
        raise InvalidInput(f"{name} must not be empty")
    return text.check(name, value.replace("\r\n", "\n"), limit).strip()


def optional_text(name: str, value: str | None, limit: int = 10_000) -> str | None:
    """Like :func:`require_text`, but absent (None) when not given or blank."""
    return require_text(name, value, limit) if value is not None and value.strip() else None


def _in_range(name: str, value: str, day: dt.date) -> None:
    if day < EARLIEST:
        raise InvalidInput(f"{name} {text.quoted(value)} is before {EARLIEST.year}", "check the year")
    if day > LATEST:
        raise InvalidInput(f"{name} {text.quoted(value)} is too far in the future (after {LATEST.year})",
                           "check the year")


def parse_date(name: str, value: str) -> str:
    """An ISO date (YYYY-MM-DD) between 1900 and 2199, returned normalised."""
    if not isinstance(value, str) or len(value) > 32:
        raise InvalidInput(f"{name} {text.quoted(str(value))} is not a date", "write it as YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} {text.quoted(str(value))} is not a date", "write it as YYYY-MM-DD") from None
    _in_range(name, value, day)
    return day.isoformat()


def parse_birth_date(name: str, value: str, now: str) -> str:
    """A date of birth: a date from 1900 up to today (``now`` is the clock, ISO UTC)."""
    day = parse_date(name, value)
    if day > now[:10]:
        raise InvalidInput(f"{name} {day} is in the future", "check the year")
    return day


def parse_moment(name: str, value: str) -> str:
    """An ISO date-time or date between 1900 and 2199, returned as ISO UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(
            f"{name} {text.quoted(str(value))} is not a date or time", "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        )
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        _in_range(name, value, moment.date())
        moment = moment.astimezone(dt.timezone.utc)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(
            f"{name} {text.quoted(str(value))} is not a date or time", "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    _in_range(name, value, moment.date())
    return moment.isoformat()


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
