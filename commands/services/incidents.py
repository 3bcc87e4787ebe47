"""Incidents: report, triage, investigate, decide, close, reopen, read.

Any member of staff may report: creating the record needs only the public
keys of its readers, so a reporter may not be able to read it afterwards.
Every later step loads the incident, which needs a key that opens it: a
reader role of its class, or an investigator it was assigned to. That is how
only the roles that may see an incident can act on it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from commands.services.schools import checked_school, school_filter
from commands.services import evidence
from commands.services.access import record_access
from commands.services.directory import name_columns, resolve, resolve_spec
from ledger import files, keystore, localtime
from projections import checked, indexed, runner
from ledger.domain.incidents import categories as codes
from ledger.domain.base import described, new_short_id, occurrence, parse_date, require_text
from ledger.domain.incidents import Incident, Person, incident_record_id
from ledger.domain.people import staff_record_id, subject_record_id
from ledger.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.schema import attachments, data_keys, key_wraps
from ledger.store import Actor, Ledger, Unit
from ledger.text import check_id

#: The role a reporter reports as, most specific first.
ROLE_ORDER = ("headteacher", "dsl", "slt", "investigator", "admin", "poster", "staff")


@dataclass(frozen=True)
class DescribedEvidence:
    """Evidence that must not be taken in (UKCIS: images of children), described instead."""

    platform: str
    description: str
    supplied_sha256: str | None = None


@dataclass(frozen=True)
class IncidentReport:
    """What a reporter knows when reporting."""

    category: str
    occurred_at: str
    summary: str
    facts: str
    source: str = "seen"
    precision: str = "exact"
    until: str | None = None
    people: tuple[str, ...] = ()
    against_staff: bool = False
    opinion: str | None = None
    child_words: str | None = None
    immediate_action: str | None = None
    source_detail: str | None = None
    alert_id: str | None = None
    reporter_role: str | None = None
    evidence: tuple[evidence.EvidenceFile, ...] = field(default_factory=tuple)
    school: str | None = None
    described: tuple[DescribedEvidence, ...] = ()


# -- loading and checking -----------------------------------------------------


def load_incident(work: Unit, actor: Actor, inc_id: str) -> Incident:
    """Load (decrypt) an incident; NotPermitted for someone who may not see it."""
    aggregate_id = incident_record_id(check_id("incident id", inc_id))
    if not work.exists(aggregate_id):
        raise NotFound(f"no incident {inc_id!r}", "`ledger incidents list` shows the incidents you may see")
    try:
        incident: Incident = work.get(Incident, aggregate_id, "incident")
    except NotPermitted:
        record_class = keystore.record_class_of(work.conn, str(aggregate_id)) or "incident"
        raise NotPermitted(
            f"{actor.actor_id} may not see or act on {inc_id}",
            f"{record_class} records are open to: {', '.join(work.ledger.permissions().readers_of(record_class))}, "
            "and to an investigator assigned to the case",
        ) from None
    _case_readers(work, incident)
    return incident


def _case_readers(work: Unit, incident: Incident) -> None:
    """Tell the unit who, besides the reader roles, a new key of this case is wrapped to."""
    if work.ctx.registry is None:
        return
    people = {}
    for investigator in incident.investigators:
        key = work.registry.current_key(investigator)
        fact = work.registry.staff.get(investigator)
        if key is not None and fact is not None and fact.active:
            people[investigator] = bytes.fromhex(key.agreement_key)
    work.ctx.case_readers[str(incident.id)] = people


def resolve_person(work: Unit, spec: str) -> Person:
    """``ID:PART`` -> a linked person, checking the id is registered."""
    person_id, sep, part = spec.rpartition(":")
    if not sep or not person_id:
        raise InvalidInput(
            f"{spec!r} is not ID:PART", f"for example sb-1a2b3c4d:victim; parts: {', '.join(codes.PARTS)}"
        )
    codes.choose("part", part, codes.PARTS)
    if work.exists(staff_record_id(person_id)):
        return {"id": person_id, "part": part, "kind": "staff"}
    if work.exists(subject_record_id(person_id)):
        return {"id": person_id, "part": part, "kind": "subject"}
    raise NotFound(
        f"{person_id!r} is neither a member of staff nor a registered subject",
        "register them first (`ledger people add-subject`); `ledger people list` shows ids",
    )


def _reporter_role(actor: Actor, wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in actor.roles:
            raise InvalidInput(
                f"{actor.actor_id} does not hold the role {wanted}", f"they hold: {', '.join(sorted(actor.roles))}"
            )
        return wanted
    for role in ROLE_ORDER:
        if role in actor.roles:
            return role
    raise NotPermitted(f"{actor.actor_id} is not a member of staff", "only staff report incidents")


def _staff_roles(work: Unit, staff_id: str) -> frozenset[str]:
    fact = work.registry.staff.get(staff_id)
    if fact is None:
        raise NotFound(f"no member of staff {staff_id!r}", "`ledger people list` shows them")
    if not fact.active:
        raise RuleViolation(f"{staff_id} has left and cannot investigate")
    return frozenset(fact.roles)


def report(ledger: Ledger, actor: Actor, form: IncidentReport) -> str:
    """Record a new incident (and any evidence handed in with it); returns its id."""
    inc_id = new_short_id("inc")
    school = checked_school(ledger, form.school)
    occurred = occurrence(form.occurred_at, ledger.timezone(), form.precision, form.until)
    role = _reporter_role(actor, form.reporter_role)
    specs = [resolve_spec(ledger, actor, spec) for spec in form.people]
    with ledger.unit(actor, write=True) as work:
        people = [resolve_person(work, spec) for spec in specs]
        incident = Incident.report(
            inc_id, form.category, actor.actor_id, role, form.source, occurred, form.summary, form.facts,
            people, work.now, form.against_staff, form.opinion, form.child_words, form.immediate_action,
            form.source_detail, form.alert_id, school,
        )
        staged = [evidence.stage(work, incident, item) for item in form.evidence]
        for said in form.described:
            incident.describe_evidence(new_short_id("desc"), said.platform, said.description, said.supplied_sha256)
        work.save(incident)
        for item in staged:
            evidence.store(work, incident, item)
    return inc_id


def triage(ledger: Ledger, actor: Actor, inc_id: str, rationale: str, category: str | None = None) -> str:
    """Confirm or correct the category and escalate to its owner role; returns that role."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.triage(actor.roles, rationale, category)
        work.save(incident)
    return incident.owner


def link_person(ledger: Ledger, actor: Actor, inc_id: str, spec: str, reason: str) -> str:
    """Link another person (by id or name) to an incident as victim, alleged, witness or reporter; their id."""
    spec = resolve_spec(ledger, actor, spec)
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.link_person(resolve_person(work, spec), reason)
        work.save(incident)
    return spec.rpartition(":")[0]


def assign(ledger: Ledger, actor: Actor, inc_id: str, investigator: str, remit: str) -> str | None:
    """Give an investigator the case: a signed assignment plus its data keys wrapped to them.

    Returns a flag when the investigator has no current investigation training
    (the policy asks the Headteacher to see that investigators are trained).
    """
    from commands.services.training import investigation_training_gap

    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.assign(investigator, _staff_roles(work, investigator), remit)
        work.save(incident)
        agreement = bytes.fromhex(work.registry.current_key(investigator).agreement_key)  # type: ignore[union-attr]
        for key_id in keystore.keys_of_record(work.conn, str(incident.id)):
            try:
                key = actor.keyring.data_key(work.conn, key_id)
            except NotPermitted:
                raise NotPermitted(
                    f"{actor.actor_id} cannot open every key of {inc_id}, so cannot share it",
                    "ask a reader of the whole record (Headteacher or DSL) to assign the investigator",
                ) from None
            keystore.grant_to_actor(work.conn, key_id, key, investigator, agreement)
        return investigation_training_gap(work, investigator)


def unassign(ledger: Ledger, actor: Actor, inc_id: str, investigator: str, reason: str) -> None:
    """Take the case away: a signed event, and the investigator's key wraps destroyed."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.unassign(investigator, reason)
        work.save(incident)
        key_ids = keystore.keys_of_record(work.conn, str(incident.id))
        work.conn.execute(
            delete(key_wraps).where(key_wraps.c.key_id.in_(key_ids), key_wraps.c.recipient == f"actor:{investigator}")
        )
        keystore.retire(work.conn, str(incident.id), work.now)


def add_note(ledger: Ledger, actor: Actor, inc_id: str, kind: str, text: str) -> None:
    """Add a fact, an opinion or a child's own words to an incident."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.add_note(kind, text)
        work.save(incident)


@dataclass(frozen=True)
class ActionResult:
    """An action just recorded: its id, whether it was planned, its day and owner."""

    action_id: str
    planned: bool
    day: str
    owner: str


def record_action(
    ledger: Ledger, actor: Actor, inc_id: str, action: str, details: str, taken_on: str | None = None,
    owner: str | None = None,
) -> ActionResult:
    """Record an action on an incident.

    A date in the future plans it, due then, for ``owner`` (by default the one
    recording it); a date today or earlier (or none) records it as done then.
    """
    with ledger.unit(actor, write=True) as work:
        today = work.today
        day = parse_date("date", taken_on) if taken_on else today
        incident = load_incident(work, actor, inc_id)
        action_id = new_short_id("act")
        who = owner or actor.actor_id
        if day > today:
            _active_staff(work, who)
            incident.plan_action(action, who, day, details, today, action_id)
        else:
            if who != actor.actor_id:
                raise InvalidInput("an owner is for a planned action (a date in the future)",
                                   "give --on with the due date, or leave out --owner")
            incident.record_action(action, day, details, today, action_id, work.zone)
        work.save(incident)
    return ActionResult(action_id, day > today, day, who)


def complete_action(ledger: Ledger, actor: Actor, inc_id: str, action_id: str, taken_on: str | None = None,
                    details: str | None = None) -> None:
    """Mark a planned action done: its owner may, even without reading the incident."""
    with ledger.unit(actor, write=True) as work:
        today = work.today
        incident = _load_for_action(work, actor, inc_id)
        incident.complete_action(action_id, parse_date("date", taken_on) if taken_on else today, today,
                                 actor.actor_id, work.registry.roles_of(actor.actor_id), work.zone, details)
        work.save(incident)


def cancel_action(ledger: Ledger, actor: Actor, inc_id: str, action_id: str, reason: str) -> None:
    """Cancel a planned action."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.cancel_action(action_id, reason)
        work.save(incident)


def _load_for_action(work: Unit, actor: Actor, inc_id: str) -> Incident:
    """The incident for marking an action done: decrypted for readers, clear facts only for its owner."""
    try:
        return load_incident(work, actor, inc_id)
    except NotPermitted:
        incident: Incident = work.get(Incident, incident_record_id(inc_id), "incident", redacted=True)
        if not any(a.get("owner") == actor.actor_id for a in incident.actions):
            raise
        return incident


def _active_staff(work: Unit, staff_id: str) -> None:
    fact = work.registry.staff.get(staff_id)
    if fact is None:
        raise NotFound(f"no member of staff {staff_id!r}", "`ledger people list` shows them")
    if not fact.active:
        raise RuleViolation(f"{staff_id} has left and cannot own an action")
    held = work.registry.roles_of(staff_id)
    if "staff" not in held:
        raise RuleViolation(f"{staff_id} is not on the staff who work with children (roles: {', '.join(sorted(held))})",
                            "an action is owned by a member of staff: give --owner one of them")


def unlink_person(ledger: Ledger, actor: Actor, inc_id: str, person_id: str, reason: str) -> None:
    """Undo a person linked in error (the original link stays in the log, shown as corrected)."""
    person_id = resolve(ledger, actor, person_id)
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.unlink_person(person_id, reason)
        work.save(incident)


def describe_evidence(ledger: Ledger, actor: Actor, inc_id: str, platform: str, description: str,
                      supplied_sha256: str | None = None) -> str:
    """Record evidence that must not be taken in (UKCIS: images of children): what, where, any hash."""
    with ledger.unit(actor, write=True) as work:
        incident = _load_for_report(work, actor, inc_id)
        description_id = new_short_id("desc")
        incident.describe_evidence(description_id, platform, description, supplied_sha256)
        work.save(incident)
    return description_id


def _load_for_report(work: Unit, actor: Actor, inc_id: str) -> Incident:
    """The incident for its reporter's own additions: decrypted for readers, clear facts for the reporter."""
    try:
        return load_incident(work, actor, inc_id)
    except NotPermitted:
        incident: Incident = work.get(Incident, incident_record_id(inc_id), "incident", redacted=True)
        if incident.reporter != actor.actor_id:
            raise
        return incident


def remove_evidence(ledger: Ledger, actor: Actor, inc_id: str, attachment_id: str, reason: str) -> None:
    """Destroy one evidence file (e.g. an image taken in by mistake): a signed entry, the file gone."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.remove_evidence(attachment_id, reason)
        work.save(incident)
        work.conn.execute(delete(attachments).where(attachments.c.attachment_id == attachment_id))


def record_outcome(
    ledger: Ledger,
    actor: Actor,
    inc_id: str,
    finding: str,
    summary: str,
    disciplinary: str = "none",
    issued_on: str | None = None,
    decided_on: str | None = None,
) -> None:
    """Record the finding and any disciplinary sanction (a later one supersedes)."""
    with ledger.unit(actor, write=True) as work:
        today = work.today
        incident = load_incident(work, actor, inc_id)
        incident.record_outcome(
            finding,
            summary,
            parse_date("decision date", decided_on) if decided_on else today,
            today,
            disciplinary,
            parse_date("date of issue", issued_on) if issued_on else None,
        )
        work.save(incident)


def close(ledger: Ledger, actor: Actor, inc_id: str, summary: str | None = None) -> None:
    """Close an incident that has its outcome."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.close(summary)
        work.save(incident)


def reopen(ledger: Ledger, actor: Actor, inc_id: str, reason: str) -> None:
    """Reopen a closed incident (new information, appeal…)."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        incident.reopen(reason)
        work.save(incident)


def add_evidence(ledger: Ledger, actor: Actor, inc_id: str, item: evidence.EvidenceFile) -> str:
    """Take a file in as evidence; returns its attachment id."""
    with ledger.unit(actor, write=True) as work:
        incident = load_incident(work, actor, inc_id)
        staged = evidence.stage(work, incident, item)
        work.save(incident)
        evidence.store(work, incident, staged)
    return staged.attachment_id


def get_evidence(ledger: Ledger, actor: Actor, inc_id: str, attachment_id: str, out: Path, reason: str,
                 force: bool = False) -> str:
    """Decrypt an evidence file to ``out`` (a new private file, replaced only with ``force``)
    after checking its hash; the read is logged with the file. Returns the hash."""
    reason = require_text("reason", reason, 2000)
    with files.private_file(out, force) as part:
        with ledger.unit(actor, write=True) as work:
            incident = load_incident(work, actor, inc_id)
            part.handle.write(evidence.read(work, actor, incident, attachment_id))
            record_access(work, actor.actor_id, "read-evidence", [str(incident.id)], sorted(incident.linked_ids),
                          reason)
        part.commit()
    return str(incident.evidence[attachment_id]["sha256"])


# -- reading ------------------------------------------------------------------


def show(ledger: Ledger, actor: Actor, inc_id: str, reason: str) -> dict[str, Any]:
    """Everything about one incident, with its timeline; the read is logged.

    Times are in the federation's time zone (aware datetimes); dates as recorded.
    """
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        zone = work.zone
        incident = load_incident(work, actor, inc_id)
        timeline = _timeline(work, incident)
        record_access(work, actor.actor_id, "read", [str(incident.id)], sorted(incident.linked_ids), reason)
    return {
        "id": incident.inc_id,
        "record_id": str(incident.id),
        "school": incident.school,
        "category": incident.category,
        "no_images": incident.no_images,
        "record_class": incident.record_class,
        "allegation_against_staff": incident.against_staff,
        "status": incident.status,
        "reporter": incident.reporter,
        "reporter_role": incident.reporter_role,
        "recorded_at": localtime.local(incident.created_on, zone),
        "occurred_at": {**incident.occurred_at, "at": localtime.local(incident.occurred_at["at"], zone),
                        "until": localtime.local_or_none(incident.occurred_at.get("until"), zone)},
        "source": incident.source,
        "source_detail": incident.source_detail,
        "alert_id": incident.alert_id,
        "summary": incident.summary,
        "facts": incident.facts,
        "opinion": incident.opinion,
        "child_words": incident.child_words,
        "immediate_action": incident.immediate_action,
        "escalated_to": incident.escalated_to,
        "investigators": list(incident.investigators),
        "people": list(incident.people),
        "notes": list(incident.notes),
        "evidence": [{**e, "captured_at": localtime.local_or_none(e.get("captured_at"), zone)}
                     for e in incident.evidence.values()],
        "described": list(incident.described),
        "actions": list(incident.actions),
        "outcome": incident.outcome,
        "timeline": timeline,
    }


def _timeline(work: Unit, incident: Incident) -> list[dict[str, Any]]:
    """The incident's own entries, each checked against the registry; a missing version is named."""
    record = str(incident.id)
    logged = checked.load(work.conn, work.ledger.app.events_table, work.registry, [record]).get(record, [])
    zone = work.zone
    lines_of = {e.originator_version: described(e, zone) for e in work.ledger.app.events.get(incident.id)}
    lines = [
        {
            "entry": e.version,
            "recorded_at": localtime.local_or_none(e.recorded_at, zone),
            "by": e.actor,
            "signed_with": e.signed_with,
            "event": e.event_type.split(".", 1)[1],
            "what": lines_of.get(e.version, "") if e.checked else f"NOT VERIFIED: {e.problem}",
        }
        for e in logged
    ]
    lines += [{"entry": v, "recorded_at": None, "by": "", "signed_with": "", "event": "",
               "what": "MISSING from the log (deleted?): run `ledger verify`"} for v in checked.missing_versions(logged)]
    return sorted(lines, key=lambda line: int(line["entry"]))


def visible_incident_ids(work: Unit, actor: Actor) -> list[str]:
    """Record ids of incidents the actor may read (their roles, or an assignment), picked
    from the entry index (bring projections up to date first)."""
    reported = set(indexed.started_by(work.conn, indexed.types_of(Incident.Reported)))
    perms, held = work.ledger.permissions(), work.ledger.registry().roles_of(actor.actor_id)
    readable_classes = [c for c in codes.INCIDENT_CLASSES if set(perms.readers_of(c)) & held]
    # the incidents' own key rows (by record id: the key tables hold a row for every record)
    wanted = sorted(reported)
    by_role: set[str] = set()
    granted: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = data_keys.c.record_id.in_(wanted[start:start + 500])
        by_role |= {r for (r,) in work.conn.execute(
            select(data_keys.c.record_id).where(chunk, data_keys.c.record_class.in_(readable_classes)))}
        granted |= {r for (r,) in work.conn.execute(
            select(data_keys.c.record_id)
            .join(key_wraps, key_wraps.c.key_id == data_keys.c.key_id)
            .where(chunk, key_wraps.c.recipient == f"actor:{actor.actor_id}"))}
    return sorted(reported & (by_role | granted))


def list_incidents(
    ledger: Ledger, actor: Actor, status: str | None = None, category: str | None = None, school: str | None = None,
) -> list[dict[str, Any]]:
    """Ids, categories, statuses, assignees and ages of the incidents the actor may
    read; no personal data, so no reason is asked and nothing is logged."""
    if status is not None:
        codes.choose("status", status, codes.STATUSES)
    if category is not None:
        codes.category(category)
    school = school_filter(ledger, school)
    rows: list[tuple[dt.datetime, dict[str, Any]]] = []
    runner.catch_up(ledger)
    with ledger.unit(actor) as work:
        zone, today = work.zone, work.today
        for record_id in visible_incident_ids(work, actor):
            incident = work.get(Incident, uuid.UUID(record_id), "incident", redacted=True)
            if (status and incident.status != status) or (category and incident.category != category):
                continue
            if school and incident.school != school:
                continue
            rows.append((incident.created_on, {
                "id": incident.inc_id,
                "category": incident.category,
                "class": incident.record_class,
                "school": incident.school or "",
                "status": incident.status,
                "escalated_to": incident.escalated_to or "",
                "investigators": ",".join(incident.investigators),
                "reported": localtime.today(incident.created_on, zone),
                "age_days": localtime.days_between(localtime.today(incident.created_on, zone), today),
            }))
    return name_columns(ledger, actor, [row for _, row in sorted(rows, key=lambda pair: pair[0])], ("investigators",))


def categories() -> list[dict[str, Any]]:
    """Every incident category with its record class and owner role."""
    return [
        {"category": c.code, "title": c.title, "class": c.record_class, "escalated_to": c.owner, "policy": c.policy,
         "images": "never taken in" if c.no_images else "", "guidance": c.guidance}
        for c in codes.CATEGORIES.values()
    ]


# -- demo ---------------------------------------------------------------------


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Walk one safeguarding incident, one conduct incident and one allegation
    against staff through their lifecycles, as the people who would act."""
    today = ledger.today()
    yesterday = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
    pupil1, pupil2, parent1 = subjects["pupil1"], subjects["pupil2"], subjects["parent1"]
    transcript = evidence.EvidenceFile(
        "group-chat.txt", b"12:31 [pupil]: nobody wants you here (demo transcript)\n", "teacher-1",
        f"{yesterday}T12:40", "messages typed out from the pupil's screen, shown voluntarily", "school iPad OAK-07",
    )
    yield "Incidents:"
    inc = report(ledger, actors["teacher-1"], IncidentReport(
        "online-bullying", f"{yesterday}T12:30", "Unkind messages about a pupil in a group chat",
        "Pupil showed me a group chat in which another pupil calls them names.", precision="approximate",
        people=(f"{pupil1}:victim", f"{pupil2}:alleged"), child_words="everyone in the chat has seen it",
        opinion="The pupil seemed frightened to come into class.",
        immediate_action="Phone kept in the office; DSL told at 12:50.", evidence=(transcript,),
        school="Oak Primary",
    ))
    yield f"  {inc:<13} online bullying reported by teacher-1 with the child's words and a transcript"
    yield "                (the transcript's SHA-256 is in the signed header, its content encrypted)"
    try:
        show(ledger, actors["teacher-1"], inc, "checking my report")
    except NotPermitted:
        yield "                teacher-1 cannot read it back: safeguarding records are for the Headteacher and DSL"
    dsl = actors["dsl"]
    yield f"                triaged by dsl, escalated to {triage(ledger, dsl, inc, 'Online bullying: safeguarding')}"
    for action, details in (
        ("parents-informed", "Both families called by the DSL."),
        ("removal-requested", "Pupils asked to delete the messages from the chat."),
        ("reported-to-platform", "Reported through the app's report tool."),
        ("removal-confirmed", "Messages no longer in the chat, checked with the pupil."),
    ):
        record_action(ledger, dsl, inc, action, details)
        yield f"                action {action} recorded by dsl"
    record_outcome(ledger, dsl, inc, "upheld", "Bullying upheld; pupils supported; behaviour plan agreed.")
    close(ledger, dsl, inc)
    yield "                outcome upheld and closed by dsl"

    inc = report(ledger, actors["teacher-2"], IncidentReport(
        "staff-phone-use", yesterday, "Phone used in class", "Phone in use during the phonics lesson.",
        precision="day", people=("teacher-1:alleged",), opinion="It looked like a personal call.",
        school="Oak Primary",
    ))
    yield f"  {inc:<13} staff phone use reported by teacher-2 (teacher-1 alleged)"
    owner = triage(ledger, actors["slt"], inc, "Phone use around children")
    yield f"                triaged by slt, escalated to {owner}"
    head = actors["head"]
    assign(ledger, head, inc, "investigator", "Establish what happened in the lesson.")
    yield "                investigator assigned by head: the case's data key is wrapped to them alone"
    add_note(ledger, actors["investigator"], inc, "fact", "Timetable confirms teacher-1 was teaching at the time.")
    attachment = add_evidence(ledger, actors["investigator"], inc, evidence.EvidenceFile(
        "statement.txt", b"Witness statement (demo)", "investigator", f"{yesterday}T15:00", "typed statement",
        "office PC", "Statement of the teaching assistant",
    ))
    yield f"                note and evidence {attachment} added by investigator"
    record_outcome(ledger, head, inc, "upheld", "Breach of the phone policy.", "oral", today)
    close(ledger, head, inc)
    yield "                outcome upheld with an oral warning (lapses after 6 months), closed by head"
    reopen(ledger, head, inc, "Appeal lodged by the member of staff.")
    unassign(ledger, head, inc, "investigator", "Investigation finished.")
    yield "                reopened on appeal; investigator unassigned (their key wraps destroyed)"

    inc = report(ledger, head, IncidentReport(
        "other", yesterday, "Parent alleges inappropriate messages",
        "Parent says a member of staff messaged their child.",
        source="told", source_detail="Parent, in person at the office", against_staff=True, precision="day",
        people=("teacher-2:alleged", f"{parent1}:reporter"), school="Elm Primary",
    ))
    yield f"  {inc:<13} allegation against staff recorded by head (readable by the Headteacher only)"
    triage(ledger, head, inc, "Allegation: managed by the Headteacher")
    record_action(ledger, head, inc, "lado-referral", "Discussed with the LADO within one working day.")
    record_outcome(ledger, head, inc, "unfounded", "No messages found; the parent was mistaken about the sender.")
    close(ledger, head, inc)
    yield "                triaged, referred to the LADO, found unfounded and closed by head"
