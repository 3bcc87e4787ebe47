"""Incidents: reported by anyone, triaged, investigated, decided, closed.

What registers and retention need stays in clear headers: category, status
changes, the role escalated to, whether it is an allegation against staff,
the finding, outcome and warning dates, action kinds and evidence hashes.
Everything a person wrote (summary, facts, opinion, a child's own words,
notes, action details, who captured evidence and how) is encrypted.

Rules are checked in the command methods; ``apply`` only changes state, and
tolerates ``None`` for encrypted fields (a redacted load by someone who may
see only the headers).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger import localtime, roles
from ledger.domain.base import record_id, require_text
from ledger.domain.base import occurrence
from ledger.domain.incidents import actions, cooperation, hate
from ledger.domain.incidents import categories as codes
from ledger.domain.incidents.rules import Person, check_people, not_after, optional, who_decides
from ledger.errors import InvalidInput, NotPermitted, RuleViolation

def incident_record_id(inc_id: str) -> uuid.UUID:
    """The aggregate id of incident ``inc_id`` (monitoring links alerts by it)."""
    return record_id("incident", inc_id)





def _readers(record_class: str) -> tuple[str, ...]:
    """Roles that read ``record_class`` under the permission table in force (the unit's registry,
    replayed from signed entries). Outside any unit (the domain on its own, as its unit tests use
    it) the table this software proposes, the one ``ledger init`` adopts."""
    from ledger.mapper import unit  # the unit the command runs in

    work = unit.get(None)
    perms = work.permissions() if work is not None else roles.Permissions()
    return perms.readers_of(record_class)

class Incident(Aggregate):
    """One reported breach of the policy or safeguarding concern."""

    class Reported(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "inc_id", "category", "against_staff", "reporter", "reporter_role", "source", "alert_id", "school",
        )
        inc_id: str
        school: str | None
        category: str
        against_staff: bool
        reporter: str
        reporter_role: str
        source: str
        alert_id: str | None
        summary: str
        facts: str
        opinion: str | None
        child_words: str | None
        immediate_action: str | None
        source_detail: str | None
        people: list[Person]
        record_class: str
        subjects: list[str]
        occurred_at: dict[str, Any]

        def describe(self) -> str:
            """One line for the timeline."""
            kind = "allegation against staff" if self.against_staff else self.category
            return f"reported by {self.reporter} ({self.reporter_role}) as {kind}, {self.source}: {self.summary}"

        def headline(self) -> str:
            """What the record is, in one line, for a register."""
            return self.summary

        def details(self) -> list[tuple[str, str]]:
            """The report as the reporter wrote it, for a chronology: the facts apart from any
            opinion, and the child's own words verbatim (in quotation marks)."""
            parts = [
                ("facts", self.facts),
                ("opinion", self.opinion),
                ("child's words", f"\u201c{self.child_words}\u201d" if self.child_words else None),
                ("immediate action", self.immediate_action),
                ("how it came to light", self.source_detail),
            ]
            return [(label, text) for label, text in parts if text]

    class Triaged(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("category", "previous_category", "escalated_to")
        category: str
        previous_category: str
        escalated_to: str
        rationale: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.category = self.category
            aggregate.escalated_to = self.escalated_to
            if aggregate.status == "reported":  # a correction later keeps the case where it is
                aggregate.status = "triaged"

        def describe(self) -> str:
            """One line for the timeline."""
            moved = f" (was {self.previous_category})" if self.category != self.previous_category else ""
            return f"triaged as {self.category}{moved}, escalated to {self.escalated_to}: {self.rationale}"

    class PersonLinked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("person",)
        person: str
        part: str
        kind: str
        reason: str
        subjects: list[str]

        def apply(self, aggregate: Incident) -> None:
            aggregate.people.append({"id": self.person, "part": self.part, "kind": self.kind})

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.person} ({self.kind}) linked as {self.part}: {self.reason}"

    class InvestigatorAssigned(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("investigator",)
        investigator: str
        remit: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.investigators.append(self.investigator)
            if aggregate.status in ("triaged", "reopened"):
                aggregate.status = "investigating"

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.investigator} assigned to investigate: {self.remit}"

    class InvestigatorUnassigned(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("investigator",)
        investigator: str
        reason: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.investigators = [i for i in aggregate.investigators if i != self.investigator]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.investigator} no longer assigned: {self.reason}"

    class NoteAdded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("kind",)
        kind: str
        text: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.notes.append({"kind": self.kind, "text": self.text})

        def describe(self) -> str:
            """One line for the timeline (a child's words in quotation marks, as written)."""
            if self.kind == "child-words":
                return f"child's words noted: \u201c{self.text}\u201d"
            return f"{self.kind} noted: {self.text}"

    class EvidenceAdded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("attachment_id", "sha256", "size", "stored_sha256", "media")
        attachment_id: str
        sha256: str
        size: int
        stored_sha256: str
        media: str
        filename: str
        captured_by: str
        captured_at: str
        method: str
        device: str
        description: str | None

        def apply(self, aggregate: Incident) -> None:
            aggregate.evidence[self.attachment_id] = {
                "attachment_id": self.attachment_id,
                "sha256": self.sha256,
                "size": self.size,
                "filename": self.filename,
                "captured_by": self.captured_by,
                "captured_at": self.captured_at,
                "method": self.method,
                "device": self.device,
                "description": self.description,
                "media": self.media,
            }

        def describe(self, zone: dt.tzinfo = localtime.UTC) -> str:
            """One line for the timeline, the capture time in ``zone``."""
            captured = localtime.shown(localtime.local(self.captured_at, zone))
            return (
                f"evidence {self.attachment_id} ({self.filename}, {self.size} bytes, sha256 {self.sha256[:16]}…) "
                f"captured by {self.captured_by} at {captured} by {self.method} on {self.device}"
            )

    class ActionPlanned(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("action_id", "action", "owner", "due_on")
        action_id: str
        action: str
        owner: str
        due_on: str
        details: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.actions.append({"action_id": self.action_id, "action": self.action, "owner": self.owner,
                                      "due_on": self.due_on, "taken_on": None, "status": "open",
                                      "details": self.details})

        def describe(self) -> str:
            """One line for the timeline."""
            title = codes.ACTION_TITLES.get(self.action, self.action)
            return f"action planned: {title}, for {self.owner}, due {self.due_on}: {self.details}"

    class ActionRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("action_id", "action", "taken_on")
        action_id: str
        action: str
        taken_on: str
        details: str
        occurred_at: dict[str, Any]

        def apply(self, aggregate: Incident) -> None:
            aggregate.actions.append({"action_id": self.action_id, "action": self.action, "owner": None,
                                      "due_on": None, "taken_on": self.taken_on, "status": "done",
                                      "details": self.details})
            aggregate.count_removal(self.action)

        def describe(self) -> str:
            """One line for the timeline."""
            return f"action {codes.ACTION_TITLES.get(self.action, self.action)} on {self.taken_on}: {self.details}"

    class ActionDone(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("action_id", "action", "taken_on")
        action_id: str
        action: str
        taken_on: str
        details: str | None
        occurred_at: dict[str, Any]

        def apply(self, aggregate: Incident) -> None:
            for action in aggregate.actions:
                if action["action_id"] == self.action_id:
                    action.update(status="done", taken_on=self.taken_on)
            aggregate.count_removal(self.action)

        def describe(self) -> str:
            """One line for the timeline."""
            said = f": {self.details}" if self.details else ""
            return f"action done: {codes.ACTION_TITLES.get(self.action, self.action)} on {self.taken_on}{said}"

    class ActionCancelled(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("action_id",)
        action_id: str
        reason: str

        def apply(self, aggregate: Incident) -> None:
            for action in aggregate.actions:
                if action["action_id"] == self.action_id:
                    action["status"] = "cancelled"

        def describe(self) -> str:
            """One line for the timeline."""
            return f"action {self.action_id} cancelled: {self.reason}"

    class PersonUnlinked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("person",)
        person: str
        reason: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.people = [p for p in aggregate.people if p["id"] != self.person]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.person} unlinked (linked in error): {self.reason}"

    class EvidenceDescribed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("description_id", "platform", "supplied_sha256")
        description_id: str
        platform: str
        supplied_sha256: str | None
        description: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.described.append({"description_id": self.description_id, "platform": self.platform,
                                        "supplied_sha256": self.supplied_sha256, "description": self.description})

        def describe(self) -> str:
            """One line for the timeline."""
            given = f", hash supplied {self.supplied_sha256[:16]}…" if self.supplied_sha256 else ""
            return f"evidence described, not taken in (on {self.platform}{given}): {self.description}"

    class EvidenceRemoved(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("attachment_id",)
        attachment_id: str
        reason: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.evidence.pop(self.attachment_id, None)
            aggregate.removed_evidence.append(self.attachment_id)

        def describe(self) -> str:
            """One line for the timeline."""
            return f"evidence {self.attachment_id} removed and its file destroyed: {self.reason}"

    class OutcomeRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "finding", "decided_on", "disciplinary", "warning_issued_on", "malicious", "supersedes",
        )
        finding: str
        decided_on: str
        disciplinary: str
        warning_issued_on: str | None
        malicious: bool
        supersedes: int | None
        summary: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.outcome = {
                "finding": self.finding,
                "decided_on": self.decided_on,
                "disciplinary": self.disciplinary,
                "warning_issued_on": self.warning_issued_on,
                "malicious": self.malicious,
                "summary": self.summary,
            }
            aggregate.outcome_version = self.originator_version
            aggregate.outcome_pending = False

        def describe(self) -> str:
            """One line for the timeline."""
            sanction = f", disciplinary {self.disciplinary}" if self.disciplinary != "none" else ""
            issued = f" issued {self.warning_issued_on}" if self.warning_issued_on else ""
            again = f" (supersedes entry {self.supersedes})" if self.supersedes else ""
            return f"outcome {self.finding} decided {self.decided_on}{sanction}{issued}{again}: {self.summary}"

    class Closed(Aggregate.Event):
        summary: str | None

        def apply(self, aggregate: Incident) -> None:
            aggregate.status = "closed"

        def describe(self) -> str:
            """One line for the timeline."""
            return "closed" + (f": {self.summary}" if self.summary else "")

    class Reopened(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.status = "reopened"
            aggregate.outcome_pending = True

        def describe(self) -> str:
            """One line for the timeline."""
            return f"reopened: {self.reason}"

    class CooperationRequested(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "person", "asks", "requested_on", "answer_by")
        request_id: str
        person: str
        asks: list[str]
        requested_on: str
        answer_by: str
        details: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.cooperation = [*aggregate.cooperation, {
                "request_id": self.request_id, "person": self.person, "asks": list(self.asks),
                "requested_on": self.requested_on, "answer_by": self.answer_by, "response": None,
            }]

        def describe(self) -> str:
            """One line for the timeline."""
            return (f"{self.person} asked on {self.requested_on} to co-operate ({', '.join(self.asks)}), answer by "
                    f"{self.answer_by} [{self.request_id}]: {self.details}")

    class CooperationAnswered(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("request_id", "response", "answered_on")
        request_id: str
        response: str
        answered_on: str
        note: str | None

        def apply(self, aggregate: Incident) -> None:
            aggregate.cooperation = [
                {**r, "response": self.response, "answered_on": self.answered_on}
                if r["request_id"] == self.request_id else r for r in aggregate.cooperation
            ]

        def describe(self) -> str:
            """One line for the timeline."""
            note = f": {self.note}" if self.note else ""
            return f"co-operation request {self.request_id} answered on {self.answered_on}: {self.response}{note}"

    class HateCrimeAssessed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("natures", "police", "decided_on")
        natures: list[str]
        police: str
        decided_on: str
        why: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.hate_assessment = {"natures": list(self.natures), "police": self.police,
                                         "decided_on": self.decided_on}

        def describe(self) -> str:
            """One line for the timeline."""
            police = "police contacted" if self.police == "contacted" else "police NOT contacted"
            return f"assessed on {self.decided_on} as {', '.join(self.natures)}; {police}: {self.why}"

    @staticmethod
    def create_id(inc_id: str) -> uuid.UUID:
        return incident_record_id(inc_id)

    @classmethod
    def report(
        cls,
        inc_id: str,
        category: str,
        reporter: str,
        reporter_role: str,
        source: str,
        occurred_at: dict[str, Any],
        summary: str,
        facts: str,
        people: list[Person],
        now: str,
        against_staff: bool = False,
        opinion: str | None = None,
        child_words: str | None = None,
        immediate_action: str | None = None,
        source_detail: str | None = None,
        alert_id: str | None = None,
        school: str | None = None,
    ) -> Incident:
        """A new incident, as its reporter saw or heard of it.

        ``people`` are ``{"id", "part", "kind"}`` with kind ``staff`` or
        ``subject``. Facts and opinion are kept apart; a child's words are
        kept exactly as given.
        """
        codes.category(category)
        codes.choose("source", source, codes.SOURCES)
        if dt.datetime.fromisoformat(occurred_at["at"]) > dt.datetime.fromisoformat(now):
            raise InvalidInput("the incident cannot have occurred after it is recorded", "check --occurred-at")
        if source == "monitoring" and not alert_id:
            raise InvalidInput("a report from monitoring names its alert", "give --alert ALERT_ID")
        if alert_id and source != "monitoring":
            raise InvalidInput("only a report from monitoring names an alert", "use --source monitoring")
        if source == "told" and not source_detail:
            raise InvalidInput("say who told you", "give --source-detail")
        people = check_people(people)
        if against_staff and not any(p["part"] == "alleged" and p["kind"] == "staff" for p in people):
            raise RuleViolation(
                "an allegation against staff names the member of staff it is about",
                "add --person STAFF_ID:alleged",
            )
        if any(p["part"] == "class-teacher" and p["kind"] != "staff" for p in people):
            raise InvalidInput("a class teacher is a member of staff", "give their staff id")
        if category in codes.CLASS_TEACHER_CATEGORIES and not any(
                p["part"] == "class-teacher" and p["kind"] == "staff" for p in people):
            raise RuleViolation("a pupil's phone use is reported to their class teacher: name them",
                                "add --person STAFF_ID:class-teacher")
        if child_words is not None and not child_words.strip():
            raise InvalidInput("a child's words must not be empty", "leave out --child-words if none were given")
        return cls._create(
            cls.Reported,
            inc_id=inc_id,
            school=school,
            category=category,
            against_staff=against_staff,
            reporter=reporter,
            reporter_role=reporter_role,
            source=source,
            alert_id=alert_id,
            summary=require_text("summary", summary, 500),
            facts=require_text("facts", facts),
            opinion=optional("opinion", opinion),
            child_words=child_words,
            immediate_action=optional("immediate action", immediate_action),
            source_detail=optional("source detail", source_detail),
            people=people,
            record_class=codes.record_class_for(category, against_staff),
            subjects=sorted(p["id"] for p in people),
            occurred_at=occurred_at,
        )

    def __init__(
        self,
        inc_id: str,
        school: str | None,
        category: str,
        against_staff: bool,
        reporter: str,
        reporter_role: str,
        source: str,
        alert_id: str | None,
        summary: str | None,
        facts: str | None,
        opinion: str | None,
        child_words: str | None,
        immediate_action: str | None,
        source_detail: str | None,
        people: list[Person] | None,
        record_class: str,
        occurred_at: dict[str, Any],
    ) -> None:
        self.inc_id = inc_id
        self.school = school
        self.category = category
        self.against_staff = against_staff
        self.record_class = record_class
        self.reporter = reporter
        self.reporter_role = reporter_role
        self.source = source
        self.alert_id = alert_id
        self.occurred_at = occurred_at
        self.summary = summary
        self.facts = facts
        self.opinion = opinion
        self.child_words = child_words
        self.immediate_action = immediate_action
        self.source_detail = source_detail
        self.people: list[Person] = list(people or [])
        self.status = "reported"
        self.escalated_to: str | None = None
        self.investigators: list[str] = []
        self.notes: list[dict[str, str]] = []
        self.evidence: dict[str, dict[str, Any]] = {}
        self.actions: list[dict[str, Any]] = []
        self.removals_outstanding = 0
        self.described: list[dict[str, Any]] = []
        self.removed_evidence: list[str] = []
        self.outcome: dict[str, Any] | None = None
        self.outcome_version: int | None = None
        self.outcome_pending = True
        self.cooperation: list[dict[str, Any]] = []
        self.hate_assessment: dict[str, Any] | None = None

    # -- rules shared by the steps -------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether work can still be recorded on this incident."""
        return self.status in codes.OPEN

    def _require_open(self, what: str) -> None:
        if not self.is_open:
            raise RuleViolation(
                f"{self.inc_id} is closed: cannot {what}", f"reopen it first: `ledger incidents reopen {self.inc_id}`"
            )

    def _require_triaged(self, what: str) -> None:
        if self.status == "reported":
            raise RuleViolation(
                f"{self.inc_id} has not been triaged: cannot {what}",
                f"{who_decides(self.owner)} triages it first: `ledger incidents triage {self.inc_id}`",
            )

    def count_removal(self, action: str) -> None:
        """Keep count of removals requested and not yet confirmed (event methods call it)."""
        if action == "removal-requested":
            self.removals_outstanding += 1
        elif action == "removal-confirmed":
            self.removals_outstanding -= 1

    @property
    def no_images(self) -> bool:
        """Whether images and videos may never be taken in (UKCIS: nudes and semi-nudes)."""
        return codes.category(self.category).no_images

    @property
    def owner(self) -> str:
        """The role this incident is escalated to."""
        return codes.owner_for(self.category, self.against_staff)

    @property
    def linked_ids(self) -> set[str]:
        """Ids of everyone linked to the incident."""
        return {p["id"] for p in self.people}

    # -- commands --------------------------------------------------------------

    def triage(self, actor_roles: frozenset[str], rationale: str, category: str | None = None) -> None:
        """Confirm (or correct) the category and escalate to its owner role. A case already triaged
        may be triaged again only to correct its category (as facts emerge), while it is open."""
        if self.status != "reported":
            if self.status == "closed":
                raise RuleViolation(f"{self.inc_id} is closed", "reopen it first to correct its category")
            if category is None or category == self.category:
                raise RuleViolation(f"{self.inc_id} is already triaged (status {self.status})",
                                    "to correct its category, give --category with the new one and why")
        new = category or self.category
        codes.category(new)
        if codes.record_class_for(new, self.against_staff) != self.record_class:
            raise RuleViolation(
                f"{new} records are kept as {codes.record_class_for(new, self.against_staff)}, "
                f"this incident as {self.record_class}",
                "report a new incident in the right category and note the link on this one",
            )
        images = [a for a, e in self.evidence.items() if e.get("media") in ("image", "video")]
        if codes.category(new).no_images and images:
            raise RuleViolation(
                f"{codes.category(new).title}: images are never kept, and {self.inc_id} holds {', '.join(images)}",
                f"remove them first: `ledger incidents evidence remove {self.inc_id} ATTACHMENT --reason …`",
            )
        owner = codes.owner_for(new, self.against_staff)
        if owner not in actor_roles and "headteacher" not in actor_roles:
            raise NotPermitted(
                f"{new} incidents are escalated to the {owner}",
                f"ask {who_decides(owner)} to triage {self.inc_id}",
            )
        self.trigger_event(
            self.Triaged,
            category=new,
            previous_category=self.category,
            escalated_to=owner,
            rationale=require_text("rationale", rationale, 2000),
        )

    def link_person(self, person: Person, reason: str) -> None:
        """Link another person (victim, alleged, witness or reporter)."""
        self._require_open("link a person")
        check_people([person])
        if person["id"] in self.linked_ids:
            raise RuleViolation(f"{person['id']} is already linked to {self.inc_id}")
        self.trigger_event(
            self.PersonLinked,
            person=person["id"],
            part=person["part"],
            kind=person["kind"],
            reason=require_text("reason", reason, 2000),
            subjects=[person["id"]],
        )

    def assign(self, investigator: str, investigator_roles: frozenset[str], remit: str) -> None:
        """Give an investigator this case."""
        self._require_open("assign an investigator")
        self._require_triaged("assign an investigator")
        if investigator in self.investigators:
            raise RuleViolation(f"{investigator} is already assigned to {self.inc_id}")
        if investigator in self.linked_ids:
            raise RuleViolation(
                f"{investigator} is involved in {self.inc_id} and cannot investigate it",
                "assign someone who is not linked to the incident",
            )
        allowed = {"investigator", *_readers(self.record_class)}
        if not allowed & investigator_roles:
            raise RuleViolation(
                f"{investigator} holds none of the roles that may investigate {self.record_class} records",
                f"give them the investigator role first, or assign one of: {', '.join(sorted(allowed))}",
            )
        remit = require_text("remit", remit, 2000)
        self.trigger_event(self.InvestigatorAssigned, investigator=investigator, remit=remit)

    def request_cooperation(self, request_id: str, person: str, asks: list[str], requested_on: str, answer_by: str,
                            details: str, today: str) -> None:
        """Ask someone linked to the case to co-operate (hand over log-ins, remove a posting…)."""
        self._require_open("ask for co-operation")
        asked = cooperation.check_request(asks, person, self.linked_ids, requested_on, answer_by, today)
        self.trigger_event(self.CooperationRequested, request_id=request_id, person=person, asks=asked,
                           requested_on=requested_on, answer_by=answer_by,
                           details=require_text("details", details, 2000))

    def answer_cooperation(self, request_id: str, response: str, answered_on: str, today: str,
                           note: str | None = None) -> None:
        """Record how a co-operation request was answered: co-operated, refused or not applicable."""
        request = cooperation.find(self.cooperation, request_id, self.inc_id)
        cooperation.check_response(response, answered_on, str(request["requested_on"]), today)
        self.trigger_event(self.CooperationAnswered, request_id=request_id, response=response,
                           answered_on=answered_on, note=optional("note", note))

    def assess_hate_crime(self, natures: list[str], police: str, decided_on: str, today: str, why: str) -> None:
        """Record whether the comments are racist, sexist, sexual or a hate crime, and whether the
        police were contacted, and why (Appendix 1)."""
        self._require_open("assess the comments")
        found = hate.check(natures, police, decided_on, today)
        self.trigger_event(self.HateCrimeAssessed, natures=found, police=police, decided_on=decided_on,
                           why=require_text("why", why, 2000))

    def unassign(self, investigator: str, reason: str) -> None:
        """Take the case away from an investigator (closed cases too)."""
        if investigator not in self.investigators:
            raise RuleViolation(f"{investigator} is not assigned to {self.inc_id}")
        reason = require_text("reason", reason, 2000)
        self.trigger_event(self.InvestigatorUnassigned, investigator=investigator, reason=reason)

    def add_note(self, kind: str, text: str) -> None:
        """A fact, an opinion or a child's words, each kept as what it is."""
        self._require_open("add a note")
        codes.choose("kind", kind, codes.NOTE_KINDS)
        if kind == "child-words":
            if not text.strip():
                raise InvalidInput("a child's words must not be empty")
        else:
            text = require_text("note", text)
        self.trigger_event(self.NoteAdded, kind=kind, text=text)

    def add_evidence(
        self,
        attachment_id: str,
        sha256: str,
        size: int,
        filename: str,
        captured_by: str,
        captured_at: str,
        method: str,
        device: str,
        description: str | None = None,
        stored_sha256: str = "",
        media: str = "other",
    ) -> None:
        """Take in a file (screenshot, export…) with how it was captured.

        ``stored_sha256`` is the hash of the encrypted file as stored, so
        ``verify`` can check the stored file without a key; ``media`` is what
        the file's own bytes say it is (image, video, document, other). An
        incident of a category that forbids images never takes one in.
        """
        self._require_open("add evidence")
        if self.no_images and media in ("image", "video"):
            new_report = any(isinstance(e, self.Reported) for e in self.pending_events)
            instead = ("Report again without the file (nothing was recorded), then describe it: "
                       "`ledger incidents evidence describe INC_ID --platform … --description …` with the new id"
                       if new_report else
                       f"Record instead: `ledger incidents evidence describe {self.inc_id} --platform … --description …`")
            raise RuleViolation(
                f"{codes.category(self.category).title}: {'a video' if media == 'video' else 'an image'} "
                "is never taken in as evidence",
                f"{codes.NUDES_GUIDANCE} {instead}",
            )
        if attachment_id in self.evidence:
            raise RuleViolation(f"attachment {attachment_id} is already on {self.inc_id}")
        if any(e["sha256"] == sha256 for e in self.evidence.values()):
            raise RuleViolation(
                f"the same file (sha256 {sha256[:16]}…) is already evidence on {self.inc_id}",
                "`ledger incidents show` lists the evidence taken in",
            )
        self.trigger_event(
            self.EvidenceAdded,
            attachment_id=attachment_id,
            sha256=sha256,
            size=size,
            stored_sha256=stored_sha256,
            media=media,
            filename=require_text("file name", filename, 255),
            captured_by=require_text("captured by", captured_by, 200),
            captured_at=captured_at,
            method=require_text("capture method", method, 500),
            device=require_text("device", device, 200),
            description=optional("description", description),
        )

    def record_action(self, action: str, taken_on: str, details: str, today: str, action_id: str,
                      zone: dt.tzinfo) -> None:
        """Something done about the incident (a removal, a platform report, a referral…), on ``taken_on``
        (a day in the federation's ``zone``)."""
        self._require_open("record an action")
        actions.check_done(action, taken_on, today, self._happened_on(zone))
        self._check_removal(action)
        details = require_text("details", details)
        self.trigger_event(self.ActionRecorded, action_id=action_id, action=action, taken_on=taken_on,
                           details=details, occurred_at=occurrence(taken_on, zone, "day"))

    def plan_action(self, action: str, owner: str, due_on: str, details: str, today: str, action_id: str) -> None:
        """Something to be done by ``owner`` by ``due_on`` (a referral to make, a meeting to hold…)."""
        self._require_open("plan an action")
        actions.check_plan(action, due_on, today)
        self.trigger_event(self.ActionPlanned, action_id=action_id, action=action, owner=owner, due_on=due_on,
                           details=require_text("details", details))

    def complete_action(self, action_id: str, taken_on: str, today: str, actor: str, actor_roles: frozenset[str],
                        zone: dt.tzinfo, details: str | None = None) -> None:
        """Mark a planned action done: by its owner, or by someone who may read the incident."""
        self._require_open("mark an action done")
        planned = actions.find(self.actions, action_id, self.inc_id)
        actions.check_open(planned, self.inc_id)
        actions.check_completer(planned, actor, actor_roles, (*_readers(self.record_class), "investigator"))
        actions.check_done(planned["action"], taken_on, today, self._happened_on(zone))
        self._check_removal(planned["action"])
        self.trigger_event(self.ActionDone, action_id=action_id, action=planned["action"], taken_on=taken_on,
                           details=optional("details", details), occurred_at=occurrence(taken_on, zone, "day"))

    def _happened_on(self, zone: dt.tzinfo) -> str | None:
        """The local day the incident happened (or began), when its signed occurrence is known."""
        at = (getattr(self, "occurred_at", None) or {}).get("at")
        return localtime.local_date(str(at), zone).isoformat() if at else None

    def cancel_action(self, action_id: str, reason: str) -> None:
        """Cancel a planned action that is no longer needed (or was planned in error)."""
        planned = actions.find(self.actions, action_id, self.inc_id)
        actions.check_open(planned, self.inc_id)
        self.trigger_event(self.ActionCancelled, action_id=action_id, reason=require_text("reason", reason, 2000))

    def _check_removal(self, action: str) -> None:
        if action == "removal-confirmed" and self.removals_outstanding < 1:
            raise RuleViolation(
                "no removal was requested, so none can be confirmed",
                f"record `ledger incidents action {self.inc_id} removal-requested` first",
            )

    def unlink_person(self, person_id: str, reason: str) -> None:
        """Undo a link made in error (the link stays in the log, marked as corrected)."""
        if person_id not in self.linked_ids:
            raise RuleViolation(f"{person_id} is not linked to {self.inc_id}")
        if self.against_staff and sum(1 for p in self.people if p["part"] == "alleged") == 1 and any(
                p["id"] == person_id and p["part"] == "alleged" for p in self.people):
            raise RuleViolation("an allegation against staff keeps the member of staff it is about",
                                "link the right person first, then unlink this one")
        self.trigger_event(self.PersonUnlinked, person=person_id, reason=require_text("reason", reason, 2000))

    def describe_evidence(self, description_id: str, platform: str, description: str,
                          supplied_sha256: str | None = None) -> None:
        """Record what evidence there is without taking it in (UKCIS: never images of children)."""
        self._require_open("describe evidence")
        if supplied_sha256 is not None and (len(supplied_sha256) != 64 or
                                            any(c not in "0123456789abcdef" for c in supplied_sha256.lower())):
            raise InvalidInput("a hash must be 64 hexadecimal characters (SHA-256)",
                               "leave it out if none was supplied with the report")
        self.trigger_event(self.EvidenceDescribed, description_id=description_id,
                           platform=require_text("platform", platform, 200),
                           supplied_sha256=supplied_sha256.lower() if supplied_sha256 else None,
                           description=require_text("description", description))

    def remove_evidence(self, attachment_id: str, reason: str) -> None:
        """Destroy one evidence file (e.g. an image taken in by mistake), keeping a signed record of it."""
        if attachment_id not in self.evidence:
            raise RuleViolation(f"{self.inc_id} has no attachment {attachment_id}",
                                f"`ledger incidents show {self.inc_id}` lists its evidence")
        self.trigger_event(self.EvidenceRemoved, attachment_id=attachment_id,
                           reason=require_text("reason", reason, 2000))

    def record_outcome(
        self,
        finding: str,
        summary: str,
        decided_on: str,
        today: str,
        disciplinary: str = "none",
        warning_issued_on: str | None = None,
    ) -> None:
        """The finding (KCSIE outcomes for allegations against staff) and any sanction."""
        self._require_open("record an outcome")
        self._require_triaged("record an outcome")
        codes.choose("finding", finding, codes.findings_for(self.against_staff))
        codes.choose("disciplinary outcome", disciplinary, codes.DISCIPLINARY)
        not_after("decision date", decided_on, today)
        if disciplinary == "none":
            if warning_issued_on:
                raise InvalidInput("a date of issue needs a disciplinary outcome", "give --disciplinary as well")
        else:
            if finding not in codes.SANCTIONABLE:
                raise RuleViolation(
                    f"a {finding} finding cannot carry a disciplinary sanction",
                    f"sanctions follow only a finding of: {', '.join(codes.SANCTIONABLE)}",
                )
            if not any(p["part"] == "alleged" and p["kind"] == "staff" for p in self.people):
                raise RuleViolation(
                    "a disciplinary outcome needs a member of staff linked as alleged",
                    f"link them first: `ledger incidents link {self.inc_id} STAFF_ID:alleged`",
                )
            if not warning_issued_on:
                raise InvalidInput("a disciplinary outcome needs its date of issue", "give --issued-on YYYY-MM-DD")
            not_after("date of issue", warning_issued_on, today)
            if warning_issued_on < decided_on:
                raise InvalidInput("a sanction cannot be issued before the decision")
        self.trigger_event(
            self.OutcomeRecorded,
            finding=finding,
            decided_on=decided_on,
            disciplinary=disciplinary,
            warning_issued_on=warning_issued_on,
            malicious=finding == "malicious",
            supersedes=self.outcome_version,
            summary=require_text("summary", summary),
        )

    def close(self, summary: str | None = None) -> None:
        """Close the incident once an outcome is recorded."""
        self._require_open("close it again")
        if self.outcome_pending:
            again = " since it was reopened" if self.outcome is not None else ""
            raise RuleViolation(
                f"{self.inc_id} has no outcome{again}",
                f"record one first: `ledger incidents outcome {self.inc_id} --finding …`",
            )
        if self.against_staff and not actions.done_of(self.actions, "lado-referral"):
            raise RuleViolation(
                "an allegation against staff is referred to the local authority designated officer before it closes",
                f"record the referral: `ledger incidents action {self.inc_id} lado-referral --details …`",
            )
        self.trigger_event(self.Closed, summary=optional("summary", summary))

    def reopen(self, reason: str) -> None:
        """Reopen a closed incident; it needs a fresh outcome before closing again."""
        if self.status != "closed":
            raise RuleViolation(f"{self.inc_id} is not closed (status {self.status})")
        self.trigger_event(self.Reopened, reason=require_text("reason", reason, 2000))
