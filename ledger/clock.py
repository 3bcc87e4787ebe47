"""The one clock every service reads, passed in so tests can pin it.

Times are aware UTC datetimes; what they are in the federation's local time
is :mod:`ledger.localtime`'s business. ``SystemClock`` reads this machine's clock
(the one place in the program that does);
on PostgreSQL a writing unit takes the database server's clock instead, under
the write lock, so every writer shares one clock. ``FixedClock`` is for tests
and demonstrations that need a known moment.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Something that tells the time (aware, UTC)."""

    def now(self) -> dt.datetime:
        """The current moment."""


class SystemClock:
    """This machine's clock."""

    def now(self) -> dt.datetime:
        """The current moment, from the operating system."""
        return dt.datetime.now(dt.timezone.utc)


class FixedClock:
    """A clock that says what it is told (tests, demonstrations)."""

    def __init__(self, at: dt.datetime | str) -> None:
        self.at = _aware(at)

    def now(self) -> dt.datetime:
        """The pinned moment."""
        return self.at

    def set(self, at: dt.datetime | str) -> None:
        """Move the clock to ``at``."""
        self.at = _aware(at)

    def advance(self, **delta: float) -> None:
        """Move the clock on by ``datetime.timedelta(**delta)``."""
        self.at += dt.timedelta(**delta)


def _aware(value: dt.datetime | str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError("a clock needs an aware datetime (with a time zone)")
    return moment.astimezone(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    """The stored form of a moment: ISO-8601 in UTC with microseconds."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
