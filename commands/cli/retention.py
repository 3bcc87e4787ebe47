"""``ledger erase``, ``ledger hold …`` and ``ledger retention …``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from ledger.domain.base import parse_date

if TYPE_CHECKING:
    from commands.services import retention as service, retention_plan as plan_service
else:
    service = lazy.module("commands.services.retention")
    plan_service = lazy.module("commands.services.retention_plan")


@click.command("erase")
@click.option("--record", "ref", required=True, help="The record: inc-…, post-…, sb-… or its UUID.")
@click.option("--ground", required=True, type=lazy.Choice(lambda: service.GROUNDS), help="Lawful ground for erasure.")
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
    emit(f"erased {done.record} ({done.record_class}) under {done.basis}")
    emit(f"  entries scrubbed: {done.entries}, files removed: {done.files}, keys destroyed: {len(done.keys)}")


@click.group("hold")
def hold() -> None:
    """Legal holds: block erasure of a record while it may be needed.

    \b
    Example:
      ledger --as head hold add --record inc-1a2b3c4d --reason "tribunal claim"
    """


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
    emit(f"hold placed on {target}")


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
    emit(f"hold released on {target}")


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


@click.group("retention")
def retention_group() -> None:
    """Retention rules, the plan of what falls due, and the sweep that erases it.

    \b
    Example:
      ledger --as head retention plan --as-of 2027-09-01
    """


@retention_group.command("plan")
@click.option("--as-of", "as_of", help="Plan as of this date, YYYY-MM-DD (default: today).")
@click.option("--all", "show_all", is_flag=True, help="Also list records kept or under review.")
@output_options
@pass_state
def retention_plan(state: State, as_of: str | None, show_all: bool) -> list[dict[str, Any]]:
    """What would be erased, under which rule, and what is held back and why. Changes nothing.

    Records whose rule needs a date of birth are undetermined unless your
    roles may read it: run it as the Headteacher.

    \b
    Example:
      ledger --as head retention plan --as-of 2027-09-01 --format csv
    """
    day = _day(as_of)
    decisions, counts = plan_service.plan(state.ledger(), state.actor(), day, None if show_all else plan_service.SHOWN)
    emit(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no records", err=True)
    shown = decisions
    return [
        {"record": d.label, "class": d.record_class, "action": d.action, "due": d.due, "rule": d.rule, "why": d.why}
        for d in shown
    ]


@retention_group.command("sweep")
@click.option("--reason", required=True, help="Why this sweep runs (e.g. termly retention review).")
@click.option("--as-of", "as_of", help="Sweep as of this date (default: today).")
@pass_state
def retention_sweep(state: State, reason: str, as_of: str | None) -> None:
    """Erase every record the plan lists as due and print a deletion certificate.

    Each record is erased in its own transaction: if the sweep is stopped,
    run it again to finish. The certificate's hash is recorded in the ledger.

    \b
    Example:
      ledger --as head retention sweep --reason "autumn term retention review"
    """
    certificate = plan_service.sweep(state.ledger(), state.actor(), reason, _day(as_of))
    emit(certificate.text)


@retention_group.command("rules")
@output_options
@pass_state
def retention_rules(state: State) -> list[dict[str, Any]]:
    """The retention rule in force for every record class.

    \b
    Example:
      ledger retention rules
    """
    return plan_service.rules(state.ledger())


@retention_group.command("set")
@click.argument("record_class")
@click.option("--trigger", required=True, help="The fact the period runs from (see `ledger retention rules`).")
@click.option("--months", type=click.IntRange(1, 1200), help="The period in months.")
@click.option("--reason", required=True, help="Why the rule changes (e.g. trust policy update).")
@pass_state
def retention_set(state: State, record_class: str, trigger: str, months: int | None, reason: str) -> None:
    """Change a record class's retention rule (IT manager; recorded as a signed entry).

    \b
    Example:
      ledger --as it-manager retention set monitoring --trigger alert-time --months 6 --reason "trust schedule 2027"
    """
    rule = plan_service.change_rule(state.ledger(), state.actor(), record_class, trigger, months, reason)
    emit(f"{record_class}: {rule.describe()}")


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    return dt.date.fromisoformat(parse_date("--as-of", value))


COMMANDS = (erase, hold, retention_group)
