"""``ledger monitoring …`` through the CLI: output, exit codes, nothing written on refusal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from commands.services import people
from ledger.domain.monitoring import alert_id_for
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation

DATA = Path(__file__).parent.parent / "data"
SAMPLE = DATA / "monitoring-alerts.csv"
BULLYING = alert_id_for("smoothwall", "SW-20250303-0002")


def _sample(tmp_path: Path) -> Path:
    path = tmp_path / "smoothwall-export.csv"
    shutil.copy(SAMPLE, path)
    return path


def test_import_reports_what_it_did_and_importing_again_adds_nothing(
    ledger_cli: LedgerCli, federation: Federation, tmp_path: Path
) -> None:
    people.add_subject(federation.ledger, federation["dsl"], "pupil", "Sam Sample", subject_id="sb-sample01")
    path = _sample(tmp_path)
    first = ledger_cli.run("monitoring", "import", str(path), actor="admin")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("4 new alert(s) imported as batch ib-")
    assert first.stdout.endswith(": 4 row(s), 0 already recorded, 0 repeated in the file\n")
    before = ledger_cli.snapshot()
    again = ledger_cli.run("monitoring", "import", str(path), actor="admin")
    assert again.exit_code == 0
    assert again.stdout == "0 new alert(s) imported: 4 row(s), 4 already recorded, 0 repeated in the file\n"
    assert ledger_cli.snapshot() == before


def test_alerts_are_listed_without_personal_data_and_shown_with_a_reason(
    ledger_cli: LedgerCli, tmp_path: Path
) -> None:
    assert ledger_cli.run("monitoring", "import", str(_sample(tmp_path)), actor="head").exit_code == 0
    rows = ledger_cli.rows("monitoring", "alerts", "list", "--severity", "high", actor="dsl")
    assert rows == [{"id": BULLYING, "time": "2025-03-03T10:41:00+00:00", "source": "smoothwall",
                     "category": "bullying", "severity": "high", "action": "flagged", "incidents": [],
                     "school": "", "erased": False, "dismissed": False}]
    table = ledger_cli.run("monitoring", "alerts", "list", "--category", "gambling", actor="dsl")
    assert table.exit_code == 0 and "jsmith22" not in table.stdout and "gambling" in table.stdout
    teacher = ledger_cli.run("monitoring", "alerts", "list", actor="teacher")
    assert teacher.exit_code == 1 and teacher.stderr.startswith("Error: teacher may not list monitoring alerts")
    assert ledger_cli.run("monitoring", "alerts", "show", BULLYING, actor="dsl").exit_code == 2
    shown = ledger_cli.run("monitoring", "alerts", "show", BULLYING, "--reason", "talking to the pupil",
                           "--format", "json", actor="dsl")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)[0]["detail"] == 'Typed "nobody likes you, leave" in a chat'
    before = ledger_cli.snapshot()
    refused = ledger_cli.run("monitoring", "alerts", "show", BULLYING, "--reason", "x", actor="slt")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"Error: slt may not read alert {BULLYING}\n")
    assert ledger_cli.snapshot() == before


def test_linking_to_a_missing_incident_exits_1_and_writes_nothing(ledger_cli: LedgerCli, tmp_path: Path) -> None:
    assert ledger_cli.run("monitoring", "import", str(_sample(tmp_path)), actor="admin").exit_code == 0
    before = ledger_cli.snapshot()
    result = ledger_cli.run("monitoring", "link", BULLYING, "--incident", "inc-00000000", actor="dsl")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no incident 'inc-00000000'\n")
    assert ledger_cli.run("monitoring", "link", BULLYING, actor="dsl").exit_code == 2
    assert ledger_cli.run("monitoring", "unlink", BULLYING, "--incident", "inc-00000000", actor="dsl").exit_code == 2
    assert ledger_cli.snapshot() == before


def test_a_bad_row_exits_1_naming_file_line_and_column(shared_cli: LedgerCli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    lines = SAMPLE.read_text().splitlines()
    lines[2] = lines[2].replace(",high,", ",urgent,")
    path.write_text("\n".join(lines) + "\n")
    before = shared_cli.snapshot()
    result = shared_cli.run("monitoring", "import", str(path), actor="admin")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}, line 3, column severity: 'urgent' is not a known severity\n"
        "Hint: severity is one of: info, low, medium, high, critical\n"
    )
    assert result.stdout == ""
    assert shared_cli.snapshot() == before


def test_import_refusals_and_usage_errors(shared_cli: LedgerCli, tmp_path: Path) -> None:
    before = shared_cli.snapshot()
    teacher = shared_cli.run("monitoring", "import", str(SAMPLE), actor="teacher")
    assert teacher.exit_code == 1
    assert teacher.stderr.startswith("Error: teacher may not record an entry of this kind (import batch: imported)\n")
    assert shared_cli.run("monitoring", "import", actor="admin").exit_code == 2
    assert shared_cli.run("monitoring", "import", str(SAMPLE), "--type", "xml", actor="admin").exit_code == 2
    missing = shared_cli.run("monitoring", "import", str(tmp_path / "none.csv"), actor="admin")
    assert missing.exit_code == 1 and "Error: no file" in missing.stderr
    assert shared_cli.snapshot() == before


def test_decisions_and_reviews_are_recorded_listed_and_shown(ledger_cli: LedgerCli) -> None:
    made = ledger_cli.run("monitoring", "check", "record", "--kind", "block", "--target", "tiktok.com",
                          "--reason", "personal social media", "--category", "social-media", actor="admin")
    assert made.exit_code == 0, made.output
    check_id = made.stdout.strip()
    assert check_id.startswith("mc-")
    (row,) = ledger_cli.rows("monitoring", "check", "list")
    assert (row["id"], row["kind"], row["category"], row["decided_by"]) == (check_id, "block", "social-media", "admin")
    shown = ledger_cli.run("monitoring", "check", "show", check_id, "--reason", "review", actor="head")
    assert shown.exit_code == 0 and "tiktok.com" in shown.stdout
    review = ledger_cli.run("monitoring", "review", "record", "--period", "2024-09-01..2025-08-31",
                            "--outcome", "effective", "--findings", "all categories tested", actor="head")
    assert review.exit_code == 0, review.output
    (listed,) = ledger_cli.rows("monitoring", "review", "list")
    assert (listed["id"], listed["outcome"], listed["period_end"]) == (review.stdout.strip(), "effective", "2025-08-31")


def test_check_and_review_refusals_write_nothing(shared_cli: LedgerCli) -> None:
    before = shared_cli.snapshot()
    assert shared_cli.run("monitoring", "check", "record", "--kind", "maybe", "--target", "x", "--reason", "y",
                          actor="admin").exit_code == 2
    illegal = shared_cli.run("monitoring", "check", "record", "--kind", "allow", "--target", "x", "--reason", "y",
                             "--category", "terrorism", actor="head")
    assert illegal.exit_code == 1
    assert illegal.stderr.startswith("Error: terrorism content is illegal and must always be blocked\n")
    period = shared_cli.run("monitoring", "review", "record", "--period", "last year", "--outcome", "effective",
                            "--findings", "ok", actor="head")
    assert period.exit_code == 1 and period.stderr.startswith("Error: period 'last year' is not START..END\n")
    changes = shared_cli.run("monitoring", "review", "record", "--period", "2024-01-01..2024-12-31",
                             "--outcome", "changes-needed", "--findings", "gaps", actor="head")
    assert changes.exit_code == 1 and "Hint: give --actions" in changes.stderr
    assert shared_cli.snapshot() == before
