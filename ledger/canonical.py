"""Canonical JSON: the one byte encoding used for headers and bodies.

Sorted keys, no insignificant white space, UTF-8. Producing bytes is the only
use: verifiers check the stored bytes as they are and never re-serialise.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> bytes:
    """Encode ``value`` canonically."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def loads(data: bytes) -> Any:
    """Decode canonical JSON (any valid JSON is accepted on reading)."""
    return json.loads(data.decode("utf-8"))
