"""Monitoring alerts: import from files, list, read, link to incidents.

An import is one unit: every row is checked first, then one ImportBatch
record and one Alert per new row are written together, or nothing is. Alerts
already in the ledger (same source system and source record id) and rows
repeated within the file are skipped, so importing twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import select

from commands.services import authorisations
from commands.services.access import record_access
from commands.services.schools import checked_school
from commands.services.monitoring_import import AlertFile, AlertRow, alert_key, read_alert_file
from ledger import envelope, keystore, localtime, progress
from ledger.clock import iso
from ledger.domain.base import new_short_id, occurrence, record_id, require_text
from ledger.domain.monitoring import (
    Alert, ImportBatch, alert_id_for, alert_record_id, check_record_ref, import_batch_key_id,
)
from ledger.errors import NotFound, NotPermitted, RecordErased
from ledger.schema import actors
from ledger.store import Actor, Ledger, Unit
from projections import checked

_CHUNK = 500
_ALERT_TOPICS = {get_topic(c): c.__qualname__ for c in (Alert.Recorded, Alert.Linked, Alert.Unlinked, Alert.Dismissed)}


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    batch_id: str | None
    rows: int
    new_alerts: int
    already_recorded: int
    duplicates: int


def import_alerts(
    ledger: Ledger, actor: Actor, path: Path, file_format: str | None = None, assume_zone: str | None = None,
    school: str | None = None,
) -> ImportSummary:
    """Import a CSV or JSON Lines file of alerts, all or nothing.

    Nothing is written when no row is new (the file was imported before).
    """
    school = checked_school(ledger, school)
    checked = read_alert_file(path, iso(ledger.now()), file_format, assume_zone)
    with ledger.unit(actor, write=True) as work:
        return _import(work, checked, school)


def _import(work: Unit, checked: AlertFile, school: str | None) -> ImportSummary:
    existing = _existing(work, {alert_record_id(_alert_id(key)) for key in checked.first_lines})
    fresh = {key for key in checked.first_lines if alert_record_id(_alert_id(key)) not in existing}
    duplicates = checked.row_count - len(checked.first_lines)
    already = checked.row_count - duplicates - len(fresh)
    counts = {"rows": checked.row_count, "new_alerts": len(fresh), "already_recorded": already, "duplicates": duplicates}
    if not fresh:
        return ImportSummary(None, checked.row_count, 0, already, duplicates)

    def new_rows() -> Iterator[AlertRow]:
        return (r for r in checked.first_rows() if alert_key(r.alert_id) in fresh)

    if len(fresh) == len(checked.first_lines):  # a new file: the span the first reading found
        span = list(checked.first_span)
    else:  # some alerts were recorded before: the span of the new ones, read again
        times = [r.time for r in new_rows()]
        span = [min(times), max(times)]
        del times
    batch_id = new_short_id("ib")
    # Every new alert's data key is wrapped under one batch key, itself wrapped to
    # the reader roles. The batch key is not the ImportBatch record's own key, so
    # erasing the batch record (its file name) never takes linked alerts with it.
    batch_key = keystore.new_data_key(work.conn, work.registry, str(import_batch_key_id(batch_id)), "monitoring",
                                      work.now)
    work.save(ImportBatch.record(batch_id, checked.name, checked.file_format, checked.sha256, counts, span,
                                 batch_key[0]))
    work.ctx.batch_key = batch_key
    shown = progress.bar(len(fresh), "import", "alert")
    try:
        for chunk in _chunks(new_rows(), _CHUNK):
            known = _known_people(work, chunk)
            work.save(*[
                Alert.record(batch_id, r.source_system, r.source_record_id, occurrence(r.time, localtime.UTC),
                             r.category, r.severity, r.action, r.personal(), known, school)
                for r in chunk
            ])
            shown.update(len(chunk))
    finally:
        shown.close()
        work.ctx.batch_key = None
    return ImportSummary(batch_id, checked.row_count, len(fresh), already, duplicates)


def _alert_id(key: int) -> str:
    return f"al-{key:016x}"


def _chunks(rows: Iterable[AlertRow], size: int) -> Iterator[list[AlertRow]]:
    chunk: list[AlertRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _existing(work: Unit, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    table = work.ledger.app.events_table
    found: set[uuid.UUID] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        rows = work.conn.execute(select(table.c.originator_id).where(table.c.originator_id.in_(chunk)).distinct())
        found.update(uuid.UUID(str(r)) for (r,) in rows)
    return found


def _known_people(work: Unit, rows: Iterable[AlertRow]) -> set[str]:
    """Which user and device values are registered staff or subject ids."""
    values = sorted({v for r in rows for v in (r.user, r.device) if v})
    known: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        known.update(work.conn.execute(select(actors.c.actor_id).where(actors.c.actor_id.in_(chunk))).scalars())
    return known


def list_alerts(
    ledger: Ledger,
    category: str | None = None,
    severity: str | None = None,
    incident: str | None = None,
    unlinked: bool = False,
    since: str | None = None,
    until: str | None = None,
    reader: Actor | None = None,
    school: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts from their clear headers only: ids, time, category, severity, links. No personal data.

    Even without names, which alerts exist about whom (a self-harm search by a
    pupil's id) is for the roles that read monitoring records; ``reader`` is
    checked when given (the CLI and the desk always give it).

    ``since`` and ``until`` are typed in the federation's local time; a date
    covers that whole local day. Times come back in local time.
    """
    readers = ledger.permissions().readers_of("monitoring")
    if reader is not None and not ledger.registry().roles_of(reader.actor_id) & set(readers):
        raise NotPermitted(
            f"{reader.actor_id} may not list monitoring alerts",
            f"alerts are for: {', '.join(readers)}",
        )
    zone = ledger.timezone()
    start = localtime.moment("since", since, zone) if since else None
    end = _until(until, zone) if until else None
    alerts: dict[str, dict[str, Any]] = {}
    by_aggregate: dict[str, str] = {}
    table = ledger.app.events_table
    registry = ledger.registry()
    with ledger.engine.connect() as conn:
        for checked_entry in checked.checked_entries(conn, table, registry, table.c.topic.in_(list(_ALERT_TOPICS))):
            topic, entry = checked_entry.topic, envelope.parse(checked_entry.state)
            header, claims = entry.header, entry.header["claims"]
            if _ALERT_TOPICS[topic] == "Alert.Recorded":
                by_aggregate[header["aggregate"]] = claims["alert_id"]
                alerts[claims["alert_id"]] = {
                    "id": claims["alert_id"], "time": localtime.local(header["occurred_at"]["at"], zone),
                    "source": claims["source_system"], "category": claims["category"],
                    "severity": claims["severity"], "action": claims["action"], "incidents": [],
                    "school": claims.get("school") or "",
                    "erased": entry.erased, "dismissed": False,
                }
                continue
            links = alerts[by_aggregate[header["aggregate"]]]["incidents"]
            if _ALERT_TOPICS[topic] == "Alert.Dismissed":
                alerts[by_aggregate[header["aggregate"]]]["dismissed"] = True
            elif _ALERT_TOPICS[topic] == "Alert.Linked":
                links.append(claims["incident_id"])
            elif claims["incident_id"] in links:
                links.remove(claims["incident_id"])
    chosen = [
        a for a in alerts.values()
        if (category is None or a["category"] == category)
        and (severity is None or a["severity"] == severity)
        and (incident is None or incident in a["incidents"])
        and (not unlinked or not a["incidents"])
        and (school is None or a["school"] == school)
        and (start is None or a["time"] >= start)
        and (end is None or a["time"] < end)
    ]
    return sorted(chosen, key=lambda a: (a["time"], a["id"]))


def _until(value: str, zone: Any) -> dt.datetime:
    """The first moment after ``--until``: after that local day for a date, else just after that time."""
    if localtime.is_date(value):
        return localtime.end_of_day(localtime.date("until", value), zone)
    return localtime.moment("until", value, zone) + dt.timedelta(microseconds=1)


def _load_alert(work: Unit, actor: Actor, alert_id: str) -> Alert:
    aggregate_id = alert_record_id(check_record_ref("alert id", alert_id))
    if not work.exists(aggregate_id):
        raise NotFound(f"no alert {alert_id!r}", "`ledger monitoring alerts list` shows them")
    try:
        alert: Alert = work.get(Alert, aggregate_id, "alert")
    except RecordErased as exc:
        raise RecordErased(f"alert {alert_id} was erased: its content no longer exists", exc.hint) from None
    except NotPermitted:
        raise NotPermitted(
            f"{actor.actor_id} may not read alert {alert_id}",
            f"only these roles may: {', '.join(work.ledger.permissions().readers_of('monitoring'))}",
        ) from None
    return alert


def show_alert(ledger: Ledger, actor: Actor, alert_id: str, reason: str) -> dict[str, Any]:
    """An alert's decrypted details; the read is recorded in the access log with ``reason``."""
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        alert = _load_alert(work, actor, alert_id)
        record_access(work, actor.actor_id, "read", [str(alert.id)], alert.subjects, reason)
        when = localtime.local(alert.occurred_at["at"], work.zone)
    return {
        "id": alert.alert_id, "time": when, "source": alert.source_system,
        "source_record_id": alert.source_record_id, "category": alert.category, "severity": alert.severity,
        "action": alert.action, "user": alert.user, "user_id": alert.user_id, "device": alert.device,
        "device_id": alert.device_id, "rule": alert.rule, "detail": alert.detail, "batch": alert.batch_id,
        "incidents": ",".join(alert.incidents),
    }


def link_alert(ledger: Ledger, actor: Actor, alert_id: str, incident_id: str, note: str | None = None) -> None:
    """Link an alert to an incident; it then follows the incident's retention."""
    check_record_ref("incident id", incident_id)
    with ledger.unit(actor, write=True) as work:
        alert = _load_alert(work, actor, alert_id)
        if not work.exists(record_id("incident", incident_id)):
            raise NotFound(f"no incident {incident_id!r}", "check the id: `ledger incidents list` shows them")
        authorisations.require_for_alert(work, alert)
        alert.link(incident_id, note)
        work.save(alert)


def dismiss_alert(ledger: Ledger, actor: Actor, alert_id: str, reason: str) -> None:
    """Having read an alert, record that it raises no concern: it leaves the inbox."""
    with ledger.unit(actor, write=True) as work:
        alert = _load_alert(work, actor, alert_id)
        alert.dismiss(reason, work.today)
        work.save(alert)


def unlink_alert(ledger: Ledger, actor: Actor, alert_id: str, incident_id: str, reason: str) -> None:
    """Correct a wrong link; the original link stays in the log."""
    with ledger.unit(actor, write=True) as work:
        alert = _load_alert(work, actor, alert_id)
        alert.unlink(incident_id, reason)
        work.save(alert)


def _demo_file(folder: Path, subjects: dict[str, str], today: str) -> Path:
    day = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
    lines = [
        "time,source_system,source_record_id,device,user,category,severity,rule,action,detail",
        f"{day}T09:12:00Z,smoothwall,SW-1001,OAK-LAPTOP-07,{subjects['pupil1']},social-media,low,"
        "Social networking,blocked,instagram.com during maths",
        f"{day}T10:40:00+01:00,smoothwall,SW-1002,OAK-LAPTOP-07,{subjects['pupil1']},bullying,high,"
        '"Keyword: bullying",flagged,"typed a message calling a classmate names"',
        f"{day}T13:05:00Z,smoothwall,SW-1003,ELM-DESK-02,jsmith22,gambling,medium,Gambling,blocked,betting site",
    ]
    path = folder / "smoothwall-export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _an_incident(ledger: Ledger) -> str | None:
    """A reported incident's id from clear headers, child-on-child first (for the demo's link)."""
    table = ledger.app.events_table
    found: dict[str, str] = {}
    with ledger.engine.connect() as conn:
        for topic, state in conn.execute(select(table.c.topic, table.c.state).order_by(table.c.id)):
            if topic.endswith(":Incident.Reported"):
                claims = envelope.parse(bytes(state)).header["claims"]
                if claims.get("inc_id"):
                    found.setdefault(str(claims.get("category")), str(claims["inc_id"]))
    return found.get("child-on-child") or next(iter(found.values()), None)


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Monitoring: an import (twice), a link, a read, a filtering decision and a review."""
    from commands.services import monitoring_checks as checks

    it, dsl, head = actors["it-manager"], actors["dsl"], actors["head"]
    with tempfile.TemporaryDirectory() as folder:
        path = _demo_file(Path(folder), subjects, ledger.today())
        done = import_alerts(ledger, it, path)
        yield f"  it-manager imported {done.new_alerts} alerts from {path.name} as batch {done.batch_id}"
        again = import_alerts(ledger, it, path)
        yield f"  it-manager imported the same file again: {again.new_alerts} new, {again.already_recorded} already recorded"
    flagged = alert_id_for("smoothwall", "SW-1002")
    incident = _an_incident(ledger)
    if incident:
        link_alert(ledger, dsl, flagged, incident, "the bullying alert that started this incident")
        yield f"  dsl linked alert {flagged} to incident {incident} (it now follows that incident's retention)"
    else:
        yield "  (no incident in this ledger yet: the alert stays unlinked)"
    shown = show_alert(ledger, dsl, flagged, "checking the alert before speaking to the pupil")
    yield f"  dsl read alert {flagged} ({shown['category']}, {shown['severity']}); the read is in the access log"
    decision = checks.record_decision(ledger, it, "block", "tiktok.com", "personal social media is not permitted "
                                      "on Federation systems (policy: Personal use of social media)",
                                      category="social-media")
    yield f"  it-manager recorded filtering decision {decision}: block tiktok.com"
    today = ledger.today()
    year_ago = (dt.date.fromisoformat(today) - dt.timedelta(days=365)).isoformat()
    review = checks.record_review(ledger, head, f"{year_ago}..{today}", "effective",
                                  "filtering blocked the tested categories; alerts reached the DSL the same day")
    yield f"  head recorded the yearly filtering and monitoring review {review}"
