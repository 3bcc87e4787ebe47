"""Stored text reaches a terminal or a spreadsheet only through the output layer.

The hostile records are written as an older version of the ledger could have
written them (before input refused such characters), so what is tested is the
output side alone: nothing stored can move a reader's cursor, retitle their
window, reorder what they see, or run as a formula in Excel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.cli.casework import render_report
from commands.services import incidents, people
from commands.services.governors import GovernorsReport
from ledger import text
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation

HOSTILE = "\x1b]0;pwned\x07\rEVIL\x9b31m\u202egnp.exe"
DANGEROUS = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


@pytest.fixture
def hostile(sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch) -> tuple[LedgerCli, str, str]:
    fed = sqlite_federation
    with monkeypatch.context() as older:
        older.setattr(text, "refused_character", lambda value, allow="": None)
        pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", f"Name{HOSTILE}", "2015-01-02")
        inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
            "child-on-child", "2026-02-01T10:00", f"Summary{HOSTILE}", f"Facts{HOSTILE}",
            people=(f"{pupil}:victim",)))
    return LedgerCli(fed.home), inc, pupil


def _clean(output: str) -> None:
    for char in DANGEROUS:
        assert char not in output, f"{char!r} reached the terminal"


def test_incidents_show_escapes_stored_control_and_direction_characters(hostile: tuple[LedgerCli, str, str]) -> None:
    cli, inc, _ = hostile
    done = cli.run("incidents", "show", inc, "--reason", "review", actor="dsl")
    assert done.exit_code == 0, done.output
    _clean(done.output)
    assert "Summary\\x1b]0;pwned\\x07\\rEVIL\\x9b31m\\u202egnp.exe" in done.stdout


def test_people_show_escapes_a_hostile_name(hostile: tuple[LedgerCli, str, str]) -> None:
    cli, _, pupil = hostile
    done = cli.run("people", "show", pupil, "--reason", "review", actor="dsl")
    assert done.exit_code == 0, done.output
    _clean(done.output)
    assert "Name\\x1b]0;pwned" in done.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_timeline_output_escapes_stored_text(hostile: tuple[LedgerCli, str, str], fmt: str) -> None:
    cli, inc, _ = hostile
    done = cli.run("timeline", "--incident", inc, "--reason", "review", "--format", fmt, actor="dsl")
    assert done.exit_code == 0, done.output
    _clean(done.output)


def test_json_output_stays_exact_json(hostile: tuple[LedgerCli, str, str]) -> None:
    cli, inc, _ = hostile
    done = cli.run("incidents", "show", inc, "--reason", "review", "--format", "json", actor="dsl")
    _clean(done.stdout)
    assert json.loads(done.stdout)["summary"] == f"Summary{HOSTILE}"


def test_a_formula_in_a_reason_is_not_a_formula_in_the_access_register_csv(sqlite_ledger_cli: LedgerCli) -> None:
    cli = sqlite_ledger_cli
    formula = '=HYPERLINK("http://evil.example/","Click")'
    assert cli.run("people", "show", "teacher", "--reason", formula, actor="head").exit_code == 0
    done = cli.run("registers", "access", "--reason", "audit", "--format", "csv", actor="head")
    assert done.exit_code == 0, done.output
    assert f"'{formula}".replace('"', '""') in done.stdout
    assert f",{formula}".replace('"', '""') not in done.stdout and f',"{formula}' not in done.stdout.replace('""', '"')


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_a_timeline_written_to_a_file_is_as_safe_as_on_the_terminal(hostile: tuple[LedgerCli, str, str],
                                                                    tmp_path: Path, fmt: str) -> None:
    cli, _, pupil = hostile
    out = tmp_path / f"chronology.{fmt}"
    done = cli.run("timeline", "--person", pupil, "--reason", "review", "--format", fmt, "--out", str(out),
                   actor="dsl")
    assert done.exit_code == 0, done.output
    written = out.read_text("utf-8")
    _clean(written)
    assert "Summary\\x1b]0;pwned" in written
    if fmt == "table":
        assert "Name\\x1b]0;pwned" in written, "the person's name heads the table, escaped"


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_the_governors_report_is_safe_in_every_format(fmt: str) -> None:
    formula = "=HYPERLINK(\"http://evil.example/\",\"Click\")"
    found = GovernorsReport("2026-09-01", "2026-12-19", f"School{HOSTILE}", "2026-12-19T10:00:00+00:00",
                            by_school={f"School{HOSTILE}": 2}, referrals={formula: 1, f"Agency{HOSTILE}": 1},
                            notes=[f"Note{HOSTILE}"])
    written = render_report(found, fmt)
    _clean(written)
    if fmt == "csv":
        assert f"'{formula}".replace('"', '""') in written
        assert f",{formula}" not in written.replace('""', '"')
    else:
        assert "School\\x1b]0;pwned\\x07\\rEVIL\\x9b31m\\u202egnp.exe" in written


def test_no_cell_of_a_timeline_csv_or_a_bundle_timeline_csv_is_a_formula(sqlite_ledger_cli: LedgerCli,
                                                                         tmp_path: Path) -> None:
    import csv
    import io
    import zipfile

    cli = sqlite_ledger_cli
    formula = '=HYPERLINK("http://evil.example/","Click")'
    done = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", "2026-02-01T10:00",
                   "--summary", formula, "--facts", "@SUM(1+1)*cmd|' /C calc'!A0", actor="dsl")
    assert done.exit_code == 0, done.output
    inc = done.stdout.strip()
    shown = cli.run("timeline", "--incident", inc, "--reason", "r", "--format", "csv", actor="dsl")
    assert cli.run("export", "--incident", inc, "--reason", "r", "--out", str(tmp_path / "b.zip"),
                   actor="dsl").exit_code == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
        exported = bundle.read(next(n for n in bundle.namelist() if n.endswith("timeline.csv"))).decode("utf-8")
    for document in (shown.stdout, exported):
        cells = [cell for row in csv.reader(io.StringIO(document)) for cell in row]
        assert any(formula in cell for cell in cells), "the summary is there"
        assert not [c for c in cells if c.startswith(text.FORMULA_STARTS)], document
