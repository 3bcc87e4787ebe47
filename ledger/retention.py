"""Retention rules as data, and when each record falls due.

A rule is a trigger (a recorded fact) plus a period in months, or "keep
until review". Defaults follow the Federation's schedule; an admin changes
one with a signed ``RetentionRule`` entry. Evaluation is pure: it takes the
facts gathered for a record and returns a decision, never guessing: a
missing trigger fact makes the record "undetermined".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import InvalidInput

TRIGGERS: dict[str, str] = {
    "pupil-dob": "date of birth of the youngest pupil the record is about",
    "allegation": "later of the member of staff's normal retirement age and the allegation date plus the period; "
    "a malicious allegation at its outcome",
    "warning-issued": "date a disciplinary warning was issued (period by level: oral, written, final)",
    "employment-end": "end of employment of the member of staff",
    "post-removed": "date the post was removed",
    "approval-ends": "date the device approval ends",
    "alert-time": "time of the alert (an alert linked to an incident follows the incident)",
    "recorded": "date the record was made",
    "review": "keep until review",
}

#: Months per disciplinary warning level (configurable with the rule's months as "oral/written/final").
WARNING_MONTHS = {"oral": 6, "written": 12, "final": 18}
RETIREMENT_AGE = 67


@dataclass(frozen=True)
class Rule:
    """The retention rule of one record class."""

    record_class: str
    trigger: str
    months: int | None

    def describe(self) -> str:
        """The rule in words."""
        if self.trigger == "review":
            return "keep until review"
        if self.trigger == "warning-issued":
            return "oral 6, written 12, final 18 months from issue"
        years = f"{self.months // 12} years" if self.months and self.months % 12 == 0 else f"{self.months} months"
        return f"{TRIGGERS[self.trigger]} + {years}"

    @property
    def basis(self) -> str:
        """How an erasure entry names this rule."""
        return f"rule:{self.record_class}:{self.trigger}+{self.months or 0}m"


DEFAULTS: dict[str, Rule] = {
    rule.record_class: rule
    for rule in (
        Rule("safeguarding", "pupil-dob", 25 * 12),
        Rule("allegation", "allegation", 10 * 12),
        Rule("incident", "warning-issued", None),
        Rule("acknowledgement", "employment-end", 6 * 12),
        Rule("approval", "post-removed", 12),
        Rule("device_approval", "approval-ends", 12),
        Rule("monitoring", "alert-time", 12),
        Rule("access_log", "recorded", 6 * 12),
        Rule("export", "recorded", 6 * 12),
        # issue 16: pre-employment searches go six months after the check (ICO employment
        # practices: unsuccessful candidates' records); training with the person's employment;
        # reviews and targeted-monitoring authorisations six years, like the access log
        Rule("recruitment", "recorded", 6),
        Rule("training", "employment-end", 6 * 12),
        Rule("policy_review", "recorded", 6 * 12),
        Rule("monitoring_authorisation", "recorded", 6 * 12),
    )
}


def rule_for(record_class: str, overrides: dict[str, Rule]) -> Rule:
    """The rule in force for a class (an admin's change, else the default, else review)."""
    return overrides.get(record_class) or DEFAULTS.get(record_class) or Rule(record_class, "review", None)


def check_rule(record_class: str, trigger: str, months: int | None) -> Rule:
    """Validate a proposed rule change."""
    if trigger not in TRIGGERS:
        raise InvalidInput(f"unknown trigger {trigger!r}", f"triggers are: {', '.join(TRIGGERS)}")
    if trigger not in ("review", "warning-issued") and (months is None or not 0 < months <= 1200):
        raise InvalidInput("give --months between 1 and 1200 for that trigger")
    return Rule(record_class, trigger, months)


@dataclass
class Facts:
    """What is known about one record, from its headers (and readable details)."""

    record: str
    record_class: str
    label: str
    recorded_on: dt.date
    claims: dict[str, Any] = field(default_factory=dict)
    subjects: set[str] = field(default_factory=set)
    pupil_births: list[dt.date | None] = field(default_factory=list)
    staff_births: list[dt.date | None] = field(default_factory=list)
    employment_end: dt.date | None = None
    follows: str | None = None


@dataclass(frozen=True)
class Decision:
    """What retention says about one record on one day."""

    record: str
    label: str
    record_class: str
    rule: str
    due: dt.date | None
    action: str
    why: str


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months (clamped to the month's end)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def due_date(facts: Facts, rule: Rule) -> tuple[dt.date | None, str]:
    """When ``facts``' record falls due under ``rule``; (None, why) when undetermined."""
    claims = facts.claims
    if rule.trigger == "review":
        return None, "keep until review"
    if rule.trigger == "recorded":
        return add_months(facts.recorded_on, rule.months or 0), "from the date recorded"
    if rule.trigger == "pupil-dob":
        if not facts.pupil_births:
            return None, "no pupil is linked to the record"
        if any(b is None for b in facts.pupil_births):
            return None, "a linked pupil's date of birth is not recorded or not readable by your roles"
        youngest = max(b for b in facts.pupil_births if b is not None)
        return add_months(youngest, rule.months or 0), "from the youngest linked pupil's date of birth"
    if rule.trigger == "allegation":
        if claims.get("malicious") and _date(claims.get("decided_on")):
            return _date(claims.get("decided_on")), "malicious allegation: erased at its outcome"
        ten = add_months(facts.recorded_on, rule.months or 0)
        if not facts.staff_births or any(b is None for b in facts.staff_births):
            return None, "the member of staff's date of birth is not recorded, so normal retirement age is unknown"
        retire = max(add_months(b, RETIREMENT_AGE * 12) for b in facts.staff_births if b is not None)
        return max(ten, retire), "later of normal retirement age and the period from the allegation"
    if rule.trigger == "warning-issued":
        level, issued = claims.get("disciplinary"), _date(claims.get("warning_issued_on"))
        if level in (None, "none", "dismissal"):
            return None, "no disciplinary warning on this record (kept until review)"
        months = {"final warning": "final", "final": "final"}.get(str(level), str(level))
        if issued is None or months not in WARNING_MONTHS:
            return None, "the warning's issue date is not recorded"
        return add_months(issued, WARNING_MONTHS[months]), f"{level} warning issued {issued.isoformat()}"
    if rule.trigger == "employment-end":
        if facts.employment_end is None:
            return None, "end of employment not recorded"
        return add_months(facts.employment_end, rule.months or 0), f"left {facts.employment_end.isoformat()}"
    if rule.trigger == "post-removed":
        removed = _date(claims.get("removed_on"))
        if removed is None:
            return None, "the post has not been removed"
        return add_months(removed, rule.months or 0), f"removed {removed.isoformat()}"
    if rule.trigger == "approval-ends":
        ends = _date(claims.get("valid_until")) or _date(claims.get("needed_until"))
        if ends is None:
            return None, "the approval's end date is not recorded"
        return add_months(ends, rule.months or 0), f"approval ends {ends.isoformat()}"
    if rule.trigger == "alert-time":
        occurred = _date((claims.get("_occurred") or {}).get("at")) or facts.recorded_on
        return add_months(occurred, rule.months or 0), f"alert of {occurred.isoformat()}"
    return None, f"unknown trigger {rule.trigger}"


def decide(facts: Facts, rule: Rule, as_of: dt.date, held: bool, followed: Decision | None = None) -> Decision:
    """The retention decision for one record on ``as_of``."""
    if followed is not None:
        due, why = followed.due, f"linked to {followed.label}: follows its retention ({followed.why})"
        described = f"follows {followed.label}"
    else:
        due, why = due_date(facts, rule)
        described = rule.describe()
    if held:
        action = "held"
        why = f"legal hold; {why}"
    elif due is None:
        action = "review" if rule.trigger == "review" or "until review" in why else "undetermined"
    elif due <= as_of:
        action = "erase"
    else:
        action = "keep"
    return Decision(facts.record, facts.label, facts.record_class, described, due, action, why)
