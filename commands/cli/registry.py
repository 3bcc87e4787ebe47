"""``ledger permissions …`` and ``ledger registry …``: the rules and keys every entry is judged by."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import emit, State, output_options, pass_state

if TYPE_CHECKING:
    from commands.services import integrity, permissions as service
else:
    integrity = lazy.module("commands.services.integrity")
    service = lazy.module("commands.services.permissions")


@click.group("permissions")
def permissions() -> None:
    """The permission table in force: who may write, read and grant what.

    \b
    Example:
      ledger permissions status
    """


@permissions.command("status")
@pass_state
def status(state: State) -> None:
    """The table in force, a proposal waiting, and whether this software's table differs.

    \b
    Example:
      ledger permissions status
    """
    emit(json.dumps(service.status(state.ledger()), indent=2))


@permissions.command("list")
@output_options
@pass_state
def list_writers(state: State) -> list[dict[str, Any]]:
    """Each event type and the roles that may write it, under the table in force.

    \b
    Example:
      ledger permissions list --format csv
    """
    return service.rows(state.ledger())


@permissions.command("propose")
@click.option("--reason", required=True, help="Why (recorded in the entry).")
@pass_state
def propose(state: State, reason: str) -> None:
    """Propose this software's table as the next version (the IT manager).

    It takes effect only when a Headteacher adopts it.

    \b
    Example:
      ledger --as it-manager permissions propose --reason "upgrade to 0.2: new event types"
    """
    version = service.propose(state.ledger(), state.actor(), reason)
    emit(f"permission table version {version} proposed; a Headteacher adopts it with "
               f"`ledger permissions adopt {version}`")


@permissions.command("adopt")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--digest", help="Adopt a table other than this software's: its full digest, as shown to you.")
@pass_state
def adopt(state: State, version: int, digest: str | None) -> None:
    """Adopt a proposed table (a Headteacher who did not propose it).

    Without --digest only the table this software shows is adopted.

    \b
    Example:
      ledger --as head permissions adopt 3
    """
    service.adopt(state.ledger(), state.actor(), version, digest)
    emit(f"permission table version {version} is in force")


@click.group("registry")
def registry() -> None:
    """The registry of keys and roles the write side acts under.

    \b
    Example:
      ledger registry rebuild
    """


@registry.command("rebuild")
@pass_state
def rebuild(state: State) -> None:
    """Restore the registry row from the signed entries, if it is the one the latest checkpoint names.

    Signs nothing; refused when the log itself does not match its checkpoint.

    \b
    Example:
      ledger registry rebuild
    """
    count = integrity.rebuild_registry(state.ledger())
    emit(f"registry rebuilt from {count} signed entries; it matches the latest checkpoint")


COMMANDS = (permissions, registry)
