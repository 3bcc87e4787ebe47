"""Backups are consistent while writers run, and a restore is checked end to end."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from commands.services import backup, people
from ledger import config as configuration, files
from ledger.errors import AlreadyExists, VerificationFailed
from ledger.store import Ledger
from tests.conftest import PASSPHRASE, Federation, fresh_pg_database


def _writing(fed: Federation, stop: threading.Event, written: list[str]) -> threading.Thread:
    ledger = Ledger(fed.ledger.config)
    dsl = ledger.unlock("dsl", PASSPHRASE)

    def run() -> None:
        try:
            while not stop.is_set():
                written.append(people.add_subject(ledger, dsl, "pupil", f"Pupil {len(written)}"))
        finally:
            ledger.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_backup_taken_while_a_writer_runs_restores_and_verifies(federation: Federation, tmp_path: Path) -> None:
    fed = federation
    stop, written = threading.Event(), []
    thread = _writing(fed, stop, written)
    try:
        while len(written) < 3:
            stop.wait(0.05)
        done = backup.backup(fed.ledger, tmp_path / "backup")
    finally:
        stop.set()
        thread.join()
    folder = tmp_path / "backup"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.rglob("*") if p.is_file())
    assert not (folder / "RECOVERY-KEY.json").exists()
    if fed.ledger.config.is_sqlite:
        restored = backup.restore(folder, tmp_path / "restored")
    else:
        with fresh_pg_database("ledger_restore") as target:
            restored = backup.restore(folder, tmp_path / "restored", target)
            _acts_on_its_own(tmp_path / "restored", target)
    assert restored.tree_size >= done.tree_size > 0 and restored.entries >= done.tree_size
    if fed.ledger.config.is_sqlite:
        _acts_on_its_own(tmp_path / "restored", None)


def _acts_on_its_own(home: Path, db: str | None) -> None:
    config = configuration.resolve({}, home=str(home), db=db)
    assert config.home == home and (db is not None or config.sqlite_path == home / "ledger.db")
    ledger = Ledger(config)
    try:
        people.add_subject(ledger, ledger.unlock("dsl", PASSPHRASE), "pupil", "After the restore")
    finally:
        ledger.close()


def test_a_damaged_backup_is_refused_and_leaves_nothing(sqlite_federation: Federation, tmp_path: Path) -> None:
    backup.backup(sqlite_federation.ledger, tmp_path / "backup")
    database = tmp_path / "backup" / "ledger.db"
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 1
    database.write_bytes(bytes(data))
    with pytest.raises(VerificationFailed, match="ledger.db differs from its SHA-256"):
        backup.restore(tmp_path / "backup", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_backup_and_restore_never_overwrite(sqlite_federation: Federation, tmp_path: Path) -> None:
    fed = sqlite_federation
    (tmp_path / "taken").mkdir()
    with pytest.raises(AlreadyExists):
        backup.backup(fed.ledger, tmp_path / "taken")
    backup.backup(fed.ledger, tmp_path / "backup")
    with pytest.raises(AlreadyExists, match="is not empty"):
        backup.restore(tmp_path / "backup", fed.home)
    assert json.loads((fed.home / "config.json").read_text())["db"] == "sqlite:///ledger.db"


def test_a_backup_folder_left_by_a_killed_backup_is_removed_by_the_next(sqlite_federation: Federation,
                                                                        tmp_path: Path) -> None:
    stale = tmp_path / ".backup.dead0000.part"
    stale.mkdir()
    (stale / ".lock").write_bytes(b"")
    (stale / "ledger-key.json").write_bytes(b"secret")
    backup.backup(sqlite_federation.ledger, tmp_path / "backup")
    assert [n for n in os.listdir(tmp_path) if n.startswith(".backup")] == [] and (tmp_path / "backup").is_dir()


def test_a_backup_killed_as_it_was_moved_into_place_is_removed_by_the_next(sqlite_federation: Federation,
                                                                           tmp_path: Path) -> None:
    # The last moment of a backup: the folder is complete (decrypted keys and all) and about to
    # be renamed to its target; a kill here leaves it whole, with nothing marking it as in use.
    stale = tmp_path / ".backup.dead0001.part"
    stale.mkdir(mode=0o700)
    (stale / "ledger-key.json").write_bytes(b"secret")
    (stale / "manifest.json").write_bytes(b"{}")
    backup.backup(sqlite_federation.ledger, tmp_path / "backup")
    assert [n for n in os.listdir(tmp_path) if n.startswith(".backup")] == [] and (tmp_path / "backup").is_dir()


def test_a_backup_being_written_is_left_alone_by_another(sqlite_federation: Federation, tmp_path: Path) -> None:
    with files.private_folder(tmp_path / "backup") as live:
        (live.path / "ledger-key.json").write_bytes(b"secret")
        assert files.sweep_stale_parts(tmp_path / "backup") == 0
        assert (live.path / "ledger-key.json").exists()
        assert live.path.name.endswith(".part") and stat.S_IMODE(os.lstat(live.path).st_mode) == 0o700
    assert not live.path.exists()


def test_a_backup_whose_key_folder_is_a_link_elsewhere_is_refused(sqlite_federation: Federation,
                                                                  tmp_path: Path) -> None:
    import shutil

    backup.backup(sqlite_federation.ledger, tmp_path / "backup")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(tmp_path / "backup" / "keys", elsewhere)
    (tmp_path / "backup" / "keys").symlink_to(elsewhere)
    with pytest.raises(VerificationFailed, match="keys/.* is missing or not a file"):
        backup.restore(tmp_path / "backup", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
