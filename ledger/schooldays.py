"""School days: when "within 5 school days" ends.

A school day is a weekday (Monday to Friday) that is not one of England's bank holidays
(from the ``holidays`` package: the government's list, including substitute days such as
"Boxing Day (observed)") and not one of the closure days the federation has recorded in a
signed entry (INSET days, half terms and holidays, an emergency closure). Nothing else is
known: the ledger does not hold term dates, so a day in the school holidays counts unless it
was recorded as a closure day. Dates are local dates in the federation's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]).keys())


def bank_holiday(day: dt.date) -> bool:
    """Whether ``day`` is a bank holiday in England (substitute days included)."""
    return day in _bank_holidays(day.year)


def is_school_day(day: dt.date, closures: Iterable[dt.date] = ()) -> bool:
    """A weekday that is neither an English bank holiday nor a recorded closure day."""
    return day.weekday() < 5 and not bank_holiday(day) and day not in set(closures)


def add_school_days(start: dt.date, count: int, closures: Iterable[dt.date] = ()) -> dt.date:
    """The ``count``-th school day after ``start`` (``start`` itself is not counted): a pupil who
    leaves on a Friday has their file due by the following Friday, five school days later."""
    if count < 0:
        raise ValueError("count must not be negative")
    closed = frozenset(closures)
    day, left = start, count
    while left:
        day += dt.timedelta(days=1)
        if is_school_day(day, closed):
            left -= 1
    return day


def school_days_between(start: dt.date, end: dt.date, closures: Iterable[dt.date] = ()) -> int:
    """School days after ``start`` up to and including ``end`` (0 when ``end`` is not after it)."""
    closed = frozenset(closures)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_school_day(day, closed)
    return count
