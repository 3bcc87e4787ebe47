"""How values are written on a page: times, occurrences, table cells.

The services give moments as aware datetimes in the federation's time zone;
a page shows them as ``2026-03-02 12:30 GMT``. Dates and text are shown as
they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from ledger import localtime


def when(value: Any) -> str:
    """A moment as ``2026-03-02 12:30 GMT`` (local time with its zone); a date or text as it is."""
    if isinstance(value, dt.datetime):
        return localtime.shown(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "")


def occurred(value: dict[str, Any] | None) -> str:
    """An occurrence (local times) with how precisely it is known."""
    if not value or not value.get("at"):
        return ""
    at = value["at"]
    precision = str(value.get("precision") or "exact")
    if precision == "day":
        day = at.date().isoformat() if isinstance(at, dt.datetime) else str(at)[:10]
        return f"{day} (time not known)"
    if precision == "range" and value.get("until"):
        return f"between {when(at)} and {when(value['until'])}"
    if precision == "approximate":
        return f"around {when(at)}"
    return when(at)


def happened(row: dict[str, Any]) -> str:
    """A timeline row's happened-at, with its precision."""
    return occurred({"at": row.get("happened_at"), "precision": row.get("precision"),
                     "until": row.get("happened_until")}) if row.get("precision") != "recorded" else when(
        row.get("happened_at"))


def cell(value: Any) -> str:
    """A register value as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return when(value)


def install(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(when=when, occurred=occurred, happened=happened, cell=cell)
