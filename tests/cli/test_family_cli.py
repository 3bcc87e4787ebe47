"""Family links: a parent, carer or sibling linked to a child, and a chronology that takes
them in on request (``people relate|unrelate``, ``timeline --person … --with-family``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.services import family, incidents, people
from ledger.domain.people import Subject
from ledger.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation, refused


@pytest.fixture
def household(federation: Federation) -> tuple[Federation, dict[str, str]]:
    dsl = federation["dsl"]
    ids = {
        "pip": people.add_subject(federation.ledger, dsl, "pupil", "Pip Pupil", "2016-04-12", subject_id="sb-pip"),
        "sam": people.add_subject(federation.ledger, dsl, "pupil", "Sam Pupil", "2014-02-01", subject_id="sb-sam"),
        "pat": people.add_subject(federation.ledger, dsl, "parent", "Pat Parent", subject_id="sb-pat"),
    }
    return federation, ids


def test_family_is_linked_shown_and_taken_into_a_chronology_on_request(
        household: tuple[Federation, dict[str, str]]) -> None:
    fed, ids = household
    cli = LedgerCli(fed.home)
    sibling_case = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "online-bullying", "2026-01-05T10:00", "Messages about Sam", "Sam showed me messages",
        people=("sb-sam:victim",)))
    for args in (("sb-pip", "sb-pat", "--relation", "parent", "--note", "lives with Pip"),
                 ("sb-pip", "sb-sam", "--relation", "sibling")):
        result = cli.run("people", "relate", *args, actor="dsl")
        assert result.exit_code == 0, result.output
    shown = json.loads(cli.run("people", "show", "sb-pip", "--reason", "family", "--format", "json",
                               actor="dsl").stdout)[0]
    assert shown["family"] == ["parent: sb-pat", "sibling: sb-sam"]

    def chronology(*extra: str) -> list[dict[str, object]]:
        result = cli.run("timeline", "--person", "sb-pip", "--reason", "family support plan", "--format", "json",
                         *extra, actor="dsl")
        assert result.exit_code == 0, result.output
        rows: list[dict[str, object]] = json.loads(result.stdout)["rows"]
        return rows

    alone = chronology()
    assert any(r["event"] == "Subject.Related" and "sb-pat linked as parent of sb-pip: lives with Pip" in str(r["what"])
               for r in alone)
    assert not any(sibling_case in str(r["ref"]) for r in alone), "a sibling's case only on request"
    with_family = chronology("--with-family")
    assert any(str(r["ref"]).startswith(sibling_case) and r["about"] == ["sb-sam"] for r in with_family)
    table = cli.run("timeline", "--person", "sb-pip", "--with-family", "--reason", "family support plan",
                    actor="dsl", COLUMNS="140")
    assert "linked family, whose records are taken in too: Pat Parent (sb-pat), Sam Pupil (sb-sam)" in table.stdout
    assert "[about Sam Pupil (sb-sam): family of sb-pip]" in table.stdout, "a sibling's row says whose it is"
    # The link also shows in the parent's own chronology.
    parent = json.loads(cli.run("timeline", "--person", "sb-pat", "--reason", "r", "--format", "json",
                                actor="dsl").stdout)["rows"]
    assert any(r["event"] == "Subject.Related" for r in parent)

    ended = cli.run("people", "unrelate", "sb-pip", "sb-sam", "--reason", "linked to the wrong child", actor="dsl")
    assert ended.exit_code == 0, ended.output
    assert not any(str(r["ref"]).startswith(sibling_case) for r in chronology("--with-family"))
    shown = json.loads(cli.run("people", "show", "sb-pip", "--reason", "family", "--format", "json",
                               actor="dsl").stdout)[0]
    assert shown["family"] == ["parent: sb-pat"]


def test_a_link_that_cannot_be_is_refused_and_writes_nothing(household: tuple[Federation, dict[str, str]]) -> None:
    fed, _ = household
    dsl = fed["dsl"]
    refused(fed, NotPermitted, lambda: family.relate(fed.ledger, fed["teacher"], "sb-pip", "sb-pat", "parent"),
            match="may not link people")
    refused(fed, RuleViolation, lambda: family.relate(fed.ledger, dsl, "sb-pip", "sb-pat", "sibling"),
            match="cannot be linked as a sibling")
    refused(fed, RuleViolation, lambda: family.relate(fed.ledger, dsl, "sb-pat", "sb-pip", "parent"),
            match="family is linked to a child")
    refused(fed, InvalidInput, lambda: family.relate(fed.ledger, dsl, "sb-pip", "sb-pip", "sibling"),
            match="themselves")
    refused(fed, NotFound, lambda: family.relate(fed.ledger, dsl, "sb-pip", "sb-nobody", "parent"))
    refused(fed, RuleViolation, lambda: family.end_relation(fed.ledger, dsl, "sb-pip", "sb-pat", "never linked"),
            match="not linked")
    family.relate(fed.ledger, dsl, "sb-pip", "sb-pat", "parent")
    refused(fed, RuleViolation, lambda: family.relate(fed.ledger, dsl, "sb-pip", "sb-pat", "carer"),
            match="already linked")


def test_with_family_is_only_for_a_person(household: tuple[Federation, dict[str, str]]) -> None:
    fed, _ = household
    cli = LedgerCli(fed.home)
    before = cli.snapshot()
    result = cli.run("timeline", "--incident", "inc-00000000", "--with-family", "--reason", "r", actor="dsl")
    assert result.exit_code != 0 and "--with-family is for a person's chronology" in result.output
    assert cli.snapshot() == before


def _subject(subject_id: str, kind: str) -> Subject:
    return Subject.register(subject_id, kind, {"name": subject_id})


def test_the_family_rules_hold_without_a_database() -> None:
    child, parent, sibling = _subject("sb-c", "pupil"), _subject("sb-p", "carer"), _subject("sb-s", "pupil")
    child.relate(parent, "carer", None)
    child.relate(sibling, "sibling", "half-brother")
    assert child.relations == [{"id": "sb-p", "relation": "carer"}, {"id": "sb-s", "relation": "sibling"}]
    with pytest.raises(RuleViolation):
        child.relate(parent, "parent", None)
    with pytest.raises(InvalidInput):
        child.relate(_subject("sb-x", "parent"), "cousin", None)
    with pytest.raises(RuleViolation):
        parent.relate(child, "sibling", None)
    child.end_relation("sb-s", "recorded in error")
    assert child.relations == [{"id": "sb-p", "relation": "carer"}]
    with pytest.raises(RuleViolation):
        child.end_relation("sb-s", "again")


def test_a_childs_chronology_is_headed_with_who_they_are_from_their_signed_record(
        household: tuple[Federation, dict[str, str]], tmp_path: Path) -> None:
    fed, _ = household
    cli = LedgerCli(fed.home)
    table = cli.run("timeline", "--person", "sb-pip", "--reason", "case review", actor="dsl")
    assert table.exit_code == 0, table.output
    assert "Pip Pupil, 2016-04-12" in table.stdout.splitlines()[1]
    out = tmp_path / "pip.html"
    assert cli.run("timeline", "--person", "sb-pip", "--reason", "strategy meeting", "--format", "html",
                   "--out", str(out), actor="dsl").exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "<dt>Name</dt><dd>Pip Pupil</dd>" in page and "<dt>Date of birth</dt><dd>2016-04-12</dd>" in page
    refused_read = cli.run("timeline", "--person", "sb-pip", "--reason", "curious", actor="teacher")
    assert refused_read.exit_code != 0 and "Pip Pupil" not in refused_read.output


def test_an_unsealed_end_of_a_link_signed_by_a_teacher_hides_nobody(household: tuple[Federation, dict[str, str]]) -> None:
    """Anyone with the database can append a row signed with their own key: a teacher 'ends' the
    parent's link. Who the family is comes from checked, sealed entries by someone who may link
    people, so the parent's records stay in the family chronology (and verify names the row)."""
    import uuid

    from eventsourcing.utils import get_topic

    from commands.services import readside
    from tests.adversary.attacker import Attacker
    from tests.adversary.conftest import findings

    fed, _ = household
    family.relate(fed.ledger, fed["dsl"], "sb-pip", "sb-pat", "parent")
    attack = Attacker(fed)
    attack.insert(attack.forge(fed["teacher"].pair, uuid.uuid4(), get_topic(Subject.RelationEnded),
                               {"related": "sb-pat"}, record_class="subject", subjects=["sb-pip", "sb-pat"],
                               body={"related": "sb-pat", "reason": "gone", "subjects": ["sb-pip", "sb-pat"]}))
    found = readside.timeline(fed.ledger, fed["dsl"], "family support plan", person="sb-pip", family=True)
    assert found.family == ["sb-pat"], "an unsealed row decides nothing"
    assert "never sealed" in findings(fed)
