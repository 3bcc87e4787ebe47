"""Monitoring alerts: the list from clear headers, one alert read with a reason, link or dismiss it."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from commands.services import monitoring
from commands.services.schools import school_filter
from commands.web.context import actor, back_to, form, ledger, needs_reason, page, session

bp = Blueprint("alerts", __name__)

SEVERITIES = ("low", "medium", "high", "critical")


@bp.get("/alerts")
def index() -> tuple[str, int]:
    """Alerts by their clear headers (no personal data), filtered by school, severity, unlinked."""
    chosen = {k: request.args.get(k) or "" for k in ("school", "severity", "unlinked")}
    rows = monitoring.list_alerts(ledger(), severity=chosen["severity"] or None, unlinked=bool(chosen["unlinked"]),
                                  reader=actor(), school=school_filter(ledger(), chosen["school"]))
    return page("alerts.html", "Monitoring alerts", rows=rows, chosen=chosen, severities=SEVERITIES,
                schools=ledger().registry().schools)


@bp.get("/alerts/<alert_id>")
@needs_reason("alert {}")
def alert(alert_id: str, reason: str) -> tuple[str, int]:
    """One alert's details (the read is logged), and the forms to link or dismiss it."""
    shown = monitoring.show_alert(ledger(), actor(), alert_id, reason)
    return page("alert.html", f"Alert {alert_id}", alert=shown, reason=reason)


@bp.post("/alerts/<alert_id>/link")
def link(alert_id: str) -> Response:
    """Link the alert to an incident: it leaves the inbox and follows the incident's retention."""
    incident = form("incident") or ""
    monitoring.link_alert(ledger(), actor(), alert_id, incident, form("note"))
    session().say(f"Alert {alert_id} linked to {incident}.")
    return back_to("alerts.alert", alert_id=alert_id)


@bp.post("/alerts/<alert_id>/dismiss")
def dismiss(alert_id: str) -> Response:
    """Record that the alert, read, raises no concern: it leaves the inbox."""
    monitoring.dismiss_alert(ledger(), actor(), alert_id, request.form.get("reason", ""))
    session().say(f"Alert {alert_id} dismissed.")
    return back_to("home.inbox")
