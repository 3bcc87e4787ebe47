"""Transfer of a child protection file to the child's next school, and taking one in.

Sending (``leave``, ``send``, ``record_receipt``): the DSL records the pupil leaving (the signed
start of KCSIE's 5 school days), then sends the child's safeguarding records as the same signed,
verifiable bundle ``ledger export --person`` writes, sealed for the receiving DSL (their X25519
key, or a passphrase given by phone) and signed by the ledger; the export, the "file sent"
entry and the access-log entry commit in one transaction and the file is renamed into place only
after, so a refusal writes nothing. A receipt is recorded only when its signature, the file it
names, the key that signed it and its proof of opening all check.

Receiving (``take_in``, ``open_received``): the file is opened and verified exactly as the
standalone tool does; the sending ledger's entries are not re-signed by anyone here: the sealed
file is kept as it came, and one ``ReceivedFile`` entry signed by the receiving DSL records what
was checked, holding the key that opens the kept file in its encrypted body. The receipt is the
standalone tool's, signed with the receiving DSL's transfer key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import select

from commands.services import export
from commands.services.access import record_access
from commands.services.directory import label as directory_label
from commands.services.readside import ensure_current
from ledger import crypto, files, localtime, schooldays
from ledger import transfer_box as box
from ledger import verify_bundle as checker
from ledger.domain.base import parse_date, require_text
from ledger.domain.people import StaffMember, Subject, staff_record_id, subject_record_id
from ledger.domain.transfer import (ChildFileTransfer, ClosureDays, ReceivedFile, closure_dates,
                                    closures_record_id, received_record_id, transfer_record_id)
from ledger.errors import (AlreadyExists, InvalidInput, NotFound, NotPermitted, RecordErased, RuleViolation,
                           VerificationFailed)
from ledger.store import Actor, Ledger, Unit
from projections.timeline import Selection, build

#: KCSIE: within 5 school days of leaving (or of the start of the new term).
DUE_SCHOOL_DAYS = 5
SENDERS = ("dsl", "headteacher")
#: A passphrase read out by phone: long enough that guessing it offline is out of reach.
MIN_PHONE_PASSPHRASE = 16
#: Events of the transfer itself: a file holding only these holds no child protection record.
OWN_EVENTS = ("ChildFileTransfer.", "ReceivedFile.", "EvidenceExport.", "AccessRecord.")
RECEIVED_FOLDER = "transfers/received"


def _require_sender(actor: Actor) -> None:
    if not set(SENDERS) & actor.roles:
        raise NotPermitted(f"{actor.actor_id} may not transfer or take in a child protection file",
                           "the DSL (or the Headteacher) does: KCSIE gives the transfer to the DSL")


# -- closure days and due dates -------------------------------------------------------------------


def closure_days(work: Unit) -> frozenset[dt.date]:
    """The federation's closure days, from their signed entry (none recorded: none)."""
    if not work.exists(closures_record_id()):
        return frozenset()
    return closure_dates(work.get(ClosureDays, closures_record_id(), "closure days", redacted=True).days)


def set_closures(ledger: Ledger, actor: Actor, days: list[str], reason: str,
                 remove: list[str] | None = None) -> list[str]:
    """Add closure days to the federation's list (and take away ``remove``), as a signed entry:
    each a weekday that is not a bank holiday (those are never school days anyway)."""
    writers = ledger.permissions().writers_of("ClosureDays.Set")
    if not set(ledger.registry().roles_of(actor.actor_id)) & set(writers):
        raise NotPermitted(f"{actor.actor_id} may not set the closure days",
                           "the Headteacher or the IT manager records them (`--as head`)")
    if not days and not remove:
        raise InvalidInput("give the closure days to add (--day) or to take away (--remove)")
    added = {parse_date("closure day", d) for d in days}
    for day in sorted(added):
        date = dt.date.fromisoformat(day)
        if date.weekday() >= 5:
            raise InvalidInput(f"{day} is a {date.strftime('%A')}, never a school day",
                               "record only weekdays the schools are closed (INSET days, holidays)")
        if schooldays.bank_holiday(date):
            raise InvalidInput(f"{day} is a bank holiday in England, never a school day", "leave it out")
    with ledger.unit(actor, write=True) as work:
        current = set(closure_dates(work.get(ClosureDays, closures_record_id(), "closure days", redacted=True).days)
                      if work.exists(closures_record_id()) else ())
        taken = {parse_date("closure day", d) for d in remove or []}
        missing = sorted(taken - {d.isoformat() for d in current})
        if missing:
            raise InvalidInput(f"{', '.join(missing)} is not a closure day", "`--remove` takes away a recorded one")
        wanted = sorted(({d.isoformat() for d in current} | added) - taken)
        if work.exists(closures_record_id()):
            record = work.get(ClosureDays, closures_record_id(), "closure days", redacted=True)
            record.change(wanted, reason)
        else:
            record = ClosureDays.start(wanted, reason)
        work.save(record)
        return list(record.days)


def due_by(left_on: str, count_from: str, closures: frozenset[dt.date]) -> str:
    """The day the file is due: the 5th school day after the leaving day, or, for a pupil who left at
    the end of a term, the 5th school day of the new term (its first school day is day 1)."""
    start = dt.date.fromisoformat(count_from)
    if count_from != left_on:
        start -= dt.timedelta(days=1)
    return schooldays.add_school_days(start, DUE_SCHOOL_DAYS, closures).isoformat()


def _due(transfer: ChildFileTransfer, closures: frozenset[dt.date]) -> str:
    return due_by(transfer.left_on, transfer.count_from, closures)


def same_school(one: str, other: str) -> bool:
    """Whether two school names are the same, ignoring case and spacing."""
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


# -- finding transfers ---------------------------------------------------------------------------------


def _transfers(work: Unit, person: str | None = None) -> list[ChildFileTransfer]:
    """Every transfer recorded (of ``person``), oldest first, from checked entries (clear claims only)."""
    events = work.ledger.app.events_table
    ids = work.conn.execute(select(events.c.originator_id).where(
        events.c.topic == get_topic(ChildFileTransfer.PupilLeft)).order_by(events.c.id)).scalars().all()
    found = [work.get(ChildFileTransfer, i, "transfer", redacted=True) for i in ids]
    return [t for t in found if person is None or t.person == person]


def _superseded(transfer: ChildFileTransfer, found: list[ChildFileTransfer]) -> bool:
    """Whether a later leaving of the same pupil replaces this one, which sent nothing: recording a
    leaving again is how a wrong date or school is put right (the earlier entry stays, signed)."""
    later = found[found.index(transfer) + 1:]
    return not transfer.sent and any(t.person == transfer.person for t in later)


@dataclass(frozen=True)
class Leaving:
    """A pupil's leaving, recorded."""

    transfer_id: str
    person: str
    left_on: str
    due_by: str
    #: The pupil as the actor may name them: ``Name (id)``, or the id.
    person_label: str = ""
    #: Whether the pupil was found by a name (to echo who was matched), not given by id.
    matched: bool = False
    #: Earlier transfers of this pupil that already sent a file (``tr-… sent …``), to say so.
    earlier: tuple[str, ...] = ()


def _label(ledger: Ledger, actor: Actor, person: str) -> str:
    """``Name (id)`` for a reader of the pupil's record, else the id."""
    from commands.services.directory import labels

    return labels(ledger, actor, [person]).get(person, person)


def leave(ledger: Ledger, actor: Actor, person: str, left_on: str, to_school: str,
          new_term: str | None = None) -> Leaving:
    """Record that a pupil left for ``to_school``: the signed start of the 5 school days."""
    _require_sender(actor)
    from commands.services.directory import resolve

    given, person = person, resolve(ledger, actor, person)
    with ledger.unit(actor, write=True) as work:
        if not work.exists(subject_record_id(person)) or getattr(
                work.get(Subject, subject_record_id(person), "person", redacted=True), "kind", None) != "pupil":
            raise NotFound(f"{person} is not a pupil of this ledger", "`ledger people find NAME` shows pupils' ids")
        if parse_date("leaving date", left_on) > work.today:
            raise InvalidInput(f"the leaving date {left_on} is in the future",
                               "record the leaving on or after the day the pupil leaves")
        earlier = tuple(
            f"{t.transfer_id}: a file was sent on {localtime.local(str(t.sent[-1]['sent_at']), work.zone).date()}"
            + (", its receipt recorded" if t.receipts else "") for t in _transfers(work, person) if t.sent)
        record = ChildFileTransfer.leave(person, left_on, to_school, new_term)
        work.save(record)
        done = Leaving(record.transfer_id, person, record.left_on, _due(record, closure_days(work)),
                       earlier=earlier)
    return dataclasses.replace(done, person_label=_label(ledger, actor, person), matched=given.strip() != person)


# -- sending -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRequest:
    """What to send, to whom, how sealed, and where to write the sealed file."""

    person: str
    to_school: str
    out: Path
    to_key: Path | None = None
    passphrase: str | None = None
    force: bool = False
    #: Send another copy when one was already sent (the first lost or unreadable).
    again: bool = False
    #: Why the file goes after its 5 school days (required then; recorded with the sending).
    late_reason: str | None = None


@dataclass(frozen=True)
class Sent:
    """A sealed file written and its sending recorded."""

    transfer_id: str
    path: Path
    sealed_sha256: str
    bundle_sha256: str
    entries: int
    method: str
    receiver_fingerprint: str | None
    ledger_fingerprint: str
    due_by: str
    late_by: int
    #: The child's name as their record gives it ("" when the sender may not read it).
    person_name: str = ""
    person_label: str = ""
    #: Which copy this is (1 for the first file sent for this leaving).
    copy: int = 1
    #: Whose key the file was sealed to, as their key file names them (None: sealed with a passphrase).
    receiver_name: str | None = None
    receiver_school: str | None = None


def _check_send(request: SendRequest) -> dict[str, str] | None:
    if (request.to_key is None) == (request.passphrase is None):
        raise InvalidInput("seal the file either to the receiving DSL's key or with a passphrase given by phone",
                           "give --to-key FILE (their transfer-key.pub.json) or --passphrase-from-phone")
    if request.passphrase is not None and len(request.passphrase) < MIN_PHONE_PASSPHRASE:
        raise InvalidInput(f"a passphrase given by phone must be at least {MIN_PHONE_PASSPHRASE} characters",
                           "use four or more random words, read out to the receiving DSL")
    files.check_target(request.out, request.force)
    if request.to_key is None:
        return None
    try:
        return box.load_public_key(request.to_key)
    except box.Unopenable as exc:
        raise InvalidInput(str(exc), "ask the receiving DSL for transfer-key.pub.json (from `transfer keygen`)") from None


def _open_transfer(work: Unit, person: str, to_school: str) -> ChildFileTransfer:
    open_ = [t for t in _transfers(work, person) if not t.receipts and not t.no_file]
    if not open_:
        raise NotFound(f"no leaving is recorded for {person} (or every transfer already has its receipt)",
                       f'record it first: `ledger transfer leave --person {person} --left YYYY-MM-DD '
                       f'--to-school "…"`')
    transfer = work.get(ChildFileTransfer, transfer_record_id(open_[-1].transfer_id), "transfer")
    if not same_school(transfer.to_school, to_school):
        raise InvalidInput(f"{person} left for {transfer.to_school}, not {to_school!r} (another school)",
                           "check the receiving school: a file goes only where the pupil went")
    return transfer


def _holds_a_record(bundle: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        index = json.loads(archive.read("entries/index.json"))
    return any(not str(row.get("event", "")).startswith(OWN_EVENTS) for row in index["entries"])


def send(ledger: Ledger, actor: Actor, request: SendRequest) -> Sent:
    """Seal the child's file for the receiving DSL, record it, and write it; nothing on any error."""
    _require_sender(actor)
    receiver = _check_send(request)
    from commands.services.directory import resolve

    person = resolve(ledger, actor, request.person)
    verifier = export._verifier_bytes()
    ensure_current(ledger)
    meta = ledger.meta()
    trust = export._trust_bytes(ledger, meta)
    child, authors = _introduction(ledger, actor, person)
    # The introduction is its own entry, sealed before the export so that the bundle holds it;
    # every refusal is made before it is written.
    with ledger.unit(actor, write=True) as work:
        transfer = _open_transfer(work, person, request.to_school)
        if receiver is not None:
            _check_key_school(receiver, transfer, request.to_key)
        if transfer.sent and not request.again:
            last = localtime.shown(localtime.local(str(transfer.sent[-1]["sent_at"]), work.zone))
            raise RuleViolation(f"the file of {directory_label(child.get('name', ''), person)} was already sent at "
                                f"{last} (transfer {transfer.transfer_id}, copy {len(transfer.sent)}); to send "
                                "another copy give --again",
                                "ask the receiving DSL by phone whether it arrived first: two live copies are two "
                                "files to keep safe")
        _check_late(work, transfer, request.late_reason)
        transfer.introduce(child, work.registry.schools, authors[actor.actor_id], list(authors.values()))
        work.save(transfer)
    with files.private_file(request.out, request.force) as part:
        with ledger.unit(actor, write=True) as work:
            transfer = _open_transfer(work, person, request.to_school)
            stream = io.BytesIO()
            reason = f"Transfer of the child protection file to {transfer.to_school} (KCSIE)"
            made = export._make(work, actor, export.ExportRequest(reason, request.out, person=person,
                                                                        categories=("safeguarding",)), meta, trust,
                                reason, verifier, stream)
            bundle = stream.getvalue()
            if not _holds_a_record(bundle):
                raise NotFound(f"{person} has no child protection record to transfer",
                               "KCSIE asks for the child protection file where one exists; nothing was sent")
            sealed, key = _seal(work, transfer, meta, bundle, receiver, request.passphrase)
            digest = hashlib.sha256(sealed).hexdigest()
            transfer.send(made.export_id, made.sha256, digest, len(sealed), "passphrase" if receiver is None
                          else "x25519", receiver["agreement_key"] if receiver else None,
                          receiver["signing_key"] if receiver else None, box.opened_commitment(key),
                          request.late_reason)
            work.save(transfer)
            part.handle.write(sealed)
            due = _due(transfer, closure_days(work))
            late = schooldays.school_days_between(dt.date.fromisoformat(due), dt.date.fromisoformat(work.today),
                                                  closure_days(work))
        part.commit()
    return Sent(transfer.transfer_id, request.out, digest, made.sha256, made.entries,
                "passphrase" if receiver is None else "x25519",
                box.fingerprint(receiver["agreement_key"]) if receiver else None,
                box.ledger_fingerprint(meta["ledger_public_key"]), due, late, child.get("name", ""),
                directory_label(child.get("name", ""), person), len(transfer.sent),
                receiver["name"] if receiver else None, receiver["school"] if receiver else None)


def _details(work: Unit, cls: Any, record: Any) -> dict[str, Any]:
    """A person's recorded details, or none when the reader may not read them (or they were erased)."""
    try:
        return dict(getattr(work.get(cls, record, "person"), "details", None) or {})
    except (NotPermitted, RecordErased, NotFound):
        return {}


def _record_rows(work: Unit, actor: Actor, person: str) -> list[dict[str, Any]]:
    """The rows of the pupil's safeguarding chronology the actor may read (what their file would hold)."""
    return build(work.conn, work.ledger.app.events_table, work.ledger.meta()["ledger_id"], actor.keyring,
                 Selection(person=person, categories=("safeguarding",)), actor.actor_id, work.now,
                 work.registry).rows


def no_file_held(ledger: Ledger, actor: Actor, transfer_id: str, reason: str) -> str:
    """Record that no child protection file is held for a leaver (refused when their records hold one)."""
    _require_sender(actor)
    with ledger.unit(actor, write=True) as work:
        if not work.exists(transfer_record_id(transfer_id)):
            raise NotFound(f"no transfer {transfer_id}", "`ledger transfer list` lists every leaver's transfer")
        transfer = work.get(ChildFileTransfer, transfer_record_id(transfer_id), "transfer")
        if any(not str(r.get("event") or "").startswith(OWN_EVENTS) for r in _record_rows(work, actor, transfer.person)):
            raise RuleViolation(f"{transfer.person} has a child protection record, so a file is held",
                                "send it: `ledger transfer --person … --to-school … --to-key …`")
        transfer.mark_no_file(reason)
        work.save(transfer)
        return transfer.person


def _introduction(ledger: Ledger, actor: Actor, person: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Who the child is (name, date of birth, school, as their record says) and who wrote the
    entries the file will hold (name and roles), for the signed entry that names them inside it."""
    with ledger.unit(actor) as work:
        details = _details(work, Subject, subject_record_id(person))
        child = {"id": person, **{k: str(details[k]) for k in ("name", "date_of_birth", "school") if details.get(k)}}
        rows = _record_rows(work, actor, person)
        if not any(not str(r.get("event") or "").startswith(OWN_EVENTS) for r in rows):
            raise NotFound(f"{person} has no child protection record to transfer",
                           "KCSIE asks for the child protection file where one exists; nothing was sent "
                           "(`ledger transfer no-file TRANSFER --reason …` says so and clears the inbox)")
        ids = sorted({str(r["recorded_by"]) for r in rows if r.get("recorded_by")} | {actor.actor_id})
        registry = work.registry
        authors = {i: {"id": i, "name": str(_details(work, StaffMember, staff_record_id(i)).get("name") or ""),
                       "roles": sorted(registry.roles_of(i))} for i in ids if i in registry.staff}
    return child, authors


def _check_late(work: Unit, transfer: ChildFileTransfer, reason: str | None) -> None:
    """A file sent after its 5 school days says why, in the entry that records the sending."""
    closures = closure_days(work)
    late = schooldays.school_days_between(dt.date.fromisoformat(_due(transfer, closures)),
                                          dt.date.fromisoformat(work.today), closures)
    if late and not (reason and reason.strip()):
        raise InvalidInput(f"the file is {late} school day(s) late (due by {_due(transfer, closures)}): say why, "
                           "with --late-reason \"…\"", "the reason is recorded with the sending; nothing was sent")


def _check_key_school(receiver: dict[str, str], transfer: ChildFileTransfer, path: Path | None) -> None:
    """A key file names its school: it must be the school recorded at leaving."""
    if not same_school(receiver["school"], transfer.to_school):
        raise InvalidInput(
            f"the key {path} is {receiver['name']}'s at {receiver['school']} (fingerprint "
            f"{box.fingerprint(receiver['agreement_key'])}), but {transfer.person} left for {transfer.to_school}",
            f"ask {transfer.to_school}'s DSL for their transfer-key.pub.json and check its fingerprint with them "
            "by phone; nothing was sent")


def _seal(work: Unit, transfer: ChildFileTransfer, meta: dict[str, str], bundle: bytes,
          receiver: dict[str, str] | None, passphrase: str | None) -> tuple[bytes, bytes]:
    key = crypto.random_key()
    bundle_sha256 = hashlib.sha256(bundle).hexdigest()
    context = box.wrap_context(transfer.transfer_id, bundle_sha256)
    header: dict[str, Any] = {
        "format": box.SEALED_FORMAT, "transfer_id": transfer.transfer_id, "from_ledger": meta["ledger_id"],
        "from_origin": meta["origin"], "bundle_sha256": bundle_sha256, "bundle_size": len(bundle),
        "sealed_at": work.now,
    }
    if receiver is not None:
        header.update(method="x25519", recipient={"agreement_key": receiver["agreement_key"],
                                                  "signing_key": receiver["signing_key"]},
                      wrapped_key=crypto.seal_to(bytes.fromhex(receiver["agreement_key"]), key, context).hex())
    else:
        header.update(method="passphrase", recipient=None,
                      wrapped_key=crypto.lock_with_passphrase(str(passphrase), key, context))
    signing_key = work.ledger.ledger_signing_key()
    sealed = box.seal(header, bundle, key, lambda data: crypto.sign(signing_key, "transfer-header/v1", data))
    return sealed, key


# -- receipts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptRecorded:
    """A checked receipt, recorded."""

    transfer_id: str
    receiver: str
    #: When the receiver says it was received, in the federation's local time.
    received_at: str
    receipt_sha256: str
    person_label: str = ""
    #: Which copy was received: ``copy 1 of 2``.
    copy: str = "copy 1 of 1"


def _parse_receipt(path: Path, shown: str) -> tuple[dict[str, Any], bytes, bytes, str]:
    data = files.read_regular(path, box.MAX_SMALL_FILE)
    problem = "not a transfer receipt"
    try:
        outer = checker.strict_json(data)
        text = str(outer["receipt"]).encode("utf-8")
        signature = bytes.fromhex(str(outer["signature"]))
        body = checker.strict_json(text)
        if isinstance(body, dict) and body.get("format") == box.RECEIPT_FORMAT and len(signature) == 64:
            return body, text, signature, hashlib.sha256(data).hexdigest()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        problem = f"not a transfer receipt ({type(exc).__name__})"
    raise InvalidInput(f"{shown} is {problem}", "give the receipt.json the receiving school sent back")


def record_receipt(ledger: Ledger, actor: Actor, path: Path, shown: str | None = None) -> ReceiptRecorded:
    """Check a receipt against the transfer it names and record it as a signed entry. ``shown``
    names the file in messages (the desk passes the uploaded file's name; default: ``path``)."""
    _require_sender(actor)
    shown = shown or str(path)
    body, text, signature, receipt_sha256 = _parse_receipt(path, shown)
    hint = "nothing was recorded; ask the receiving DSL by phone whether they received the file"
    with ledger.unit(actor, write=True) as work:
        try:
            transfer_id, sealed_sha256 = str(body["transfer_id"]), str(body["sealed_sha256"])
            receiver_key, received_at = str(body["receiver_key"]), str(body["received_at"])
            moment = dt.datetime.fromisoformat(received_at)
            if moment.tzinfo is None:
                raise ValueError("the time received has no zone")
        except (KeyError, ValueError, TypeError):
            raise InvalidInput(f"{shown} is a malformed receipt", hint) from None
        if body.get("from_ledger") != ledger.meta()["ledger_id"] or not work.exists(transfer_record_id(transfer_id)):
            raise VerificationFailed(f"the receipt is for transfer {transfer_id}, which this ledger did not send", hint)
        transfer = work.get(ChildFileTransfer, transfer_record_id(transfer_id), "transfer")
        sent = [s for s in transfer.sent if s["sealed_sha256"] == sealed_sha256
                and s["bundle_sha256"] == body.get("bundle_sha256")]
        if not sent:
            raise VerificationFailed(f"the receipt names a file transfer {transfer_id} never sent (another bundle)", hint)
        try:
            crypto.verify(bytes.fromhex(receiver_key), "transfer-receipt/v1", text, signature)
        except (crypto.CryptoError, ValueError):
            raise VerificationFailed("the receipt's signature does not verify: it was forged or altered", hint) from None
        if sent[-1]["method"] == "x25519" and receiver_key != sent[-1]["signing_key"]:
            raise VerificationFailed("the receipt is signed by another key than the receiving DSL's the file was "
                                     "sealed to", hint)
        if not same_school(str(body.get("receiver_school")), transfer.to_school):
            raise VerificationFailed(
                f"the receipt is from {body.get('receiver')} at {body.get('receiver_school')}, but "
                f"{transfer.person} left for {transfer.to_school}: it does not close this transfer", hint)
        try:
            opened = hashlib.sha256(bytes.fromhex(str(body.get("opened")))).hexdigest()
        except ValueError:
            opened = ""
        if opened != sent[-1]["opened_commitment"]:
            raise VerificationFailed("the receipt does not prove its signer opened the file", hint)
        who = f"{body.get('receiver')} ({body.get('receiver_school')})"
        when = moment.astimezone(localtime.UTC).isoformat()
        transfer.record_receipt(sealed_sha256, receipt_sha256, receiver_key, when, who)
        work.save(transfer)
        shown = localtime.shown(localtime.local(when, work.zone))
    copies = [str(s["sealed_sha256"]) for s in transfer.sent]
    return ReceiptRecorded(transfer_id, who, shown, receipt_sha256, _label(ledger, actor, transfer.person),
                           f"copy {copies.index(sealed_sha256) + 1} of {len(copies)}")


# -- receiving -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TakeInRequest:
    """A sealed file to take in, the receiving DSL's key, and where to write the receipt.

    With no ``key`` (a file sealed with a passphrase, read by phone): the receipt is signed with a
    one-off key naming ``school`` and ``name``, as the standalone tool does."""

    sealed: Path
    key: Path | None
    key_passphrase: str
    receipt: Path
    phone_passphrase: str | None = None
    trust: Path | None = None
    person: str | None = None
    force: bool = False
    school: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class TakenIn:
    """A file taken in, its checks, and the receipt written."""

    transfer_id: str
    from_origin: str
    ledger_fingerprint: str
    entries: int
    checks: list[str]
    receipt: Path
    kept: Path
    #: What the file says it is, from its signed introduction ("" when it names no one).
    introduced: str = ""
    #: The receipt is signed with a one-off key (no key file given): it shows the file was opened, not by whom.
    one_off_key: bool = False


def _open_sealed(request: TakeInRequest) -> tuple[box.Opened, box.ReceiverKey]:
    try:
        sealed = box.read_sealed(request.sealed)
        key = _receiver_key(request, sealed)
        opened = box.check(sealed, box.content_key(sealed, key, request.phone_passphrase), request.trust,
                           wording=export._Wording())
    except box.Unopenable as exc:
        raise InvalidInput(str(exc), "check the file, your key and the passphrase; nothing was written") from None
    if not opened.ok:
        failed = [f"{c.title}: {'; '.join(c.problems[:3]) or 'nothing checked'}" for c in opened.report.checks
                  if c.problems or not c.done]
        raise VerificationFailed("the file does not verify, so it was not taken in: " + " | ".join(failed),
                                 "tell the sending school what failed; no receipt was written")
    return opened, key


def _receiver_key(request: TakeInRequest, sealed: box.Sealed) -> box.ReceiverKey:
    """The receiving DSL's key; with none, for a passphrase file, a one-off key for the receipt."""
    if request.key is not None:
        return box.load_receiver_key(request.key, request.key_passphrase)
    if sealed.header.get("method") != "passphrase":
        raise box.Unopenable("this file was sealed to the receiving DSL's key: give --key (your transfer-key.json)")
    school, name = (request.school or "").strip(), (request.name or "").strip()
    if not school or not name:
        raise InvalidInput("with no --key, give --school (your school) and --name (yours): the receipt names them",
                           "nothing was written")
    return box.new_receiver_key(require_text("school", school, 200), require_text("name", name, 200))


def _from_school(opened: box.Opened) -> str:
    """The sending school as the file's signed introduction names it, else the sending ledger's origin."""
    about = opened.about or {}
    return str((about.get("child") or {}).get("school") or ", ".join(about.get("from_schools") or [])
               or opened.trust.get("origin"))


def take_in(ledger: Ledger, actor: Actor, request: TakeInRequest) -> TakenIn:
    """Open and verify a sealed file, keep it, record it, and write the signed receipt."""
    _require_sender(actor)
    files.check_target(request.receipt, request.force)
    opened, key = _open_sealed(request)
    header = opened.sealed.header
    if header["from_ledger"] == ledger.meta()["ledger_id"]:
        raise InvalidInput("this file was sent by this very ledger", "take it in on the receiving school's ledger")
    person = None
    if request.person:
        from commands.services.directory import resolve

        person = resolve(ledger, actor, request.person)
    kept = ledger.config.home / RECEIVED_FOLDER / f"{opened.sealed.sha256}.transfer"
    kept.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with files.private_file(request.receipt, request.force) as receipt_part, \
            files.private_file(kept, force=True) as kept_part:
        with ledger.unit(actor, write=True) as work:
            if work.exists(received_record_id(str(header["transfer_id"]), opened.sealed.sha256)):
                raise AlreadyExists(f"this file (transfer {header['transfer_id']}) was already taken in",
                                    "`ledger transfer received` lists it, with the child it names")
            moment = dt.datetime.fromisoformat(work.now)
            signed = box.receipt(opened, key, moment)
            record = ReceivedFile.take_in(
                str(header["transfer_id"]), str(header["from_ledger"]), str(opened.trust.get("origin")),
                opened.fingerprint, str(header["bundle_sha256"]), opened.sealed.sha256, opened.entries,
                opened.checks, key.signing_public, hashlib.sha256(signed).hexdigest(), opened.key.hex(),
                _from_school(opened), person, opened.about or None)
            work.save(record)
            receipt_part.handle.write(signed)
            with open(request.sealed, "rb") as source:
                kept_part.handle.write(source.read(box.MAX_SEALED_BYTES + 1))
        kept_part.commit()
        receipt_part.commit()
    return TakenIn(str(header["transfer_id"]), str(opened.trust.get("origin")), opened.fingerprint, opened.entries,
                   opened.checks, request.receipt, kept, box.introduced(opened), request.key is None)


def open_received(ledger: Ledger, actor: Actor, transfer_id: str, out: Path, reason: str,
                  force: bool = False) -> box.Opened:
    """Write the evidence bundle of a file taken in (decrypted with the key in its signed entry,
    checked again), for the receiving DSL to read; the read is logged."""
    _require_sender(actor)
    files.check_target(out, force)
    with ledger.unit(actor, write=True) as work:
        mine = [r for r in _received(work) if r.transfer_id == transfer_id]
        if not mine:
            raise NotFound(f"no file of transfer {transfer_id} was taken in here",
                           "`ledger transfer received` lists the files taken in here")
        record = mine[-1]
        try:
            sealed = box.read_sealed(ledger.config.home / RECEIVED_FOLDER / f"{record.sealed_sha256}.transfer")
            if sealed.sha256 != record.sealed_sha256:
                raise box.Unopenable("the kept file is not the one taken in (altered)")
            opened = box.check(sealed, bytes.fromhex(record.content_key), wording=export._Wording())
        except box.Unopenable as exc:
            raise VerificationFailed(str(exc), "restore the kept file from a backup") from None
        record_access(work, actor.actor_id, "open-received-file", [str(record.id)], [], reason)
        with files.private_file(out, force) as part:
            part.handle.write(opened.bundle)
            part.commit()
    return opened


# -- listing and what waits ----------------------------------------------------------------------------


def _received(work: Unit) -> list[ReceivedFile]:
    """Every file taken in here, oldest first (from their signed entries)."""
    events = work.ledger.app.events_table
    ids = work.conn.execute(select(events.c.originator_id).where(
        events.c.topic == get_topic(ReceivedFile.Received)).order_by(events.c.id)).scalars().all()
    return [work.get(ReceivedFile, i, "received file") for i in ids]


def received(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """Every file taken in here, by the child it names (from its checked, signed introduction),
    the sending school and when it came (DSL, Headteacher)."""
    _require_sender(actor)
    rows = []
    with ledger.unit(actor) as work:
        for r in _received(work):
            about = r.about or {}
            child, when = about.get("child") or {}, r.created_on.isoformat()
            rows.append({
                "transfer": r.transfer_id, "child": str(child.get("name") or ""),
                "born": str(child.get("date_of_birth") or ""),
                "from_school": str(child.get("school") or ", ".join(about.get("from_schools") or [])),
                "received": localtime.shown(localtime.local(when, work.zone)),
            })
    return rows


def transfers(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """Every leaver's transfer, oldest first, from checked entries' clear facts (DSL, Headteacher):
    when they left, when the file was due and sent (in local time), and the receipt."""
    _require_sender(actor)
    rows = []
    with ledger.unit(actor) as work:
        closures, zone = closure_days(work), work.zone
        found = _transfers(work)
        for t in found:
            sent = t.sent[-1]["sent_at"] if t.sent else None
            rows.append({
                "transfer": t.transfer_id, "person": t.person, "left_on": t.left_on,
                "due_by": _due(t, closures),
                "sent": localtime.shown(localtime.local(str(sent), zone)) if sent else "",
                "receipt": localtime.shown(localtime.local(t.received_at, zone)) if t.received_at else
                "no file held" if t.no_file else
                ("superseded by a later leaving" if _superseded(t, found) else "outstanding" if sent else ""),
                "copies": len(t.sent),
                "received_copy": [s["sealed_sha256"] for s in t.sent].index(t.received_sealed) + 1
                if t.received_sealed else "",
            })
    from commands.services.directory import name_columns

    return name_columns(ledger, actor, rows, ("person",))


# -- what waits ----------------------------------------------------------------------------------------


def waiting(ledger: Ledger, actor: Actor, reason: str | None = None) -> list[dict[str, Any]]:
    """For the DSL and the Headteacher: files due to be sent (overdue flagged), receipts outstanding;
    given a ``reason`` (as the inbox's other items), each pupil is named for those who may read it."""
    if not set(SENDERS) & set(ledger.registry().roles_of(actor.actor_id)):
        return []
    items = []
    with ledger.unit() as work:
        closures, today, zone = closure_days(work), work.today, work.zone
        found = _transfers(work)
    named: dict[str, str] = {}
    if reason:
        from commands.services.directory import labels

        named = labels(ledger, actor, {t.person for t in found})
    for t in found:
        if t.receipts or t.no_file or _superseded(t, found):
            continue
        due = _due(t, closures)
        if not t.sent:
            late = due < today
            items.append({"kind": "transfer-file", "ref": t.transfer_id, "since": t.left_on,
                          "what": f"child protection file of {named.get(t.person, t.person)} (left {t.left_on}): "
                                  f"{'OVERDUE, ' if late else ''}due by {due} (5 school days)",
                          "age_days": localtime.days_between(t.left_on, today),
                          "note": "overdue" if late else "due soon"})
        else:
            sent_on = localtime.local(str(t.sent[-1]["sent_at"]), zone).date()
            items.append({"kind": "transfer-receipt", "ref": t.transfer_id, "since": sent_on.isoformat(),
                          "what": f"child protection file of {named.get(t.person, t.person)} sent: receipt "
                                  "outstanding (`ledger transfer receipt FILE`)",
                          "age_days": localtime.days_between(sent_on.isoformat(), today), "note": ""})
    return items

