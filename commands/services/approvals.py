"""Approvals: social media posts, photo devices and permissions.

Staff propose and request; the Headteacher decides; designated posters
publish. Steps by someone who may not read a request (the proposing teacher,
the device owner) load it header-only: every rule depends on clear facts.
Steps that need to see the request (checking a post, deciding, publishing)
load it in full, so only the roles that may read it can take them.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from commands.services.directory import name_columns, resolve
from commands.services.access import record_access
from commands.services.schools import checked_school, school_filter
from commands.services.policy import sha256_file
from ledger import localtime
from ledger.domain.approvals import (
    APPROVED,
    GRANTED,
    REJECTED,
    DeviceApproval,
    PermissionRequest,
    Request,
    SocialMediaPost,
    request_record_id,
)
from ledger.domain.base import new_short_id, parse_date, require_text
from ledger.domain.people import Subject, staff_record_id, subject_record_id
from ledger.errors import InvalidInput, LedgerError, NotFound, NotPermitted
from ledger.store import Actor, Ledger, Unit
from projections import indexed, runner

R = TypeVar("R", bound=Request)



class Kind(NamedTuple):
    """One kind of request: its aggregate, first event, name and record class."""

    cls: type[Request]
    created: type
    what: str
    record_class: str


#: Id prefix -> kind of request.
KINDS: dict[str, Kind] = {
    "post": Kind(SocialMediaPost, SocialMediaPost.Proposed, "post", "approval"),
    "dev": Kind(DeviceApproval, DeviceApproval.Requested, "device request", "device_approval"),
    "perm": Kind(PermissionRequest, PermissionRequest.Requested, "permission request", "permission"),
}

COLUMNS = (
    "id", "kind", "school", "requested_by", "status", "subjects", "covered", "decided_on", "valid_until",
    "published_on", "removed_on", "photos_deleted_on", "blocked_by", "conditions",
)


def _today(work: Unit) -> str:
    return work.today


def _kind_of(request_id: str) -> Kind:
    prefix = request_id.split("-", 1)[0]
    if prefix not in KINDS or "-" not in request_id:
        raise NotFound(f"no approval request {request_id!r}", "ids look like post-…, dev-… or perm-…")
    return KINDS[prefix]


def _check_kind(request_id: str, expected: str | None) -> None:
    """Refuse a request id of another kind than the command (``expected`` id prefix) handles."""
    actual = _kind_of(request_id)
    if expected is not None and KINDS[expected].cls is not actual.cls:
        group = {"post": "post", "dev": "device", "perm": "permission"}[request_id.split("-", 1)[0]]
        raise InvalidInput(
            f"{request_id} is a {actual.what}, not a {KINDS[expected].what}",
            f"use `ledger approvals {group} …` for {request_id}",
        )


def _load(work: Unit, cls: type[R], request_id: str, full: bool = False) -> R:
    """A request of class ``cls``; ``full`` needs the actor to be able to read it."""
    _, _, what, record_class = _kind_of(request_id)
    _check_kind(request_id, _prefix(cls))
    aggregate_id = request_record_id(request_id)
    if not work.exists(aggregate_id):
        raise NotFound(f"no {what} {request_id}", "`ledger approvals list` shows the requests you may see")
    try:
        return work.get(cls, aggregate_id, what, redacted=not full)
    except NotPermitted:
        roles = ", ".join(work.ledger.permissions().readers_of(record_class))
        raise NotPermitted(
            f"{work.ctx.pair.actor_id if work.ctx.pair else 'you'} may not see {what} {request_id}",
            f"only these roles can: {roles}",
        ) from None


def _prefix(cls: type[Request]) -> str:
    return next(prefix for prefix, kind in KINDS.items() if kind.cls is cls)


def _check_subject(work: Unit, subject_id: str, kinds: tuple[str, ...], what: str) -> None:
    if not work.exists(subject_record_id(subject_id)):
        raise NotFound(f"no {what} {subject_id!r}", "register them with `ledger people add-subject` first")
    subject = work.get(Subject, subject_record_id(subject_id), "subject", redacted=True)
    if subject.kind not in kinds:
        raise InvalidInput(f"{subject_id} is a {subject.kind}, not a {what}")


def _check_own(actor: Actor, request: Request, also: tuple[str, ...] = ("headteacher",)) -> None:
    if actor.actor_id != request.requested_by and not set(actor.roles) & set(also):
        raise NotPermitted(
            f"{actor.actor_id} may not add to {request.request_id}",
            f"only {request.requested_by} (who asked) or the {', '.join(also)} may",
        )


def _optional_date(name: str, value: str | None, default: str) -> str:
    return parse_date(name, value) if value else default


# -- social media posts -------------------------------------------------------


def propose_post(
    ledger: Ledger, actor: Actor, text: str, children: Sequence[str], images: Sequence[Path | bytes], account: str,
    school: str | None = None,
) -> str:
    """Propose a post: its text, images (files or their bytes, recorded by SHA-256 only) and the children in it."""
    hashes = [hashlib.sha256(image).hexdigest() if isinstance(image, bytes) else sha256_file(image, "image")
              for image in images]
    post_id = new_short_id("post")
    school = checked_school(ledger, school)
    children = [resolve(ledger, actor, child, "pupil") for child in children]
    with ledger.unit(actor, write=True) as work:
        for child in children:
            _check_subject(work, child, ("pupil",), "pupil")
        work.save(SocialMediaPost.propose(post_id, actor.actor_id, account, text, list(children), hashes,
                                           school))
    return post_id


def record_parental_permission(
    ledger: Ledger,
    actor: Actor,
    post_id: str,
    child: str,
    given_on: str,
    parent: str | None = None,
    withdrawn: bool = False,
    evidence: Path | None = None,
    note: str | None = None,
) -> None:
    """Record a parent's permission (or its withdrawal) for one child in a post."""
    given = parse_date("permission date", given_on)
    evidence_hash = sha256_file(evidence, "evidence file") if evidence else None
    with ledger.unit(actor, write=True) as work:
        post = _load(work, SocialMediaPost, post_id)
        if parent:
            _check_subject(work, parent, ("parent", "carer"), "parent or carer")
        post.record_permission(
            child, "withdrawn" if withdrawn else GRANTED, given, _today(work), parent, evidence_hash, note
        )
        work.save(post)


def check_identifying(ledger: Ledger, actor: Actor, post_id: str, found: bool, note: str | None = None) -> None:
    """Record whether anything in the post identifies a child (the checker must see it)."""
    with ledger.unit(actor, write=True) as work:
        post = _load(work, SocialMediaPost, post_id, full=True)
        post.check_identifying(found, _today(work), note)
        work.save(post)


def publish_post(ledger: Ledger, actor: Actor, post_id: str, link: str | None = None, on: str | None = None) -> None:
    """A designated poster publishes an approved post."""
    with ledger.unit(actor, write=True) as work:
        post = _load(work, SocialMediaPost, post_id, full=True)
        post.publish(_optional_date("publication date", on, _today(work)), _today(work), link)
        work.save(post)


def remove_post(ledger: Ledger, actor: Actor, post_id: str, reason: str, on: str | None = None) -> None:
    """Take a published post down (the removal date drives retention)."""
    with ledger.unit(actor, write=True) as work:
        post = _load(work, SocialMediaPost, post_id, full=True)
        post.remove(reason, _optional_date("removal date", on, _today(work)), _today(work))
        work.save(post)


# -- decisions (every kind) ---------------------------------------------------


def decide(
    ledger: Ledger,
    actor: Actor,
    request_id: str,
    outcome: str,
    reason: str,
    valid_until: str | None = None,
    waive_training: bool = False,
    kind: str | None = None,
    conditions: Sequence[str] = (),
    condition_details: str | None = None,
) -> str:
    """The Headteacher approves or rejects a request, with a reason and (approving) any
    requirements and restrictions; returns its status."""
    _check_kind(request_id, kind)
    cls = _kind_of(request_id).cls
    until = parse_date("end date", valid_until) if valid_until else None
    with ledger.unit(actor, write=True) as work:
        request = _load(work, cls, request_id, full=True)
        today = _today(work)
        if isinstance(request, SocialMediaPost):
            if until or waive_training:
                raise InvalidInput("a post's approval has no end date or training to waive")
            request.decide(outcome, reason, today)
        elif isinstance(request, DeviceApproval):
            if waive_training:
                raise InvalidInput("a device approval has no training to waive")
            request.decide(outcome, reason, today, until)
        elif isinstance(request, PermissionRequest):
            request.decide(outcome, reason, today, until, waive_training)
        if conditions or condition_details:
            request.set_conditions(conditions, condition_details)
        work.save(request)
        return request.status


def revoke(ledger: Ledger, actor: Actor, request_id: str, reason: str, kind: str | None = None) -> None:
    """Revoke a standing decision by a later event (the decision itself stays on record)."""
    _check_kind(request_id, kind)
    cls = _kind_of(request_id).cls
    with ledger.unit(actor, write=True) as work:
        request = _load(work, cls, request_id, full=True)
        if isinstance(request, (SocialMediaPost, DeviceApproval, PermissionRequest)):
            request.revoke(reason, _today(work))
        work.save(request)


# -- devices ------------------------------------------------------------------


def request_device(
    ledger: Ledger, actor: Actor, device: str, purpose: str, needed_from: str, needed_until: str,
    school: str | None = None,
) -> str:
    """Ask in advance to take photos on a device the Federation does not own."""
    start = parse_date("start date", needed_from)
    end = parse_date("end date", needed_until)
    request_id = new_short_id("dev")
    school = checked_school(ledger, school)
    with ledger.unit(actor, write=True) as work:
        work.save(DeviceApproval.request(request_id, actor.actor_id, device, purpose, start, end, _today(work),
                                         school))
    return request_id


def confirm_deleted(
    ledger: Ledger,
    actor: Actor,
    request_id: str,
    uploaded_on: str,
    deleted_on: str | None = None,
    photo_count: int = 0,
    note: str | None = None,
) -> None:
    """The device owner (or the Headteacher) confirms photos were deleted after upload."""
    uploaded = parse_date("upload date", uploaded_on)
    with ledger.unit(actor, write=True) as work:
        device = _load(work, DeviceApproval, request_id)
        _check_own(actor, device)
        deleted = _optional_date("deletion date", deleted_on, _today(work))
        device.confirm_deleted(uploaded, deleted, photo_count, _today(work), note)
        work.save(device)


# -- permissions --------------------------------------------------------------


def request_permission(ledger: Ledger, actor: Actor, kind: str, details: str, about: Sequence[str] = (),
                       school: str | None = None) -> str:
    """Ask the Headteacher for a permission the policy requires."""
    request_id = new_short_id("perm")
    school = checked_school(ledger, school)
    about = [resolve(ledger, actor, person) for person in about]
    with ledger.unit(actor, write=True) as work:
        for person in about:
            if not (work.exists(subject_record_id(person)) or work.exists(staff_record_id(person))):
                raise NotFound(f"no person {person!r}", "`ledger people list` shows them")
        work.save(PermissionRequest.request(request_id, actor.actor_id, kind, details, list(about), school))
    return request_id


def record_consent(
    ledger: Ledger,
    actor: Actor,
    request_id: str,
    person: str,
    given_on: str,
    given_by: str | None = None,
    evidence: Path | None = None,
    note: str | None = None,
) -> None:
    """Record the advance written permission of someone a post will be about."""
    given = parse_date("permission date", given_on)
    evidence_hash = sha256_file(evidence, "evidence file") if evidence else None
    with ledger.unit(actor, write=True) as work:
        request = _load(work, PermissionRequest, request_id)
        _check_own(actor, request, ("headteacher", "slt"))
        if given_by:
            _check_subject(work, given_by, ("parent", "carer"), "parent or carer")
        request.record_consent(person, given, _today(work), given_by, evidence_hash, note)
        work.save(request)


def record_training(ledger: Ledger, actor: Actor, request_id: str, completed_on: str, course: str) -> None:
    """Record the training completed before speaking on behalf of the Federation."""
    completed = parse_date("completion date", completed_on)
    with ledger.unit(actor, write=True) as work:
        request = _load(work, PermissionRequest, request_id)
        _check_own(actor, request, ("headteacher", "slt"))
        request.record_training(completed, course, _today(work))
        work.save(request)


def record_discussion(ledger: Ledger, actor: Actor, request_id: str, discussed_with: str, own_views_statement: bool,
                      on: str | None = None, note: str | None = None) -> None:
    """The line manager (head of department, or SLT member) records, and signs, the discussion
    held before someone posts as an identified member of staff."""
    with ledger.unit(actor, write=True) as work:
        day = parse_date("discussion date", on) if on else _today(work)
        request = _load(work, PermissionRequest, request_id)
        request.record_discussion(discussed_with, actor.actor_id, day, own_views_statement, _today(work), note)
        work.save(request)


# -- reading ------------------------------------------------------------------


def _visible(actor: Actor, request: Request) -> bool:
    roles = set(actor.roles)
    if roles & {"headteacher", "slt"}:
        return True
    if "poster" in roles and isinstance(request, SocialMediaPost):
        return True
    return request.requested_by == actor.actor_id


def list_approvals(
    ledger: Ledger, actor: Actor, kind: str | None = None, pending: bool = False, school: str | None = None,
) -> list[dict[str, Any]]:
    """Requests the actor may see: status and what blocks each (no text, names or reasons).

    The Headteacher and SLT see every request, posters every post, anyone
    else their own. ``kind`` is post, device or a permission kind. The entry
    index picks the requests; each is replayed from its checked entries.
    """
    school = school_filter(ledger, school)
    runner.catch_up(ledger)
    with ledger.unit(actor) as work:
        today = _today(work)
        requests: list[Request] = []
        for cls, created, what, _ in KINDS.values():
            for aggregate in indexed.started_by(work.conn, indexed.types_of(created)):
                requests.append(work.get(cls, uuid.UUID(aggregate), what, redacted=True))
    rows = []
    for request in requests:
        row = request.row(today)
        if not _visible(actor, request) or (kind and row["kind"] != kind) or (pending and not row["blocked_by"]):
            continue
        if school and row["school"] != school:
            continue
        rows.append({c: row.get(c) for c in COLUMNS})
    return name_columns(ledger, actor, rows, ("requested_by", "subjects"))


def show(ledger: Ledger, actor: Actor, request_id: str, reason: str) -> dict[str, Any]:
    """A request's full, decrypted history, for those who may read it; the read is logged."""
    reason = require_text("reason", reason, 2000)
    with ledger.unit(actor, write=True) as work:
        request = _load(work, _kind_of(request_id).cls, request_id, full=True)
        aggregate_id = request_record_id(request_id)
        events: list[Any] = list(work.ledger.app.events.get(aggregate_id))
        zone = work.zone
        history = [f"{localtime.shown(localtime.local(e.timestamp, zone))}  {e.describe()}" for e in events]
        row = request.row(_today(work))
        record_access(work, actor.actor_id, "read", [str(aggregate_id)], row["subjects"], reason)
    return {"id": request_id, "kind": row["kind"], "status": row["status"], "blocked_by": row["blocked_by"],
            "history": history}


# -- demo ---------------------------------------------------------------------


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """A post from proposal to publication, a device approval and two permissions."""
    today = ledger.today()
    yield "Approvals (the Headteacher decides)"
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "sports-day.jpg"
        image.write_bytes(b"demo photo: blank certificates, no names visible")
        post = propose_post(
            ledger, actors["teacher-1"], "Well done to Year 3 on sports day!",
            [subjects["pupil1"], subjects["pupil2"]], [image], "facebook",
        )
    yield f"  teacher-1 proposed {post} with {subjects['pupil1']} and {subjects['pupil2']} (image by hash only)"
    try:
        publish_post(ledger, actors["poster-1"], post)
    except LedgerError as refused:
        yield f"  poster-1 refused: {refused.message}"
    record_parental_permission(ledger, actors["teacher-1"], post, subjects["pupil1"], today, subjects["parent1"])
    record_parental_permission(ledger, actors["teacher-1"], post, subjects["pupil2"], today)
    yield "  teacher-1 recorded parental permission for both children"
    check_identifying(ledger, actors["poster-1"], post, found=False)
    yield "  poster-1 checked: nothing identifies a child"
    decide(ledger, actors["head"], post, APPROVED, "positive post about pupils' achievements")
    publish_post(ledger, actors["poster-1"], post, "https://facebook.example/federation/posts/1")
    yield f"  head approved it to go live; poster-1 published {post}"
    device = request_device(
        ledger, actors["teacher-2"], "personal phone", "photos of the school trip", today, today
    )
    decide(ledger, actors["head"], device, APPROVED, "no school camera free for the trip")
    confirm_deleted(ledger, actors["teacher-2"], device, today, today, 12)
    yield f"  teacher-2's {device} approved for today; 12 photos uploaded and deleted from the phone"
    linkedin = request_permission(ledger, actors["teacher-1"], "linkedin", "mention my teaching post")
    decide(ledger, actors["head"], linkedin, REJECTED, "please resubmit with the wording you intend to use")
    yield f"  head rejected {linkedin} (LinkedIn mention), with a reason"
    speak = request_permission(ledger, actors["slt"], "speak", "run the parents' Q&A on the school page")
    try:
        decide(ledger, actors["head"], speak, APPROVED, "experienced member of SLT")
    except LedgerError as refused:
        yield f"  head could not approve yet: {refused.message}"
    record_training(ledger, actors["slt"], speak, today, "Federation social media training")
    decide(ledger, actors["head"], speak, APPROVED, "training completed", valid_until=today)
    yield f"  slt recorded training; head approved {speak} (speaking for the Federation)"
    pending = list_approvals(ledger, actors["head"], pending=True)
    for row in pending:
        yield f"  outstanding: {row['id']} ({row['kind']}) waiting for {row['blocked_by']}"
    if not pending:
        yield "  nothing outstanding: `ledger --as head approvals list` shows every request"
