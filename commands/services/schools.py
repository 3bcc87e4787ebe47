"""Which of the federation's schools a record concerns: a clear fact, not personal data.

The schools are the federation's signed settings (``ledger settings``). A
record names one of them exactly as the settings spell it; a federation of
one school names it without being asked.
"""

from __future__ import annotations

from ledger.errors import InvalidInput
from ledger.store import Ledger


def checked_school(ledger: Ledger, school: str | None) -> str | None:
    """The settings' spelling of ``school`` (any case), the only school when none is given, or None."""
    schools = list(ledger.registry().schools)
    if school is None or not school.strip():
        return schools[0] if len(schools) == 1 else None
    found = [s for s in schools if s.casefold() == school.strip().casefold()]
    if not found:
        raise InvalidInput(f"{school!r} is not one of the federation's schools",
                           f"schools are: {', '.join(schools) or 'none yet (`ledger settings set --school …`)'}")
    return found[0]


def school_filter(ledger: Ledger, school: str | None) -> str | None:
    """A listing's ``--school``: checked the same way, but no school given means every school."""
    if school is None or not school.strip():
        return None
    return checked_school(ledger, school)
