"""Text from people and files: what input accepts, and how output shows it.

Input: free text, names and ids given by a person or read from a file are
refused when they hold a character that can hide or fake what a reader sees
(control characters other than tab and line feed, C1 controls, DEL, lone
surrogates, bidirectional embeddings, overrides and isolates, line and
paragraph separators). The refusal names the position and the character.

Output: text shown on a terminal passes through :func:`shown`, which writes
any such character (and other invisible format characters) as a visible
escape (``\\x1b``, ``\\u202e``), so stored text can never move the cursor,
retitle the window or reorder what is displayed, whoever wrote it and when.
HTML text passes through :func:`html_text` (escaped, then the same escapes).
CSV cells pass through :func:`csv_cell` (OWASP's rule against formula
injection). JSON output needs neither: it escapes every such character.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.errors import InvalidInput

#: Bidirectional embeddings, overrides and isolates ("Trojan Source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters a cell must not start with, or a spreadsheet may run it as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Joiners are invisible but harmless (they build emoji and scripts): shown as they are.
_HARMLESS_FORMAT = frozenset("\u200c\u200d")
_ASCII_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_ASCII_CONTROLS_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f]")


@functools.lru_cache(maxsize=8)
def _refused_pattern(allow: str) -> re.Pattern[str]:
    singles = [chr(c) for c in range(0x20) if chr(c) not in allow] + sorted(BIDI_CONTROLS) + ["\u2028", "\u2029"]
    return re.compile("[" + "".join(re.escape(c) for c in singles) + "\x7f-\x9f\ud800-\udfff]")


def refused_character(value: str, allow: str = "\t\n") -> tuple[int, str] | None:
    """The first character input must refuse, as (1-based position, char), or None."""
    found = _refused_pattern(allow).search(value)
    return None if found is None else (found.start() + 1, found.group())


def describe(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named for an error message."""
    name = unicodedata.name(char, "")
    if not name:
        name = "CONTROL CHARACTER" if unicodedata.category(char) == "Cc" else "LONE SURROGATE" \
            if unicodedata.category(char) == "Cs" else "UNNAMED CHARACTER"
    return f"U+{ord(char):04X} {name}"


def check(name: str, value: str, limit: int, allow: str = "\t\n") -> str:
    """``value`` unchanged if it is at most ``limit`` characters and holds nothing refused.

    Raises InvalidInput naming the field, the position and the character.
    """
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters ({len(value)})",
                           f"shorten it to {limit} characters or fewer")
    found = refused_character(value, allow)
    if found is not None:
        position, char = found
        raise InvalidInput(
            f"{name} holds {describe(char)} at character {position}",
            "retype it without control or text-direction characters (they can hide or reorder what a reader sees)",
        )
    return value


def check_id(name: str, value: str, limit: int = 64) -> str:
    """A short id as a person types it (``inc-1a2b3c4d``, a UUID, ``st-…``): bounded, printable."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name} must not be empty", "ids look like inc-1a2b3c4d; the `list` commands show them")
    if len(value) > limit:
        raise InvalidInput(f"{name} is not an id: it is {len(value)} characters long",
                           f"ids are at most {limit} characters; the `list` commands show them")
    if not all(c.isalnum() or c in "-_.:" for c in value):
        raise InvalidInput(f"{name} {quoted(value)} is not an id",
                           "ids are letters, digits, '-', '_', '.' or ':'; the `list` commands show them")
    return value


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if char == "\n":
        return "\\n"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _dangerous(char: str) -> bool:
    """Anything not printable, except spaces and joiners: controls, surrogates,
    format (direction, zero-width) characters, separators, private-use and unassigned."""
    if char.isprintable() or char in _HARMLESS_FORMAT:
        return False
    return unicodedata.category(char) != "Zs"


def shown(value: object, keep_newlines: bool = False) -> str:
    """``value`` as text safe to put on a terminal: every control, direction or
    invisible format character written as a visible escape.

    Line feeds become ``\\n`` too unless ``keep_newlines`` (for a whole block of
    output whose lines are the program's own).
    """
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        pattern = _ASCII_CONTROLS_BUT_NEWLINE if keep_newlines else _ASCII_CONTROLS
        return pattern.sub(lambda match: _escape(match.group()), text)
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif _dangerous(char):
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


def html_text(value: object) -> str:
    """``value`` as HTML text: markup escaped, and every control, direction or invisible
    format character shown as a visible escape, as on a terminal (a browser would
    otherwise reorder text around a direction override)."""
    return html.escape(shown(value))


def quoted(value: str, limit: int = 60) -> str:
    """A value a person gave, quoted for an error message: escaped and cut short."""
    text = shown(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def csv_cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula (OWASP): text starting with
    ``= + - @``, tab or carriage return gets a leading apostrophe; control and
    direction characters are escaped. A moment or a date is ISO 8601 (a moment
    with its offset). Numbers and other values pass unchanged."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    text = value
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return shown(text, keep_newlines=True)


def csv_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV (a header line, then one line per row) with every cell made safe
    by :func:`csv_cell`; columns not named are left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
