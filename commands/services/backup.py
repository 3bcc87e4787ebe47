"""Backing a ledger up while it is in use, and restoring it elsewhere, checked.

A backup is a new folder (mode 0700, every file 0600) holding a consistent
copy of the database, the ledger key, the trust file, the key folder and
``backup.json``: what the backup is, the SHA-256 of every file, and the
checkpoint the copy ends with. The database is copied as one consistent
snapshot while writers carry on: SQLite's online backup API, or ``pg_dump``
(one repeatable-read transaction) for PostgreSQL. The copy is made in a
``.NAME.XXXX.part`` folder beside the target and renamed into place only when
complete, so a stopped backup never looks like a finished one.

Restoring checks every file against ``backup.json``, builds a new home folder
(whose ``config.json`` points at its own database, never the original's), loads
the database (a SQLite file, or ``pg_restore`` into an empty PostgreSQL
database) and runs the full ``verify`` against the trust file before saying
it worked. The offline recovery key is not part of a backup: it is kept apart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from commands.services import integrity
from ledger import canonical, config as configuration, files
from ledger.config import Config
from ledger.errors import AlreadyExists, ConfigurationError, InvalidInput, NotFound, StorageError, VerificationFailed
from ledger.sealer import latest_checkpoint
from ledger.clock import iso
from ledger.store import Ledger

FORMAT = "policy-ledger backup v1"
MANIFEST = "backup.json"
SQLITE_FILE, PG_FILE = "ledger.db", "ledger.pgdump"
SECRET_FILES = ("ledger-key.json", "trust.json")


@dataclass(frozen=True)
class BackupResult:
    """Where the backup went and what it holds."""

    path: Path
    backend: str
    files: int
    tree_size: int
    root: str


@dataclass(frozen=True)
class RestoreResult:
    """The restored home folder and what verification found."""

    home: Path
    database: str
    entries: int
    tree_size: int
    root: str


# -- backup -------------------------------------------------------------------------------


def backup(ledger: Ledger, out: Path) -> BackupResult:
    """Copy the ledger to the new folder ``out``, consistently, while it is in use."""
    config = ledger.config
    meta = ledger.meta()
    if out.exists() or out.is_symlink():
        raise AlreadyExists(f"{out} already exists", "give --out a new folder name")
    if not out.parent.is_dir():
        raise NotFound(f"the folder {out.parent} does not exist", "create it first")
    for name in SECRET_FILES:
        if not (config.home / name).is_file():
            raise NotFound(f"{config.home / name} is missing", "a backup needs the ledger key and the trust file")
    files.sweep_stale_parts(out)
    with files.private_folder(out) as folder:
        database = folder.path / (SQLITE_FILE if config.is_sqlite else PG_FILE)
        if config.is_sqlite:
            _sqlite_copy(config, database)
            size, root = _checkpoint_of(f"sqlite:///{database}")
        else:
            size, root = _checkpoint_of(config.db_url)  # before the dump, which then holds at least this
            _pg_dump(config.db_url, database)
        for name in SECRET_FILES:
            _copy_private(config.home / name, folder.path / name)
        _copy_keys(config.keys_dir, folder.path / "keys")
        listed = {p.relative_to(folder.path).as_posix(): _sha256(p)
                  for p in sorted(folder.path.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT, "ledger_id": meta["ledger_id"], "origin": meta["origin"],
            "backend": "sqlite" if config.is_sqlite else "postgresql", "database": database.name,
            "created_at": iso(ledger.now()), "checkpoint_size": size, "checkpoint_root": root, "files": listed,
        }
        files.write_private(folder.path / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        folder.commit()
    return BackupResult(out, "sqlite" if config.is_sqlite else "postgresql", len(listed) + 1, size, root)


def _sqlite_copy(config: Config, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (one snapshot, all pages)."""
    assert config.sqlite_path is not None
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, files.PRIVATE))
    _sqlite_backup(config.sqlite_path, target, "DELETE")


def _sqlite_backup(source_path: Path, target: Path, journal_mode: str) -> None:
    """Copy every page of ``source_path`` into ``target`` as one snapshot, then set its journal mode."""
    try:
        source = sqlite3.connect(source_path, timeout=60)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy, pages=-1)
                copy.execute(f"PRAGMA journal_mode={journal_mode}")
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot copy {source_path}: {exc}") from None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy PostgreSQL URL as a libpq URI without its password, and the
    environment carrying the password (never on a command line)."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigurationError(f"{command[0]} is not installed, so the PostgreSQL database cannot be {what}",
                                 "install the PostgreSQL client tools (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise StorageError(f"{command[0]} failed: {done.stderr.strip()[:500]}",
                           "check that the database is reachable and the client version is at least the server's")


def _pg_dump(url: str, target: Path) -> None:
    uri, env = _libpq(url)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, files.PRIVATE))
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={uri}"],
         env, "backed up")


def _copy_private(source: Path, target: Path) -> None:
    files.write_private(target, files.read_regular(source, 16 * 1024 * 1024))


def _copy_keys(source: Path, target: Path) -> None:
    target.mkdir(mode=0o700)
    if source.is_symlink():
        raise InvalidInput(f"{source} is a symbolic link", "the key folder holds only key files")
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink():
            raise InvalidInput(f"{path} is a symbolic link", "the key folder holds only key files")
        if path.is_dir():
            (target / relative).mkdir(mode=0o700)
        elif path.is_file():
            _copy_private(path, target / relative)


def _checkpoint_of(url: str) -> tuple[int, str]:
    """The latest checkpoint in a database: size and base64 root."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            latest = latest_checkpoint(conn)
    finally:
        engine.dispose()
    return (int(latest[0]), base64.b64encode(latest[1]).decode()) if latest else (0, "")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


# -- restore ------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise NotFound(f"no backup folder at {folder}", "give the folder `ledger backup --out` made")
    try:
        manifest = canonical.strict_loads(files.read_small_text(folder / MANIFEST, "backup manifest"))
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a policy-ledger backup")
    except (ValueError, AttributeError) as exc:
        raise InvalidInput(f"{folder / MANIFEST} is not a backup manifest: {exc}",
                           "give the folder `ledger backup --out` made") from None
    for name, digest in manifest["files"].items():
        path = folder / name
        parts = Path(name).parts
        linked = any(folder.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts) + 1))
        if ".." in parts or linked or not path.is_file():
            raise VerificationFailed(f"the backup's {name} is missing or not a file", "use another backup")
        if _sha256(path) != digest:
            raise VerificationFailed(f"the backup's {name} differs from its SHA-256 in {MANIFEST}",
                                     "the backup is damaged or was altered: use another backup")
    return dict(manifest)


def restore(source: Path, home: Path, db_url: str | None = None) -> RestoreResult:
    """Restore the backup folder ``source`` into the new home folder ``home`` and verify it."""
    manifest = _manifest(source)
    sqlite = manifest["backend"] == "sqlite"
    if sqlite and db_url is not None and not configuration.normalise_url(db_url).startswith("sqlite"):
        raise InvalidInput("this backup is of a SQLite ledger", "restore it without --db (into the home folder)")
    if not sqlite and db_url is None:
        raise InvalidInput("this backup is of a PostgreSQL ledger",
                           "give --db postgresql+psycopg://USER@HOST:PORT/NEWDB, an empty database")
    if home.exists() and any(home.iterdir()):
        raise AlreadyExists(f"{home} is not empty", "restore into a new, empty folder")
    created = not home.exists()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        config = Config(home, configuration.normalise_url(db_url or f"sqlite:///{home / SQLITE_FILE}"), home / "keys")
        if sqlite:
            assert config.sqlite_path is not None
            files.write_private(config.sqlite_path, b"")
            _sqlite_backup(source / manifest["database"], config.sqlite_path, "WAL")
        else:
            _pg_restore(source / manifest["database"], config.db_url)
        for name in SECRET_FILES:
            _copy_private(source / name, home / name)
        _copy_keys(source / "keys", home / "keys")
        configuration.save(config)
        return _check_restored(config, manifest)
    except BaseException:
        if created:
            shutil.rmtree(home, ignore_errors=True)
        else:
            _empty(home)
        raise


def _empty(home: Path) -> None:
    for path in home.iterdir():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def _pg_restore(dump: Path, url: str) -> None:
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is the same advice
        raise StorageError(f"cannot reach {make_url(url).render_as_string()}: {type(exc).__name__}",
                           "create the empty database first and check the URL") from None
    finally:
        engine.dispose()
    if tables:
        raise AlreadyExists("the target PostgreSQL database is not empty", "restore into a new, empty database")
    uri, env = _libpq(url)
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={uri}", str(dump)],
         env, "restored")


def _check_restored(config: Config, manifest: dict[str, Any]) -> RestoreResult:
    ledger = Ledger(config)
    try:
        meta = ledger.meta()
        if meta["ledger_id"] != manifest["ledger_id"]:
            raise VerificationFailed("the restored database is not the ledger the backup names")
        report = integrity.verify_ledger(ledger, config.trust_path, None)
    finally:
        ledger.close()
    if not report.ok:
        problems = "; ".join(f.problem for f in report.findings[:3]) or "nothing verified"
        raise VerificationFailed(f"the restored ledger does not verify: {problems}", "use another backup")
    if report.tree_size < int(manifest["checkpoint_size"]):
        raise VerificationFailed("the restored ledger ends before the checkpoint the backup recorded")
    return RestoreResult(config.home, config.db_url, report.entries, report.tree_size, report.root)
