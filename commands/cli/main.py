"""The ``ledger`` command: a thin skin over the application services."""

from __future__ import annotations

import signal

import click

from commands.cli import (approvals, backup, casework, duties, export, incidents, integrity, keys, monitoring,
                          names, people, policy, projections, registry, retention, setup, timeline, transfer)
from commands.cli.base import LedgerGroup, State, environment
from ledger import progress
from ledger.clock import Clock


@click.group(cls=LedgerGroup)
@click.option("--home", metavar="DIR", help="Ledger home folder (LEDGER_HOME).")
@click.option("--db", metavar="URL", help="Database URL: sqlite:///… or postgresql+psycopg://… (LEDGER_DB).")
@click.option("--keys", metavar="DIR", help="Folder of passphrase-protected key files (LEDGER_KEYS).")
@click.option("--as", "actor_id", metavar="ID", help="Identity to act as (LEDGER_ACTOR).")
@click.version_option(package_name="policy-ledger")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None, keys: str | None, actor_id: str | None) -> None:
    """policy-ledger: a signed, tamper-evident record of the Federation's
    Social Media, Mobile Phone and Smart Technology Policy.

    Dates and times are typed and shown in the federation's time zone
    (`ledger settings show`); a date is a local date, and today is today there.

    \b
    Example:
      ledger init --admin-name "Pat Admin"
      ledger --as st-1a2b3c4d people add-staff --name "Dee Lead" --role dsl
    """
    clock = ctx.obj if isinstance(ctx.obj, Clock) else None
    state = State(env=environment(), home=home, db=db, keys=keys, actor_id=actor_id, clock=clock)
    ctx.obj = state
    ctx.call_on_close(state.close)
    progress.show()


for module in (setup, casework, people, names, keys, registry, integrity, incidents, retention, policy, approvals,
               monitoring, timeline, projections, export, transfer, backup, duties):
    for command in module.COMMANDS:
        cli.add_command(command)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point. A termination signal unwinds like an error, so the
    transaction rolls back and temporary files are removed on the way out."""
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), _stop)
    cli(prog_name="ledger")
