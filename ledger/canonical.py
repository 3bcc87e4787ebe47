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

from ledger.verify_bundle import strict_json

#: Deepest nesting any of our documents has is a handful of levels.
MAX_DEPTH = 32


#: One encoder for every call (``json.dumps`` with options builds a new one each time).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> bytes:
    """Encode ``value`` canonically."""
    return _ENCODER.encode(value).encode("utf-8")


def loads(data: bytes) -> Any:
    """Decode stored JSON strictly (see :func:`strict_loads`)."""
    return strict_loads(data.decode("utf-8"))


def strict_loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, raising ValueError (never RecursionError) on duplicate keys,
    NaN or infinities, or nesting deeper than ``max_depth``.

    The implementation is the standalone bundle verifier's (which may import
    nothing from this package), so the ledger and a bundle's recipient read
    JSON by the same rules.
    """
    return strict_json(text, max_depth)
