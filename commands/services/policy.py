"""Policy versions, notice to staff, acknowledgements and who has acknowledged.

Everything decided here uses clear header facts only (version, text hash,
dates, staff ids), so a member of staff who cannot read the policy record's
body can still acknowledge it, and the status needs no decryption.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import select

from ledger import files, localtime
from ledger.domain.base import parse_date
from ledger.domain.people import StaffMember
from ledger.domain.policy import (
    PolicyAcknowledgement,
    PolicyVersion,
    acknowledgement_record_id,
    check_version_label,
    current_version,
    one_month_after,
    policy_record_id,
)
from ledger.errors import AlreadyExists, InvalidInput, LedgerError, NotFound
from ledger.registry import Registry
from ledger.roles import SELF
from ledger.store import Actor, Ledger, Unit
from projections import indexed, runner

#: Roles whose holders the policy covers (and who must acknowledge it).
def _covered_roles(ledger: Ledger) -> tuple[str, ...]:
    """The roles covered by the policy: those the permission table in force lets acknowledge it."""
    return tuple(r for r in ledger.permissions().writers_of("PolicyAcknowledgement.Recorded") if r != SELF)


def aggregate_ids(work: Unit, *created: type) -> list[uuid.UUID]:
    """Ids of every record started by one of the ``created`` event classes, oldest first."""
    table = work.ledger.app.events_table
    topics = [get_topic(cls) for cls in created]
    rows = work.conn.execute(
        select(table.c.originator_id).where(table.c.topic.in_(topics)).order_by(table.c.id)
    )
    return [uuid.UUID(str(value)) for (value,) in rows]


#: The largest file whose hash is recorded (a policy document, an image, a signed form).
MAX_HASHED_BYTES = 2 * 1024 * 1024 * 1024


def sha256_file(path: Path, what: str = "file") -> str:
    """The SHA-256 of a regular file's bytes (at most 2 GB), hex."""
    try:
        return files.sha256_of(Path(path), MAX_HASHED_BYTES)
    except NotFound:
        raise NotFound(f"no {what} at {path}", "check the path") from None


def _today(work: Unit) -> str:
    return work.today


def _versions(work: Unit, from_index: bool = False) -> list[PolicyVersion]:
    """Every published version, replayed from its checked entries; a read-only list
    may pick them from the entry index (``from_index``), a writer's rule checks never do."""
    if from_index:
        ids = [uuid.UUID(a) for a in indexed.started_by(work.conn, indexed.types_of(PolicyVersion.Published))]
    else:
        ids = aggregate_ids(work, PolicyVersion.Published)
    return [work.get(PolicyVersion, aggregate_id, "policy version", redacted=True) for aggregate_id in ids]


def _load_version(work: Unit, version: str) -> PolicyVersion:
    aggregate_id = policy_record_id(check_version_label(version))
    if not work.exists(aggregate_id):
        raise NotFound(f"no policy version {version!r}", "`ledger policy list` shows the published versions")
    return work.get(PolicyVersion, aggregate_id, "policy version", redacted=True)


def _version_row(version: PolicyVersion, as_of: str, current: PolicyVersion | None) -> dict[str, Any]:
    if current is not None and version.label == current.label:
        state = "current"
    elif version.effective_on > as_of:
        state = "upcoming"
    else:
        state = "superseded"
    notice = "not recorded" if version.notified_on is None else ("short (overridden)" if version.short_notice else "ok")
    return {
        "version": version.label,
        "state": state,
        "approved_on": version.approved_on,
        "effective_on": version.effective_on,
        "notified_on": version.notified_on,
        "notice": notice,
        "text_hash": version.text_hash,
    }


def publish_version(
    ledger: Ledger,
    actor: Actor,
    version: str,
    approved_on: str,
    effective_on: str,
    approved_by: str,
    text: str | None = None,
    file: Path | None = None,
    notified_on: str | None = None,
    override_reason: str | None = None,
) -> dict[str, Any]:
    """Record a version the Board approved: its text (or file) hash and dates.

    With ``notified_on`` the notice to staff is recorded in the same step
    (and refused if shorter than a month, unless ``override_reason``).
    """
    check_version_label(version)
    if text is not None and file is None:
        if not text.strip():
            raise InvalidInput("the policy text is empty")
        text_hash, file_name = hashlib.sha256(text.encode("utf-8")).hexdigest(), None
    elif file is not None and text is None:
        text_hash, file_name = sha256_file(file, "policy file"), Path(file).name
    else:
        raise InvalidInput("give the policy text or its file (one of them)", "use --text or --file")
    approved = parse_date("approval date", approved_on)
    effective = parse_date("effective date", effective_on)
    with ledger.unit(actor, write=True) as work:
        if work.exists(policy_record_id(version)):
            raise AlreadyExists(f"policy version {version} is already published", "choose a new version label")
        existing = _versions(work)
        policy = PolicyVersion.publish(version, text_hash, approved, effective, approved_by, text, file_name, existing)
        if notified_on is not None:
            policy.notify(parse_date("notification date", notified_on), _today(work), override_reason)
        work.save(policy)
        return _version_row(policy, _today(work), current_version([*existing, policy], _today(work)))


def notify_staff(
    ledger: Ledger, actor: Actor, version: str, notified_on: str, override_reason: str | None = None
) -> dict[str, Any]:
    """Record the day staff were notified of a version (at least a month ahead)."""
    notified = parse_date("notification date", notified_on)
    with ledger.unit(actor, write=True) as work:
        policy = _load_version(work, version)
        policy.notify(notified, _today(work), override_reason)
        work.save(policy)
        return _version_row(policy, _today(work), current_version(_versions(work), _today(work)))


def acknowledge(ledger: Ledger, actor: Actor, version: str | None = None) -> dict[str, Any]:
    """The acting member of staff acknowledges ``version`` (default: the current one)."""
    covered = _covered_roles(ledger)
    if not ledger.registry().roles_of(actor.actor_id) & set(covered):
        raise InvalidInput(
            f"{actor.actor_id} is not a member of staff covered by the policy",
            f"acknowledgements are by holders of: {', '.join(covered)}",
        )
    with ledger.unit(actor, write=True) as work:
        today = _today(work)
        versions = _versions(work)
        if version is None:
            chosen = current_version(versions, today)
            if chosen is None:
                raise NotFound(f"no policy version is in effect on {today}", "name the version to acknowledge")
        else:
            chosen = _load_version(work, version)
        if work.exists(acknowledgement_record_id(actor.actor_id, chosen.label)):
            raise AlreadyExists(f"{actor.actor_id} has already acknowledged version {chosen.label}")
        work.save(PolicyAcknowledgement.record(actor.actor_id, chosen, today, versions))
        return {"staff_id": actor.actor_id, "version": chosen.label, "text_hash": chosen.text_hash}


def list_versions(ledger: Ledger, as_of: str | None = None) -> list[dict[str, Any]]:
    """Every published version with its dates, notice and state on ``as_of`` (no text)."""
    runner.catch_up(ledger)
    with ledger.unit() as work:
        day = parse_date("date", as_of) if as_of else _today(work)
        versions = _versions(work, from_index=True)
        current = current_version(versions, day)
        return [_version_row(v, day, current) for v in sorted(versions, key=lambda v: v.effective_on)]


def _headers(work: Unit, registry: Registry, created: type) -> Iterator[dict[str, Any]]:
    """The signed clear headers of every entry of one event type, oldest first: picked
    from the entry index, each loaded from the log and checked against ``registry``."""
    for entry in indexed.checked_entries(work.conn, work.ledger.app.events_table, registry,
                                         indexed.types_of(created)):
        yield entry.header


def _acknowledgements(work: Unit, registry: Registry, as_of: str) -> dict[tuple[str, str], dt.datetime]:
    """(staff id, version) -> when acknowledged (local time), for acknowledgements recorded
    by the end of the local day ``as_of``."""
    zone = work.zone
    found = {
        (header["claims"]["staff_id"], header["claims"]["policy_version"]): localtime.local(header["recorded_at"], zone)
        for created in (PolicyAcknowledgement.Recorded, PolicyAcknowledgement.AssistedRecorded)
        for header in _headers(work, registry, created)
    }
    return {key: when for key, when in found.items() if when.date().isoformat() <= as_of}


def _assisted(work: Unit, registry: Registry) -> dict[tuple[str, str], str]:
    """(staff id, version) -> who entered the paper form, for assisted acknowledgements."""
    return {(h["claims"]["staff_id"], h["claims"]["policy_version"]): str(h["claims"]["entered_by"])
            for h in _headers(work, registry, PolicyAcknowledgement.AssistedRecorded)}


def acknowledgement_status(ledger: Ledger, actor: Actor, as_of: str | None = None) -> list[dict[str, Any]]:
    """Who has and has not acknowledged the version in force on ``as_of``, and since when.

    Outstanding since the later of the effective date and the day the member
    of staff was registered. Readers of acknowledgements (admin, Headteacher,
    SLT) see every member of staff; anyone else sees only their own row.
    """
    runner.catch_up(ledger)
    registry = ledger.registry()
    with ledger.unit(actor) as work:
        day = parse_date("date", as_of) if as_of else _today(work)
        versions = _versions(work, from_index=True)
        current = current_version(versions, day)
        if current is None:
            raise NotFound(f"no policy version is in effect on {day}", "`ledger policy list` shows the versions")
        acks = _acknowledgements(work, registry, day)
        assisted = _assisted(work, registry)
        joined = {h["claims"]["staff_id"]: localtime.today(h["recorded_at"], work.zone)
                  for h in _headers(work, registry, StaffMember.Registered)}
    staff = [(s.staff_id, s.roles) for s in registry.staff.values() if s.active]
    perms = ledger.permissions()
    sees_all = bool(registry.roles_of(actor.actor_id) & set(perms.readers_of("acknowledgement")))
    covered = _covered_roles(ledger)
    older = sorted((v for v in versions if v.effective_on < current.effective_on), key=lambda v: v.effective_on)
    rows = []
    for staff_id, roles in sorted(staff):
        if not set(roles) & set(covered) or not (sees_all or staff_id == actor.actor_id):
            continue
        when = acks.get((staff_id, current.label))
        previous = [v.label for v in older if (staff_id, v.label) in acks]
        rows.append(
            {
                "staff_id": staff_id,
                "version": current.label,
                "effective_on": current.effective_on,
                "acknowledged": when is not None,
                "acknowledged_at": when,
                "assisted_by": assisted.get((staff_id, current.label), "") if when else "",
                "outstanding_since": None if when else max(current.effective_on, joined.get(staff_id, "")),
                "previous_acknowledged": previous[-1] if previous else None,
            }
        )
    return rows


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Publish a version, notify staff, acknowledge it, and show who is outstanding."""
    today = dt.date.fromisoformat(ledger.today())
    approved, notified = today - dt.timedelta(days=60), today - dt.timedelta(days=45)
    first, second = f"{approved:%Y.%m}", f"{today:%Y.%m}"
    yield "Policy versions and acknowledgements"
    row = publish_version(
        ledger, actors["head"], first, approved.isoformat(), one_month_after(notified).isoformat(),
        "Board of Directors", text="Social Media, Mobile Phone and Smart Technology Policy",
        notified_on=notified.isoformat(),
    )
    yield f"  head published version {row['version']} (approved {row['approved_on']}, " \
          f"staff notified {row['notified_on']}, effective {row['effective_on']})"
    amended = "Social Media, Mobile Phone and Smart Technology Policy, annual review"
    try:
        publish_version(ledger, actors["head"], second, today.isoformat(), (today + dt.timedelta(days=14)).isoformat(),
                        "Board of Directors", text=amended, notified_on=today.isoformat())
    except LedgerError as refused:
        yield f"  refused: {refused.message}"
    row = publish_version(ledger, actors["head"], second, today.isoformat(), one_month_after(today).isoformat(),
                          "Board of Directors", text=amended, notified_on=today.isoformat())
    yield f"  head published version {row['version']} with a full month's notice: effective {row['effective_on']}"
    for who in ("head", "dsl", "teacher-1", "poster-1"):
        done = acknowledge(ledger, actors[who])
        yield f"  {who} acknowledged version {done['version']}"
    waiting = [r["staff_id"] for r in acknowledgement_status(ledger, actors["head"]) if not r["acknowledged"]]
    yield f"  not yet acknowledged: {', '.join(waiting)}"
