"""Canonical JSON: the one byte encoding used for headers and bodies, and the
one strict reader for JSON that comes from a file or the database.

Sorted keys, no insignificant white space, UTF-8. Producing bytes is the only
use: verifiers check the stored bytes as they are and never re-serialise.
Reading refuses what two JSON parsers could read differently or what could
exhaust the reader: duplicate keys, NaN and infinities, nesting deeper than
:data:`MAX_DEPTH`.
"""

from __future__ import annotations

import json
from typing import Any

#: Deepest nesting any of our documents has is a handful of levels.
MAX_DEPTH = 32


def dumps(value: Any) -> bytes:
    """Encode ``value`` canonically."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def loads(data: bytes) -> Any:
    """Decode stored JSON strictly (see :func:`strict_loads`)."""
    return strict_loads(data.decode("utf-8"))


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the key {key[:40]!r} appears twice in one object")
        document[key] = value
    return document


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def strict_loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, raising ValueError (never RecursionError) on duplicate keys,
    NaN or infinities, or nesting deeper than ``max_depth``."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    if _depth(value) > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep")
    return value
