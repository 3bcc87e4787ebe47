"""``ledger inbox`` and ``ledger report``: what waits for me, and the counts for governors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state, render
from ledger import files, text

if TYPE_CHECKING:
    from commands.services import governors, governors_html, inbox as inbox_service, own_reports
else:
    governors = lazy.module("commands.services.governors")
    governors_html = lazy.module("commands.services.governors_html")
    inbox_service = lazy.module("commands.services.inbox")
    own_reports = lazy.module("commands.services.own_reports")


@click.command("inbox")
@click.option("--reason", help="Give one to see what each incident is (its summary); the read is logged.")
@output_options
@pass_state
def inbox(state: State, reason: str | None) -> list[dict[str, Any]]:
    """What waits for you now: reports to triage, your actions due or overdue, cases to investigate,
    decisions, alerts nobody has looked at, key resets for a second person, acknowledgements,
    child protection files due to a leaver's next school and receipts outstanding (the DSL),
    and the open cases of your role.

    Clear facts only unless you give --reason: then each incident you may read
    says what it is, and that read is recorded in the access log.

    \b
    Example:
      ledger --as dsl inbox
      ledger --as dsl inbox --reason "morning check"
    """
    return inbox_service.waiting_for(state.ledger(), state.actor(), reason)


@click.command("mine")
@output_options
@pass_state
def mine(state: State) -> list[dict[str, Any]]:
    """The incidents you reported and where each stands (without reading them).

    \b
    Example:
      ledger --as teacher-1 mine
    """
    return own_reports.reported_by(state.ledger(), state.actor())


@click.command("report")
@click.option("--from", "start", metavar="DATE", help="First day (default: 1 September of this school year).")
@click.option("--to", "end", metavar="DATE", help="Last day (default: today).")
@click.option("--school", help="Only this school.")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv", "html")), default="table",
              show_default=True, help="html is one printable page with charts.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this new file.")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@pass_state
def report(state: State, start: str | None, end: str | None, school: str | None, fmt: str, out: Path | None,
           force: bool) -> None:
    """The report for governors and the trust: counts by category, school and term, outcomes,
    referrals, time to triage, approvals, acknowledgements, monitoring alerts. No personal data.

    \b
    Example:
      ledger --as head report --from 2026-09-01 --to 2026-12-19 --format html --out autumn-term.html
    """
    if out is not None:
        files.check_target(out, force)
    found = governors.report(state.ledger(), state.actor(), start, end, school)
    rendered = render_report(found, fmt)
    if out is not None:
        files.write_private(out, rendered.encode("utf-8"), force)
        emit(f"report written to {out}", err=True)
    else:
        emit(rendered)


def render_report(found: governors.GovernorsReport, fmt: str) -> str:
    """The governors' report in one of the formats, as safe in a file (--out) as on the terminal."""
    if fmt == "html":
        return governors_html.render(found)
    if fmt == "json":
        return json.dumps({"start": found.start, "end": found.end, "school": found.school,
                           "generated_at": found.generated_at, "rows": found.rows(), "notes": found.notes}, indent=2)
    table = render(found.rows(), fmt, ["section", "item", "count"])
    if fmt != "table":
        return table
    where = f" at {found.school}" if found.school else ""
    return text.shown(f"Report for governors, {found.start} to {found.end}{where}") + f"\n\n{table}" + "".join(
        f"\n{text.shown(n)}" for n in found.notes)


COMMANDS = (inbox, mine, report)
