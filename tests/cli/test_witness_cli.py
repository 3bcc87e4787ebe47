"""``ledger witness …`` end to end: a governor's witness, the IT manager's rounds, the auditor's verify."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete

from commands.services import incidents
from ledger.schema import checkpoints, cosignatures, merkle_leaves
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation

WITNESS_PASS = "governor's own passphrase"


def test_a_governor_witnesses_and_an_auditor_checks(sqlite_ledger_cli: LedgerCli, sqlite_federation: Federation,
                                                    tmp_path: Path) -> None:
    cli, fed = sqlite_ledger_cli, sqlite_federation
    trust = str(fed.ledger.config.trust_path)
    folder = tmp_path / "governor"
    made = cli.run("witness", "init", "--name", "governors.example/w1", "--dir", str(folder), "--log-key", trust,
                   LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("governors.example/w1+") and cli.run("witness", "key", "--dir", str(folder)).stdout.strip() == key
    added = cli.run("witness", "add", key, "--max-age-days", "3")
    assert added.exit_code == 0 and "1 witness(es), quorum 1, max age 3 days" in added.output
    assert json.loads(Path(trust).read_text())["witnesses"] == [key]

    request = tmp_path / "request.txt"
    assert cli.run("witness", "request", "--out", str(request)).exit_code == 0
    assert request.read_text(encoding="utf-8").startswith("old 0\n\n")
    answer = tmp_path / "cosignature.txt"
    cosigned = cli.run("witness", "cosign", "--dir", str(folder), str(request), "--out", str(answer),
                       LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert cosigned.exit_code == 0, cosigned.output
    assert cosigned.stdout.startswith("\u2014 governors.example/w1 ")
    recorded = cli.rows("witness", "record", str(answer))
    assert [(r["witness"], r["stored"]) for r in recorded] == [("governors.example/w1", "new")]
    assert cli.rows("witness", "record", str(answer))[0]["stored"] == "already recorded"
    listed = cli.rows("witness", "list")
    assert [r["status"] for r in listed] == ["valid"]

    verified = cli.run("verify", "--trust", trust, "--witnessed", str(folder / "latest-cosigned.txt"))
    assert verified.exit_code == 0, verified.output
    assert "witnessed:        checkpoint" in verified.output and "cosigned by a quorum" in verified.output

    # a second round starts from what was recorded, and the witness follows
    incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport("child-on-child", "2026-01-05T10:00",
                                                                          "Image shared", "Seen"))
    assert cli.run("witness", "request", "--out", str(request)).exit_code == 0
    assert not request.read_text(encoding="utf-8").startswith("old 0\n")
    again = cli.run("witness", "cosign", "--dir", str(folder), str(request), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert again.exit_code == 0, again.output

    # the IT manager cuts the last entry: the witness's own file fails verify, exit 1
    with fed.ledger.engine.begin() as conn:
        table = fed.ledger.app.events_table
        last = conn.execute(table.select().order_by(table.c.id.desc()).limit(1)).one()
        conn.execute(delete(table).where(table.c.id == last.id))
        conn.execute(delete(merkle_leaves).where(merkle_leaves.c.notification_id == last.id))
        top = conn.execute(checkpoints.select().order_by(checkpoints.c.size.desc()).limit(1)).one()
        conn.execute(delete(checkpoints).where(checkpoints.c.size == top.size))
        conn.execute(delete(cosignatures))
    fed.ledger.config.host_checkpoint_path.unlink()
    cut = cli.run("verify", "--trust", trust, "--witnessed", str(folder / "latest-cosigned.txt"),
                  "--skip-read-models")
    assert cut.exit_code == 1 and "truncated after a witness saw it" in cut.output


def test_bad_witness_input_is_refused_clearly(sqlite_ledger_cli: LedgerCli, sqlite_federation: Federation,
                                              tmp_path: Path) -> None:
    cli, fed = sqlite_ledger_cli, sqlite_federation
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n", encoding="utf-8")
    before = cli.snapshot()
    for args, message in (
        (("witness", "add", "not-a-key"), "is not a witness key"),
        (("witness", "record", str(junk)), "the trust file names no witness"),
        (("witness", "init", "--name", "bad name", "--dir", str(tmp_path / "w"), "--log-key",
          str(fed.ledger.config.trust_path)), "must not contain spaces"),
        (("witness", "cosign", "--dir", str(tmp_path), str(junk)), "witness.json"),
    ):
        result = cli.run(*args, LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert cli.snapshot() == before
    made = cli.run("witness", "init", "--name", "gov.example/w", "--dir", str(tmp_path / "w"), "--log-key",
                   str(fed.ledger.config.trust_path), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert made.exit_code == 0
    result = cli.run("witness", "cosign", "--dir", str(tmp_path / "w"), str(junk), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert result.exit_code == 1 and "not cosigned: the request has no empty line before its checkpoint" in result.output
    again = cli.run("witness", "init", "--name", "gov.example/w", "--dir", str(tmp_path / "w"), "--log-key",
                    str(fed.ledger.config.trust_path), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert again.exit_code != 0 and "already holds a witness" in again.output


def test_a_spoiled_request_and_a_huge_size_are_named_not_a_fork_or_a_crash(
    sqlite_ledger_cli: LedgerCli, sqlite_federation: Federation, tmp_path: Path
) -> None:
    cli, fed = sqlite_ledger_cli, sqlite_federation
    folder, request = tmp_path / "w", tmp_path / "request.txt"
    assert cli.run("witness", "init", "--name", "gov.example/w", "--dir", str(folder), "--log-key",
                   str(fed.ledger.config.trust_path), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS).exit_code == 0
    assert cli.run("witness", "request", "--old", "0", "--out", str(request)).exit_code == 0
    assert cli.run("witness", "cosign", "--dir", str(folder), str(request),
                   LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS).exit_code == 0
    size = int(request.read_text(encoding="utf-8").split("\n\n", 1)[1].split("\n")[1])
    for i in range(3):
        incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
            "child-on-child", "2026-01-05T10:00", f"Image shared {i}", "Seen"))
    assert cli.run("witness", "request", "--old", str(size), "--out", str(request)).exit_code == 0
    head, signed = request.read_text(encoding="utf-8").split("\n\n", 1)
    lines = head.split("\n")
    spoiled = "\n".join([lines[0], *["A" * 43 + "=" for _ in lines[1:]]]) + "\n\n" + signed
    request.write_text(spoiled, encoding="utf-8")
    result = cli.run("witness", "cosign", "--dir", str(folder), str(request), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert result.exit_code != 0 and "UNPROVED" in result.output and "fetch a fresh request" in result.output
    assert "FORK" not in result.output
    request.write_text("old " + "9" * 5000 + "\n\n" + signed, encoding="utf-8")
    result = cli.run("witness", "cosign", "--dir", str(folder), str(request), LEDGER_WITNESS_PASSPHRASE=WITNESS_PASS)
    assert result.exit_code == 1 and "not cosigned: the request must start with 'old <size>'" in result.output
    assert "Traceback" not in result.output
