"""Progress of long work (import, verify, rebuild, sweep, export) on stderr.

A ``tqdm`` bar with the rate and the time left, drawn only when the command
line asked for it (:func:`show`) and stderr is a terminal; otherwise every bar
is silent, so services stay quiet in the web desk, in tests and in pipes.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

_wanted = False


def show(on: bool = True) -> None:
    """Draw bars for this process (the command line calls this; nothing else does)."""
    global _wanted
    _wanted = on


def shown() -> bool:
    """Whether bars are drawn now: asked for, and stderr is a terminal."""
    return _wanted and sys.stderr.isatty()


def bar(total: int | None, what: str, unit: str = "entry", delay: float = 0) -> Any:
    """A bar of ``total`` steps (a tqdm), drawn after ``delay`` seconds; update it with
    ``.update(n)``, close it with ``.close()`` or use it as a context manager."""
    from tqdm import tqdm

    # A terminal that reports no size (some pseudo-terminals) counts as the usual 80 x 24.
    size = shutil.get_terminal_size((80, 24))
    return tqdm(total=total, desc=what, unit=unit, file=sys.stderr, disable=not shown(),
                leave=False, ncols=size.columns or 80, nrows=size.lines or 24, mininterval=0.5, delay=delay)
