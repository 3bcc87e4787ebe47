"""How values are written on a page: times, occurrences, table cells."""

from __future__ import annotations

from typing import Any

from flask import Flask


def when(value: Any) -> str:
    """``2026-03-02T12:30:00+00:00`` -> ``2026-03-02 12:30``; a date stays a date."""
    text = str(value or "")
    return text[:16].replace("T", " ") if "T" in text else text


def occurred(value: dict[str, Any] | None) -> str:
    """An occurrence with how precisely it is known."""
    if not value:
        return ""
    at = str(value.get("at") or "")
    precision = str(value.get("precision") or "exact")
    if precision == "day":
        return f"{at[:10]} (time not known)"
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
    return when(value) if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" else str(value)


def install(app: Flask) -> None:
    """Make the filters available to every template."""
    app.jinja_env.filters.update(when=when, occurred=occurred, happened=happened, cell=cell)
