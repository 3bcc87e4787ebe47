"""``ledger backup`` and ``ledger restore``: a consistent copy while in use, restored and verified."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.cli import lazy
from commands.cli.base import State, emit, pass_state

if TYPE_CHECKING:
    from commands.services import backup as service
else:
    service = lazy.module("commands.services.backup")


@click.command("backup")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The new folder to write it to.")
@pass_state
def backup(state: State, out: Path) -> None:
    """Copy the ledger (database, ledger key, trust file, key files) to a new folder,
    consistently, while people go on using it.

    SQLite is copied with its online backup API, PostgreSQL with pg_dump. The
    folder and its files are readable by you alone (it holds the ledger key):
    keep it somewhere safe. The offline recovery key is not included.

    \b
    Example:
      ledger --home /srv/ledger backup --out /mnt/backup/ledger-2026-11-29
    """
    done = service.backup(state.ledger(), out)
    emit(f"backup of the {done.backend} ledger written to {done.path}: {done.files} files, "
         f"checkpoint {done.tree_size} (root {done.root})")


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path))
@pass_state
def restore(state: State, source: Path) -> None:
    """Restore the backup folder SOURCE into a new, empty home folder (--home),
    then verify it end to end.

    A PostgreSQL backup is restored (pg_restore) into the empty database given
    by --db. The new home's config.json points at the restored database, never
    at the original.

    \b
    Example:
      ledger --home /srv/ledger-restored restore /mnt/backup/ledger-2026-11-29
      ledger --home /srv/ledger2 --db postgresql+psycopg://ledger@db:5432/ledger2 restore /mnt/backup/pg
    """
    config = state.config()
    done = service.restore(source, config.home, state.db or state.env.get("LEDGER_DB"))
    emit(f"restored into {done.home} ({done.database}): {done.entries} entries verify, "
         f"tree size {done.tree_size}, root {done.root}")


COMMANDS = (backup, restore)
