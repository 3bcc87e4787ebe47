"""``ledger monitoring …``: filtering/monitoring alerts, block/allow decisions, reviews."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state, render

if TYPE_CHECKING:
    from commands.services import monitoring as service, monitoring_checks as checks, monitoring_import, schools
    from ledger.domain import monitoring as domain
else:
    service = lazy.module("commands.services.monitoring")
    checks = lazy.module("commands.services.monitoring_checks")
    monitoring_import = lazy.module("commands.services.monitoring_import")
    schools = lazy.module("commands.services.schools")
    domain = lazy.module("ledger.domain.monitoring")


@click.group("monitoring")
def monitoring() -> None:
    """IT filtering and monitoring: alerts, block/allow decisions, periodic reviews.

    \b
    Example:
      ledger --as it-manager monitoring import smoothwall.csv
    """


def _show(record: dict[str, Any], fmt: str) -> None:
    rows = [{"field": k, "value": v} for k, v in record.items()]
    emit(render(rows, "table") if fmt == "table" else render([record], "json"))


_show_format = click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
                            show_default=True, help="Output format.")
_access_reason = click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")


@monitoring.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "file_format", type=lazy.Choice(lambda: monitoring_import.FORMATS), help="File format (default: from the extension).")
@click.option("--assume-timezone", "assume_zone", metavar="ZONE", help="Zone of times written without an offset, e.g. Europe/London.")
@click.option("--school", help="The school whose systems raised these alerts (default: the only school, if one).")
@pass_state
def import_file(state: State, file: Path, file_format: str | None, assume_zone: str | None, school: str | None) -> None:
    """Import a CSV or JSON Lines file of filtering/monitoring alerts.

    Every row is checked first: one bad row rejects the whole file (the error
    names the line and column) and nothing is written. Alerts already in the
    ledger, and rows repeated in the file, are skipped. The columns are in
    docs/monitoring-import-format.md.

    \b
    Example:
      ledger --as it-manager monitoring import smoothwall-2025-03.csv
    """
    done = service.import_alerts(state.ledger(), state.actor(), file, file_format, assume_zone, school)
    where = f" as batch {done.batch_id}" if done.batch_id else ""
    emit(
        f"{done.new_alerts} new alert(s) imported{where}: {done.rows} row(s), "
        f"{done.already_recorded} already recorded, {done.duplicates} repeated in the file"
    )


@monitoring.command("link")
@click.argument("alert_id")
@click.option("--incident", "incident_id", required=True, help="Incident id, e.g. inc-1a2b3c4d.")
@click.option("--note", help="Why they belong together (stored encrypted).")
@pass_state
def link(state: State, alert_id: str, incident_id: str, note: str | None) -> None:
    """Link an alert to an incident; the alert then follows the incident's retention.

    \b
    Example:
      ledger --as dsl monitoring link al-3f9a0c1d2e4b5a6c --incident inc-1a2b3c4d
    """
    service.link_alert(state.ledger(), state.actor(), alert_id, incident_id, note)
    emit(f"{alert_id} linked to incident {incident_id}")


@monitoring.command("unlink")
@click.argument("alert_id")
@click.option("--incident", "incident_id", required=True, help="Incident id it was wrongly linked to.")
@click.option("--reason", required=True, help="Why the link was wrong (stored encrypted).")
@pass_state
def unlink(state: State, alert_id: str, incident_id: str, reason: str) -> None:
    """Correct a wrong link between an alert and an incident (the link stays in the log).

    \b
    Example:
      ledger --as dsl monitoring unlink al-3f9a0c1d2e4b5a6c --incident inc-1a2b3c4d --reason "wrong pupil"
    """
    service.unlink_alert(state.ledger(), state.actor(), alert_id, incident_id, reason)
    emit(f"{alert_id} no longer linked to incident {incident_id}")


@monitoring.group("alerts")
def alerts() -> None:
    """Imported alerts.

    \b
    Example:
      ledger monitoring alerts list --severity high --unlinked
    """


@alerts.command("list")
@click.option("--category", type=lazy.Choice(lambda: domain.CATEGORIES), help="Only this category.")
@click.option("--severity", type=lazy.Choice(lambda: domain.SEVERITIES), help="Only this severity.")
@click.option("--incident", help="Only alerts linked to this incident.")
@click.option("--unlinked", is_flag=True, help="Only alerts linked to no incident.")
@click.option("--since", help="Only alerts at or after this local date/time.")
@click.option("--until", help="Only alerts at or before this local date/time (a date: to the end of that day).")
@click.option("--school", help="Only this school.")
@output_options
@pass_state
def list_alerts(state: State, category: str | None, severity: str | None, incident: str | None, unlinked: bool,
                since: str | None, until: str | None, school: str | None) -> list[dict[str, Any]]:
    """List alerts: id, time, source, category, severity, action, linked incidents (no personal data).

    \b
    Example:
      ledger monitoring alerts list --severity high --unlinked --format csv
    """
    return service.list_alerts(state.ledger(), category, severity, incident, unlinked, since, until,
                               reader=state.actor(), school=schools.school_filter(state.ledger(), school))


@alerts.command("dismiss")
@click.argument("alert_id")
@click.option("--reason", required=True, help="Why it raises no concern (encrypted).")
@pass_state
def dismiss(state: State, alert_id: str, reason: str) -> None:
    """Record that an alert, once read, raises no concern: it leaves the inbox.

    \b
    Example:
      ledger --as dsl monitoring alerts dismiss al-1a2b3c4d5e6f --reason "a lesson on self-harm awareness"
    """
    service.dismiss_alert(state.ledger(), state.actor(), alert_id, reason)
    emit(f"{alert_id} dismissed")


@alerts.command("show")
@click.argument("alert_id")
@_access_reason
@_show_format
@pass_state
def show_alert(state: State, alert_id: str, reason: str, fmt: str) -> None:
    """Show an alert's decrypted details (user, device, rule, detail), if your roles may read it.

    The read is recorded in the access log, with your reason.

    \b
    Example:
      ledger --as dsl monitoring alerts show al-3f9a0c1d2e4b5a6c --reason "preparing to speak to the pupil"
    """
    _show(service.show_alert(state.ledger(), state.actor(), alert_id, reason), fmt)


@monitoring.group("check")
def check() -> None:
    """Decisions to block or allow sites, apps, keywords or categories.

    \b
    Example:
      ledger --as it-manager monitoring check record --kind block --target tiktok.com --reason "not needed in school"
    """


@check.command("record")
@click.option("--kind", required=True, type=lazy.Choice(lambda: domain.DECISION_KINDS), help="Block or allow.")
@click.option("--target", required=True, help="What is blocked or allowed (stored encrypted).")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@click.option("--category", type=lazy.Choice(lambda: domain.CATEGORIES), help="The content category it concerns, if one.")
@click.option("--supersedes", metavar="CHECK_ID", help="An earlier decision this one replaces.")
@pass_state
def record_decision(state: State, kind: str, target: str, reason: str, category: str | None,
                    supersedes: str | None) -> None:
    """Record a decision to block or allow something, and why.

    \b
    Example:
      ledger --as it-manager monitoring check record --kind allow --target youtube.com/edu \\
        --reason "needed for Year 6 science" --category social-media
    """
    check_id = checks.record_decision(state.ledger(), state.actor(), kind, target, reason, category, supersedes)
    emit(check_id)


@check.command("list")
@output_options
@pass_state
def list_decisions(state: State) -> list[dict[str, Any]]:
    """List block/allow decisions: id, when, by whom, kind, category, supersessions (no target text).

    \b
    Example:
      ledger monitoring check list --format json
    """
    return checks.list_decisions(state.ledger())


@check.command("show")
@click.argument("check_id")
@_access_reason
@_show_format
@pass_state
def show_decision(state: State, check_id: str, reason: str, fmt: str) -> None:
    """Show a decision's target and reason (recorded in the access log).

    \b
    Example:
      ledger --as head monitoring check show mc-1a2b3c4d --reason "annual filtering review"
    """
    _show(checks.show_decision(state.ledger(), state.actor(), check_id, reason), fmt)


@monitoring.group("review")
def review() -> None:
    """Periodic reviews of filtering and monitoring (at least yearly).

    \b
    Example:
      ledger --as head monitoring review list
    """


@review.command("record")
@click.option("--period", required=True, metavar="START..END", help="Dates reviewed, e.g. 2024-09-01..2025-08-31.")
@click.option("--outcome", required=True, type=lazy.Choice(lambda: domain.REVIEW_OUTCOMES), help="What the review concluded.")
@click.option("--findings", required=True, help="What was checked and found (stored encrypted).")
@click.option("--actions", help="Changes to make and who makes them (stored encrypted; needed for changes-needed).")
@pass_state
def record_review(state: State, period: str, outcome: str, findings: str, actions: str | None) -> None:
    """Record a review of filtering and monitoring over a period.

    \b
    Example:
      ledger --as head monitoring review record --period 2024-09-01..2025-08-31 \\
        --outcome effective --findings "tested all categories; alerts reached the DSL"
    """
    emit(checks.record_review(state.ledger(), state.actor(), period, outcome, findings, actions))


@review.command("list")
@output_options
@pass_state
def list_reviews(state: State) -> list[dict[str, Any]]:
    """List reviews: id, when, by whom, period, outcome, when the next is due (no findings text).

    \b
    Example:
      ledger monitoring review list
    """
    return checks.list_reviews(state.ledger())


@review.command("show")
@click.argument("check_id")
@_access_reason
@_show_format
@pass_state
def show_review(state: State, check_id: str, reason: str, fmt: str) -> None:
    """Show a review's findings and actions (recorded in the access log).

    \b
    Example:
      ledger --as head monitoring review show mr-1a2b3c4d --reason "governors' report"
    """
    _show(checks.show_review(state.ledger(), state.actor(), check_id, reason), fmt)


COMMANDS = (monitoring,)
