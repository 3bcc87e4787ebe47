"""``ledger people …``: staff, subjects and roles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state, render

if TYPE_CHECKING:
    from commands.services import family, people as service
    from ledger import roles as ledger_roles
    from ledger.domain import people as domain
else:
    service = lazy.module("commands.services.people")
    family = lazy.module("commands.services.family")
    ledger_roles = lazy.module("ledger.roles")
    domain = lazy.module("ledger.domain.people")


@click.group("people")
def people() -> None:
    """Staff who act, and the pupils, parents and others records are about.

    \b
    Example:
      ledger --as it-manager people add-staff --name "Dee Lead" --role dsl
    """


@people.command("add-staff")
@click.option("--name", required=True, help="Full name (stored encrypted).")
@click.option("--role", "roles", multiple=True, required=True, type=lazy.Choice(lambda: ledger_roles.ROLES), help="Role (repeatable).")
@click.option("--id", "staff_id", help="Staff id (default: generated, e.g. st-1a2b3c4d).")
@click.option("--email", help="Work email (stored encrypted).")
@click.option("--school", help="School within the Federation.")
@click.option("--job-title", help="Job title.")
@click.option("--dob", help="Date of birth, YYYY-MM-DD (encrypted; retention uses it for retirement age).")
@pass_state
def add_staff(state: State, name: str, roles: tuple[str, ...], staff_id: str | None, email: str | None,
              school: str | None, job_title: str | None, dob: str | None) -> None:
    """Register a member of staff and create their passphrase-protected key.

    The new person's passphrase comes from LEDGER_NEW_PASSPHRASE or a prompt.

    \b
    Example:
      ledger --as it-manager people add-staff --name "Dee Lead" --role dsl --role staff
    """
    actor = state.actor()
    passphrase = state.new_passphrase("Passphrase for the new person's key", "LEDGER_NEW_PASSPHRASE")
    made = service.add_staff(
        state.ledger(), actor, name, list(roles), passphrase, staff_id, email, school, job_title, dob
    )
    emit(f"{made.staff_id} registered with key {made.key_id}")
    emit(f"  key file: {made.key_file}")


@people.command("add-subject")
@click.option("--kind", required=True, type=lazy.Choice(lambda: domain.SUBJECT_KINDS), help="Who they are.")
@click.option("--name", required=True, help="Full name (stored encrypted).")
@click.option("--dob", help="Date of birth, YYYY-MM-DD (stored encrypted).")
@click.option("--school", help="School (stored encrypted).")
@click.option("--id", "subject_id", help="Pseudonymous id (default: generated, e.g. sb-1a2b3c4d).")
@click.option("--year", "year_group", help="A pupil's year group or class, e.g. \"Year 7\" (encrypted).")
@pass_state
def add_subject(state: State, kind: str, name: str, dob: str | None, school: str | None, subject_id: str | None,
                year_group: str | None) -> None:
    """Register a pupil, parent, carer or other person under a pseudonymous id.

    A pupil of one of the federation's schools is listed (name, id, year group)
    in that school's directory, so its staff can pick them by name.

    \b
    Example:
      ledger --as dsl-1 people add-subject --kind pupil --name "Sam Pupil" --dob 2015-03-02
    """
    new_id = service.add_subject(state.ledger(), state.actor(), kind, name, dob, school, subject_id,
                                 year_group=year_group)
    emit(new_id)


@people.command("list")
@output_options
@pass_state
def list_people(state: State) -> list[dict[str, Any]]:
    """List everyone by pseudonymous id, kind, roles and status; with --as, names too where you may read them.

    \b
    Example:
      ledger --as dsl-1 people list --format json
    """
    acting = state.actor_id or state.env.get("LEDGER_ACTOR")
    return service.list_people(state.ledger(), state.actor() if acting else None)


@people.command("show")
@click.argument("person_id", metavar="PERSON")
@click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@pass_state
def show(state: State, person_id: str, reason: str, fmt: str) -> None:
    """Show a person's decrypted details, if your roles may read them.

    PERSON is an id, or a name that names exactly one person you may read.

    The read is recorded in the access log, with your reason.

    \b
    Example:
      ledger --as head-1 people show sb-1a2b3c4d --reason "checking parental contact"
    """
    details = service.read_details(state.ledger(), state.actor(), person_id, reason)
    rows = [{"field": k, "value": v} for k, v in details.items()]
    emit(render(rows, fmt) if fmt == "table" else render([details], "json"))


@people.command("grant-role")
@click.argument("staff_id")
@click.argument("role", type=lazy.Choice(lambda: ledger_roles.ROLES))
@pass_state
def grant_role(state: State, staff_id: str, role: str) -> None:
    """Give a member of staff a role (and its reader key).

    Who may grant which role is the permission table's grant table; nobody
    grants a role to themselves.

    \b
    Example:
      ledger --as dsl-1 people grant-role st-1a2b3c4d dsl
    """
    service.grant_role(state.ledger(), state.actor(), staff_id, role)
    emit(f"{staff_id} now has the role {role}")


@people.command("restore-role-keys")
@click.argument("staff_id")
@click.argument("role", type=lazy.Choice(lambda: ledger_roles.ROLES))
@pass_state
def restore_role_keys(state: State, staff_id: str, role: str) -> None:
    """Seal a role's reader keys again to someone who holds it (after a key reset).

    
    Example:
      ledger --as head people restore-role-keys st-1a2b3c4d dsl
    """
    service.restore_role_keys(state.ledger(), state.actor(), staff_id, role)
    emit(f"{staff_id} holds the {role} reader keys again")


@people.command("rotate-role-key")
@click.argument("role", type=lazy.Choice(lambda: ledger_roles.ROLES))
@click.option("--reason", required=True, help="Why (e.g. a member's laptop was lost).")
@pass_state
def rotate_role_key(state: State, role: str, reason: str) -> None:
    """Give a reader role a new key: anything written from now on is wrapped to it.

    Only a member of the role or a Headteacher may.

    
    Example:
      ledger --as head people rotate-role-key dsl --reason "a DSL laptop was stolen"
    """
    service.rotate_role_key(state.ledger(), state.actor(), role, reason)
    emit(f"the {role} reader key was replaced; its members hold the new one")


@people.command("recover-role")
@click.argument("role", type=lazy.Choice(lambda: ledger_roles.ROLES))
@click.argument("staff_id")
@click.option("--recovery-key", "recovery_key", required=True, type=click.Path(dir_okay=False),
              help="The offline RECOVERY-KEY.json.")
@click.option("--reason", required=True, help="Why (recorded, signed by the recovery key).")
@pass_state
def recover_role(state: State, role: str, staff_id: str, recovery_key: str, reason: str) -> None:
    """Give a role whose members are all gone to STAFF_ID: the admin and the recovery key holder together.

    The recovery passphrase comes from LEDGER_RECOVERY_PASSPHRASE or a prompt
    (typed by whoever keeps it, e.g. the Chair of Governors).

    
    Example:
      ledger --as it-manager people recover-role headteacher st-9f8e7d6c \
          --recovery-key /media/usb/RECOVERY-KEY.json --reason "the Headteacher left suddenly"
    """
    from pathlib import Path

    from commands.services.setup import load_recovery_key

    actor = state.actor()
    recovery = load_recovery_key(Path(recovery_key),
                                 state.passphrase("Recovery passphrase", "LEDGER_RECOVERY_PASSPHRASE"))
    service.recover_role(state.ledger(), actor, recovery, role, staff_id, reason)
    emit(f"{staff_id} now has the role {role}, approved by the recovery key")


@people.command("remove-role")
@click.argument("staff_id")
@click.argument("role", type=lazy.Choice(lambda: ledger_roles.ROLES))
@pass_state
def remove_role(state: State, staff_id: str, role: str) -> None:
    """Take a role (and its reader key) away from a member of staff.

    \b
    Example:
      ledger --as head-1 people remove-role st-1a2b3c4d poster
    """
    service.remove_role(state.ledger(), state.actor(), staff_id, role)
    emit(f"{staff_id} no longer has the role {role}")


@people.command("leave")
@click.argument("staff_id")
@click.option("--on", "ended_on", required=True, help="Last day of employment, YYYY-MM-DD.")
@pass_state
def leave(state: State, staff_id: str, ended_on: str) -> None:
    """Record that a member of staff has left; they can no longer act.

    \b
    Example:
      ledger --as head-1 people leave st-1a2b3c4d --on 2026-07-31
    """
    service.end_employment(state.ledger(), state.actor(), staff_id, ended_on)
    emit(f"{staff_id} left on {ended_on}")


@people.command("relate")
@click.argument("child_id")
@click.argument("other_id")
@click.option("--relation", required=True, type=lazy.Choice(lambda: tuple(domain.RELATIONS)),
              help="What OTHER_ID is to the child.")
@click.option("--note", help="Anything to know about the link, e.g. parental responsibility (encrypted).")
@pass_state
def relate(state: State, child_id: str, other_id: str, relation: str, note: str | None) -> None:
    """Link a parent, carer or sibling to a child (readers of subject records only).

    The link is a signed entry on the child's record naming both people, so it
    shows in both chronologies; `timeline --person CHILD --with-family` then
    takes in the linked family's records too.

    \b
    Example:
      ledger --as dsl people relate sb-1a2b3c4d sb-5e6f7a8b --relation parent --note "lives with the child"
      ledger --as dsl people relate sb-1a2b3c4d sb-9c0d1e2f --relation sibling
    """
    family.relate(state.ledger(), state.actor(), child_id, other_id, relation, note)
    emit(f"{other_id} linked to {child_id} as {relation}")


@people.command("unrelate")
@click.argument("child_id")
@click.argument("other_id")
@click.option("--reason", required=True, help="Why: recorded in error, or no longer true.")
@pass_state
def unrelate(state: State, child_id: str, other_id: str, reason: str) -> None:
    """End a family link; the original stays in the log, shown as ended.

    \b
    Example:
      ledger --as dsl people unrelate sb-1a2b3c4d sb-5e6f7a8b --reason "linked to the wrong child"
    """
    family.end_relation(state.ledger(), state.actor(), child_id, other_id, reason)
    emit(f"{other_id} no longer linked to {child_id}")


COMMANDS = (people,)
