"""Where a ledger lives: its home folder, database URL and key folder.

Resolved from explicit options first, then an environment mapping (passed in,
never read from ``os.environ`` here), then the home folder's ``config.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger import canonical, files
from ledger.errors import ConfigurationError, LedgerError

DEFAULT_HOME = Path.home() / ".local" / "share" / "policy-ledger"
SUPPORTED = ("sqlite:///", "postgresql+psycopg://")


@dataclass(frozen=True)
class Config:
    """Resolved locations for one ledger."""

    home: Path
    db_url: str
    keys_dir: Path

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.db_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite ledger."""
        return Path(self.db_url[len("sqlite:///") :]) if self.is_sqlite else None

    @property
    def ledger_key_path(self) -> Path:
        """The checkpoint signing key (kept beside the database, mode 0600)."""
        return self.home / "ledger-key.json"

    @property
    def host_checkpoint_path(self) -> Path:
        """The newest checkpoint this host signed, kept beside the ledger key: the database must
        extend it (a database rolled back to an earlier checkpoint is refused)."""
        return self.home / "latest-checkpoint.txt"

    @property
    def trust_path(self) -> Path:
        """The trust file written at init for auditors."""
        return self.home / "trust.json"


def normalise_url(url: str) -> str:
    """Accept the URL forms we support; refuse the rest with a hint."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith(SUPPORTED):
        raise ConfigurationError(
            f"unsupported database URL: {url.split('://')[0] + '://…' if '://' in url else url!r}",
            "use sqlite:///PATH/ledger.db or postgresql+psycopg://USER@HOST:PORT/DB",
        )
    return url


def resolve(
    env: Mapping[str, str],
    home: str | None = None,
    db: str | None = None,
    keys: str | None = None,
) -> Config:
    """Resolve a Config from options and an environment mapping."""
    home_path = Path(home or env.get("LEDGER_HOME") or DEFAULT_HOME).expanduser().absolute()
    saved: dict[str, str] = {}
    config_file = home_path / "config.json"
    if config_file.exists():
        try:
            saved = canonical.strict_loads(files.read_small_text(config_file, "configuration file"))
            if not isinstance(saved, dict) or not all(isinstance(v, str) for v in saved.values()):
                raise ValueError("not an object of strings")
        except (ValueError, LedgerError) as exc:
            raise ConfigurationError(
                f"{config_file} is not valid JSON: {exc}", "restore it from backup or remove it"
            ) from None
    if not (db or env.get("LEDGER_DB")):
        _not_a_copy(home_path, config_file, "database", _sqlite_file(saved.get("db")), home_path / "ledger.db")
    if not (keys or env.get("LEDGER_KEYS")):
        _not_a_copy(home_path, config_file, "key folder", saved.get("keys"), home_path / "keys")
    url = db or env.get("LEDGER_DB") or _from_home(home_path, saved.get("db")) or f"sqlite:///{home_path / 'ledger.db'}"
    keys_dir = Path(keys or env.get("LEDGER_KEYS") or _key_folder(home_path, saved.get("keys")) or home_path / "keys")
    return Config(home_path, normalise_url(url), keys_dir.expanduser().absolute())


def _sqlite_file(url: str | None) -> str | None:
    return url[len("sqlite:///"):] if url and url.startswith("sqlite:///") else None


def _not_a_copy(home: Path, config_file: Path, what: str, saved: str | None, own: Path) -> None:
    """Refuse a home folder whose saved absolute path leads out of it to another ledger's
    files while it holds its own: a copy (``cp -a``) of a home made before paths were saved
    relative, which would otherwise go on writing to the original."""
    if not saved or not Path(saved).is_absolute() or not own.exists():
        return
    named = Path(saved).resolve()
    if named == own.resolve() or named.is_relative_to(home.resolve()):
        return
    raise ConfigurationError(
        f"{config_file} names the {what} {saved}, outside this home folder, which holds its own "
        f"{own.name}: it looks like a copy of another home and would use the original's {what}",
        f"to use this folder's own, set \"{'db' if what == 'database' else 'keys'}\" in config.json to "
        f"\"{'sqlite:///ledger.db' if what == 'database' else 'keys'}\" (or give --db/--keys); "
        "copy a ledger with `ledger backup` and `ledger restore`",
    )


def _from_home(home: Path, url: str | None) -> str | None:
    """A saved database URL; a relative SQLite path is relative to the home folder."""
    if url and url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_absolute():
        return f"sqlite:///{home / url[len('sqlite:///'):]}"
    return url


def _key_folder(home: Path, folder: str | None) -> Path | None:
    return None if not folder else home / folder if not Path(folder).is_absolute() else Path(folder)


def _relative(home: Path, path: Path) -> str:
    """``path`` relative to ``home`` when it lies inside it (so a copied home folder
    points at its own files, never back at the original's), else absolute."""
    try:
        return path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def save(config: Config) -> None:
    """Remember the database URL and key folder in the home folder, relative to it
    where they lie inside it."""
    config.home.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{_relative(config.home, config.sqlite_path)}" if config.sqlite_path else config.db_url
    (config.home / "config.json").write_text(
        json.dumps({"db": db, "keys": _relative(config.home, config.keys_dir)}, indent=2) + "\n",
        encoding="utf-8",
    )
