"""How values are written on a page: times, occurrences, table cells.

The services give moments as aware datetimes in the federation's time zone;
a page shows them as ``2026-03-02 12:30 GMT``. Dates are shown as they are,
and text through the same sanitising layer as the terminal's (:func:`safe_text`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from markupsafe import Markup

from ledger import localtime, text


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


def safe_text(value: Any) -> Any:
    """Every value a template writes, before it is HTML-escaped: text passes through the
    output-sanitising layer (``ledger.text.shown``), so a control or direction character
    stored in a record is shown as a visible escape, never reordering or hiding what a
    reader sees. Markup the templates build themselves and non-text values pass as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        # Line breaks and tabs are only white space in a page: kept, as typed.
        return "\t".join(text.shown(part, keep_newlines=True) for part in value.split("\t"))
    return value


def install(app: Flask) -> None:
    """Make the filters available to every template, and send every written value through
    :func:`safe_text`."""
    app.jinja_env.filters.update(when=when, occurred=occurred, happened=happened, cell=cell)
    app.jinja_env.finalize = safe_text
