"""Retention plan and sweep: what falls due, what is held, what is undetermined.

Facts come from the signed headers (one pass over the log) plus, for rules
that need a date of birth, the person's encrypted details when the acting
identity may read them; otherwise the record is reported undetermined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, true

from commands.services import readside
from commands.services.retention import erase_all_in, purge
from ledger import localtime, progress, retention
from ledger.domain.base import record_id, require_text
from ledger.domain.people import StaffMember, Subject, staff_record_id, subject_record_id
from ledger.domain.retention import RetentionRule, RetentionSweep, hold_record_id
from ledger.errors import LedgerError, VerificationFailed
from ledger.retention import Decision, Facts, Rule
from ledger.roles import event_name
from ledger.sealer import latest_checkpoint
from ledger.store import Actor, Ledger, Unit
from projections import checked
from projections.records import current_counts, records

#: Records a sweep erases per transaction (one checkpoint each).
SWEEP_BATCH = 200

LABEL_CLAIMS = ("inc_id", "request_id", "alert_id", "subject_id", "staff_id", "batch_id", "check_id", "label")


@dataclass
class Survey:
    """Everything one pass over the headers tells retention."""

    facts: dict[str, Facts] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    held: dict[str, bool] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    rule_aggregates: dict[str, str] = field(default_factory=dict)
    staff: dict[str, str] = field(default_factory=dict)
    pupils: dict[str, str] = field(default_factory=dict)
    left: dict[str, dt.date] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)


def _headers(work: Unit) -> Iterator[dict[str, Any]]:
    table = work.ledger.app.events_table
    for entry in checked.checked_entries(work.conn, table, work.registry, true()):
        yield entry.header


def survey(work: Unit) -> Survey:
    """Gather retention facts for every record from the whole log (``retention plan --all``)."""
    return survey_of(_headers(work), work.zone)


def survey_of(headers: Iterable[dict[str, Any]], zone: dt.tzinfo) -> Survey:
    """Gather retention facts from signed headers given in log order (dates: local dates in ``zone``)."""
    found = Survey()
    for header in headers:
        name, claims, aggregate = event_name(header["topic"]), header.get("claims") or {}, header["aggregate"]
        facts = found.facts.get(aggregate)
        if facts is None:
            label = next((str(claims[c]) for c in LABEL_CLAIMS if c in claims), aggregate[:8])
            facts = Facts(aggregate, header["record_class"], label, localtime.local_date(header["recorded_at"], zone))
            occurred = header.get("occurred_at") or {}
            if occurred.get("at"):
                occurred = {**occurred, "at": localtime.local(occurred["at"], zone).isoformat()}
            facts.claims["_occurred"] = occurred
            found.facts[aggregate] = facts
        facts.claims.update(claims)
        facts.subjects.update(header.get("subjects") or [])
        _note(found, name, claims, aggregate)
    return found


def _signed_entries(work: Unit, aggregates: Iterable[str]) -> list[checked.LogEntry]:
    """Every entry of these records, loaded from the log and checked; any that fails (or a
    version missing below a record's latest) stops the decision, naming it."""
    found = checked.load(work.conn, work.ledger.app.events_table, work.registry, aggregates)
    for aggregate, entries in found.items():
        for entry in entries:
            if not entry.checked:
                raise VerificationFailed(
                    f"the stored entry {entry.event_type} v{entry.version} of record {aggregate} fails its "
                    f"checks: {entry.problem}",
                    "nothing was decided from it: run `ledger verify --trust trust.json` and restore the row")
        gone = checked.missing_versions(entries)
        if gone:
            raise VerificationFailed(
                f"record {aggregate} lacks version(s) {', '.join(map(str, gone))} in the log",
                "nothing was decided from it: run `ledger verify --trust trust.json`")
    return [e for entries in found.values() for e in entries]


def signed_survey(work: Unit, aggregates: Iterable[str]) -> Survey:
    """Retention facts for these records from their own signed entries only, with what their
    rules need: the rules in force, each record's legal hold, the people whose dates decide
    them and the incident a linked alert follows (all found by their derived record ids,
    never through a read model)."""
    classes = sorted(work.ledger.permissions().table["readers"])
    wanted = set(aggregates)
    loaded: dict[str, list[checked.LogEntry]] = {}
    extra = {str(RetentionRule.create_id(c)) for c in classes}
    holds: dict[str, str] = {}
    found = Survey()
    while True:
        holds.update({a: str(hold_record_id(a)) for a in wanted if a not in holds})
        todo = (wanted | extra | set(holds.values())) - set(loaded)
        if not todo:
            break
        for entry in _signed_entries(work, todo):
            loaded.setdefault(entry.aggregate, []).append(entry)
        for aggregate in todo:
            loaded.setdefault(aggregate, [])
        found = survey_of(_in_log_order(loaded), work.zone)
        for aggregate in list(wanted):
            facts = found.facts.get(aggregate)
            if facts is None:
                continue
            if facts.record_class == "safeguarding":
                extra |= {str(subject_record_id(s)) for s in facts.subjects}
            elif facts.record_class == "allegation":
                extra |= {str(staff_record_id(s)) for s in facts.subjects}
            elif facts.claims.get("staff_id"):
                extra.add(str(staff_record_id(str(facts.claims["staff_id"]))))
            if found.links.get(aggregate):
                wanted.add(str(found.links[aggregate]))
    # ``found`` is the survey of everything loaded: the last round loaded nothing new
    found.erased |= {a for a, items in loaded.items() if any(e.erased for e in items)}
    return found


def _in_log_order(loaded: dict[str, list[checked.LogEntry]]) -> list[dict[str, Any]]:
    entries = sorted((e for items in loaded.values() for e in items), key=lambda e: e.notification_id)
    return [e.header for e in entries]


def _note(found: Survey, name: str, claims: dict[str, Any], aggregate: str) -> None:
    if name == "Erasure.Recorded":
        found.erased.update(claims.get("records", []))
    elif name in ("LegalHold.Placed", "LegalHold.Renewed"):
        found.held[claims.get("target") or found.rule_aggregates.get(aggregate, aggregate)] = True
        found.rule_aggregates[aggregate] = claims.get("target", found.rule_aggregates.get(aggregate, ""))
    elif name == "LegalHold.Released":
        found.held[found.rule_aggregates.get(aggregate, "")] = False
    elif name == "RetentionRule.Set":
        found.rule_aggregates[aggregate] = claims["target_class"]
        found.rules[claims["target_class"]] = Rule(claims["target_class"], claims["trigger"], claims["months"])
    elif name == "RetentionRule.Changed":
        cls = found.rule_aggregates[aggregate]
        found.rules[cls] = Rule(cls, claims["trigger"], claims["months"])
    elif name == "StaffMember.Registered":
        found.staff[claims["staff_id"]] = aggregate
    elif name == "Subject.Registered" and claims.get("kind") == "pupil":
        found.pupils[claims["subject_id"]] = aggregate
    elif name == "StaffMember.EmploymentEnded":
        found.left[claims["staff_id"]] = dt.date.fromisoformat(claims["ended_on"])
    elif name == "Alert.Linked":
        found.links[aggregate] = str(record_id("incident", claims["incident_id"]))
    elif name == "Alert.Unlinked":
        found.links[aggregate] = None


def _birth(work: Unit, cls: type[Any], aggregate: str) -> dt.date | None:
    import uuid

    try:
        person = work.get(cls, uuid.UUID(aggregate))
    except LedgerError:
        return None
    value = (person.details or {}).get("date_of_birth")
    return dt.date.fromisoformat(value) if value else None


#: What ``retention plan`` lists unless asked for everything.
SHOWN = ("erase", "held", "undetermined")
#: Triggers the records read model holds the facts for (the rest need people's dates or links).
PROPOSED = ("recorded", "post-removed", "approval-ends", "alert-time", "warning-issued", "review")


def plan(ledger: Ledger, actor: Actor, as_of: dt.date | None = None,
         shown: tuple[str, ...] | None = None) -> tuple[list[Decision], dict[str, int]]:
    """Retention decisions (erase, keep, held, undetermined, review) and counts, as of a local
    date (default: today in the federation's zone).

    The records read model only proposes: every record it proposes for an action in ``shown``,
    and every record whose rule needs more than it holds, is decided again from its own
    signed entries (with its rule, hold and people), and that decision is the one returned.
    Counts of actions not shown are the read model's. ``shown`` None (every record): one
    checked pass over the whole log decides them all.
    """
    as_of = as_of or dt.date.fromisoformat(ledger.today())
    if shown is None:
        return _every(ledger, actor, as_of)
    readside.ensure_current(ledger)
    with ledger.unit(actor) as work:
        rules = signed_survey(work, []).rules
        proposed, unsure, kept = propose(work, as_of, rules)
        chosen = {a for a, d in proposed.items() if d.action in shown} | unsure
        found = signed_survey(work, chosen)
        decisions = {a: d for a, d in _decide(work, found, as_of).items() if a in chosen}
    counts: dict[str, int] = {"keep": kept} if kept else {}
    for aggregate, decision in proposed.items():
        if aggregate not in chosen:
            counts[decision.action] = counts.get(decision.action, 0) + 1
    for decision in decisions.values():
        counts[decision.action] = counts.get(decision.action, 0) + 1
    listed = [d for d in decisions.values() if d.action in shown]
    return sorted(listed, key=lambda d: (d.action, d.record_class, d.label)), counts


def _every(ledger: Ledger, actor: Actor, as_of: dt.date) -> tuple[list[Decision], dict[str, int]]:
    """Every record's decision from one checked pass over the log (cheaper, for every record,
    than loading each record's entries apart)."""
    with ledger.unit(actor) as work:
        decisions = _decide(work, survey(work), as_of)
    counts: dict[str, int] = {}
    for decision in decisions.values():
        counts[decision.action] = counts.get(decision.action, 0) + 1
    return sorted(decisions.values(), key=lambda d: (d.action, d.record_class, d.label)), counts


#: Triggers whose date is a read model column: the database selects the records they may make due.
BY_COLUMN = {"alert-time": records.c.happened_at, "recorded": records.c.created_at}


def propose(work: Unit, as_of: dt.date, rules: dict[str, Rule]) -> tuple[dict[str, Decision], set[str], int]:
    """What the records read model says of each current record, and the records it cannot
    decide (their rule needs a date of birth, an end of employment or a linked incident).

    For classes whose period runs from a date the row holds (recording, occurrence) the
    database picks only the rows that may be due (a superset: the month clamp and the
    zone are allowed for), and the rest are only counted (the int returned: kept).
    """
    current = records.c.erased_at.is_(None)
    hold_rows = work.conn.execute(select(records.c.claims, records.c.last_event).where(
        current, records.c.kind == "LegalHold")).all()
    held = {str(json.loads(r.claims or "{}").get("target")) for r in hold_rows if r.last_event != "LegalHold.Released"}
    totals = current_counts(work.conn)
    # One indexed query per selection (never an OR the database would evaluate row by row):
    # every current row of the classes decided from more than a date, the rows of each
    # date-bound class dated before its bound, the held records, and the linked alerts.
    wanted: list[Any] = []
    by_date: list[str] = []
    # the classes the permission table knows (signed), not only those the counts name
    for cls in sorted(set(work.ledger.permissions().table["readers"]) | set(totals)):
        rule = retention.rule_for(cls, rules)
        column = BY_COLUMN.get(rule.trigger)
        if column is None:  # equality per class: an IN list can make the planner scan the table
            wanted.append(and_(records.c.record_class == cls, current))
            continue
        bound = retention.add_months(as_of, -(rule.months or 0)) + dt.timedelta(days=5)
        by_date.append(cls)
        wanted.append(and_(records.c.record_class == cls, current, column < bound.isoformat()))
    if held:
        wanted.append(and_(records.c.aggregate.in_(sorted(held)), current))
    wanted.append(and_(records.c.linked == true(), current))
    rows: dict[str, Any] = {}
    for condition in wanted:
        for row in work.conn.execute(select(records).where(condition)):
            rows.setdefault(str(row.aggregate), row)
    proposed: dict[str, Decision] = {}
    unsure: set[str] = set()
    read: dict[str, int] = {}
    for aggregate, row in rows.items():
        claims = json.loads(row.claims) if row.claims else {}
        read[row.record_class] = read.get(row.record_class, 0) + 1
        rule = retention.rule_for(str(row.record_class), rules)
        if rule.trigger not in PROPOSED or row.linked or (row.kind == "Alert" and claims.get("incident_id")):
            unsure.add(aggregate)
            continue
        label = next((str(claims[c]) for c in LABEL_CLAIMS if c in claims), aggregate[:8])
        facts = Facts(aggregate, str(row.record_class), label, localtime.local_date(str(row.created_at), work.zone),
                      {**claims, "_occurred": {"at": localtime.local(str(row.happened_at), work.zone).isoformat()}})
        proposed[aggregate] = retention.decide(facts, rule, as_of, aggregate in held)
    # not read: their date is later than any that falls due by ``as_of``
    return proposed, unsure, sum(max(0, totals.get(cls, 0) - read.get(cls, 0)) for cls in by_date)


def _decide(work: Unit, found: Survey, as_of: dt.date) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    for aggregate, facts in found.facts.items():
        if aggregate in found.erased or aggregate in found.links and found.links[aggregate]:
            continue
        _enrich(work, found, facts)
        rule = retention.rule_for(facts.record_class, found.rules)
        decisions[aggregate] = retention.decide(facts, rule, as_of, found.held.get(aggregate, False))
    for aggregate, incident in found.links.items():
        if incident and aggregate not in found.erased and aggregate in found.facts:
            facts = found.facts[aggregate]
            rule = retention.rule_for(facts.record_class, found.rules)
            followed = decisions.get(incident)
            decisions[aggregate] = retention.decide(facts, rule, as_of, found.held.get(aggregate, False), followed)
    return decisions


def _enrich(work: Unit, found: Survey, facts: Facts) -> None:
    if facts.record_class == "safeguarding":
        facts.pupil_births = [_birth(work, Subject, found.pupils[s]) for s in facts.subjects if s in found.pupils]
    elif facts.record_class == "allegation":
        facts.staff_births = [_birth(work, StaffMember, found.staff[s]) for s in facts.subjects if s in found.staff]
    elif facts.record_class in ("acknowledgement", "training"):
        facts.employment_end = found.left.get(str(facts.claims.get("staff_id")))


def rules(ledger: Ledger) -> list[dict[str, Any]]:
    """The rule in force for every record class (each class's rule record loaded by its id and checked)."""
    classes = ledger.permissions().table["readers"]
    with ledger.unit() as work:
        overrides = signed_survey(work, []).rules
    return [
        {"record_class": cls, "trigger": r.trigger, "months": r.months, "rule": r.describe(),
         "changed": cls in overrides}
        for cls in sorted(classes)
        for r in [retention.rule_for(cls, overrides)]
    ]


def change_rule(ledger: Ledger, actor: Actor, record_class: str, trigger: str, months: int | None,
                reason: str) -> Rule:
    """An admin's signed change to one class's rule."""
    import uuid

    from ledger.errors import InvalidInput
    classes = ledger.permissions().table["readers"]
    if record_class not in classes:
        raise InvalidInput(f"unknown record class {record_class!r}", f"classes are: {', '.join(sorted(classes))}")
    rule = retention.check_rule(record_class, trigger, months)
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        rule_id: uuid.UUID = RetentionRule.create_id(record_class)
        if work.exists(rule_id):
            existing: RetentionRule = work.get(RetentionRule, rule_id, "retention rule", redacted=True)
            existing.change(trigger, months, reason)
            work.save(existing)
        else:
            work.save(RetentionRule.set(record_class, trigger, months, reason))
    return rule


@dataclass(frozen=True)
class Certificate:
    """A deletion certificate: what a sweep erased, under which rules."""

    text: str
    erased: int
    held: int
    undetermined: int


def sweep(ledger: Ledger, actor: Actor, reason: str, as_of: dt.date | None = None) -> Certificate:
    """Erase everything the plan lists as due, up to :data:`SWEEP_BATCH` records per transaction.

    Each transaction erases its records and appends their erasure entries under one
    checkpoint, or nothing: killed part way, the records already erased stay erased
    and consistent; running the sweep again erases the rest.
    """
    reason = require_text("reason", reason, 2000)
    as_of = as_of or dt.date.fromisoformat(ledger.today())
    decisions, counts = plan(ledger, actor, as_of, ("erase", "held"))
    due = [d for d in decisions if d.action == "erase"]
    lines = []
    with progress.bar(len(due), "sweep", "record") as shown:
        for start in range(0, len(due), SWEEP_BATCH):
            batch = due[start:start + SWEEP_BATCH]
            by_rule: dict[str, list[Decision]] = {}
            for decision in batch:
                by_rule.setdefault(decision.record_class, []).append(decision)
            batch = [d for named in by_rule.values() for d in named]
            with ledger.unit(actor, write=True) as work:
                erased = [done for cls, named in by_rule.items()
                          for done in erase_all_in(work, [d.record for d in named], f"rule:{cls}",
                                                   f"retention sweep: {reason}")]
            for decision, done in zip(batch, erased):
                lines.append(f"{decision.label}\t{decision.record_class}\t{decision.rule}\tdue {decision.due}\t"
                             f"{done.entries} entries, {len(done.keys)} keys")
            shown.update(len(batch))
    held = [d.record for d in decisions if d.action == "held"]
    with ledger.engine.connect() as conn:
        latest = latest_checkpoint(conn)
    size, signed = (latest[0], latest[2]) if latest else (0, "")
    body = "\n".join(
        ["policy-ledger deletion certificate", f"as of: {as_of.isoformat()}", f"reason: {reason}",
         f"erased: {len(due)}", f"held back by legal hold: {len(held)}",
         f"retention undetermined: {counts.get('undetermined', 0)}", "", "record\tclass\trule\tdue\tdestroyed", *lines,
         "", f"checkpoint after erasure (size {size}):", signed]
    )
    with ledger.unit(actor, write=True) as work:
        work.save(RetentionSweep.complete(
            [d.record for d in due], held, counts.get("undetermined", 0), size, as_of.isoformat(), reason,
            hashlib.sha256(body.encode()).hexdigest(),
        ))
    if due:
        purge(ledger)
    return Certificate(body, len(due), len(held), counts.get("undetermined", 0))
