"""``ledger init`` and ``ledger demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.cli import lazy
from commands.cli.base import State, emit, pass_state

if TYPE_CHECKING:
    from commands.services import demo as demo_service, setup as setup_service
else:
    demo_service = lazy.module("commands.services.demo")
    setup_service = lazy.module("commands.services.setup")


@click.command()
@click.option("--admin-name", required=True, help="Full name of the first administrator (IT manager).")
@click.option("--admin-id", help="Staff id for the administrator (default: generated).")
@click.option("--origin", help="Checkpoint origin name (default: policy-ledger.local/<id>).")
@click.option("--timezone", default="Europe/London", show_default=True,
              help="Time zone every date and time is typed and read in (IANA name).")
@click.option("--school", "schools", multiple=True, help="A school of the federation (repeatable).")
@pass_state
def init(state: State, admin_name: str, admin_id: str | None, origin: str | None, timezone: str,
         schools: tuple[str, ...]) -> None:
    """Create a ledger, its signing key, the first admin and the trust file.

    Uses a SQLite file in the home folder unless --db gives a PostgreSQL URL.
    The admin's passphrase comes from LEDGER_PASSPHRASE or a prompt, the
    recovery key's from LEDGER_RECOVERY_PASSPHRASE or a prompt.

    \b
    Example:
      ledger --home /srv/ledger init --admin-name "Pat Admin" --admin-id it-manager \\
          --school "Oak Primary" --school "Elm Primary"
    """
    config = state.config()
    passphrase = state.new_passphrase("Passphrase for the admin key", "LEDGER_PASSPHRASE")
    recovery = state.new_passphrase("Passphrase for the offline recovery key", "LEDGER_RECOVERY_PASSPHRASE")
    created = setup_service.init_ledger(config, admin_name, passphrase, recovery, admin_id, origin, timezone, schools, state.clock)
    emit(f"ledger {created.ledger_id} created")
    emit(f"  database:     {created.database}")
    emit(f"  origin:       {created.origin}")
    emit(f"  admin:        {created.admin_id}")
    emit(f"  trust file:   {created.trust_file}  (give this to auditors)")
    emit(f"  recovery key: {created.recovery_file}  (move it OFF this machine now)")


@click.group("settings")
def settings() -> None:
    """The federation's signed settings: its time zone and its schools.

    \b
    Example:
      ledger settings show
    """


@settings.command("show")
@pass_state
def settings_show(state: State) -> None:
    """Print the time zone and the schools.

    \b
    Example:
      ledger settings show
    """
    registry = state.ledger().registry()
    emit(f"time zone: {registry.timezone}")
    emit(f"schools:   {', '.join(registry.schools) or '(none)'}")


@settings.command("set")
@click.option("--timezone", help="A new time zone (IANA name).")
@click.option("--school", "schools", multiple=True, help="The full list of schools (repeatable).")
@click.option("--reason", required=True, help="Why (recorded).")
@pass_state
def settings_set(state: State, timezone: str | None, schools: tuple[str, ...], reason: str) -> None:
    """Change the time zone or the list of schools (IT manager or Headteacher).

    \b
    Example:
      ledger --as it-manager settings set --school "Oak Primary" --school "Elm Primary" --school "Ash Infants" \\
          --reason "Ash Infants joined the federation"
    """
    from commands.services.setup import change_settings

    done = change_settings(state.ledger(), state.actor(), timezone, schools or None, reason)
    emit(f"time zone: {done['timezone']}; schools: {', '.join(done['schools'])}")


@click.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Fresh folder to build the demo in.")
@pass_state
def demo(state: State, directory: Path | None) -> None:
    """Build a small demonstration federation and walk through the workflows.

    \b
    Example:
      ledger demo --dir /tmp/ledger-demo
    """
    for line in demo_service.run(directory, state.env, state.clock):
        emit(line)


COMMANDS = (init, demo, settings)
