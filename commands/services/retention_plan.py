"""Retention plan and sweep: what falls due, what is held, what is undetermined.

Facts come from the signed headers (one pass over the log) plus, for rules
that need a date of birth, the person's encrypted details when the acting
identity may read them; otherwise the record is reported undetermined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import true

from commands.services.retention import erase_in, purge
from ledger import localtime, progress, retention
from ledger.domain.base import record_id, require_text
from ledger.domain.people import StaffMember, Subject
from ledger.domain.retention import RetentionSweep
from ledger.errors import LedgerError
from ledger.retention import Decision, Facts, Rule
from ledger.roles import event_name
from ledger.sealer import latest_checkpoint
from ledger.store import Actor, Ledger, Unit
from projections import checked

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
    """Gather retention facts for every record (its dates: local dates in the federation's zone)."""
    found = Survey()
    zone = work.zone
    for header in _headers(work):
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


def plan(ledger: Ledger, actor: Actor, as_of: dt.date | None = None) -> tuple[list[Decision], dict[str, int]]:
    """Every record's retention decision (erase, keep, held, undetermined, review) and counts,
    as of a local date (default: today in the federation's zone)."""
    as_of = as_of or dt.date.fromisoformat(ledger.today())
    with ledger.unit(actor) as work:
        found = survey(work)
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
    counts: dict[str, int] = {}
    for decision in decisions.values():
        counts[decision.action] = counts.get(decision.action, 0) + 1
    return sorted(decisions.values(), key=lambda d: (d.action, d.record_class, d.label)), counts


def _enrich(work: Unit, found: Survey, facts: Facts) -> None:
    if facts.record_class == "safeguarding":
        facts.pupil_births = [_birth(work, Subject, found.pupils[s]) for s in facts.subjects if s in found.pupils]
    elif facts.record_class == "allegation":
        facts.staff_births = [_birth(work, StaffMember, found.staff[s]) for s in facts.subjects if s in found.staff]
    elif facts.record_class in ("acknowledgement", "training"):
        facts.employment_end = found.left.get(str(facts.claims.get("staff_id")))


def rules(ledger: Ledger) -> list[dict[str, Any]]:
    """The rule in force for every record class."""
    classes = ledger.permissions().table["readers"]
    with ledger.unit() as work:
        overrides = survey(work).rules
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

    from ledger.domain.retention import RetentionRule
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
    decisions, counts = plan(ledger, actor, as_of)
    due = [d for d in decisions if d.action == "erase"]
    lines = []
    with progress.bar(len(due), "sweep", "record") as shown:
        for start in range(0, len(due), SWEEP_BATCH):
            batch = due[start:start + SWEEP_BATCH]
            with ledger.unit(actor, write=True) as work:
                erased = [erase_in(work, d.record, f"rule:{d.record_class}", f"retention sweep: {reason}")
                          for d in batch]
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
