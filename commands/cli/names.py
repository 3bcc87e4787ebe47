"""``ledger people find|pick|join-school|share-directory|import-pupils``: people by name."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from commands.cli.people import people
from ledger.files import read_small_text

if TYPE_CHECKING:
    from commands.services import directory, people as service, school_directory
else:
    directory = lazy.module("commands.services.directory")
    school_directory = lazy.module("commands.services.school_directory")
    service = lazy.module("commands.services.people")

#: Largest roll file read (a federation's pupils as CSV).
ROLL_LIMIT = 16 * 1024 * 1024


@people.command("find")
@click.argument("name")
@click.option("--kind", type=lazy.Choice(lambda: directory.KINDS), help="Only people of this kind (default: any).")
@click.option("--school", help="Only people of this school.")
@click.option("--reason", required=True, help="Why you are looking (recorded in the access log).")
@output_options
@pass_state
def find(state: State, name: str, kind: str | None, school: str | None, reason: str) -> list[dict[str, Any]]:
    """Find people by name, for those who may read people's records.

    Every typed word must start a word of the name; case and accents do not
    matter ("zoe ang" finds Zoë Ångström). Searches every school. The names
    shown are recorded in the access log with your reason.

    \b
    Example:
      ledger --as dsl-1 people find "pip ev" --kind pupil --reason "linking a report"
    """
    return directory.find(state.ledger(), state.actor(), name, kind, school, reason)


@people.command("pick")
@click.argument("name")
@click.option("--school", help="One of your schools (default: all of them).")
@output_options
@pass_state
def pick(state: State, name: str, school: str | None) -> list[dict[str, Any]]:
    """Pick a pupil of your school by name, to report a concern about them.

    Shows the pupil's id, name and year group only, from your school's
    directory; the names shown are recorded in the access log.

    \b
    Example:
      ledger --as st-1a2b3c4d people pick "pip"
    """
    return directory.pick_pupils(state.ledger(), state.actor(), name, school)


@people.command("join-school")
@click.argument("staff_id")
@click.argument("school")
@pass_state
def join_school(state: State, staff_id: str, school: str) -> None:
    """Let a member of staff pick the pupils of SCHOOL by name (its directory admits them).

    \b
    Example:
      ledger --as it-manager people join-school st-1a2b3c4d "Oak Primary"
    """
    service.join_school(state.ledger(), state.actor(), staff_id, school)
    emit(f"{staff_id} may now pick pupils of {school} by name")


@people.command("share-directory")
@click.argument("school")
@pass_state
def share_directory(state: State, school: str) -> None:
    """Give SCHOOL's staff who joined after it was written the directory's earlier entries.

    Only the DSL, the Headteacher or SLT can (they can open those entries).

    \b
    Example:
      ledger --as dsl-1 people share-directory "Oak Primary"
    """
    given = school_directory.share(state.ledger(), state.actor(), school)
    emit(f"shared with {', '.join(given)}" if given else "every member of its staff already holds it")


@people.command("import-pupils")
@click.argument("roll", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--school", required=True, help="The school these pupils attend.")
@pass_state
def import_pupils(state: State, roll: Path, school: str) -> None:
    """Register a school's pupils from a CSV roll (columns: name, date_of_birth, year_group, id).

    One transaction: a bad row refuses the whole file, naming the row. Each
    pupil is listed in the school's directory.

    \b
    Example:
      ledger --as dsl-1 people import-pupils roll.csv --school "Oak Primary"
    """
    reader = csv.DictReader(io.StringIO(read_small_text(roll, "roll", ROLL_LIMIT)))
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k and (v or "").strip()} for row in reader]
    ids = service.add_pupils(state.ledger(), state.actor(), school, rows)
    emit(f"{len(ids)} pupils registered at {school}")


COMMANDS = ()
