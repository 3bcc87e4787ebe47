"""Files holding decrypted data are new, private (0600), never written through a link
or over a file without --force; temporary files never outlive their writer; input files
are regular files only."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import files
from ledger.errors import AlreadyExists, InvalidInput
from tests.cli.conftest import LedgerCli
from tests.conftest import PASSPHRASE

REPO = Path(__file__).resolve().parents[2]


def _report(cli: LedgerCli, *extra: str) -> str:
    done = cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at", "2026-02-01T10:00",
                   "--summary", "Chat", "--facts", "Seen", *extra, actor="dsl")
    assert done.exit_code == 0, done.output
    return done.stdout.strip()


@pytest.fixture
def case(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> tuple[LedgerCli, str, str]:
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG secret")
    inc = _report(sqlite_ledger_cli, "--evidence", str(shot))
    shown = sqlite_ledger_cli.run("incidents", "show", inc, "--reason", "x", "--format", "json", actor="dsl")
    return sqlite_ledger_cli, inc, json.loads(shown.stdout)["evidence"][0]["attachment_id"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_evidence_get_writes_a_file_only_its_owner_can_read(case: tuple[LedgerCli, str, str], tmp_path: Path) -> None:
    cli, inc, attachment = case
    out = tmp_path / "out.png"
    done = cli.run("incidents", "evidence", "get", inc, attachment, "--out", str(out), "--reason", "r", actor="dsl")
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == b"\x89PNG secret" and _mode(out) == 0o600


def test_evidence_get_never_writes_through_a_symbolic_link(case: tuple[LedgerCli, str, str], tmp_path: Path) -> None:
    cli, inc, attachment = case
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    link = tmp_path / "out.png"
    link.symlink_to(victim)
    args = ("incidents", "evidence", "get", inc, attachment, "--out", str(link), "--reason", "r")
    refused = cli.run(*args, actor="dsl")
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    assert cli.run(*args, "--force", actor="dsl").exit_code == 0
    assert victim.read_text() == "untouched" and not link.is_symlink() and _mode(link) == 0o600


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_timeline_out_is_private_and_needs_force_to_replace(case: tuple[LedgerCli, str, str], tmp_path: Path,
                                                            fmt: str) -> None:
    cli, inc, _ = case
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    out = tmp_path / f"case.{fmt}"
    out.symlink_to(victim)
    args = ("timeline", "--incident", inc, "--reason", "r", "--format", fmt, "--out", str(out))
    before = cli.snapshot()
    refused = cli.run(*args, actor="dsl")
    assert refused.exit_code == 1 and "already exists" in refused.stderr and cli.snapshot() == before
    assert cli.run(*args, "--force", actor="dsl").exit_code == 0
    assert victim.read_text() == "untouched" and _mode(out) == 0o600 and out.stat().st_size > 0


def test_a_part_file_left_by_a_killed_export_is_removed_by_the_next(case: tuple[LedgerCli, str, str],
                                                                    tmp_path: Path) -> None:
    cli, inc, _ = case
    out = tmp_path / "case.zip"
    stale = tmp_path / ".case.zip.dead0000.part"
    stale.write_bytes(b"decrypted content of a killed export")
    live = tmp_path / ".case.zip.live0000.part"
    live.write_bytes(b"being written right now")
    with live.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = cli.run("export", "--incident", inc, "--reason", "r", "--out", str(out), actor="dsl")
        assert done.exit_code == 0, done.output
    assert not stale.exists() and live.exists(), "only the part file no live writer holds is removed"
    assert _mode(out) == 0o600
    assert sorted(p.name for p in tmp_path.glob(".case.zip.*")) == [live.name]


def test_a_failed_export_leaves_no_part_file(case: tuple[LedgerCli, str, str], tmp_path: Path) -> None:
    cli, inc, _ = case
    done = cli.run("export", "--incident", inc, "--reason", "r", "--out", str(tmp_path / "x.zip"), actor="teacher")
    assert done.exit_code == 1
    assert list(tmp_path.glob(".x.zip.*")) == [] and not (tmp_path / "x.zip").exists()


def test_a_fifo_or_a_device_as_evidence_is_refused_at_once(sqlite_ledger_cli: LedgerCli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    before = sqlite_ledger_cli.snapshot()
    for path in (fifo, Path("/dev/zero")):
        done = sqlite_ledger_cli.run("incidents", "report", "--category", "child-on-child", "--occurred-at",
                                     "2026-02-01", "--summary", "s", "--facts", "f", "--evidence", str(path),
                                     actor="dsl")
        assert done.exit_code == 1 and "not a regular file" in done.stderr, done.output
    assert sqlite_ledger_cli.snapshot() == before


def test_write_private_refuses_an_existing_file_and_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    files.write_private(target, b"one")
    with pytest.raises(AlreadyExists):
        files.write_private(target, b"two")
    files.write_private(target, b"two", force=True)
    assert target.read_bytes() == b"two" and _mode(target) == 0o600
    with pytest.raises(InvalidInput, match="is a folder"):
        files.write_private(tmp_path, b"x", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_an_export_killed_mid_write_leaves_a_private_part_that_the_next_export_removes(
        case: tuple[LedgerCli, str, str], tmp_path: Path) -> None:
    cli, inc, _ = case
    out = tmp_path / "case.zip"
    env = {**os.environ, "LEDGER_HOME": str(cli.home), "LEDGER_PASSPHRASE": PASSPHRASE, "LEDGER_ACTOR": "dsl",
           "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from commands.cli.main import main; main()", "export", "--incident", inc,
               "--reason", "r", "--out", str(out), "--force"]
    for _ in range(20):  # kill a real export the moment its temporary file appears
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while child.poll() is None and not list(tmp_path.glob(".case.zip.*.part")) and time.monotonic() < deadline:
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
        child.wait()
        left = list(tmp_path.glob(".case.zip.*.part"))
        if left:
            break
    else:
        pytest.fail("no export was caught while writing in 20 tries")
    assert all(_mode(p) == 0o600 for p in left)
    done = cli.run("export", "--incident", inc, "--reason", "r", "--out", str(out), "--force", actor="dsl")
    assert done.exit_code == 0, done.output
    assert list(tmp_path.glob(".case.zip.*")) == [] and _mode(out) == 0o600
