"""``ledger keys …``: signing keys and their lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from ledger.errors import NotPermitted

if TYPE_CHECKING:
    from commands.services import people as service
else:
    service = lazy.module("commands.services.people")


@click.group("keys")
def keys() -> None:
    """Signing keys: list, rotate your own, revoke, and two-person resets.

    \b
    Example:
      ledger --as st-1a2b3c4d keys rotate
    """


@keys.command("list")
@output_options
@pass_state
def list_keys(state: State) -> list[dict[str, Any]]:
    """List every registered key, its owner, whether it is revoked and whether a reset set it.

    \b
    Example:
      ledger keys list --format csv
    """
    return [{k: v for k, v in row.items() if k != "public_key"} for row in service.list_keys(state.ledger())]


@keys.command("rotate")
@click.option("--for", "staff_id", help="Only yourself: someone else's key is a two-person reset.")
@click.option("--keep-old", is_flag=True, help="Do not revoke your previous key.")
@pass_state
def rotate(state: State, staff_id: str | None, keep_old: bool) -> None:
    """Create and register a new key for yourself, revoking the old one.

    The new passphrase comes from LEDGER_NEW_PASSPHRASE or a prompt.

    \b
    Example:
      ledger --as st-1a2b3c4d keys rotate
    """
    actor = state.actor()
    if staff_id and staff_id != actor.actor_id:
        raise NotPermitted(
            f"{actor.actor_id} may not make a key for {staff_id}: only its owner rotates a key",
            f"if {staff_id} lost their key: `ledger keys reset propose --for {staff_id} --reason …`, "
            "then a second person approves it",
        )
    passphrase = state.new_passphrase("Passphrase for the new key", "LEDGER_NEW_PASSPHRASE")
    made = service.rotate_key(state.ledger(), actor, passphrase, not keep_old)
    emit(f"{made.staff_id} now signs with key {made.key_id}")
    emit(f"  key file: {made.key_file}")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--for", "staff_id", required=True, help="Owner of the key.")
@click.option("--reason", required=True, help="Why (e.g. laptop lost).")
@pass_state
def revoke(state: State, key_id: str, staff_id: str, reason: str) -> None:
    """Revoke a key: entries it signs afterwards fail verification.

    \b
    Example:
      ledger --as it-manager keys revoke k0123abcd --for st-1a2b3c4d --reason "laptop stolen"
    """
    service.revoke_key(state.ledger(), state.actor(), staff_id, key_id, reason)
    emit(f"key {key_id} of {staff_id} revoked")


@keys.group("reset")
def reset() -> None:
    """A new key for someone who lost theirs: one person proposes, a second approves.

    Neither may be the person whose key it is. Every entry signed with a reset
    key says so, and its owner is told at their next command.

    \b
    Example:
      ledger --as it-manager keys reset propose --for st-1a2b3c4d --reason "forgot passphrase"
      ledger --as head keys reset approve rs-0a1b2c3d --for st-1a2b3c4d
    """


@reset.command("propose")
@click.option("--for", "staff_id", required=True, help="Whose key.")
@click.option("--reason", required=True, help="Why (recorded in the entry).")
@pass_state
def propose(state: State, staff_id: str, reason: str) -> None:
    """Propose a new key; the person types its passphrase (LEDGER_NEW_PASSPHRASE or a prompt).

    \b
    Example:
      ledger --as it-manager keys reset propose --for st-1a2b3c4d --reason "forgot passphrase"
    """
    actor = state.actor()
    passphrase = state.new_passphrase(f"New passphrase for {staff_id} (they type it)", "LEDGER_NEW_PASSPHRASE")
    made = service.propose_key_reset(state.ledger(), actor, staff_id, passphrase, reason)
    emit(f"reset {made.reset_id} proposed: key {made.key_id} for {staff_id}")
    emit(f"  key file: {made.key_file}")
    emit(f"  a second person (Headteacher or another admin) must approve it: "
               f"ledger keys reset approve {made.reset_id} --for {staff_id}")


@reset.command("approve")
@click.argument("reset_id")
@click.option("--for", "staff_id", required=True, help="Whose key.")
@pass_state
def approve(state: State, reset_id: str, staff_id: str) -> None:
    """Approve someone else's proposed reset: the new key is registered, the old ones revoked.

    \b
    Example:
      ledger --as head keys reset approve rs-0a1b2c3d --for st-1a2b3c4d
    """
    missing = service.approve_key_reset(state.ledger(), state.actor(), staff_id, reset_id)
    emit(f"reset {reset_id} approved: {staff_id} signs with the new key; their old keys are revoked")
    for role in missing:
        emit(f"  {staff_id} still needs the {role} reader keys: a {role} member or the Headteacher runs "
                   f"`ledger people restore-role-keys {staff_id} {role}`", err=True)


@reset.command("list")
@output_options
@pass_state
def list_resets(state: State) -> list[dict[str, Any]]:
    """Resets proposed and waiting for a second person.

    \b
    Example:
      ledger keys reset list
    """
    return service.pending_resets(state.ledger())


COMMANDS = (keys,)
