"""``ledger timeline``: one chronology of an incident, a person or a period."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.cli import lazy
from commands.cli.base import State, as_json, emit, pass_state, render, terminal_width, wrapped_table
from ledger import files, localtime, text

if TYPE_CHECKING:
    from commands.services import chronology as person_chronology, readside as service
    from projections import timeline as chronology, timeline_html
    from projections.timeline import Timeline
else:
    service = lazy.module("commands.services.readside")
    person_chronology = lazy.module("commands.services.chronology")
    chronology = lazy.module("projections.timeline")
    timeline_html = lazy.module("projections.timeline_html")

FORMATS = ("table", "json", "csv", "html")


def render_timeline(found: Timeline, fmt: str, width: int = 100) -> str:
    """The timeline in one of FORMATS (a table fitted to ``width`` columns)."""
    if fmt == "html":
        return timeline_html.render(found)
    if fmt == "json":
        document = {
            "title": found.title,
            "covers": found.covers,
            "as_of": localtime.local_or_none(found.selection.as_of, found.zone),
            "generated_at": found.generated_at,
            "reader": found.reader,
            "rows": found.rows,
        }
        return as_json(document)
    if fmt == "csv":
        return render(chronology.csv_rows(found.rows), "csv", chronology.COLUMNS)
    note = ("\n(who read these records is left out: --with-access shows the access log)"
            if found.selection.without_access_only else "")
    about = ", ".join(str(found.person[k]) for k in ("name", "date_of_birth", "school") if found.person.get(k))
    about = f"\n{text.shown(about)}" if about else ""
    if found.family:
        about += ("\nlinked family, whose records are taken in too: "
                  + text.shown(", ".join(str(found.names.get(p, p)) for p in found.family)))
    # Written to a file (--out) this text never passes emit: every stored value is escaped here.
    return f"{text.shown(found.title)}{about}{note}\n\n" + wrapped_table(chronology.display_rows(found), "what", width)


@click.command("timeline")
@click.option("--incident", metavar="ID", help="An incident (or any record) by its short id, e.g. inc-1a2b3c4d.")
@click.option("--person", metavar="PERSON", help="A person: their id (sb-… or a staff id), or a name naming one person.")
@click.option("--from", "start", metavar="DATE",
              help="Start of a period, local time (YYYY-MM-DD or YYYY-MM-DDTHH:MM).")
@click.option("--to", "end", metavar="DATE", help="End of a period, local time (a date includes that whole day).")
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Only these kinds of record: incident, approval, monitoring, access, a record class "
                   "or an incident category (repeatable).")
@click.option("--as-of", metavar="DATETIME",
              help="Show only what had been recorded by then, local time (a date: the end of that day).")
@click.option("--with-family", is_flag=True,
              help="With --person: also the records of the child's linked parents, carers and siblings.")
@click.option("--with-access", is_flag=True,
              help="Also show the access log: who read these records, when and why (left out by default).")
@click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format; html is one self-contained, printable file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this new file (mode 0600) instead of the terminal.")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@pass_state
def timeline(state: State, incident: str | None, person: str | None, start: str | None, end: str | None,
             categories: tuple[str, ...], as_of: str | None, with_family: bool, with_access: bool, reason: str, fmt: str,
             out: Path | None, force: bool) -> None:
    """Merge every kind of record into one chronology, oldest first.

    Each row says when it happened (and how precisely that is known), when and
    by whom (and in which role) it was recorded, what happened, the action and
    the outcome, with the readable text (the facts apart from any opinion, the
    child's words verbatim) to those who may read it. LATE marks an entry
    recorded more than 24 hours after it happened; a correction is shown right
    below what it corrects. Entries your roles may not read are listed as
    withheld. Who read the records (the access log) is left out unless you ask
    with --with-access or --category access. The read is recorded in the access
    log. The table fits the terminal's width.

    \b
    Example:
      ledger --as dsl timeline --incident inc-1a2b3c4d --reason "strategy meeting"
      ledger --as dsl timeline --person sb-1a2b3c4d --as-of 2025-03-01T09:00 --reason "review" --format html --out case.html
      ledger --as dsl timeline --person sb-1a2b3c4d --with-family --reason "family support plan"
      ledger --as head timeline --from 2025-01-01 --to 2025-03-31 --category incident --reason "termly report"
    """
    chosen = [bool(incident), bool(person), bool(start or end)]
    if sum(chosen) != 1:
        raise click.UsageError("choose one of --incident, --person or --from/--to")
    if bool(start) != bool(end):
        raise click.UsageError("a period needs both --from and --to")
    if out is not None:
        files.check_target(out, force)
    if not categories:
        categories = () if with_access else person_chronology.WITHOUT_ACCESS
    elif with_access and "access" not in categories:
        categories = (*categories, "access")
    found = service.timeline(state.ledger(), state.actor(), reason, incident, person, start, end, categories, as_of,
                             with_family)
    rendered = render_timeline(found, fmt, terminal_width())
    if out is not None:
        files.write_private(out, rendered.encode("utf-8"), force)
        emit(f"{len(found.rows)} entries written to {out}", err=True)
    else:
        emit(rendered)


COMMANDS = (timeline,)
