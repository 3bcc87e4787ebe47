"""Matching names, and the rules of a school's directory, without a database."""

from __future__ import annotations

import pytest

from commands.services.directory import fold, label, matches
from ledger.domain.directory import SchoolDirectory, directory_record_id
from ledger.errors import InvalidInput, RuleViolation


@pytest.mark.parametrize(("text", "folded"), [
    ("Zoë", "zoe"), ("ÅNGSTRÖM", "angstrom"), ("Siân O'Neill", "sian o'neill"), ("Straße", "strasse"),
    ("Ｐｉｐ", "pip"),  # full-width letters fold to plain ones (NFKD)
])
def test_folding_drops_case_and_accents(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(("name", "query"), [
    ("Pip Evans", "pip"), ("Pip Evans", "ev"), ("Pip Evans", "p e"), ("Pip Evans", "EVANS pip"),
    ("Zoë Ångström", "zoe ang"), ("Mary-Jane Watson", "mary"), ("Pip  Evans", " pip   evans "),
])
def test_every_typed_word_must_start_a_word_of_the_name(name: str, query: str) -> None:
    assert matches(name, query)


@pytest.mark.parametrize(("name", "query"), [
    ("Pip Evans", "vans"),       # not the start of a word
    ("Pip Evans", "pip x"),      # one word matches nothing
    ("Pip Evans", "pipe"),       # longer than the word
    ("Pip Evans", ""),           # nothing typed matches nobody
    ("Pip Evans", "   "),
    ("", "pip"),
])
def test_a_name_that_does_not_start_with_each_word_is_not_a_match(name: str, query: str) -> None:
    assert not matches(name, query)


def test_a_label_puts_the_name_before_the_id_and_keeps_the_id_alone_without_one() -> None:
    assert label("Pip Evans", "sb-1") == "Pip Evans (sb-1)"
    assert label("", "sb-1") == "sb-1"


def _directory() -> SchoolDirectory:
    directory = SchoolDirectory.open("Oak Primary")
    directory.admit("tia")
    directory.list_pupil("sb-pip", "Pip Evans", "Year 5")
    return directory


def test_a_directory_is_one_record_per_school_whatever_the_case() -> None:
    assert directory_record_id("Oak Primary") == directory_record_id("oak primary") != directory_record_id("Elm High")
    assert SchoolDirectory.open("Oak Primary").id == directory_record_id("Oak Primary")


def test_a_directory_lists_renames_and_unlists_pupils() -> None:
    directory = _directory()
    directory.list_pupil("sb-pip", "Pip Evans-Jones", "Year 6")
    assert directory.entries() == [{"id": "sb-pip", "name": "Pip Evans-Jones", "year_group": "Year 6"}]
    directory.unlist("sb-pip", "left the school")
    assert directory.entries() == []
    with pytest.raises(RuleViolation, match="sb-pip is not listed in the directory of Oak Primary"):
        directory.unlist("sb-pip", "again")


def test_staff_are_admitted_once_and_withdrawn_only_if_admitted() -> None:
    directory = _directory()
    with pytest.raises(RuleViolation, match="tia already reads the directory of Oak Primary"):
        directory.admit("tia")
    directory.withdraw("tia", "left")
    assert directory.staff == []
    with pytest.raises(RuleViolation, match="tia does not read the directory of Oak Primary"):
        directory.withdraw("tia", "left")


def test_a_year_group_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="year group"):
        _directory().list_pupil("sb-bo", "Bo", "Year\x1b[2J 7")


def test_many_pupils_at_once_become_one_restatement_of_the_whole_directory() -> None:
    directory = _directory()
    before = len(directory.collect_events())
    directory.list_pupils([(f"sb-{n}", f"Pupil {n}", "Year 1") for n in range(5)], restate_over=3)
    events = directory.collect_events()
    assert len(events) == 1 and isinstance(events[0], SchoolDirectory.Restated) and before == 3
    assert len(directory.pupils) == 6 and directory.staff == ["tia"] and directory.since_restated == 0


def test_a_few_pupils_are_listed_one_entry_each() -> None:
    directory = _directory()
    directory.collect_events()
    directory.list_pupils([("sb-a", "Ann", None), ("sb-b", "Bob", None)], restate_over=3)
    assert [type(e).__name__ for e in directory.collect_events()] == ["PupilListed", "PupilListed"]
    assert directory.since_restated == 3


def test_someone_who_could_not_read_every_entry_cannot_restate_it() -> None:
    directory = _directory()
    directory.withheld = 1
    with pytest.raises(RuleViolation, match="cannot be restated by someone who cannot read it"):
        directory.restate()
    directory.list_pupils([(f"sb-{n}", f"Pupil {n}", None) for n in range(5)], restate_over=3)
    assert all(type(e).__name__ != "Restated" for e in directory.collect_events())
