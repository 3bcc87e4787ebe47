"""Rules an incident's steps share: who is linked, dates not in the future, optional text."""

from __future__ import annotations

from ledger.domain.base import require_text
from ledger.domain.incidents import categories as codes
from ledger.errors import InvalidInput

#: A person linked to an incident: ``{"id", "part", "kind"}``.
Person = dict[str, str]

def not_after(name: str, day: str, today: str) -> str:
    """``day`` unless it is after ``today`` (something recorded as done cannot be in the future)."""
    if day > today:
        raise InvalidInput(f"{name} {day} is in the future", "record it once it has happened")
    return day


def who_decides(owner: str) -> str:
    """Words for the people a role's incidents go to."""
    return "the Headteacher" if owner == "headteacher" else f"the {owner.upper()} or the Headteacher"


def optional(name: str, value: str | None) -> str | None:
    """Checked text, or None when nothing was given."""
    return require_text(name, value) if value is not None and value.strip() else None


def check_people(people: list[Person]) -> list[Person]:
    """Each person once, as staff or a registered subject, with a known part."""
    seen: set[str] = set()
    checked = []
    for person in people:
        codes.choose("part", person.get("part", ""), codes.PARTS)
        if person.get("kind") not in ("staff", "subject"):
            raise InvalidInput(f"{person.get('id')} is neither staff nor a registered subject")
        if person["id"] in seen:
            raise InvalidInput(f"{person['id']} is linked twice", "give each person once, with one part")
        seen.add(person["id"])
        checked.append({"id": person["id"], "part": person["part"], "kind": person["kind"]})
    return checked

