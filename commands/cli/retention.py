"""``ledger erase``, ``ledger hold …`` and ``ledger retention …``."""

from __future__ import annotations

from typing import Any

import click

from commands.cli.base import State, output_options, pass_state
from commands.services import retention as service


@click.command("erase")
@click.option("--record", "ref", required=True, help="The record: inc-…, post-…, sb-… or its UUID.")
@click.option("--ground", required=True, type=click.Choice(service.GROUNDS), help="Lawful ground for erasure.")
@click.option("--reason", required=True, help="Why (kept encrypted in the erasure entry).")
@pass_state
def erase(state: State, ref: str, ground: str, reason: str) -> None:
    """Erase one record now: destroy its keys, scrub its content, record it.

    Headteacher or IT manager only. A legal hold blocks it. The entries'
    signed headers stay, so the ledger still verifies afterwards.

    \b
    Example:
      ledger --as head erase --record inc-1a2b3c4d --ground malicious-allegation --reason "outcome: malicious"
    """
    done = service.erase(state.ledger(), state.actor(), ref, ground, reason)
    click.echo(f"erased {done.record} ({done.record_class}) under {done.basis}")
    click.echo(f"  entries scrubbed: {done.entries}, files removed: {done.files}, keys destroyed: {len(done.keys)}")


@click.group("hold")
def hold() -> None:
    """Legal holds: block erasure of a record while it may be needed."""


@hold.command("add")
@click.option("--record", "ref", required=True, help="The record to hold.")
@click.option("--reason", required=True, help="Why (e.g. tribunal claim received).")
@pass_state
def hold_add(state: State, ref: str, reason: str) -> None:
    """Place a legal hold on a record.

    \b
    Example:
      ledger --as head hold add --record inc-1a2b3c4d --reason "employment tribunal claim"
    """
    target = service.place_hold(state.ledger(), state.actor(), ref, reason)
    click.echo(f"hold placed on {target}")


@hold.command("release")
@click.option("--record", "ref", required=True, help="The held record.")
@click.option("--reason", required=True, help="Why the hold ends.")
@pass_state
def hold_release(state: State, ref: str, reason: str) -> None:
    """Release a legal hold (Headteacher or IT manager).

    \b
    Example:
      ledger --as head hold release --record inc-1a2b3c4d --reason "claim withdrawn"
    """
    target = service.release_hold(state.ledger(), state.actor(), ref, reason)
    click.echo(f"hold released on {target}")


@hold.command("list")
@output_options
@pass_state
def hold_list(state: State) -> list[dict[str, Any]]:
    """List records under an active legal hold.

    \b
    Example:
      ledger hold list --format json
    """
    return service.list_holds(state.ledger())


COMMANDS = (erase, hold)
