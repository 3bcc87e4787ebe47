"""IT monitoring: imported filtering/monitoring alerts, and the checks on filtering.

An :class:`Alert` is one alert from a filtering or monitoring system, known by
its natural key (source system + the source's own record id), so importing
the same alert twice finds the existing record. Every import is an
:class:`ImportBatch`; each alert's data key is wrapped under one batch key
that is itself wrapped to the reader roles (a handful of X25519 operations per
import), and erasing one alert destroys only that alert's wrapped key.

Clear in headers: when the alert happened, the source system, category,
severity and action from fixed vocabularies, the incidents it is linked to,
and the user or device only when it is a pseudonymous staff or subject id.
Raw usernames, device names, rules, the source's record id and detail text
are personal data and stay in encrypted bodies.

:class:`FilterDecision` (a site, app or category blocked or allowed, and why)
and :class:`FilteringReview` (the periodic review of filtering and monitoring
the DfE standards ask for) are the "monitoring_check" records.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any, ClassVar, Final

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput, RuleViolation
from ledger.text import quoted

#: How serious the source system rated the alert, least to most.
SEVERITIES: Final = ("info", "low", "medium", "high", "critical")

#: What the filtering or monitoring system did.
ACTIONS: Final = ("blocked", "allowed", "warned", "flagged")

#: Categories, after the UK Safer Internet Centre's definitions of appropriate
#: filtering and monitoring, plus personal social media (which the policy forbids
#: on Federation systems) and "other".
CATEGORIES: Final = (
    "bullying", "child-sexual-abuse", "child-sexual-exploitation", "discrimination", "drugs",
    "extremism", "gambling", "malware", "piracy", "pornography", "self-harm", "social-media",
    "suicide", "terrorism", "violence", "other",
)

#: Content that is illegal to access: filtering must always block it (IWF and CTIRU lists).
ILLEGAL_CATEGORIES: Final = ("child-sexual-abuse", "terrorism")

DECISION_KINDS: Final = ("block", "allow")
REVIEW_OUTCOMES: Final = ("effective", "changes-needed")

_SOURCE_SYSTEM = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def choose(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; InvalidInput naming them otherwise."""
    if value not in allowed:
        raise InvalidInput(f"{name} {value!r} is not known", f"{name} is one of: {', '.join(allowed)}")
    return value


def check_source_system(value: str) -> str:
    """A short lower-case name of the system an alert came from."""
    if not _SOURCE_SYSTEM.fullmatch(value):
        raise InvalidInput(
            f"source system {value!r} is not usable",
            "use up to 40 lower-case letters, digits, '.', '_' or '-' (e.g. smoothwall)",
        )
    return value


def check_record_ref(name: str, value: str) -> str:
    """A pseudonymous id of another record (an incident, a check)."""
    if not _ID.fullmatch(value):
        raise InvalidInput(f"{name} {quoted(value)} is not an id", "ids are up to 40 letters, digits, '.', '_' or '-'")
    return value


def alert_id_for(source_system: str, source_record_id: str) -> str:
    """The stable short id of the alert ``source_record_id`` from ``source_system``.

    Derived from the natural key, so the same alert always gets the same id
    (imports are idempotent) and the id itself reveals nothing.
    """
    digest = hashlib.sha256(f"alert-id/v1\x00{source_system}\x00{source_record_id}".encode()).hexdigest()
    return f"al-{digest[:16]}"


def alert_record_id(alert_id: str) -> uuid.UUID:
    """The aggregate id of alert ``alert_id``."""
    return record_id("alert", alert_id)


def import_batch_record_id(batch_id: str) -> uuid.UUID:
    """The aggregate id of import batch ``batch_id``."""
    return record_id("import-batch", batch_id)


def import_batch_key_id(batch_id: str) -> uuid.UUID:
    """The id the key store files batch ``batch_id``'s key-wrapping key under.

    Not an aggregate: no entry is encrypted under that key, it only wraps the
    batch's alert keys, so erasing the ImportBatch record leaves it alone.
    """
    return record_id("import-batch-key", batch_id)


def check_record_id(check_id: str) -> uuid.UUID:
    """The aggregate id of a filtering decision or review."""
    return record_id("monitoring-check", check_id)


class ImportBatch(Aggregate):
    """One file of alerts imported in one go; its key wraps the alerts' keys."""

    class Imported(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "batch_id", "file_format", "file_sha256", "rows", "new_alerts", "already_recorded",
            "duplicates", "first_alert_at", "last_alert_at", "alert_key_id",
        )
        batch_id: str
        file_format: str
        file_sha256: str
        rows: int
        new_alerts: int
        already_recorded: int
        duplicates: int
        first_alert_at: str
        last_alert_at: str
        alert_key_id: str
        file_name: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"imported {self.new_alerts} new alert(s) from {self.file_name} ({self.file_format}, "
                f"{self.rows} row(s), {self.already_recorded} already recorded, {self.duplicates} duplicated)"
            )

    @staticmethod
    def create_id(batch_id: str) -> uuid.UUID:
        return import_batch_record_id(batch_id)

    @classmethod
    def record(
        cls,
        batch_id: str,
        file_name: str,
        file_format: str,
        file_sha256: str,
        counts: dict[str, int],
        alert_times: list[str],
        alert_key_id: str,
    ) -> ImportBatch:
        """A new batch; ``counts`` has rows, new_alerts, already_recorded and duplicates.

        ``alert_key_id`` is the key its alerts' data keys are wrapped under.
        """
        if counts["new_alerts"] < 1 or not alert_times:
            raise RuleViolation("an import batch holds at least one new alert")
        return cls._create(
            cls.Imported,
            batch_id=batch_id,
            file_format=file_format,
            file_sha256=file_sha256,
            rows=counts["rows"],
            new_alerts=counts["new_alerts"],
            already_recorded=counts["already_recorded"],
            duplicates=counts["duplicates"],
            first_alert_at=min(alert_times),
            last_alert_at=max(alert_times),
            alert_key_id=alert_key_id,
            file_name=file_name,
            record_class="monitoring",
        )

    def __init__(self, batch_id: str, file_format: str, new_alerts: int, file_name: str | None) -> None:
        self.batch_id = batch_id
        self.file_format = file_format
        self.new_alerts = new_alerts
        self.file_name = file_name


class Alert(Aggregate):
    """One filtering or monitoring alert, as its source system reported it."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "alert_id", "batch_id", "source_system", "category", "severity", "action", "user_id", "device_id", "school",
        )
        alert_id: str
        batch_id: str
        source_system: str
        category: str
        severity: str
        action: str
        user_id: str | None
        device_id: str | None
        school: str | None
        source_record_id: str
        user: str | None
        device: str | None
        rule: str | None
        detail: str | None
        record_class: str
        subjects: list[str]
        occurred_at: dict[str, Any]

        def describe(self) -> str:
            """One line for the timeline."""
            who = self.user or self.user_id or "unknown user"
            where = f" on {self.device}" if self.device else ""
            rule = f", rule {self.rule}" if self.rule else ""
            detail = f": {self.detail}" if self.detail else ""
            return (
                f"{self.source_system} alert {self.source_record_id}: {self.severity} {self.category}, "
                f"{self.action} for {who}{where}{rule}{detail}"
            )

    class Linked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("incident_id",)
        incident_id: str
        note: str | None

        def apply(self, aggregate: Alert) -> None:
            aggregate.incidents = sorted(set(aggregate.incidents) | {self.incident_id})

        def describe(self) -> str:
            """One line for the timeline."""
            return f"linked to incident {self.incident_id}" + (f": {self.note}" if self.note else "")

    class Unlinked(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("incident_id",)
        incident_id: str
        reason: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.incidents = [i for i in aggregate.incidents if i != self.incident_id]

        def describe(self) -> str:
            """One line for the timeline."""
            return f"unlinked from incident {self.incident_id}: {self.reason}"

    class Dismissed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("dismissed_on",)
        dismissed_on: str
        reason: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.dismissed = True

        def describe(self) -> str:
            """One line for the timeline."""
            return f"looked at and dismissed (no concern): {self.reason}"

    @staticmethod
    def create_id(alert_id: str) -> uuid.UUID:
        return alert_record_id(alert_id)

    @classmethod
    def record(
        cls,
        batch_id: str,
        source_system: str,
        source_record_id: str,
        occurred_at: dict[str, Any],
        category: str,
        severity: str,
        action: str,
        personal: dict[str, str | None],
        known_people: frozenset[str] | set[str],
        school: str | None = None,
    ) -> Alert:
        """A new alert. ``personal`` holds user, device, rule and detail (all encrypted).

        A user or device that is a known staff or subject id is also kept, as
        that pseudonymous id, in the clear header (and as a subject).
        """
        check_source_system(source_system)
        source_record_id = require_text("source record id", source_record_id, 100)
        user, device = personal.get("user"), personal.get("device")
        user_id = user if user in known_people else None
        device_id = device if device in known_people else None
        return cls._create(
            cls.Recorded,
            alert_id=alert_id_for(source_system, source_record_id),
            batch_id=batch_id,
            source_system=source_system,
            category=choose("category", category, CATEGORIES),
            severity=choose("severity", severity, SEVERITIES),
            action=choose("action", action, ACTIONS),
            user_id=user_id,
            device_id=device_id,
            school=school,
            source_record_id=source_record_id,
            user=user,
            device=device,
            rule=personal.get("rule"),
            detail=personal.get("detail"),
            record_class="monitoring",
            subjects=sorted({p for p in (user_id, device_id) if p}),
            occurred_at=occurred_at,
        )

    def __init__(
        self,
        alert_id: str,
        batch_id: str,
        source_system: str,
        category: str,
        severity: str,
        action: str,
        user_id: str | None,
        device_id: str | None,
        source_record_id: str | None,
        user: str | None,
        device: str | None,
        rule: str | None,
        detail: str | None,
        subjects: list[str],
        occurred_at: dict[str, Any],
        school: str | None = None,
    ) -> None:
        self.alert_id = alert_id
        self.school = school
        self.batch_id = batch_id
        self.source_system = source_system
        self.category = category
        self.severity = severity
        self.action = action
        self.user_id = user_id
        self.device_id = device_id
        self.source_record_id = source_record_id
        self.user = user
        self.device = device
        self.rule = rule
        self.detail = detail
        self.subjects = list(subjects)
        self.occurred_at = occurred_at
        self.incidents: list[str] = []
        self.dismissed = False

    def link(self, incident_id: str, note: str | None = None) -> None:
        """Link this alert to an incident (it then follows that incident's retention)."""
        check_record_ref("incident id", incident_id)
        if incident_id in self.incidents:
            raise RuleViolation(f"{self.alert_id} is already linked to incident {incident_id}")
        note = require_text("note", note, 2000) if note is not None else None
        self.trigger_event(self.Linked, incident_id=incident_id, note=note)

    def dismiss(self, reason: str, today: str) -> None:
        """Someone who read the alert found no concern: it leaves the inbox (and can still be linked)."""
        if self.dismissed:
            raise RuleViolation(f"{self.alert_id} was already dismissed")
        if self.incidents:
            raise RuleViolation(f"{self.alert_id} is linked to {', '.join(self.incidents)}: it is not dismissed",
                                "unlink it first if the link was wrong")
        self.trigger_event(self.Dismissed, dismissed_on=today, reason=require_text("reason", reason, 2000))

    def unlink(self, incident_id: str, reason: str) -> None:
        """Correct a wrong link; the link stays in the log, with this reason beside it."""
        if incident_id not in self.incidents:
            raise RuleViolation(f"{self.alert_id} is not linked to incident {incident_id}")
        self.trigger_event(self.Unlinked, incident_id=incident_id, reason=require_text("reason", reason, 2000))


class FilterDecision(Aggregate):
    """A decision to block or allow a site, app, keyword or category, and why."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("check_id", "kind", "category", "supersedes")
        check_id: str
        kind: str
        category: str | None
        supersedes: str | None
        target: str
        reason: str
        record_class: str
        occurred_at: dict[str, Any]

        def describe(self) -> str:
            """One line for the timeline."""
            scope = f" (category {self.category})" if self.category else ""
            replaces = f", superseding {self.supersedes}" if self.supersedes else ""
            return f"decided to {self.kind} {self.target}{scope}{replaces}: {self.reason}"

    @staticmethod
    def create_id(check_id: str) -> uuid.UUID:
        return check_record_id(check_id)

    @classmethod
    def record(
        cls,
        check_id: str,
        kind: str,
        target: str,
        reason: str,
        now: str,
        category: str | None = None,
        supersedes: str | None = None,
    ) -> FilterDecision:
        """A new block or allow decision, effective when recorded."""
        choose("kind", kind, DECISION_KINDS)
        if category is not None:
            choose("category", category, CATEGORIES)
            if kind == "allow" and category in ILLEGAL_CATEGORIES:
                raise RuleViolation(
                    f"{category} content is illegal and must always be blocked",
                    "filtering must block the IWF and CTIRU lists: an allow decision cannot cover them",
                )
        if supersedes is not None:
            check_record_ref("superseded check id", supersedes)
            if supersedes == check_id:
                raise InvalidInput("a decision cannot supersede itself")
        return cls._create(
            cls.Recorded,
            check_id=check_id,
            kind=kind,
            category=category,
            supersedes=supersedes,
            target=require_text("target", target, 500),
            reason=require_text("reason", reason, 2000),
            record_class="monitoring_check",
            occurred_at={"at": now, "precision": "exact", "until": None},
        )

    def __init__(
        self, check_id: str, kind: str, category: str | None, supersedes: str | None,
        target: str | None, reason: str | None, occurred_at: dict[str, Any],
    ) -> None:
        self.check_id = check_id
        self.kind = kind
        self.category = category
        self.supersedes = supersedes
        self.target = target
        self.reason = reason
        self.occurred_at = occurred_at


class FilteringReview(Aggregate):
    """A periodic review of filtering and monitoring (at least yearly, per the DfE standards)."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("check_id", "period_start", "period_end", "outcome")
        check_id: str
        period_start: str
        period_end: str
        outcome: str
        findings: str
        actions: str | None
        record_class: str
        occurred_at: dict[str, Any]

        def describe(self) -> str:
            """One line for the timeline."""
            actions = f"; actions: {self.actions}" if self.actions else ""
            return (
                f"reviewed filtering and monitoring for {self.period_start} to {self.period_end}: "
                f"{self.outcome}: {self.findings}{actions}"
            )

    @staticmethod
    def create_id(check_id: str) -> uuid.UUID:
        return check_record_id(check_id)

    @classmethod
    def record(
        cls,
        check_id: str,
        period_start: str,
        period_end: str,
        outcome: str,
        findings: str,
        now: str,
        today: str,
        actions: str | None = None,
    ) -> FilteringReview:
        """A review of the period ``period_start``..``period_end`` (local dates), made ``now``
        (ISO UTC), on ``today`` (the federation's local date)."""
        choose("outcome", outcome, REVIEW_OUTCOMES)
        if period_end < period_start:
            raise InvalidInput("the review period ends before it starts", "write it as START..END")
        if period_end > today:
            raise RuleViolation(
                "a review cannot cover days that have not happened yet",
                "end the period today at the latest",
            )
        if outcome == "changes-needed" and not (actions and actions.strip()):
            raise RuleViolation(
                "a review that finds changes are needed says what they are",
                "give --actions with the changes and who will make them",
            )
        return cls._create(
            cls.Recorded,
            check_id=check_id,
            period_start=period_start,
            period_end=period_end,
            outcome=outcome,
            findings=require_text("findings", findings),
            actions=require_text("actions", actions) if actions and actions.strip() else None,
            record_class="monitoring_check",
            occurred_at={"at": now, "precision": "exact", "until": None},
        )

    def __init__(
        self, check_id: str, period_start: str, period_end: str, outcome: str,
        findings: str | None, actions: str | None, occurred_at: dict[str, Any],
    ) -> None:
        self.check_id = check_id
        self.period_start = period_start
        self.period_end = period_end
        self.outcome = outcome
        self.findings = findings
        self.actions = actions
        self.occurred_at = occurred_at
