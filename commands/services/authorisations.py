"""Authorising a targeted review of one member of staff's use of the systems.

Routine filtering and monitoring needs no authorisation: the policy reserves
the right to monitor without notice. But an alert about a named member of
staff is linked to a case only when a Headteacher's authorisation covers that
person on the alert's day: who authorised it, why, which systems, what period.
"""

from __future__ import annotations

from typing import Any

from commands.services.policy import _today, aggregate_ids
from ledger import localtime
from ledger.domain.base import new_short_id, parse_date
from ledger.domain.duties import MonitoringAuthorisation, authorisation_record_id
from ledger.domain.monitoring import Alert
from ledger.errors import NotFound, RuleViolation
from ledger.store import Actor, Ledger, Unit


def _all(work: Unit) -> list[MonitoringAuthorisation]:
    return [work.get(MonitoringAuthorisation, a, "monitoring authorisation", redacted=True)
            for a in aggregate_ids(work, MonitoringAuthorisation.Granted)]


def grant(ledger: Ledger, actor: Actor, person: str, scope: list[str], starts_on: str, ends_on: str,
          reason: str) -> str:
    """The Headteacher authorises reviewing ``person``'s use of ``scope`` over a period."""
    start, end = parse_date("start date", starts_on), parse_date("end date", ends_on)
    with ledger.unit(actor, write=True) as work:
        fact = work.registry.staff.get(person)
        if fact is None:
            raise NotFound(f"no member of staff {person!r}", "a targeted review is of a member of staff")
        auth_id = new_short_id("mon")
        work.save(MonitoringAuthorisation.grant(auth_id, person, actor.actor_id, scope, start, end, reason))
    return auth_id


def withdraw(ledger: Ledger, actor: Actor, auth_id: str, reason: str) -> None:
    """End an authorisation early; alerts after today are no longer covered."""
    with ledger.unit(actor, write=True) as work:
        if not work.exists(authorisation_record_id(auth_id)):
            raise NotFound(f"no monitoring authorisation {auth_id!r}", "`ledger monitoring authorisations`")
        found = work.get(MonitoringAuthorisation, authorisation_record_id(auth_id), "monitoring authorisation",
                         redacted=True)
        found.withdraw(reason, _today(work))
        work.save(found)


def list_authorisations(ledger: Ledger) -> list[dict[str, Any]]:
    """Every authorisation: whose use, which systems, what period, whether in force today (no reasons)."""
    with ledger.unit() as work:
        today = _today(work)
        return [{"auth_id": a.auth_id, "person": a.person, "authorised_by": a.authorised_by,
                 "scope": ",".join(a.scope), "starts_on": a.starts_on, "ends_on": a.ends_on,
                 "withdrawn_on": a.withdrawn_on or "", "in_force": a.covers(a.person, today)}
                for a in _all(work)]


def require_for_alert(work: Unit, alert: Alert) -> None:
    """Refuse to link an alert about a named member of staff without an authorisation covering its day."""
    person = alert.user_id or alert.device_id
    if person is None or person not in work.registry.staff:
        return
    at = (alert.occurred_at or {}).get("at")
    day = localtime.today(str(at), work.zone) if at else _today(work)
    if any(a.covers(person, day) for a in _all(work)):
        return
    raise RuleViolation(
        f"{alert.alert_id} is about {person}, a member of staff, and no authorisation covers a targeted review "
        f"of their use of the systems on {day}",
        f"a Headteacher authorises it first: `ledger monitoring authorise {person} --scope … --from … --to … "
        "--reason …`",
    )
