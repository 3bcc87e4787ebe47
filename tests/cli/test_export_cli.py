"""``ledger export`` and ``ledger verify-bundle``: exact output and exit codes."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands.services import incidents, people
from ledger import crypto
from tests.cli.conftest import LedgerCli
from tests.conftest import FederationTemplates


@dataclass
class Case:
    """The CLI on a federation holding one safeguarding incident about a pupil."""

    cli: LedgerCli
    inc: str
    pupil: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         federation_templates: FederationTemplates) -> Iterator[Case]:
    home = tmp_path_factory.mktemp("export-cli") / "home"
    with pytest.MonkeyPatch.context() as patch, federation_templates.copy(request.param, home, "ledger_cli") as fed:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Quentin Quill")
        inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
            "child-on-child", "2026-03-02T12:30", "Image shared", "Seen in class", people=(f"{pupil}:victim",),
        ))
        incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
        yield Case(LedgerCli(home), inc, pupil)


def unchanged(case: Case, before: object, out: Path) -> None:
    assert case.cli.snapshot() == before, "a refused export must write nothing"
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*")), "no file, not even a partial one"


def test_export_writes_a_bundle_that_verify_bundle_accepts(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "case.zip"
    result = case.cli.run("export", "--incident", case.inc, "--reason", "LADO referral", "--out", str(out), actor="dsl")
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.stdout == f"{digest}  {out}\n"
    assert result.stderr.startswith("export exp-") and "recorded in the ledger" in result.stderr
    with zipfile.ZipFile(out) as archive:
        assert b"facts: Seen in class" in archive.read("timeline.csv"), "the readable timeline holds the report"
    checked = case.cli.run("verify-bundle", str(out))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0] == f"Checking {out}"
    assert checked.stdout.splitlines()[-1] == "RESULT: the bundle verifies"


def test_a_redacted_export_labels_the_pupil(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "outside.zip"
    result = case.cli.run("export", "--incident", case.inc, "--reason", "police", "--out", str(out),
                          "--redact", "pupils", actor="head")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        index = json.loads(archive.read("entries/index.json"))
        assert case.pupil.encode() not in archive.read("timeline.csv")
        for readable in ("timeline.csv", "timeline.html"):
            assert b"Seen in class" not in archive.read(readable), f"the report's facts leak into {readable}"
    assert index["redacted"] == ["pupils"] and index["entries"][0]["subjects"] == ["Pupil A"]


def test_verify_bundle_names_what_is_wrong_and_exits_1(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "case.zip"
    assert case.cli.run("export", "--incident", case.inc, "--reason", "r", "--out", str(out), actor="dsl").exit_code == 0
    with zipfile.ZipFile(out) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["timeline.csv"] = files["timeline.csv"].replace(b"safeguarding", b"nothing much")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    result = case.cli.run("verify-bundle", str(bad))
    assert result.exit_code == 1
    assert "timeline.csv has changed: its SHA-256 differs from SHA256SUMS" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("RESULT: FAILED")


def test_verify_bundle_of_something_else_is_an_error(case: Case, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = case.cli.run("verify-bundle", str(junk))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read") and "Hint: give the bundle's zip file" in result.stderr


def test_export_without_a_reason_is_an_error_with_a_hint_and_writes_nothing(case: Case, tmp_path: Path) -> None:
    before, out = case.cli.snapshot(), tmp_path / "x.zip"
    result = case.cli.run("export", "--incident", case.inc, "--out", str(out), actor="dsl")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: an export needs a reason") and "Hint: give --reason" in result.stderr
    unchanged(case, before, out)


@pytest.mark.parametrize(
    ("args", "actor", "message"),
    [
        (["--incident", "inc-00000000"], "dsl", "Error: no incident 'inc-00000000'"),
        (["--incident", "{inc}"], "teacher", "Error: teacher may not export evidence bundles"),
        (["--incident", "{inc}"], "slt", "Error: slt may not export evidence bundles"),
        (["--incident", "{inc}"], "investigator", "Error: investigator may not see or act on"),
        (["--person", "{pupil}"], "investigator", "Error: an investigator exports the cases assigned to them"),
        ([], "head", "Error: choose one of --incident or --person"),
        (["--person", "sb-00000000"], "head", "Error: no person 'sb-00000000'"),
    ],
)
def test_a_refused_export_says_why_and_writes_nothing(
    case: Case, tmp_path: Path, args: list[str], actor: str, message: str
) -> None:
    before, out = case.cli.snapshot(), tmp_path / "x.zip"
    filled = [a.format(inc=case.inc, pupil=case.pupil) for a in args]
    result = case.cli.run("export", *filled, "--reason", "why", "--out", str(out), actor=actor)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(message) and "\nHint: " in result.stderr
    unchanged(case, before, out)


def test_an_existing_file_is_kept_unless_forced(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "case.zip"
    out.write_bytes(b"keep me")
    before = case.cli.snapshot()
    result = case.cli.run("export", "--incident", case.inc, "--reason", "r", "--out", str(out), actor="dsl")
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {out} already exists")
    assert "--force" in result.stderr and out.read_bytes() == b"keep me" and case.cli.snapshot() == before
    forced = case.cli.run("export", "--incident", case.inc, "--reason", "r", "--out", str(out), "--force", actor="dsl")
    assert forced.exit_code == 0 and zipfile.is_zipfile(out)


def test_an_unknown_redaction_is_a_usage_error(case: Case, tmp_path: Path) -> None:
    result = case.cli.run("export", "--incident", case.inc, "--reason", "r", "--out", str(tmp_path / "x.zip"),
                          "--redact", "everyone", actor="dsl")
    assert result.exit_code == 2 and "Invalid value for '--redact'" in result.stderr


@pytest.mark.parametrize("command", ["export", "verify-bundle"])
def test_help_shows_an_example(case: Case, command: str) -> None:
    result = case.cli.run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.stdout and "ledger " in result.stdout


def test_the_export_is_shown_in_the_incident_timeline(case: Case, tmp_path: Path) -> None:
    out = tmp_path / f"{uuid.uuid4().hex}.zip"
    done = case.cli.run("export", "--incident", case.inc, "--reason", "tribunal bundle", "--out", str(out), actor="head")
    assert done.exit_code == 0
    shown = case.cli.run("timeline", "--incident", case.inc, "--reason", "custody check", "--format", "json", actor="head")
    rows = json.loads(shown.stdout)["rows"]
    exports = [r for r in rows if r["event"] == "EvidenceExport.Exported" and "tribunal bundle" in r["what"]]
    assert len(exports) == 1 and done.stdout.split()[0][:16] in exports[0]["what"]
