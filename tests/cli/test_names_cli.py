"""People by name from the command line: find, pick, and a name wherever a person is taken."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.services import people, readside, setup
from tests.cli.conftest import LedgerCli, table_counts
from tests.cli.test_people_cli import assert_refused
from tests.conftest import PASSPHRASE, Federation, local_today, module_federation

NOON = f"{local_today(-1)}T12:00"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Two schools, a teacher at each, and pupils whose names overlap."""
    for federation in module_federation(request, tmp_path_factory, "names_cli"):
        ledger, admin, dsl = federation.ledger, federation["admin"], federation["dsl"]
        setup.change_settings(ledger, admin, None, ("Oak Primary", "Elm High"), "our two schools")
        people.add_staff(ledger, admin, "Tia Teacher", ["staff"], PASSPHRASE, "tia", school="Oak Primary")
        people.add_staff(ledger, admin, "Bea Teacher", ["staff"], PASSPHRASE, "bea", school="elm high")
        for sid, name, school, year in (("sb-pip", "Pip Evans", "Oak Primary", "Year 5"),
                                        ("sb-pippa", "Pippa Oakley", "Oak Primary", "Year 3"),
                                        ("sb-zoe", "Zoë Ångström", "Oak Primary", "Year 5"),
                                        ("sb-pev", "Pip Evanson", "Elm High", "Year 9")):
            people.add_subject(ledger, dsl, "pupil", name, "2015-01-02", school, sid, year_group=year)
        people.add_subject(ledger, dsl, "parent", "Pat Evans", None, None, "sb-pat")
        yield federation


@pytest.fixture
def cli(fed: Federation) -> LedgerCli:
    return LedgerCli(fed.home)


def _json(cli: LedgerCli, *args: str, actor: str) -> list[dict[str, str]]:
    result = cli.run(*args, "--format", "json", actor=actor)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, str]] = json.loads(result.stdout)
    return rows


def test_a_reader_finds_pupils_by_prefix_across_schools_ignoring_case_and_accents(cli: LedgerCli) -> None:
    rows = _json(cli, "people", "find", "PIP EV", "--reason", "linking a report", actor="dsl")
    assert [(r["id"], r["name"], r["school"], r["year_group"]) for r in rows] == [
        ("sb-pip", "Pip Evans", "Oak Primary", "Year 5"), ("sb-pev", "Pip Evanson", "Elm High", "Year 9")]
    assert rows[0]["date_of_birth"] == "2015-01-02" and rows[0]["kind"] == "pupil"
    assert [r["id"] for r in _json(cli, "people", "find", "zoe ang", "--reason", "r", actor="head")] == ["sb-zoe"]


def test_find_filters_by_kind_and_school(cli: LedgerCli) -> None:
    assert [r["id"] for r in _json(cli, "people", "find", "evans", "--kind", "parent", "--reason", "r",
                                   actor="dsl")] == ["sb-pat"]
    assert [r["id"] for r in _json(cli, "people", "find", "pip", "--school", "elm high", "--reason", "r",
                                   actor="dsl")] == ["sb-pev"]
    assert {r["id"] for r in _json(cli, "people", "find", "evans", "--reason", "r", actor="dsl")} == {
        "sb-pip", "sb-pev", "sb-pat"}


def test_find_prints_a_table(cli: LedgerCli) -> None:
    result = cli.run("people", "find", "zoe", "--reason", "r", actor="dsl")
    assert result.exit_code == 0, result.output
    assert "Zoë Ångström" in result.stdout and "sb-zoe" in result.stdout and "Year 5" in result.stdout


def test_a_search_is_recorded_in_the_access_log_with_its_reason(fed: Federation, cli: LedgerCli) -> None:
    before = table_counts(fed.home)["policyledger_events"]
    _json(cli, "people", "find", "pippa", "--reason", "checking a name for the register", actor="slt")
    assert table_counts(fed.home)["policyledger_events"] == before + 1
    log = readside.register(fed.ledger, fed["head"], "access", "audit", reader="slt")
    assert any(r["why"] == "checking a name for the register" and "sb-pippa" in str(r) for r in log)


def test_staff_search_is_for_those_who_read_staff_records(cli: LedgerCli) -> None:
    rows = _json(cli, "people", "find", "tia", "--kind", "staff", "--reason", "r", actor="head")
    assert [(r["id"], r["name"]) for r in rows] == [("tia", "Tia Teacher")]
    assert_refused(cli, ("people", "find", "tia", "--kind", "staff", "--reason", "r"),
                   "dsl may not read staff records, so cannot search staff by name",
                   "give the staff id; the Headteacher, SLT or the IT manager can find them by name", actor="dsl")


def test_a_teacher_picks_pupils_of_their_own_school_by_name_only(cli: LedgerCli) -> None:
    rows = _json(cli, "people", "pick", "pip", actor="tia")
    assert rows == [{"id": "sb-pip", "name": "Pip Evans", "year_group": "Year 5", "school": "Oak Primary"},
                    {"id": "sb-pippa", "name": "Pippa Oakley", "year_group": "Year 3", "school": "Oak Primary"}]
    assert [r["id"] for r in _json(cli, "people", "pick", "pip", actor="bea")] == ["sb-pev"]


def test_a_teacher_cannot_pick_from_another_school(cli: LedgerCli) -> None:
    assert_refused(cli, ("people", "pick", "pip", "--school", "Elm High"),
                   "tia does not pick pupils of Elm High",
                   "a member of staff sees the pupils of their own school only", actor="tia")


def test_a_teacher_cannot_search_every_record_by_name(cli: LedgerCli) -> None:
    assert_refused(cli, ("people", "find", "pat", "--kind", "parent", "--reason", "r"),
                   "tia may not read people's records, so cannot search them by name", actor="tia")


def test_someone_on_no_school_is_told_how_to_get_on_one(cli: LedgerCli) -> None:
    assert_refused(cli, ("people", "pick", "pip"),
                   "teacher is on no school's directory, so cannot pick pupils by name",
                   "the IT manager or Headteacher records your school (`people add-staff --school`, "
                   "`people join-school`); meanwhile give the pupil's id, or name the child in the facts",
                   actor="teacher")


def test_a_teacher_reports_a_concern_naming_the_pupil(fed: Federation, cli: LedgerCli) -> None:
    result = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", NOON,
                     "--summary", "upset at break", "--facts", "crying by the gate", "--person", "Pip Evans:victim",
                     actor="tia")
    assert result.exit_code == 0, result.output
    inc = result.stdout.strip()
    shown = cli.run("incidents", "show", inc, "--reason", "triage", "--format", "json", actor="dsl")
    assert shown.exit_code == 0, shown.output
    assert "sb-pip" in shown.stdout and "sb-pippa" not in shown.stdout


def test_a_name_naming_two_pupils_is_refused_writing_nothing_and_says_how_to_see_them(cli: LedgerCli) -> None:
    """A refusal writes nothing, so it shows no name (showing one would be a read to log): the
    hint sends the teacher to `people pick`, which lists and logs them."""
    before = cli.snapshot()
    result = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", NOON,
                     "--summary", "s", "--facts", "f", "--person", "pip:victim", actor="tia")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: 'pip' names 2 people",
        "Hint: see who with `ledger people pick \"pip\"`, then give the id of the one you mean"]
    assert cli.snapshot() == before
    picked = cli.run("people", "pick", "pip", actor="tia")
    assert picked.exit_code == 0 and "Pip Evans" in picked.stdout and "Pippa Oakley" in picked.stdout


def test_a_full_name_wins_over_names_it_begins(cli: LedgerCli) -> None:
    rows = _json(cli, "people", "show", "Pip Evans", "--reason", "parental contact", actor="dsl")
    assert rows == [{"id": "sb-pip", "name": "Pip Evans", "date_of_birth": "2015-01-02", "school": "Oak Primary",
                     "year_group": "Year 5"}]


def test_a_teacher_cannot_name_a_pupil_of_another_school(cli: LedgerCli) -> None:
    assert_refused(cli, ("incidents", "report", "--category", "child-on-child", "--occurred-at", NOON, "--summary", "s",
                   "--facts", "f", "--person", "Pip Evanson:victim"), "no person 'Pip Evanson'", actor="tia")


def test_a_timeline_takes_a_name_and_heads_it_with_the_name(cli: LedgerCli) -> None:
    result = cli.run("timeline", "--person", "zoe", "--reason", "case review", actor="dsl")
    assert result.exit_code == 0, result.output
    assert "sb-zoe" in result.stdout


def test_an_export_takes_a_name(cli: LedgerCli, tmp_path: Path) -> None:
    out = tmp_path / "zoe.zip"
    result = cli.run("export", "--person", "Zoë Ångström", "--reason", "LADO", "--out", str(out), actor="head")
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_linking_takes_a_name(fed: Federation, cli: LedgerCli) -> None:
    inc = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", NOON, "--summary", "s",
                  "--facts", "f", actor="tia").stdout.strip()
    result = cli.run("incidents", "link", inc, "Pippa Oakley:witness", "--reason", "was there", actor="dsl")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"sb-pippa linked to {inc}"


def test_listings_name_people_for_readers_and_keep_ids_for_others(cli: LedgerCli) -> None:
    named = {r["id"]: r["name"] for r in _json(cli, "people", "list", actor="dsl")}
    assert named["sb-pip"] == "Pip Evans (sb-pip)" and named["sb-pat"] == "Pat Evans (sb-pat)"
    assert named["tia"] == "tia"  # the DSL does not read staff records
    assert {r["id"]: r["name"] for r in _json(cli, "people", "list", actor="head")}["tia"] == "Tia Teacher (tia)"
    plain = {r["id"]: r["name"] for r in _json(cli, "people", "list", actor="tia")}
    assert plain["sb-pip"] == "sb-pip" and plain["tia"] == "tia"


def test_a_timeline_names_its_recorders_for_those_who_read_staff_records(cli: LedgerCli) -> None:
    reported = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", NOON, "--summary", "s",
                       "--facts", "f", "--person", "Zoë Ångström:witness", actor="tia")
    assert reported.exit_code == 0, reported.output
    result = cli.run("timeline", "--person", "zoe", "--reason", "case review", actor="head")
    assert result.exit_code == 0, result.output
    assert "Tia Teacher (tia)" in result.stdout
    result = cli.run("timeline", "--person", "zoe", "--reason", "case review", actor="dsl")
    assert result.exit_code == 0, result.output
    assert "Tia Teacher" not in result.stdout and "tia" in result.stdout  # the DSL does not read staff records


def test_a_roll_is_imported_in_one_go_and_its_pupils_can_be_picked(cli: LedgerCli, tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text("name,date_of_birth,year_group,id\nRoll Alpha,2016-02-03,Year 4,sb-ra\nRoll Beta,,Year 4,\n",
                    encoding="utf-8")
    result = cli.run("people", "import-pupils", str(roll), "--school", "oak primary", actor="dsl")
    assert (result.exit_code, result.stdout) == (0, "2 pupils registered at oak primary\n"), result.output
    assert [r["name"] for r in _json(cli, "people", "pick", "roll", actor="tia")] == ["Roll Alpha", "Roll Beta"]


def test_a_roll_with_a_bad_row_is_refused_whole(cli: LedgerCli, tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text("name,date_of_birth\nGood Gamma,2016-02-03\nBad Delta,3016-02-03\n", encoding="utf-8")
    before = cli.snapshot()
    result = cli.run("people", "import-pupils", str(roll), "--school", "Oak Primary", actor="dsl")
    assert result.exit_code == 1 and result.stderr.startswith("Error: row 2: date of birth"), result.output
    assert cli.snapshot() == before
    result = cli.run("people", "import-pupils", str(roll), "--school", "Nowhere", actor="dsl")
    assert result.stderr.splitlines()[0] == "Error: 'Nowhere' is not one of the federation's schools"
    assert cli.snapshot() == before


def test_a_teacher_names_the_children_in_a_post(fed: Federation, cli: LedgerCli) -> None:
    result = cli.run("approvals", "post", "propose", "--text", "Sports day!", "--child", "Pippa Oakley",
                     "--school", "Oak Primary", actor="tia")
    assert result.exit_code == 0, result.output
    post = result.stdout.strip()
    assert [r["subjects"] for r in _json(cli, "approvals", "list", actor="head") if r["id"] == post] == [
        ["Pippa Oakley (sb-pippa)"]]


def test_a_name_resolved_to_one_person_is_in_the_access_log_as_the_search_that_found_them(cli: LedgerCli) -> None:
    from commands.services import directory

    def searches() -> list[dict[str, object]]:
        return [r for r in _json(cli, "registers", "access", "--reason", "audit", actor="head")
                if r["why"] == directory.SEARCH_REASON]

    before = len(searches())
    assert _json(cli, "people", "show", "Pip Evans", "--reason", "parental contact", actor="dsl")[0]["id"] == "sb-pip"
    after = searches()
    assert len(after) == before + 1 and "dsl" in str(after[-1]["reader"])
