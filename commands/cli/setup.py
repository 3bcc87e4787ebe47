"""``ledger init`` and ``ledger demo``."""

from __future__ import annotations

from pathlib import Path

import click

from commands.cli.base import State, emit, pass_state
from commands.services import demo as demo_service
from commands.services.setup import init_ledger


@click.command()
@click.option("--admin-name", required=True, help="Full name of the first administrator (IT manager).")
@click.option("--admin-id", help="Staff id for the administrator (default: generated).")
@click.option("--origin", help="Checkpoint origin name (default: policy-ledger.local/<id>).")
@pass_state
def init(state: State, admin_name: str, admin_id: str | None, origin: str | None) -> None:
    """Create a ledger, its signing key, the first admin and the trust file.

    Uses a SQLite file in the home folder unless --db gives a PostgreSQL URL.
    The admin's passphrase comes from LEDGER_PASSPHRASE or a prompt, the
    recovery key's from LEDGER_RECOVERY_PASSPHRASE or a prompt.

    \b
    Example:
      ledger --home /srv/ledger init --admin-name "Pat Admin" --admin-id it-manager
    """
    config = state.config()
    passphrase = state.new_passphrase("Passphrase for the admin key", "LEDGER_PASSPHRASE")
    recovery = state.new_passphrase("Passphrase for the offline recovery key", "LEDGER_RECOVERY_PASSPHRASE")
    created = init_ledger(config, admin_name, passphrase, recovery, admin_id, origin)
    emit(f"ledger {created.ledger_id} created")
    emit(f"  database:     {created.database}")
    emit(f"  origin:       {created.origin}")
    emit(f"  admin:        {created.admin_id}")
    emit(f"  trust file:   {created.trust_file}  (give this to auditors)")
    emit(f"  recovery key: {created.recovery_file}  (move it OFF this machine now)")


@click.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Fresh folder to build the demo in.")
@pass_state
def demo(state: State, directory: Path | None) -> None:
    """Build a small demonstration federation and walk through the workflows.

    \b
    Example:
      ledger demo --dir /tmp/ledger-demo
    """
    for line in demo_service.run(directory, state.env):
        emit(line)


COMMANDS = (init, demo)
