"""``ledger keys …``: signing keys and their lifecycle."""

from __future__ import annotations

from typing import Any

import click

from commands.cli.base import State, emit, output_options, pass_state
from commands.services import people as service


@click.group("keys")
def keys() -> None:
    """Signing keys: list, rotate, revoke.

    \b
    Example:
      ledger --as st-1a2b3c4d keys rotate
    """


@keys.command("list")
@output_options
@pass_state
def list_keys(state: State) -> list[dict[str, Any]]:
    """List every registered key, its owner and whether it is revoked.

    \b
    Example:
      ledger keys list --format csv
    """
    return [{k: v for k, v in row.items() if k != "public_key"} for row in service.list_keys(state.ledger())]


@keys.command("rotate")
@click.option("--for", "staff_id", help="Whose key (default: your own).")
@click.option("--keep-old", is_flag=True, help="Do not revoke the previous key.")
@pass_state
def rotate(state: State, staff_id: str | None, keep_old: bool) -> None:
    """Create and register a new key, revoking the old one.

    The new passphrase comes from LEDGER_NEW_PASSPHRASE or a prompt.

    \b
    Example:
      ledger --as st-1a2b3c4d keys rotate
    """
    actor = state.actor()
    passphrase = state.new_passphrase("Passphrase for the new key", "LEDGER_NEW_PASSPHRASE")
    made = service.rotate_key(state.ledger(), actor, staff_id or actor.actor_id, passphrase, not keep_old)
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


COMMANDS = (keys,)
