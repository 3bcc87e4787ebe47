"""``ledger policy …``: policy versions, notice to staff and acknowledgements."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state

if TYPE_CHECKING:
    from commands.services import policy as service
else:
    service = lazy.module("commands.services.policy")


@click.group("policy")
def policy() -> None:
    """Policy versions the Board approved, notice to staff, acknowledgements.

    \b
    Example:
      ledger --as head policy status
    """


@policy.command("publish")
@click.argument("version")
@click.option("--approved-on", required=True, help="Day the Board approved it, YYYY-MM-DD.")
@click.option("--effective-on", required=True, help="Day it takes effect, YYYY-MM-DD.")
@click.option("--approved-by", default="Board of Directors", show_default=True, help="Who approved it.")
@click.option("--text", help="The policy text (only its hash is in clear).")
@click.option("--file", "file", type=click.Path(path_type=Path), help="The policy document (only its hash is kept).")
@click.option("--notified-on", help="Day staff were notified, YYYY-MM-DD (or use `policy notify` later).")
@click.option("--override-reason", help="Why less than a month's notice is justified.")
@pass_state
def publish(state: State, version: str, approved_on: str, effective_on: str, approved_by: str, text: str | None,
            file: Path | None, notified_on: str | None, override_reason: str | None) -> None:
    """Record a version the Board approved, with its text hash and dates.

    Staff must be notified at least a calendar month before it takes effect:
    shorter notice is refused unless --override-reason says why.

    \b
    Example:
      ledger --as head policy publish 2024-12 --file policy-2024.pdf \\
        --approved-on 2024-11-20 --effective-on 2025-01-06 --notified-on 2024-12-02
    """
    row = service.publish_version(state.ledger(), state.actor(), version, approved_on, effective_on, approved_by,
                                  text, file, notified_on, override_reason)
    emit(f"version {row['version']} published ({row['state']}), effective {row['effective_on']}, "
               f"sha256 {row['text_hash']}")


@policy.command("notify")
@click.argument("version")
@click.option("--on", "notified_on", required=True, help="Day staff were notified, YYYY-MM-DD.")
@click.option("--override-reason", help="Why less than a month's notice is justified.")
@pass_state
def notify(state: State, version: str, notified_on: str, override_reason: str | None) -> None:
    """Record the day staff were notified of a version.

    \b
    Example:
      ledger --as head policy notify 2024-12 --on 2024-12-02
    """
    row = service.notify_staff(state.ledger(), state.actor(), version, notified_on, override_reason)
    emit(f"staff notified of version {row['version']} on {row['notified_on']} (notice: {row['notice']})")


@policy.command("acknowledge")
@click.argument("version", required=False)
@pass_state
def acknowledge(state: State, version: str | None) -> None:
    """Acknowledge a policy version yourself (default: the one in force today).

    \b
    Example:
      ledger --as st-1a2b3c4d policy acknowledge 2024-12
    """
    done = service.acknowledge(state.ledger(), state.actor(), version)
    emit(f"{done['staff_id']} acknowledged version {done['version']} (sha256 {done['text_hash']})")


@policy.command("list")
@click.option("--as-of", help="Day to judge which version is current (default: today).")
@output_options
@pass_state
def list_versions(state: State, as_of: str | None) -> list[dict[str, Any]]:
    """List published versions: dates, notice given and which is current.

    \b
    Example:
      ledger policy list --as-of 2025-01-31
    """
    return service.list_versions(state.ledger(), as_of)


@policy.command("status")
@click.option("--as-of", help="Day to report on (default: today).")
@output_options
@pass_state
def status(state: State, as_of: str | None) -> list[dict[str, Any]]:
    """Who has and has not acknowledged the version in force, and since when.

    The admin, Headteacher and SLT see everyone; others see themselves.

    \b
    Example:
      ledger --as head policy status --format csv
    """
    return service.acknowledgement_status(state.ledger(), state.actor(), as_of)


COMMANDS = (policy,)
