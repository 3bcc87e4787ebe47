"""``ledger incidents …`` through the CLI: exact exit codes and output, nothing written on failure."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from commands.services import people
from ledger import config as configuration
from ledger import crypto
from ledger.schema import attachments
from tests.cli.conftest import LedgerCli
from tests.conftest import FederationTemplates


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def incidents_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  federation_templates: FederationTemplates) -> Iterator[LedgerCli]:
    """One federation per backend for this module, with the pupil ``sb-pip``.

    Tests report their own incidents on it; every refusal checks that nothing
    was written, so sharing it is safe.
    """
    home = tmp_path_factory.mktemp("incidents-cli") / "home"
    with pytest.MonkeyPatch.context() as patch, federation_templates.copy(request.param, home, "ledger_cli") as fed:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", subject_id="sb-pip")
        yield LedgerCli(home)


def attachment_count(cli: LedgerCli) -> int:
    engine = create_engine(configuration.resolve({}, home=str(cli.home)).db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(attachments)).scalar_one())
    finally:
        engine.dispose()


def ok(cli: LedgerCli, *args: str, actor: str | None = None) -> str:
    result = cli.run(*args, actor=actor)
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(cli: LedgerCli, args: tuple[str, ...], actor: str, error: str, hint: str | None = None) -> None:
    """Exit 1 with exactly ``Error: …`` (and ``Hint: …``) on stderr, nothing on stdout, nothing written."""
    before = cli.snapshot(), attachment_count(cli)
    result = cli.run(*args, actor=actor)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {error}"
    if hint is not None:
        assert lines[1:] == [f"Hint: {hint}"]
    assert (cli.snapshot(), attachment_count(cli)) == before


def report(cli: LedgerCli, actor: str = "teacher", category: str = "staff-phone-use", *extra: str) -> str:
    out = ok(cli, "incidents", "report", "--category", category, "--occurred-at", "2026-01-10T08:30",
             "--summary", "Phone in class", "--facts", "Phone used during phonics", *extra, actor=actor)
    assert re.fullmatch(r"inc-[0-9a-f]{8}\n", out), out
    return out.strip()


def test_an_incident_goes_through_its_whole_lifecycle(ledger_cli: LedgerCli, tmp_path: Path) -> None:
    cli = ledger_cli
    screenshot = tmp_path / "post.png"
    screenshot.write_bytes(b"\x89PNG a post")
    inc = report(cli, "teacher", "staff-phone-use", "--person", "teacher:witness", "--precision", "approximate",
                 "--opinion", "Seemed to be a personal call", "--evidence", str(screenshot), "--device", "own phone")
    assert ok(cli, "incidents", "triage", inc, "--rationale", "Phone use", actor="slt") == f"{inc} triaged and escalated to slt\n"
    assert ok(cli, "incidents", "link", inc, "slt:alleged", "--reason", "Named by witness", actor="slt") == f"slt linked to {inc}\n"
    assert ok(cli, "incidents", "assign", inc, "investigator", "--remit", "Interview", actor="head") == f"investigator assigned to {inc}\n"
    assert ok(cli, "incidents", "note", inc, "--kind", "opinion", "--text", "Credible", actor="investigator") == f"opinion noted on {inc}\n"
    statement = tmp_path / "statement.txt"
    statement.write_bytes(b"Statement of the TA")
    attachment = ok(cli, "incidents", "evidence", "add", inc, "--file", str(statement), "--captured-by", "investigator",
                    "--captured-at", "2026-01-11T10:00", "--method", "typed", "--device", "office PC",
                    "--sha256", hashlib.sha256(b"Statement of the TA").hexdigest(), actor="investigator").strip()
    assert re.fullmatch(r"att-[0-9a-f]{8}", attachment)
    out = tmp_path / "copy.txt"
    result = cli.run("incidents", "evidence", "get", inc, attachment, "--out", str(out), "--reason", "hearing",
                     actor="investigator")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"{out} written, sha256 {hashlib.sha256(b'Statement of the TA').hexdigest()} verified\n"
    assert out.read_bytes() == b"Statement of the TA"
    assert ok(cli, "incidents", "action", inc, "other", "--details", "Reminder of the policy", "--on", "2026-01-12",
              actor="slt") == f"other recorded on {inc}\n"
    assert ok(cli, "incidents", "outcome", inc, "--finding", "upheld", "--disciplinary", "oral", "--issued-on",
              "2026-01-14", "--decided-on", "2026-01-13", "--summary", "Breach", actor="head") == f"outcome upheld recorded on {inc}\n"
    assert ok(cli, "incidents", "close", inc, actor="head") == f"{inc} closed\n"
    assert ok(cli, "incidents", "reopen", inc, "--reason", "Appeal", actor="head") == f"{inc} reopened\n"
    assert ok(cli, "incidents", "unassign", inc, "investigator", "--reason", "Done", actor="head") == f"investigator no longer assigned to {inc}\n"

    shown = json.loads(ok(cli, "incidents", "show", inc, "--reason", "appeal panel", "--format", "json", actor="head"))
    assert shown["status"] == "reopened" and shown["opinion"] == "Seemed to be a personal call"
    assert shown["outcome"]["disciplinary"] == "oral" and shown["outcome"]["warning_issued_on"] == "2026-01-14"
    assert [e["device"] for e in shown["evidence"]] == ["own phone", "office PC"]
    assert [t["event"] for t in shown["timeline"]] == [
        "Reported", "EvidenceAdded", "Triaged", "PersonLinked", "InvestigatorAssigned", "NoteAdded", "EvidenceAdded",
        "ActionRecorded", "OutcomeRecorded", "Closed", "Reopened", "InvestigatorUnassigned",
    ]
    table = ok(cli, "incidents", "show", inc, "--reason", "appeal panel", actor="slt")
    assert "outcome.finding" in table and "\ntimeline:\n" in table and "Seemed to be a personal call" in table
    refused(cli, ("incidents", "show", inc, "--reason", "x"), "investigator",
            f"investigator may not see or act on {inc}",
            "incident records are open to: headteacher, slt, and to an investigator assigned to the case")


def test_the_reporter_of_a_safeguarding_incident_cannot_read_it_back(incidents_cli: LedgerCli) -> None:
    inc = report(incidents_cli, "teacher", "child-on-child", "--person", "sb-pip:victim", "--child-words", "it hurt")
    refused(incidents_cli, ("incidents", "show", inc, "--reason", "my report"), "teacher",
            f"teacher may not see or act on {inc}",
            "safeguarding records are open to: headteacher, dsl, and to an investigator assigned to the case")
    listed = json.loads(ok(incidents_cli, "incidents", "list", "--format", "json", actor="dsl"))
    assert {"id": inc, "category": "child-on-child", "class": "safeguarding", "status": "reported",
            "escalated_to": "", "investigators": ""} .items() <= next(r for r in listed if r["id"] == inc).items()
    assert inc not in ok(incidents_cli, "incidents", "list", actor="slt")


def test_a_rule_violation_exits_1_with_the_error_and_a_hint(incidents_cli: LedgerCli) -> None:
    inc = report(incidents_cli, "slt")
    refused(incidents_cli, ("incidents", "close", inc), "slt", f"{inc} has no outcome",
            f"record one first: `ledger incidents outcome {inc} --finding …`")
    refused(incidents_cli, ("incidents", "triage", inc, "--rationale", "x", "--category", "defamatory-post"), "slt",
            "defamatory-post incidents are escalated to the headteacher",
            f"ask the Headteacher to triage {inc}")
    refused(incidents_cli, ("incidents", "action", inc, "removal-confirmed", "--details", "gone"), "slt",
            "no removal was requested, so none can be confirmed",
            f"record `ledger incidents action {inc} removal-requested` first")


def test_bad_input_exits_1_and_writes_nothing(incidents_cli: LedgerCli, tmp_path: Path) -> None:
    base = ("incidents", "report", "--category", "other", "--occurred-at", "2026-01-10", "--summary", "s", "--facts", "f")
    refused(incidents_cli, base + ("--person", "sb-pip"), "teacher", "'sb-pip' is not ID:PART")
    refused(incidents_cli, base + ("--person", "sb-nobody:witness"), "teacher",
            "no person has the id 'sb-nobody', and teacher is on no school's directory, so cannot pick pupils by name")
    refused(incidents_cli, base + ("--precision", "range"), "teacher", "a range needs an end", "give --until as well")
    refused(incidents_cli, base + ("--source", "monitoring"), "teacher", "a report from monitoring names its alert",
            "give --alert ALERT_ID")
    refused(incidents_cli, ("incidents", "show", "inc-00000000", "--reason", "x"), "head", "no incident 'inc-00000000'",
            "`ledger incidents list` shows the incidents you may see")


def test_usage_errors_exit_2(incidents_cli: LedgerCli) -> None:
    for args in (
        ("incidents", "report", "--category", "gossip", "--occurred-at", "2026-01-10", "--summary", "s", "--facts", "f"),
        ("incidents", "report", "--category", "other", "--summary", "s", "--facts", "f"),
        ("incidents", "show", "inc-00000000"),
        ("incidents", "evidence", "get", "inc-00000000", "att-00000000", "--out", "x"),
        ("incidents", "evidence", "add", "inc-00000000", "--file", "/nonexistent/file.png", "--captured-by", "a",
         "--captured-at", "2026-01-01", "--method", "m", "--device", "d"),
        ("incidents", "action", "inc-00000000", "shrugged", "--details", "x"),
        ("incidents", "list", "--status", "lost"),
    ):
        result = incidents_cli.run(*args, actor="head")
        assert result.exit_code == 2, (args, result.output)


def test_the_list_has_three_formats_and_no_personal_data(incidents_cli: LedgerCli) -> None:
    inc = report(incidents_cli, "teacher", "defamatory-post", "--opinion", "Zebedee Quillfeather wrote it")
    text = ok(incidents_cli, "incidents", "list", "--category", "defamatory-post", actor="head")
    header, rule, *lines = text.splitlines()
    assert header.split() == ["id", "category", "class", "school", "status", "escalated_to", "investigators", "reported",
                              "age_days"]
    assert set(rule) <= {"-", " "} and any(line.startswith(inc) for line in lines)
    rows = list(csv.DictReader(io.StringIO(ok(incidents_cli, "incidents", "list", "--format", "csv", actor="head"))))
    assert next(r for r in rows if r["id"] == inc)["status"] == "reported"
    assert "Zebedee" not in text and "Zebedee" not in json.dumps(rows)


def test_categories_are_listed_with_their_class_and_owner(incidents_cli: LedgerCli) -> None:
    rows = incidents_cli.rows("incidents", "categories")
    owners = {r["category"]: (r["class"], r["escalated_to"]) for r in rows}
    assert owners["child-on-child"] == ("safeguarding", "dsl")
    assert owners["staff-phone-use"] == ("incident", "slt")
    assert owners["media-comment"] == ("incident", "headteacher")
    assert len(rows) == 26
    assert owners["nudes-semi-nudes"] == ("safeguarding", "dsl")
    nudes = next(r for r in rows if r["category"] == "nudes-semi-nudes")
    assert nudes["images"] == "never taken in" and "Do not view, copy" in str(nudes["guidance"])


def test_evidence_get_will_not_overwrite_a_file(incidents_cli: LedgerCli, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"evidence")
    inc = report(incidents_cli, "slt", "staff-phone-use", "--evidence", str(shot))
    attachment = json.loads(ok(incidents_cli, "incidents", "show", inc, "--reason", "x", "--format", "json",
                               actor="slt"))["evidence"][0]["attachment_id"]
    refused(incidents_cli, ("incidents", "evidence", "get", inc, attachment, "--out", str(shot), "--reason", "x"), "slt",
            f"{shot} already exists", "choose another file name, or add --force to replace it")
    assert shot.read_bytes() == b"evidence"
