"""Whether online abuse is racist, sexist, sexual or a hate crime, and the decision about the police.

Appendix 1: "If the comments are racist, sexist, of a sexual nature or
constitute a hate crime, you or a senior leader should consider contacting the
police". The nature is a clear flag; the decision (police contacted or not)
always comes with why, which is encrypted.
"""

from __future__ import annotations

from ledger.errors import InvalidInput

#: What the comments were found to be.
NATURES = ("racist", "sexist", "sexual", "hate-crime", "none-of-these")
#: The decision a senior leader records.
POLICE_DECISIONS = ("contacted", "not-contacted")


def check(natures: list[str], police: str, decided_on: str, today: str) -> list[str]:
    """Known natures (``none-of-these`` alone), a known decision, not dated in the future."""
    unknown = sorted(set(natures) - set(NATURES))
    if unknown or not natures:
        raise InvalidInput(f"unknown nature {', '.join(unknown) or '(none given)'}",
                           f"give --nature one or more of: {', '.join(NATURES)}")
    if "none-of-these" in natures and len(set(natures)) > 1:
        raise InvalidInput("none-of-these cannot be given with another nature")
    if police not in POLICE_DECISIONS:
        raise InvalidInput(f"unknown police decision {police!r}", f"decisions are: {', '.join(POLICE_DECISIONS)}")
    if decided_on > today:
        raise InvalidInput(f"the decision date {decided_on} is in the future")
    return sorted(set(natures))
