"""Shared pieces of every aggregate: ids, occurrence times, validation."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from typing import Any

from ledger import localtime, text
from ledger.errors import InvalidInput

NAMESPACE = uuid.UUID("6f1c2b1e-8f0c-4f3b-9d55-5f0c1a9e7a11")
PRECISIONS = ("exact", "day", "approximate", "range")
#: Dates and times a person or a file may give: anything else is a typing mistake.
EARLIEST, LATEST = localtime.EARLIEST, localtime.LATEST


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


def parse_date(name: str, value: str) -> str:
    """An ISO date (YYYY-MM-DD) between 1900 and 2199, returned normalised: a local date, as given."""
    return localtime.date(name, value).isoformat()


def parse_birth_date(name: str, value: str, today: str) -> str:
    """A date of birth: a date from 1900 up to ``today`` (the federation's local date, YYYY-MM-DD)."""
    day = parse_date(name, value)
    if day > today:
        raise InvalidInput(f"{name} {day} is in the future", "check the year")
    return day


def parse_moment(name: str, value: str, zone: dt.tzinfo) -> str:
    """A date-time or date a person typed, read in the federation's ``zone``
    (see :mod:`ledger.localtime`), returned as ISO UTC."""
    return localtime.moment_iso(name, value, zone)


def described(event: Any, zone: dt.tzinfo) -> str:
    """An event's one line (its ``describe()``) for a reader in the federation's ``zone``: an
    event whose line shows a moment takes the zone (``describe(zone=…)``) to show it in local time."""
    method = event.describe
    if "zone" in inspect.signature(method).parameters:
        return str(method(zone=zone))
    return str(method())


def detailed(event: Any) -> list[tuple[str, str]]:
    """An event's readable text beyond its one line (its ``details()``: labelled passages such as
    the facts, an opinion and the child's own words), or nothing when it has none."""
    method = getattr(event, "details", None)
    if not callable(method):
        return []
    return [(str(label), str(text)) for label, text in method()]


def occurrence(at: str, zone: dt.tzinfo, precision: str = "exact", until: str | None = None) -> dict[str, Any]:
    """When something happened, typed in the federation's ``zone``, with how precisely that is known.

    A day (precision ``day``) is a local day: it starts at its local midnight and
    its ``until`` is the start of the next local day, so a day the clocks change
    on (23 or 25 hours) is exactly that long in the signed entry.
    """
    if precision not in PRECISIONS:
        raise InvalidInput(f"precision must be one of {', '.join(PRECISIONS)}")
    start = parse_moment("occurred-at", at, zone)
    end = parse_moment("until", until, zone) if until else None
    if precision == "day" and end is None:
        end = localtime.end_of_day(localtime.local_date(start, zone), zone).isoformat()
    if precision == "range" and end is None:
        raise InvalidInput("a range needs an end", "give --until as well")
    if end is not None and end < start:
        raise InvalidInput("the range ends before it starts")
    return {"at": start, "precision": precision, "until": end}
