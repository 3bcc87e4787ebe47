"""``ledger incidents …``: report, triage, investigate, decide, close, reopen, read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, as_json, emit, output_options, pass_state, render
from ledger.domain.base import PRECISIONS

if TYPE_CHECKING:
    from commands.services import evidence as evidence_files, incidents as service
    from ledger import roles as ledger_roles
    from ledger.domain.incidents import categories as codes
    from projections import timeline as shown_timeline
else:
    service = lazy.module("commands.services.incidents")
    evidence_files = lazy.module("commands.services.evidence")
    ledger_roles = lazy.module("ledger.roles")
    codes = lazy.module("ledger.domain.incidents.categories")
    shown_timeline = lazy.module("projections.timeline")

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("incidents")
def incidents() -> None:
    """Incidents under the policy: any member of staff reports; only the roles
    that may see an incident's class (or an assigned investigator) act on it.

    \b
    Example:
      ledger --as dsl incidents list --format json
    """


@incidents.command("categories")
@output_options
def categories() -> list[dict[str, Any]]:
    """List incident categories, the record class each is kept under and who owns it.

    \b
    Example:
      ledger incidents categories --format csv
    """
    return service.categories()


@incidents.command("report")
@click.option("--category", required=True, type=lazy.Choice(lambda: codes.CATEGORIES), help="What it is about.")
@click.option("--occurred-at", required=True, help="When it happened, in local time: YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="exact", show_default=True,
              help="How precisely the time is known.")
@click.option("--until", help="End of the range, in local time (with --precision range).")
@click.option("--source", type=lazy.Choice(lambda: codes.SOURCES), default="seen", show_default=True,
              help="Seen yourself, told by someone, or a monitoring alert.")
@click.option("--source-detail", help="Who told you, or how you came to see it (encrypted).")
@click.option("--alert", "alert_id", help="The monitoring alert id (with --source monitoring).")
@click.option("--summary", required=True, help="One line saying what happened (encrypted).")
@click.option("--facts", required=True, help="What was seen or heard, facts only (encrypted).")
@click.option("--opinion", help="Your opinion, kept apart from the facts (encrypted).")
@click.option("--child-words", help="A child's own words, verbatim (encrypted).")
@click.option("--immediate-action", help="What you did straight away (encrypted).")
@click.option("--person", "people", multiple=True, metavar="PERSON:PART",
              help="Someone involved (id, or a name naming one person you may see, e.g. \"Pip Evans:victim\"): "
                   "victim, alleged, witness or reporter (repeatable).")
@click.option("--allegation-against-staff", is_flag=True,
              help="An allegation against a member of staff (KCSIE): Headteacher only.")
@click.option("--reporter-role", type=lazy.Choice(lambda: ledger_roles.ROLES), help="The role you report in (default: your main role).")
@click.option("--evidence", "files", multiple=True, type=FILE, help="A file to hand in with the report (repeatable).")
@click.option("--captured-at", help="When the evidence was captured, in local time (default: now).")
@click.option("--method", default="handed in with the report", show_default=True, help="How it was captured.")
@click.option("--device", default="not stated", show_default=True, help="Device it was captured on.")
@click.option("--school", help="The school it concerns (one of the federation's schools).")
@pass_state
def report(state: State, category: str, occurred_at: str, precision: str, until: str | None, source: str,
           source_detail: str | None, alert_id: str | None, summary: str, facts: str, opinion: str | None,
           child_words: str | None, immediate_action: str | None, people: tuple[str, ...],
           allegation_against_staff: bool, reporter_role: str | None, files: tuple[Path, ...],
           captured_at: str | None, method: str, device: str, school: str | None) -> None:
    """Report an incident. Any member of staff may; you may not be able to read it afterwards.

    Prints the new incident id.

    \b
    Example:
      ledger --as st-1a2b3c4d incidents report --category child-on-child \\
        --occurred-at 2026-03-02T12:30 --precision approximate \\
        --summary "Image shared in a group chat" --facts "Pupil showed me the chat" \\
        --person sb-1a2b3c4d:victim --child-words "everyone has seen it" --evidence chat-log.txt
    """
    actor = state.actor()
    items = tuple(evidence_files.EvidenceFile(f.name, evidence_files.read_file(f), actor.actor_id, captured_at, method, device) for f in files)
    form = service.IncidentReport(
        category, occurred_at, summary, facts, source, precision, until, people, allegation_against_staff,
        opinion, child_words, immediate_action, source_detail, alert_id, reporter_role, items, school,
    )
    emit(service.report(state.ledger(), actor, form))


@incidents.command("triage")
@click.argument("inc_id")
@click.option("--rationale", required=True, help="Why this category and escalation (encrypted).")
@click.option("--category", type=lazy.Choice(lambda: codes.CATEGORIES), help="Correct the category (same record class).")
@pass_state
def triage(state: State, inc_id: str, rationale: str, category: str | None) -> None:
    """Triage an incident: confirm or correct its category and escalate it to its owner role.

    An open case already triaged can be triaged again to correct its category
    as facts emerge (within the same record class); the first triage stays in
    its chronology.

    \b
    Example:
      ledger --as dsl-1 incidents triage inc-1a2b3c4d --rationale "Online bullying: safeguarding"
      ledger --as dsl-1 incidents triage inc-1a2b3c4d --category nudes-semi-nudes --rationale "an image is being shared"
    """
    owner = service.triage(state.ledger(), state.actor(), inc_id, rationale, category)
    emit(f"{inc_id} triaged and escalated to {owner}")


@incidents.command("link")
@click.argument("inc_id")
@click.argument("person", metavar="PERSON:PART")
@click.option("--reason", required=True, help="Why they are linked (encrypted).")
@pass_state
def link(state: State, inc_id: str, person: str, reason: str) -> None:
    """Link another person to an incident as victim, alleged, witness or reporter.

    \b
    Example:
      ledger --as dsl-1 incidents link inc-1a2b3c4d sb-5e6f7a8b:witness --reason "Was in the chat"
    """
    linked = service.link_person(state.ledger(), state.actor(), inc_id, person, reason)
    emit(f"{linked} linked to {inc_id}")


@incidents.command("assign")
@click.argument("inc_id")
@click.argument("investigator")
@click.option("--remit", required=True, help="What they are to investigate (encrypted).")
@pass_state
def assign(state: State, inc_id: str, investigator: str, remit: str) -> None:
    """Assign an investigator: a signed event, and the case's keys wrapped to them.

    \b
    Example:
      ledger --as head-1 incidents assign inc-1a2b3c4d st-9c8b7a6d --remit "Interview the witnesses"
    """
    flag = service.assign(state.ledger(), state.actor(), inc_id, investigator, remit)
    emit(f"{investigator} assigned to {inc_id}")
    if flag:
        emit(f"Warning: {flag}: record their training with `ledger training record`", err=True)


@incidents.command("unassign")
@click.argument("inc_id")
@click.argument("investigator")
@click.option("--reason", required=True, help="Why the assignment ends (encrypted).")
@pass_state
def unassign(state: State, inc_id: str, investigator: str, reason: str) -> None:
    """End an investigator's assignment and destroy their copies of the case's keys.

    \b
    Example:
      ledger --as head-1 incidents unassign inc-1a2b3c4d st-9c8b7a6d --reason "Report delivered"
    """
    service.unassign(state.ledger(), state.actor(), inc_id, investigator, reason)
    emit(f"{investigator} no longer assigned to {inc_id}")


@incidents.command("note")
@click.argument("inc_id")
@click.option("--kind", type=lazy.Choice(lambda: codes.NOTE_KINDS), default="fact", show_default=True,
              help="A fact, an opinion, or a child's own words (verbatim).")
@click.option("--text", required=True, help="The note (encrypted).")
@pass_state
def note(state: State, inc_id: str, kind: str, text: str) -> None:
    """Add a note to an incident, kept as a fact, an opinion or a child's words.

    \b
    Example:
      ledger --as st-9c8b7a6d incidents note inc-1a2b3c4d --kind fact --text "Phone handed to the office"
    """
    service.add_note(state.ledger(), state.actor(), inc_id, kind, text)
    emit(f"{kind} noted on {inc_id}")


@incidents.group("evidence")
def evidence() -> None:
    """Evidence files: hashed at intake, stored encrypted, read under the access log.

    \b
    Example:
      ledger --as dsl incidents evidence get inc-1a2b3c4d att-5e6f7a8b --out chat.png --reason "strategy meeting"
    """


@evidence.command("add")
@click.argument("inc_id")
@click.option("--file", "path", required=True, type=FILE, help="The file (screenshot, export…).")
@click.option("--captured-by", required=True, help="Who captured it (encrypted).")
@click.option("--captured-at", required=True, help="When it was captured, in local time: YYYY-MM-DDTHH:MM.")
@click.option("--method", required=True, help="How it was captured (encrypted).")
@click.option("--device", required=True, help="The device it was captured on (encrypted).")
@click.option("--description", help="What it shows (encrypted).")
@click.option("--sha256", "expect_sha256", help="The hash taken at capture; intake refuses a different file.")
@pass_state
def evidence_add(state: State, inc_id: str, path: Path, captured_by: str, captured_at: str, method: str,
                 device: str, description: str | None, expect_sha256: str | None) -> None:
    """Take a file in as evidence; prints its attachment id and SHA-256.

    \b
    Example:
      ledger --as dsl-1 incidents evidence add inc-1a2b3c4d --file post.png \\
        --captured-by "Dee Lead" --captured-at 2026-03-02T13:05 \\
        --method "screenshot of the public post" --device "school laptop OAK-12"
    """
    item = evidence_files.EvidenceFile(
        path.name, evidence_files.read_file(path), captured_by, captured_at, method, device, description, expect_sha256
    )
    attachment_id = service.add_evidence(state.ledger(), state.actor(), inc_id, item)
    emit(attachment_id)


@evidence.command("get")
@click.argument("inc_id")
@click.argument("attachment_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="New file to write (mode 0600).")
@click.option("--reason", required=True, help="Why you need it (recorded in the access log).")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@pass_state
def evidence_get(state: State, inc_id: str, attachment_id: str, out: Path, reason: str, force: bool) -> None:
    """Decrypt an evidence file, check it against its intake SHA-256, and write it
    to a new file only you can read.

    \b
    Example:
      ledger --as dsl-1 incidents evidence get inc-1a2b3c4d att-5e6f7a8b --out post.png --reason "hearing bundle"
    """
    digest = service.get_evidence(state.ledger(), state.actor(), inc_id, attachment_id, out, reason, force)
    emit(f"{out} written, sha256 {digest} verified", err=True)


@evidence.command("describe")
@click.argument("inc_id")
@click.option("--platform", required=True, help="Where it is (app, platform or device).")
@click.option("--description", required=True, help="What it shows, in words (encrypted).")
@click.option("--sha256", "supplied", help="A SHA-256 supplied with the report (e.g. from Report Remove), if any.")
@pass_state
def describe(state: State, inc_id: str, platform: str, description: str, supplied: str | None) -> None:
    """Record evidence that must not be taken in: what, where, and any hash supplied (UKCIS).

    Staff must never view, copy or keep nude or semi-nude images of children:
    describe them instead. The reporter may, as may the DSL.

    \b
    Example:
      ledger --as teacher-1 incidents evidence describe inc-1a2b3c4d --platform Snapchat \\
          --description "Pip said a picture of her was shared in the Year 6 group"
    """
    emit(service.describe_evidence(state.ledger(), state.actor(), inc_id, platform, description, supplied))


@evidence.command("remove")
@click.argument("inc_id")
@click.argument("attachment_id")
@click.option("--reason", required=True, help="Why it must go (encrypted).")
@pass_state
def remove(state: State, inc_id: str, attachment_id: str, reason: str) -> None:
    """Destroy one evidence file (e.g. an image taken in by mistake); a signed entry records it.

    \b
    Example:
      ledger --as dsl incidents evidence remove inc-1a2b3c4d att-0a1b2c3d --reason "an image of a child: UKCIS"
    """
    service.remove_evidence(state.ledger(), state.actor(), inc_id, attachment_id, reason)
    emit(f"{attachment_id} removed from {inc_id}; its file is destroyed")


@incidents.command("action")
@click.argument("inc_id")
@click.argument("action", type=lazy.Choice(lambda: codes.ACTIONS))
@click.option("--details", required=True, help="What was done or is to be done, by whom, any reference (encrypted).")
@click.option("--on", "taken_on",
              help="YYYY-MM-DD: the day it was done, or (a date to come) the day it is due. Default: today, done.")
@click.option("--owner", help="Who is to do it (a planned action; default: you).")
@pass_state
def action(state: State, inc_id: str, action: str, details: str, taken_on: str | None, owner: str | None) -> None:
    """Record an action or a referral: done (today or a past date), or planned (a date to come).

    Referrals and contacts: social-care-referral (MASH), early-help, police-contacted, ceop-report,
    report-remove, lado-referral, strategy-meeting. A planned action's id is printed.

    \b
    Example:
      ledger --as dsl incidents action inc-1a2b3c4d social-care-referral --details "MASH referral, ref 4411"
      ledger --as dsl incidents action inc-1a2b3c4d parent-meeting --on 2026-12-07 --owner teacher-1 \\
          --details "meet Pip's mother with the class teacher"
    """
    done = service.record_action(state.ledger(), state.actor(), inc_id, action, details, taken_on, owner)
    if done.planned:
        emit(f"{action} planned on {inc_id} as {done.action_id}: due {done.day}, for {done.owner}")
    else:
        emit(f"{action} recorded on {inc_id}")


@incidents.command("done")
@click.argument("inc_id")
@click.argument("action_id")
@click.option("--on", "taken_on", help="The day it was done, YYYY-MM-DD (default: today).")
@click.option("--details", help="What was done (encrypted).")
@pass_state
def done(state: State, inc_id: str, action_id: str, taken_on: str | None, details: str | None) -> None:
    """Mark a planned action done (its owner may, without reading the incident).

    \b
    Example:
      ledger --as teacher-1 incidents done inc-1a2b3c4d act-0a1b2c3d --details "mother came in; notes to DSL"
    """
    service.complete_action(state.ledger(), state.actor(), inc_id, action_id, taken_on, details)
    emit(f"{action_id} done")


@incidents.command("cancel-action")
@click.argument("inc_id")
@click.argument("action_id")
@click.option("--reason", required=True, help="Why it is no longer needed (encrypted).")
@pass_state
def cancel_action(state: State, inc_id: str, action_id: str, reason: str) -> None:
    """Cancel a planned action (it stays in the chronology, marked cancelled).

    \b
    Example:
      ledger --as dsl incidents cancel-action inc-1a2b3c4d act-0a1b2c3d --reason "parents came in earlier"
    """
    service.cancel_action(state.ledger(), state.actor(), inc_id, action_id, reason)
    emit(f"{action_id} cancelled")


@incidents.command("unlink")
@click.argument("inc_id")
@click.argument("person_id")
@click.option("--reason", required=True, help="Why the link was wrong (encrypted).")
@pass_state
def unlink(state: State, inc_id: str, person_id: str, reason: str) -> None:
    """Undo a person linked in error; the original link stays, shown as corrected.

    \b
    Example:
      ledger --as dsl incidents unlink inc-1a2b3c4d sb-1a2b3c4d --reason "wrong pupil: same first name"
    """
    service.unlink_person(state.ledger(), state.actor(), inc_id, person_id, reason)
    emit(f"{person_id} unlinked from {inc_id}")


@incidents.command("outcome")
@click.argument("inc_id")
@click.option("--finding", required=True,
              type=lazy.Choice(lambda: codes.ALLEGATION_FINDINGS + codes.INCIDENT_FINDINGS),
              help="For allegations against staff the KCSIE outcomes; otherwise upheld, not-upheld….")
@click.option("--summary", required=True, help="The decision and its reasons (encrypted).")
@click.option("--disciplinary", type=lazy.Choice(lambda: codes.DISCIPLINARY), default="none", show_default=True,
              help="Disciplinary outcome for a member of staff.")
@click.option("--issued-on", help="Date the sanction was issued, YYYY-MM-DD.")
@click.option("--decided-on", help="Date of the decision, YYYY-MM-DD (default: today).")
@pass_state
def outcome(state: State, inc_id: str, finding: str, summary: str, disciplinary: str, issued_on: str | None,
            decided_on: str | None) -> None:
    """Record the outcome of an incident (a later outcome supersedes an earlier one).

    \b
    Example:
      ledger --as head-1 incidents outcome inc-1a2b3c4d --finding substantiated \\
        --disciplinary written --issued-on 2026-03-20 --summary "Hearing found the breach proven"
    """
    service.record_outcome(state.ledger(), state.actor(), inc_id, finding, summary, disciplinary, issued_on, decided_on)
    emit(f"outcome {finding} recorded on {inc_id}")


@incidents.command("close")
@click.argument("inc_id")
@click.option("--summary", help="Closing remarks (encrypted).")
@pass_state
def close(state: State, inc_id: str, summary: str | None) -> None:
    """Close an incident that has its outcome.

    \b
    Example:
      ledger --as dsl-1 incidents close inc-1a2b3c4d
    """
    service.close(state.ledger(), state.actor(), inc_id, summary)
    emit(f"{inc_id} closed")


@incidents.command("reopen")
@click.argument("inc_id")
@click.option("--reason", required=True, help="Why it is reopened (encrypted).")
@pass_state
def reopen(state: State, inc_id: str, reason: str) -> None:
    """Reopen a closed incident; it needs a fresh outcome before it closes again.

    \b
    Example:
      ledger --as head-1 incidents reopen inc-1a2b3c4d --reason "Appeal lodged"
    """
    service.reopen(state.ledger(), state.actor(), inc_id, reason)
    emit(f"{inc_id} reopened")


@incidents.command("show")
@click.argument("inc_id")
@click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@pass_state
def show(state: State, inc_id: str, reason: str, fmt: str) -> None:
    """Show an incident in full, with its timeline, if you may see it.

    The read is recorded in the access log, with your reason.

    \b
    Example:
      ledger --as dsl-1 incidents show inc-1a2b3c4d --reason "strategy meeting"
    """
    record = service.show(state.ledger(), state.actor(), inc_id, reason)
    if fmt == "json":
        emit(as_json(record))
        return
    sections = ("people", "notes", "evidence", "described", "actions", "timeline")
    fields = [{"field": k, "value": _when(v) if k == "occurred_at" else v}
              for k, v in record.items() if k not in sections and k != "outcome"]
    fields += [{"field": f"outcome.{k}", "value": v} for k, v in (record["outcome"] or {}).items()]
    emit(render(fields, "table"))
    for name in sections:
        emit(f"\n{name}:")
        emit(render(record[name], "table"))


def _when(occurred: dict[str, Any]) -> str:
    """When it happened, in local time with the zone, and how precisely that is known."""
    return f"{shown_timeline.shown_occurrence(occurred['at'], occurred['precision'], occurred.get('until'))} ({occurred['precision']})"


@incidents.command("list")
@click.option("--status", type=lazy.Choice(lambda: codes.STATUSES), help="Only incidents with this status.")
@click.option("--category", type=lazy.Choice(lambda: codes.CATEGORIES), help="Only this category.")
@click.option("--school", help="Only this school.")
@output_options
@pass_state
def list_incidents(state: State, status: str | None, category: str | None, school: str | None) -> list[dict[str, Any]]:
    """List the incidents you may see: ids, categories, statuses, assignees, ages (no personal data).

    \b
    Example:
      ledger --as dsl-1 incidents list --status triaged --format json
    """
    return service.list_incidents(state.ledger(), state.actor(), status, category, school)


COMMANDS = (incidents,)
