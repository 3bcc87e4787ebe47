"""Policy versions, the notice staff are given, and staff acknowledgements.

The policy says amendments are approved by the Board and that staff "will be
notified of any changes no later than one month from the date those changes
are intended to take effect". A version therefore records its approval and
effective dates, and the notice given to staff is its own event, refused when
it is shorter than a calendar month unless an override reason is given.

Which version is in force is decided from clear facts only (version label,
effective date), so anyone may check it without reading the policy text:
the current version on a day is the latest published version whose
effective date has passed. An acknowledgement is of one exact version (and
text hash); acknowledging a superseded version does not count for a later one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import ClassVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import record_id, require_text
from ledger.errors import InvalidInput, RuleViolation

#: What a member of staff confirms when acknowledging a version.
ACKNOWLEDGEMENT_STATEMENT = (
    "I have read and understood this version of the Social Media, Mobile Phone and Smart "
    "Technology Policy, will comply with it, and acknowledge the monitoring it describes."
)


def policy_record_id(version: str) -> uuid.UUID:
    """The aggregate id of a policy version."""
    return record_id("policy", version)


def acknowledgement_record_id(staff_id: str, version: str) -> uuid.UUID:
    """The aggregate id of one person's acknowledgement of one version."""
    return record_id("ack", f"{staff_id}:{version}")


def one_month_after(day: dt.date) -> dt.date:
    """The same day of the next calendar month (clamped to its last day)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_version_label(version: str) -> str:
    """A usable version label such as ``2023-11`` or ``v4``."""
    if not version or len(version) > 40 or not all(c.isalnum() or c in "-_." for c in version):
        raise InvalidInput(
            f"version {version!r} is not a usable label", "use up to 40 letters, digits, '-', '_' or '.'"
        )
    return version


class PolicyVersion(Aggregate):
    """One approved text of the policy, with when it takes effect."""

    class Published(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("label", "text_hash", "approved_on", "effective_on")
        label: str
        text_hash: str
        approved_on: str
        effective_on: str
        approved_by: str
        text: str | None
        file_name: str | None
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (
                f"policy version {self.label} (sha256 {self.text_hash[:12]}…) approved by "
                f"{self.approved_by} on {self.approved_on}, effective {self.effective_on}"
            )

    class StaffNotified(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("label", "notified_on", "effective_on", "short_notice")
        label: str
        notified_on: str
        effective_on: str
        short_notice: bool
        override_reason: str | None

        def apply(self, aggregate: PolicyVersion) -> None:
            aggregate.notified_on = self.notified_on
            aggregate.short_notice = self.short_notice

        def describe(self) -> str:
            """One line for the timeline."""
            line = f"staff notified on {self.notified_on} of version {self.label} (effective {self.effective_on})"
            if self.short_notice:
                line += f"; less than a month's notice, overridden: {self.override_reason}"
            return line

    @staticmethod
    def create_id(label: str) -> uuid.UUID:
        return policy_record_id(label)

    @classmethod
    def publish(
        cls,
        version: str,
        text_hash: str,
        approved_on: str,
        effective_on: str,
        approved_by: str,
        text: str | None,
        file_name: str | None,
        existing: Iterable[PolicyVersion],
    ) -> PolicyVersion:
        """A newly approved version; it must take effect after every earlier one."""
        if effective_on < approved_on:
            raise InvalidInput(
                f"version {version} would take effect ({effective_on}) before it was approved ({approved_on})",
                "check --approved-on and --effective-on",
            )
        latest = max(existing, key=lambda v: v.effective_on, default=None)
        if latest is not None and effective_on <= latest.effective_on:
            raise RuleViolation(
                f"version {version} must take effect after version {latest.label} ({latest.effective_on})",
                "give a later --effective-on: versions take effect in the order they are published",
            )
        return cls._create(
            cls.Published,
            label=check_version_label(version),
            text_hash=text_hash,
            approved_on=approved_on,
            effective_on=effective_on,
            approved_by=require_text("approved by", approved_by, 200),
            text=text,
            file_name=file_name,
            record_class="policy",
        )

    def __init__(
        self,
        label: str,
        text_hash: str,
        approved_on: str,
        effective_on: str,
        approved_by: str | None,
        text: str | None,
        file_name: str | None,
    ) -> None:
        self.label = label
        self.text_hash = text_hash
        self.approved_on = approved_on
        self.effective_on = effective_on
        self.approved_by = approved_by
        self.text = text
        self.file_name = file_name
        self.notified_on: str | None = None
        self.short_notice = False

    def notice_deadline(self) -> str:
        """The last day staff can be notified with a full month's notice."""
        effective = dt.date.fromisoformat(self.effective_on)
        day = effective
        while one_month_after(day) > effective:
            day -= dt.timedelta(days=1)
        return day.isoformat()

    def notify(self, notified_on: str, today: str, override_reason: str | None = None) -> None:
        """Record the day staff were told of this version.

        Refused when it leaves less than a calendar month before the
        effective date, unless ``override_reason`` says why.
        """
        if self.notified_on is not None:
            raise RuleViolation(
                f"staff were already notified of version {self.label} on {self.notified_on}",
                "a notification is recorded once; `ledger policy list` shows it",
            )
        if notified_on < self.approved_on:
            raise InvalidInput(
                f"staff cannot have been notified ({notified_on}) before version {self.label} "
                f"was approved ({self.approved_on})",
                "check the notification date",
            )
        if notified_on > today:
            raise InvalidInput(
                f"the notification date {notified_on} is in the future",
                "record a notification once it has been sent",
            )
        short = dt.date.fromisoformat(self.effective_on) < one_month_after(dt.date.fromisoformat(notified_on))
        reason = override_reason.strip() if override_reason else None
        if short and not reason:
            raise RuleViolation(
                f"version {self.label} takes effect on {self.effective_on}, less than a month after staff "
                f"were notified on {notified_on}",
                f"staff must be told by {self.notice_deadline()}: publish a version with a later effective "
                "date, or give --override-reason to record why the short notice is justified",
            )
        self.trigger_event(
            self.StaffNotified,
            label=self.label,
            notified_on=notified_on,
            effective_on=self.effective_on,
            short_notice=short,
            override_reason=require_text("override reason", reason, 2000) if short else None,
        )


def current_version(versions: Iterable[PolicyVersion], as_of: str) -> PolicyVersion | None:
    """The latest published version whose effective date is on or before ``as_of``."""
    in_force = [v for v in versions if v.effective_on <= as_of]
    return max(in_force, key=lambda v: v.effective_on, default=None)


class PolicyAcknowledgement(Aggregate):
    """One member of staff's acknowledgement of one exact policy version."""

    class Recorded(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "policy_version", "text_hash")
        staff_id: str
        policy_version: str
        text_hash: str
        statement: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"{self.staff_id} acknowledged policy version {self.policy_version}: {self.statement}"

    class AssistedRecorded(Aggregate.Created):
        """An acknowledgement on a signed paper form, entered by someone else (marked as such everywhere)."""

        clear_fields: ClassVar[tuple[str, ...]] = ("staff_id", "policy_version", "text_hash", "assisted",
                                                   "entered_by", "form_hash", "signed_on")
        staff_id: str
        policy_version: str
        text_hash: str
        assisted: bool
        entered_by: str
        form_hash: str
        signed_on: str
        statement: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return (f"{self.staff_id} acknowledged policy version {self.policy_version} on a paper form signed "
                    f"{self.signed_on} (sha256 {self.form_hash[:12]}…), ASSISTED: entered by {self.entered_by}: "
                    f"{self.statement}")

    @staticmethod
    def create_id(staff_id: str, policy_version: str) -> uuid.UUID:
        return acknowledgement_record_id(staff_id, policy_version)

    @classmethod
    def record(cls, staff_id: str, version: PolicyVersion, today: str, versions: Iterable[PolicyVersion]) -> PolicyAcknowledgement:
        """``staff_id`` acknowledges ``version``; a superseded version is refused."""
        current = current_version(versions, today)
        if current is not None and version.effective_on < current.effective_on:
            raise RuleViolation(
                f"version {version.label} has been superseded by version {current.label}",
                f"acknowledge the current version: `ledger policy acknowledge {current.label}`",
            )
        return cls._create(
            cls.Recorded,
            staff_id=staff_id,
            policy_version=version.label,
            text_hash=version.text_hash,
            statement=ACKNOWLEDGEMENT_STATEMENT,
            record_class="acknowledgement",
        )

    @classmethod
    def record_assisted(cls, staff_id: str, version: PolicyVersion, today: str, versions: Iterable[PolicyVersion],
                        entered_by: str, form_hash: str, signed_on: str) -> PolicyAcknowledgement:
        """``entered_by`` enters ``staff_id``'s signed paper form acknowledging ``version``."""
        if entered_by == staff_id:
            raise InvalidInput("an assisted acknowledgement is entered by someone else",
                               "acknowledge for yourself with `ledger policy acknowledge`")
        if signed_on > today:
            raise InvalidInput(f"the form's signing date {signed_on} is in the future")
        if signed_on < version.approved_on:
            raise InvalidInput(f"the form was signed ({signed_on}) before version {version.label} was approved "
                               f"({version.approved_on})", "check the version and the date on the form")
        current = current_version(versions, today)
        if current is not None and version.effective_on < current.effective_on:
            raise RuleViolation(f"version {version.label} has been superseded by version {current.label}",
                                f"the form must acknowledge the current version, {current.label}")
        return cls._create(
            cls.AssistedRecorded, staff_id=staff_id, policy_version=version.label, text_hash=version.text_hash,
            assisted=True, entered_by=entered_by, form_hash=form_hash, signed_on=signed_on,
            statement=ACKNOWLEDGEMENT_STATEMENT, record_class="acknowledgement",
        )

    def __init__(self, staff_id: str, policy_version: str, text_hash: str, assisted: bool = False,
                 entered_by: str | None = None, form_hash: str | None = None, signed_on: str | None = None) -> None:
        self.staff_id = staff_id
        self.policy_version = policy_version
        self.text_hash = text_hash
        self.assisted = assisted
        self.entered_by = entered_by
        self.form_hash = form_hash
        self.signed_on = signed_on
