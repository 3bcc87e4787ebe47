"""``ledger checkpoint|checkpoints|proof|verify`` through the CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from commands.cli.main import cli
from commands.services import people
from ledger import checkpoint, merkle
from tests.conftest import Federation


@pytest.fixture
def run(sqlite_federation: Federation):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"LEDGER_HOME": str(sqlite_federation.home)}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_verify_passes_on_an_untouched_ledger(run, sqlite_federation: Federation) -> None:  # type: ignore[no-untyped-def]
    result = run("verify", "--trust", str(sqlite_federation.ledger.config.trust_path))
    assert result.exit_code == 0, result.output
    assert "OK: the ledger verifies" in result.output


def test_verify_fails_with_exit_1_and_names_the_entry(run, sqlite_federation: Federation) -> None:  # type: ignore[no-untyped-def]
    table = sqlite_federation.ledger.app.events_table
    with sqlite_federation.ledger.engine.begin() as conn:
        state = bytes(conn.execute(table.select().where(table.c.id == 3)).first().state)  # type: ignore[union-attr]
        conn.execute(update(table).where(table.c.id == 3).values(state=state[:-1] + bytes([state[-1] ^ 1])))
    result = run("verify", "--trust", str(sqlite_federation.ledger.config.trust_path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["findings"][0]["leaf"] == 2
    assert report["findings"][0]["problem"] == "body does not match its signed body hash"


def test_verify_usage_errors_exit_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("verify").exit_code == 2
    assert run("verify", "--trust", str(tmp_path / "missing.json")).exit_code == 2


def test_verify_rejects_a_checkpoint_from_another_key(run, sqlite_federation: Federation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ledger import crypto

    fake = checkpoint.sign_checkpoint(checkpoint.Checkpoint("x", 1, bytes(32)), "x", crypto.new_signing_key())
    path = tmp_path / "fake.cp"
    path.write_text(fake)
    result = run("verify", "--trust", str(sqlite_federation.ledger.config.trust_path), "--since", str(path))
    assert result.exit_code == 1
    assert "is not a checkpoint signed by this ledger's key" in result.stderr


def test_saved_checkpoint_then_more_writes_verify_since(run, sqlite_federation: Federation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = tmp_path / "audit.cp"
    assert run("checkpoint", "--out", str(saved)).exit_code == 0
    people.add_subject(sqlite_federation.ledger, sqlite_federation["dsl"], "pupil", "Later Entry")
    result = run("verify", "--trust", str(sqlite_federation.ledger.config.trust_path), "--since", str(saved))
    assert result.exit_code == 0, result.output
    assert "signatures:       1 verified" in result.output


def test_inclusion_proof_verifies_against_its_checkpoint(run, sqlite_federation: Federation) -> None:  # type: ignore[no-untyped-def]
    result = run("proof", "inclusion", "5", "--format", "json")
    assert result.exit_code == 0
    proof = json.loads(result.output)
    merkle.verify_inclusion(
        5, proof["tree_size"], base64.b64decode(proof["leaf_hash"]),
        [base64.b64decode(h) for h in proof["proof"]], base64.b64decode(proof["root"]),
    )
    text = run("proof", "inclusion", "5").output
    index, hashes, signed = checkpoint.parse_inclusion_proof(text)
    assert index == 5 and signed == proof["checkpoint"]


def test_inclusion_proof_of_a_missing_entry_fails(run) -> None:  # type: ignore[no-untyped-def]
    result = run("proof", "inclusion", "99999")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: there is no entry 99999")


def test_consistency_proof_verifies(run) -> None:  # type: ignore[no-untyped-def]
    result = run("proof", "consistency", "3", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    merkle.verify_consistency(
        data["size1"], data["size2"], base64.b64decode(data["root1"]), base64.b64decode(data["root2"]),
        [base64.b64decode(h) for h in data["proof"]],
    )
    assert run("proof", "consistency", "0").exit_code == 2


def test_checkpoints_list_as_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("checkpoints", "--format", "json")
    rows = json.loads(result.output)
    assert [r["size"] for r in rows] == sorted(r["size"] for r in rows)
    assert len(rows) >= 8
