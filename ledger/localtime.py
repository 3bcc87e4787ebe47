"""Local time: the federation's time zone for every date and time a person types or reads.

The ledger stores moments in UTC (ISO 8601, as the envelope's ``recorded_at``
and ``occurred_at`` carry them) and dates (``YYYY-MM-DD``) as they were given.
People type and read the local time of the zone the federation's signed
settings name (default Europe/London); the zone of this machine or process
(``TZ``) never matters.

* **Typed.** ``2026-06-01T12:30`` (or ``2026-06-01 12:30``) is 12:30 local
  time. A value with an offset (``+01:00``), ``Z``, or a zone abbreviation the
  federation's zone uses at that moment (``BST``, ``GMT``; ``UTC`` anywhere)
  keeps it, so what a page shows can be typed back. A date is a local date;
  where a moment is wanted it is the start of that local day.
* **Clocks changing.** A local time that never happens (the hour the clocks go
  forward) or happens twice (the hour after they go back) is refused, naming
  the change and giving the text to type instead (the time with its zone). A
  signed entry is never edited, so the ledger does not guess an hour.
* **Shown.** Tables and pages show ``2026-06-01 12:30 BST``; JSON and CSV give
  ISO 8601 with the local offset (``2026-06-01T12:30:00+01:00``), which stays
  unambiguous across the change. Dates are shown as they are.
* **Today** is the local date of the clock's now.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger import text
from ledger.errors import InvalidInput

#: The federation's zone unless its settings name another.
DEFAULT_ZONE = "Europe/London"
#: Dates and times a person or a file may give: anything else is a typing mistake.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
UTC = dt.timezone.utc

#: A zone written after the time, as :func:`shown` writes it: an abbreviation or an offset.
_SUFFIX = re.compile(r"^(?P<body>.*\d)\s+(?P<zone>[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?)$")
_WHEN_HINT = "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time), optionally with a zone such as +01:00 or BST"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; InvalidInput for anything else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"{text.quoted(str(name))} is not a time zone",
                           "give an IANA name such as Europe/London") from None


# -- typed ---------------------------------------------------------------------------------------------


def in_range(name: str, value: str, day: dt.date) -> None:
    """InvalidInput unless ``day`` lies in 1900-2199."""
    if day < EARLIEST:
        raise InvalidInput(f"{name} {text.quoted(value)} is before {EARLIEST.year}", "check the year")
    if day > LATEST:
        raise InvalidInput(f"{name} {text.quoted(value)} is too far in the future (after {LATEST.year})",
                           "check the year")


def date(name: str, value: str) -> dt.date:
    """A typed date (YYYY-MM-DD) between 1900 and 2199: a local date, as given."""
    if not isinstance(value, str) or len(value) > 32:
        raise InvalidInput(f"{name} {text.quoted(str(value))} is not a date", "write it as YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value.strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} {text.quoted(value)} is not a date", "write it as YYYY-MM-DD") from None
    in_range(name, value, day)
    return day


def is_date(value: str) -> bool:
    """Whether a typed value is a date alone (no time of day)."""
    try:
        dt.date.fromisoformat(value.strip())
    except (TypeError, ValueError):
        return False
    return True


def moment(name: str, value: str, zone: dt.tzinfo) -> dt.datetime:
    """A typed date-time (or date: the start of that local day) as an aware UTC datetime.

    Without an offset it is local time in ``zone``; a time the clocks skip or
    repeat there is refused (see the module's docstring).
    """
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(f"{name} {text.quoted(str(value))} is not a date or time", _WHEN_HINT)
    typed = value.strip()
    if is_date(typed):
        return start_of_day(date(name, typed), zone)
    suffix = _SUFFIX.match(typed)
    body, abbreviation = typed, None
    if suffix and suffix["zone"][0] in "+-":
        body = suffix["body"] + suffix["zone"]
    elif suffix:
        body, abbreviation = suffix["body"], suffix["zone"].upper()
    try:
        parsed = dt.datetime.fromisoformat(body)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} {text.quoted(value)} is not a date or time", _WHEN_HINT) from None
    in_range(name, value, parsed.date())
    if parsed.tzinfo is not None:
        if abbreviation is not None:
            raise InvalidInput(f"{name} {text.quoted(value)} gives both an offset and a zone", "give one of them")
        aware = parsed
    elif abbreviation is not None:
        aware = _with_abbreviation(name, value, parsed, zone, abbreviation)
    else:
        aware = _local(name, parsed, zone)
    try:
        found = aware.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{name} {text.quoted(value)} is not a date or time", _WHEN_HINT) from None
    in_range(name, value, found.date())
    return found


def moment_iso(name: str, value: str, zone: dt.tzinfo) -> str:
    """:func:`moment` in the stored form (ISO 8601 UTC)."""
    return moment(name, value, zone).isoformat()


def _candidates(wall: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """``wall`` read with the offset before (fold 0) and after (fold 1) a change of the clocks."""
    return wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)


def _exists(candidate: dt.datetime, zone: dt.tzinfo) -> bool:
    return candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == candidate.replace(tzinfo=None)


def _local(name: str, wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A wall-clock time in ``zone``, refused when the clocks skip it or show it twice."""
    first, second = _candidates(wall, zone)
    if first.utcoffset() == second.utcoffset():
        return first
    typed = f"{wall:%Y-%m-%d %H:%M}"
    before, after = first.tzname(), second.tzname()
    if not _exists(first, zone):
        same = first.astimezone(UTC).astimezone(zone)
        raise InvalidInput(
            f"{name} {typed} does not exist in {zone}: the clocks went forward from {before} to {after} then",
            f"give a time the clocks showed, or say which zone you mean: {typed} {before} is {same:%H:%M} {after}",
        )
    raise InvalidInput(
        f"{name} {typed} happened twice in {zone}: the clocks went back from {before} to {after} then",
        f"say which: {typed} {before} (the first) or {typed} {after} (an hour later), or give the offset",
    )


def _with_abbreviation(name: str, value: str, wall: dt.datetime, zone: dt.tzinfo, abbreviation: str) -> dt.datetime:
    """A wall-clock time with a zone abbreviation: UTC (or Z), or one ``zone`` uses at that time."""
    if abbreviation in ("UTC", "Z"):
        return wall.replace(tzinfo=UTC)
    first, second = _candidates(wall, zone)
    for candidate in (first, second):
        if candidate.tzname() == abbreviation:
            offset = candidate.utcoffset()
            assert offset is not None
            return wall.replace(tzinfo=dt.timezone(offset))
    used = " or ".join(sorted({str(first.tzname()), str(second.tzname())}))
    raise InvalidInput(
        f"{name} {text.quoted(value)}: {zone} is on {used} then, not {abbreviation}",
        f"write the time as the clocks showed it, with {used}, UTC or an offset such as +01:00",
    )


# -- days ----------------------------------------------------------------------------------------------


def start_of_day(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first moment of the local ``day`` (aware UTC); midnight unless the clocks skip it."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)


def end_of_day(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first moment after the local ``day`` (23, 24 or 25 hours after its start)."""
    return start_of_day(day + dt.timedelta(days=1), zone)


def local_date(value: dt.datetime | str, zone: dt.tzinfo) -> dt.date:
    """The local date of a moment (aware datetime, or the stored ISO form)."""
    return local(value, zone).date()


def today(now: dt.datetime | str, zone: dt.tzinfo) -> str:
    """The local date of ``now`` (the clock's, or a unit's ISO time) as YYYY-MM-DD."""
    return local_date(now, zone).isoformat()


def days_between(start: dt.date | str, end: dt.date | str) -> int:
    """Whole calendar days from one local date to another."""
    first = dt.date.fromisoformat(str(start)[:10])
    last = dt.date.fromisoformat(str(end)[:10])
    return (last - first).days


# -- shown ---------------------------------------------------------------------------------------------


def local(value: dt.datetime | str, zone: dt.tzinfo) -> dt.datetime:
    """A moment (aware datetime, or the stored ISO form; naive means UTC) in ``zone``."""
    found = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found.astimezone(zone)


def local_or_none(value: dt.datetime | str | None, zone: dt.tzinfo) -> dt.datetime | None:
    """:func:`local`, with nothing (None or an empty string) staying None."""
    return local(value, zone) if value else None


def shown(value: dt.datetime) -> str:
    """A moment as a person reads it: ``2026-06-01 12:30 BST`` (in the zone it carries)."""
    return f"{value:%Y-%m-%d %H:%M} {value.tzname() or value.strftime('%z')}"


def iso(value: dt.datetime | dt.date) -> str:
    """A moment (with its local offset) or a date as ISO 8601, for JSON and CSV."""
    return value.isoformat()
