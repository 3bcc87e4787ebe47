"""``ledger projections …`` and ``ledger registers …``: the read models and their lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, output_options, pass_state

if TYPE_CHECKING:
    from commands.services import directory, readside as service, schools
else:
    service = lazy.module("commands.services.readside")
    directory = lazy.module("commands.services.directory")
    schools = lazy.module("commands.services.schools")


@click.group("projections")
def projections() -> None:
    """Read models built from the log: their position, lag and rebuilding.

    \b
    Example:
      ledger projections status
    """


@projections.command("status")
@output_options
@pass_state
def status(state: State) -> list[dict[str, Any]]:
    """Show each projection's position in the log and how far behind it is.

    Read commands bring projections up to date themselves; lag is what the
    next one will apply.

    \b
    Example:
      ledger projections status --format json
    """
    return service.projection_status(state.ledger())


@projections.command("rebuild")
@click.argument("name", required=False)
@output_options
@pass_state
def rebuild(state: State, name: str | None) -> list[dict[str, Any]]:
    """Drop one projection (or all) and replay the whole log into it.

    The result is identical to the projection kept up to date entry by entry.

    \b
    Example:
      ledger projections rebuild entries
    """
    return service.rebuild(state.ledger(), name)


@click.group("registers")
def registers() -> None:
    """The lists people work from: acknowledgements, approvals, incidents, access.

    \b
    Example:
      ledger --as head registers incidents --format csv
    """


@registers.command("acknowledgements")
@output_options
@pass_state
def acknowledgements(state: State) -> list[dict[str, Any]]:
    """Who has and has not acknowledged the policy version in force, and since when.

    Readers of acknowledgements (admin, Headteacher, SLT) see everyone; others their own row.

    \b
    Example:
      ledger --as head registers acknowledgements --format csv
    """
    return _named(state, service.register(state.ledger(), state.actor(), "acknowledgements"), ("staff_id",))


@registers.command("approvals")
@click.option("--status", help="Only this state: pending, approved, rejected, live, removed, expired.")
@click.option("--reason", help="Give one to see what each record is (a one-line description); the read is logged.")
@click.option("--school", help="Only this school.")
@output_options
@pass_state
def approvals(state: State, status: str | None, reason: str | None, school: str | None) -> list[dict[str, Any]]:
    """Every approval request, its state and what each pending one is waiting for.

    With --reason, each request you may read says what it is (the post's
    text, the device and purpose, the permission asked), and the read is
    logged.

    \b
    Example:
      ledger --as head registers approvals --status pending --reason "weekly approvals"
    """
    rows = service.register(state.ledger(), state.actor(), "approvals", reason, status=status,
                            school=schools.school_filter(state.ledger(), school))
    return _named(state, rows, ("requested_by",))


@registers.command("incidents")
@click.option("--status", default="open", show_default=True,
              help="open, all, or one status (reported, triaged, investigating, reopened, closed).")
@click.option("--category", help="Only this incident category.")
@click.option("--assignee", help="Only incidents assigned to this investigator or escalated to this role.")
@click.option("--reason", help="Give one to see what each record is (a one-line description); the read is logged.")
@click.option("--school", help="Only this school.")
@output_options
@pass_state
def incidents(state: State, status: str, category: str | None, assignee: str | None, reason: str | None,
              school: str | None) -> list[dict[str, Any]]:
    """Incidents by status, category, assignee and age, with overdue actions.

    With --reason, each incident says what it is (its one-line summary), and
    the read is logged.

    \b
    Example:
      ledger --as dsl registers incidents --assignee dsl --reason "Monday case review"
    """
    rows = service.register(state.ledger(), state.actor(), "incidents", reason, status=status, category=category,
                            assignee=assignee, school=schools.school_filter(state.ledger(), school))
    return _named(state, rows, ("investigators",))


@registers.command("access")
@click.option("--record", metavar="ID", help="Only reads of this record (short id or record id).")
@click.option("--reader", metavar="ID", help="Only reads by this member of staff.")
@click.option("--from", "since", metavar="DATE", help="Only reads on or after this local date (or time).")
@click.option("--to", "until", metavar="DATE", help="Only reads before this local date (or time).")
@click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")
@output_options
@pass_state
def access(state: State, record: str | None, reader: str | None, since: str | None, until: str | None,
           reason: str) -> list[dict[str, Any]]:
    """Who read or exported which record, when and why, newest first.

    Readers of the access log (admin, Headteacher, DSL) see everyone's reads; others their own.

    \b
    Example:
      ledger --as dsl registers access --record inc-1a2b3c4d --reason "subject access request"
    """
    rows = service.register(state.ledger(), state.actor(), "access", reason, record=record, reader=reader,
                            since=since, until=until)
    return _named(state, rows, ("reader",))


def _named(state: State, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The register's people named beside their ids ("Dee Lead (dsl)") for a reader who may read
    their names (see ``directory.labels``); ids for anyone else. The names are not logged: the
    reader may open those records anyway."""
    return list(directory.name_columns(state.ledger(), state.actor(), rows, columns))


COMMANDS = (projections, registers)
