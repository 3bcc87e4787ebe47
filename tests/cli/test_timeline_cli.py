"""``ledger timeline``, ``ledger projections`` and ``ledger registers`` through the CLI."""

from __future__ import annotations

import csv
import io
import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from commands.services import incidents, people
from ledger import config as configuration
from ledger import crypto
from projections.timeline import COLUMNS
from tests.cli.conftest import LedgerCli
from tests.conftest import build_federation, postgres_url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LedgerCli, str, str]]:
    """(the CLI, an incident id, a pupil id) on one federation per backend."""
    home = tmp_path_factory.mktemp("timeline-cli") / "home"
    database = None
    admin = None
    if request.param == "postgres":
        base = postgres_url()
        if not base:
            pytest.skip("PostgreSQL tests skipped: set LEDGER_TEST_POSTGRES_URL to run them")
        base = configuration.normalise_url(base)
        name = f"ledger_tlcli_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database = base.rsplit("/", 1)[0] + "/" + name
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(crypto, "SCRYPT_N", 2**10)
            fed = build_federation(home, database)
            pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Clio Commandline")
            form = incidents.IncidentReport("child-on-child", "2026-01-05T10:00", "Seen on a phone", "Facts",
                                            people=(f"{pupil}:victim",))
            inc = incidents.report(fed.ledger, fed["teacher"], form)
            incidents.triage(fed.ledger, fed["dsl"], inc, "DSL leads")
            fed.ledger.close()
        yield LedgerCli(home), inc, pupil
    finally:
        if admin is not None and database is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)'))
            admin.dispose()


def test_the_timeline_prints_a_table_and_records_the_read(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    before = ledger.snapshot()
    result = ledger.run("timeline", "--incident", inc, "--reason", "strategy meeting", actor="dsl")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Timeline of record {inc}"
    assert "--with-access shows the access log" in lines[1]
    assert lines[3].split() == ["happened", "by", "what"]
    assert "reported by teacher (staff) as child-on-child, seen: Seen on a phone" in " ".join(result.stdout.split())
    assert "LATE" in result.stdout
    counts, _ = ledger.snapshot()
    assert counts["policyledger_events"] == before[0]["policyledger_events"] + 1


def test_the_timeline_as_json_and_csv_has_every_column(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    result = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", actor="dsl")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["covers"] == f"record {inc}" and document["reader"] == "dsl"
    assert [r["event"] for r in document["rows"]][:2] == ["Incident.Reported", "Incident.Triaged"]
    result = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "csv", actor="dsl")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == COLUMNS and rows[0]["late"] == "True"


def test_the_html_timeline_goes_to_a_private_file(cli: tuple[LedgerCli, str, str], tmp_path: Path) -> None:
    ledger, _, pupil = cli
    out = tmp_path / "case.html"
    result = ledger.run("timeline", "--person", pupil, "--reason", "case file", "--format", "html",
                        "--out", str(out), actor="dsl")
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "entries written to" in result.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_an_as_of_before_anything_was_recorded_shows_nothing(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    result = ledger.run("timeline", "--incident", inc, "--as-of", "2000-01-01", "--reason", "r", actor="dsl")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("(none)") and "as known on 2000-01-01 23:59 GMT" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["timeline", "--reason", "r"],
        ["timeline", "--incident", "inc-1", "--person", "sb-1", "--reason", "r"],
        ["timeline", "--from", "2026-01-01", "--reason", "r"],
        ["timeline", "--incident", "inc-1"],
        ["timeline", "--incident", "inc-1", "--reason", "r", "--format", "pdf"],
        ["registers", "access"],
    ],
)
def test_usage_errors_exit_2_and_write_nothing(cli: tuple[LedgerCli, str, str], args: list[str]) -> None:
    ledger, _, _ = cli
    before = ledger.snapshot()
    result = ledger.run(*args, actor="dsl")
    assert result.exit_code == 2, result.output
    assert ledger.snapshot() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["timeline", "--incident", "inc-00000000", "--reason", "r"], "Error: no record 'inc-00000000' in the ledger"),
        (["timeline", "--incident", "{inc}", "--as-of", "yesterday", "--reason", "r"], "Error: --as-of 'yesterday' is not a date"),
        (["timeline", "--incident", "{inc}", "--reason", "   "], "Error: reason must not be empty"),
        (["projections", "rebuild", "nonsense"], "Error: no projection named nonsense"),
    ],
)
def test_ledger_errors_exit_1_with_a_message_and_write_nothing(
    cli: tuple[LedgerCli, str, str], args: list[str], message: str
) -> None:
    ledger, inc, _ = cli
    before = ledger.snapshot()
    result = ledger.run(*[a.replace("{inc}", inc) for a in args], actor="dsl")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(message)
    assert ledger.snapshot() == before


def test_the_timeline_needs_an_identity(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    result = ledger.run("timeline", "--incident", inc, "--reason", "r")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no identity to act as")


def test_projections_status_and_rebuild(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, _, _ = cli
    rows = ledger.rows("projections", "status")
    assert {"entries", "records", "access_log"} <= {str(r["name"]) for r in rows}
    result = ledger.run("projections", "rebuild", "--format", "json")
    assert result.exit_code == 0, result.output
    assert all(r["lag"] == 0 for r in json.loads(result.stdout))
    result = ledger.run("projections", "rebuild", "entries", "--format", "json")
    assert [r["name"] for r in json.loads(result.stdout)] == ["entries"]


def test_registers_list_incidents_and_who_read_them(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    result = ledger.run("registers", "incidents", "--format", "json", actor="dsl")
    assert result.exit_code == 0, result.output
    assert inc in {r["id"] for r in json.loads(result.stdout)}
    ledger.run("timeline", "--incident", inc, "--reason", "who reads this", actor="head")
    result = ledger.run("registers", "access", "--record", inc, "--reason", "audit", "--format", "json", actor="dsl")
    assert result.exit_code == 0, result.output
    assert "who reads this" in {r["why"] for r in json.loads(result.stdout)}
    result = ledger.run("registers", "approvals", actor="head")
    assert result.exit_code == 0, result.output
    result = ledger.run("registers", "acknowledgements", actor="head")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no policy version is in effect")


def _report_with_words(ledger: LedgerCli, pupil: str) -> str:
    result = ledger.run(
        "incidents", "report", "--category", "online-bullying", "--occurred-at", "2026-01-06T12:30",
        "--summary", "Name-calling in a class chat", "--facts", "Pupil showed me three messages sent at lunch",
        "--opinion", "I think this has gone on for weeks", "--child-words", "they all laugh when I come in",
        "--immediate-action", "Sat with the pupil until the DSL came", "--person", f"{pupil}:victim",
        actor="teacher")
    assert result.exit_code == 0, result.output
    return result.stdout.strip().split()[-1]


def test_the_chronology_shows_the_facts_apart_from_opinion_and_the_childs_words(
        cli: tuple[LedgerCli, str, str]) -> None:
    ledger, _, pupil = cli
    inc = _report_with_words(ledger, pupil)
    table = ledger.run("timeline", "--person", pupil, "--reason", "case review", actor="dsl",
                       COLUMNS="100")
    assert table.exit_code == 0, table.output
    flat = " ".join(table.stdout.split())
    assert "facts: Pupil showed me three messages sent at lunch" in flat
    assert "opinion: I think this has gone on for weeks" in flat
    assert "child's words: \u201cthey all laugh when I come in\u201d" in flat
    assert "immediate action: Sat with the pupil until the DSL came" in flat
    as_json = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", actor="dsl")
    report = json.loads(as_json.stdout)["rows"][0]
    assert report["details"] == [
        {"label": "facts", "text": "Pupil showed me three messages sent at lunch"},
        {"label": "opinion", "text": "I think this has gone on for weeks"},
        {"label": "child's words", "text": "\u201cthey all laugh when I come in\u201d"},
        {"label": "immediate action", "text": "Sat with the pupil until the DSL came"},
    ]
    as_csv = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "csv", actor="dsl")
    first = next(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert first["details"].splitlines()[1] == "opinion: I think this has gone on for weeks"


def test_the_table_fits_the_terminal_and_wraps_the_text(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, _, pupil = cli
    _report_with_words(ledger, pupil)
    for width in (90, 140):
        result = ledger.run("timeline", "--person", pupil, "--reason", "case review", actor="dsl",
                            COLUMNS=str(width))
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= width, width
        assert any(line.startswith(" ") and "child's words" in line for line in lines)


def test_the_access_log_is_left_out_unless_asked_for(cli: tuple[LedgerCli, str, str]) -> None:
    ledger, inc, _ = cli
    for _ in range(2):
        assert ledger.run("timeline", "--incident", inc, "--reason", "reading it twice", actor="dsl").exit_code == 0
    plain = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", actor="dsl")
    families = {r["event"] for r in json.loads(plain.stdout)["rows"]}
    assert not any(e.startswith("AccessRecord") for e in families), families
    full = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", "--with-access",
                      actor="dsl")
    reads = [r for r in json.loads(full.stdout)["rows"] if r["event"].startswith("AccessRecord")]
    assert len(reads) >= 2 and any("reading it twice" in r["what"] for r in reads)
    only = ledger.run("timeline", "--incident", inc, "--reason", "r", "--format", "json", "--category",
                      "incident", "--with-access", actor="dsl")
    kinds = {r["event"].split(".")[0] for r in json.loads(only.stdout)["rows"]}
    assert kinds == {"Incident", "AccessRecord"}, kinds
