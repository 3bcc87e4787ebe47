"""Transfer of a child protection file to the child's next school (KCSIE: within 5 school days,
separately from the main pupil file, securely, with confirmation of receipt).

On the sending ledger one ``ChildFileTransfer`` record per leaving: the DSL records that the
pupil left (the signed start of the 5 school days), that the file was sent (to whom, the
bundle's and the sealed file's SHA-256, the key it was sealed to), and the receipt that came
back. On the receiving ledger one ``ReceivedFile`` record per file taken in: the sending
ledger's entries are not re-signed; the sealed file is kept as it came, and the key that opens
it lives only in this record's encrypted body. ``ClosureDays`` are the federation's days off
that do not count as school days.

Clear claims hold what the inbox and ``verify`` need (dates, hashes, public keys); the
destination school, the receiver's name and the key that opens a file are in encrypted bodies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from ledger import localtime
from ledger.transfer_box import introduction
from ledger.domain.base import new_short_id, parse_date, record_id, require_text
from ledger.errors import InvalidInput, RuleViolation

HEX64 = frozenset("0123456789abcdef")
METHODS = ("x25519", "passphrase")


def transfer_record_id(transfer_id: str) -> uuid.UUID:
    """The aggregate id of transfer ``transfer_id``."""
    return record_id("transfer", transfer_id)


def received_record_id(transfer_id: str, sealed_sha256: str) -> uuid.UUID:
    """The aggregate id of a file taken in (one record per sealed file)."""
    return record_id("received-file", f"{transfer_id}:{sealed_sha256}")


def closures_record_id() -> uuid.UUID:
    """The one record of the federation's closure days."""
    return record_id("closure-days", "federation")


def _hex(name: str, value: str, length: int = 64) -> str:
    if len(value) != length or not set(value) <= HEX64:
        raise InvalidInput(f"{name} must be {length} lower-case hex digits")
    return value


class ChildFileTransfer(Aggregate):
    """One pupil leaving, their child protection file sent, and the receipt for it."""

    class PupilLeft(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("transfer_id", "person", "left_on", "count_from")
        transfer_id: str
        person: str
        left_on: str
        count_from: str
        to_school: str
        record_class: str
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            start = "" if self.count_from == self.left_on else f"; new term starts {self.count_from}"
            return f"left the school on {self.left_on} for {self.to_school}{start} (transfer {self.transfer_id})"

    class ChildIntroduced(Aggregate.Event):
        """Who the child is and who wrote their file, signed by the sender into the file itself (the
        entry travels inside the bundle, so the receiving school reads names from a checked, signed
        entry, never from the sealed file's header)."""

        clear_fields: ClassVar[tuple[str, ...]] = ("transfer_id",)
        transfer_id: str
        child: dict[str, str]
        from_schools: list[str]
        sender: dict[str, Any]
        authors: list[dict[str, Any]]
        subjects: list[str]

        def describe(self) -> str:
            """One line for the timeline."""
            return introduction(self.child, self.from_schools, self.sender, self.authors)

    class FileSent(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "transfer_id", "export_id", "bundle_sha256", "sealed_sha256", "size", "method",
            "recipient_agreement_key", "recipient_signing_key", "opened_commitment",
        )
        transfer_id: str
        export_id: str
        bundle_sha256: str
        sealed_sha256: str
        size: int
        method: str
        recipient_agreement_key: str | None
        recipient_signing_key: str | None
        opened_commitment: str
        to_school: str
        subjects: list[str]
        #: Why it went after the 5 school days (required then).
        late_reason: str | None = None

        def apply(self, aggregate: ChildFileTransfer) -> None:
            aggregate.sent.append({"sealed_sha256": self.sealed_sha256, "bundle_sha256": self.bundle_sha256,
                                   "method": self.method, "signing_key": self.recipient_signing_key,
                                   "opened_commitment": self.opened_commitment,
                                   "sent_at": self.timestamp.isoformat()})

        def describe(self) -> str:
            """One line for the timeline."""
            how = "sealed to their DSL's key" if self.method == "x25519" else "sealed with a passphrase given by phone"
            return (f"child protection file sent to {self.to_school}, {how} "
                    f"(bundle sha256 {self.bundle_sha256[:16]}…, file sha256 {self.sealed_sha256[:16]}…)"
                    + (f"; sent late because {self.late_reason}" if self.late_reason else ""))

    class ReceiptRecorded(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "transfer_id", "sealed_sha256", "receipt_sha256", "receiver_key", "received_at",
        )
        transfer_id: str
        sealed_sha256: str
        receipt_sha256: str
        receiver_key: str
        received_at: str
        receiver: str
        subjects: list[str]

        def apply(self, aggregate: ChildFileTransfer) -> None:
            aggregate.receipts.append(self.receipt_sha256)
            aggregate.received_at = self.received_at
            aggregate.received_sealed = self.sealed_sha256

        def describe(self, zone: dt.tzinfo = localtime.UTC) -> str:
            """One line for the timeline (the time received in the reader's ``zone``)."""
            when = localtime.shown(localtime.local(self.received_at, zone))
            return (f"receipt for the child protection file recorded: received by {self.receiver} "
                    f"at {when}, as they say (receipt sha256 {self.receipt_sha256[:16]}…)")

    class NoFileHeld(Aggregate.Event):
        """The school holds no child protection file for the leaver: nothing is due."""

        clear_fields: ClassVar[tuple[str, ...]] = ("transfer_id",)
        transfer_id: str
        reason: str
        subjects: list[str]

        def apply(self, aggregate: ChildFileTransfer) -> None:
            aggregate.no_file = True

        def describe(self) -> str:
            """One line for the timeline."""
            return f"no child protection file held, so none is sent (transfer {self.transfer_id}): {self.reason}"

    @staticmethod
    def create_id(transfer_id: str) -> uuid.UUID:
        return transfer_record_id(transfer_id)

    @classmethod
    def leave(cls, person: str, left_on: str, to_school: str, new_term: str | None = None) -> ChildFileTransfer:
        """Record that ``person`` left on ``left_on`` for ``to_school``; with ``new_term`` (the start
        of the next term, for a pupil leaving at the end of one) the 5 school days count from it."""
        left = parse_date("leaving date", left_on)
        start = parse_date("new term date", new_term) if new_term else left
        if start < left:
            raise InvalidInput(f"the new term ({start}) cannot start before the pupil left ({left})")
        transfer_id = new_short_id("tr")
        return cls._create(cls.PupilLeft, id=transfer_record_id(transfer_id), transfer_id=transfer_id,
                           person=person, left_on=left, count_from=start,
                           to_school=require_text("receiving school", to_school, 200),
                           record_class="safeguarding", subjects=[person])

    def __init__(self, transfer_id: str, person: str, left_on: str, count_from: str, to_school: str) -> None:
        self.transfer_id = transfer_id
        self.person = person
        self.left_on = left_on
        self.count_from = count_from
        self.to_school = to_school
        self.sent: list[dict[str, str | None]] = []
        self.receipts: list[str] = []
        self.received_at: str | None = None
        self.received_sealed: str | None = None
        self.no_file = False

    def mark_no_file(self, reason: str) -> None:
        """Record that no child protection file is held for this leaver (the service checks the records)."""
        if self.sent or self.no_file:
            raise RuleViolation(f"transfer {self.transfer_id} already " + ("sent a file" if self.sent else
                                                                            "says no file is held"))
        self.trigger_event(self.NoFileHeld, transfer_id=self.transfer_id,
                           reason=require_text("reason", reason, 2000), subjects=[self.person])

    def introduce(self, child: dict[str, str], from_schools: list[str], sender: dict[str, Any],
                  authors: list[dict[str, Any]]) -> None:
        """Name the child and the file's authors for the receiving school, inside the file."""
        self.trigger_event(self.ChildIntroduced, transfer_id=self.transfer_id,
                           child={k: require_text(k, str(v), 200) for k, v in child.items() if v},
                           from_schools=[require_text("school", s, 200) for s in from_schools],
                           sender=_person(sender), authors=[_person(a) for a in authors], subjects=[self.person])

    def send(self, export_id: str, bundle_sha256: str, sealed_sha256: str, size: int, method: str,
             agreement_key: str | None, signing_key: str | None, opened_commitment: str,
             late_reason: str | None = None) -> None:
        """Record that the file was sealed for the receiving school and handed over."""
        if method not in METHODS:
            raise InvalidInput(f"unknown sealing method {method!r}")
        if (method == "x25519") != bool(agreement_key and signing_key):
            raise InvalidInput("a file sealed to a key names the receiver's two public keys; one sealed with a "
                               "passphrase names none")
        self.trigger_event(
            self.FileSent, transfer_id=self.transfer_id, export_id=export_id,
            bundle_sha256=_hex("bundle hash", bundle_sha256), sealed_sha256=_hex("file hash", sealed_sha256),
            size=size, method=method,
            recipient_agreement_key=_hex("receiver's key", agreement_key) if agreement_key else None,
            recipient_signing_key=_hex("receiver's key", signing_key) if signing_key else None,
            opened_commitment=_hex("opening commitment", opened_commitment), to_school=self.to_school,
            subjects=[self.person], late_reason=require_text("reason it is late", late_reason, 2000)
            if late_reason else None)

    def record_receipt(self, sealed_sha256: str, receipt_sha256: str, receiver_key: str, received_at: str,
                       receiver: str) -> None:
        """Record a checked receipt (the service checks its signature and what it proves)."""
        if receipt_sha256 in self.receipts:
            raise RuleViolation(f"this receipt is already recorded for transfer {self.transfer_id}",
                                "a receipt is recorded once; `ledger timeline --person …` shows it")
        if self.receipts:
            raise RuleViolation(f"a receipt for transfer {self.transfer_id} is already recorded",
                                "a second receipt for the same file is a replay or a second copy: ask the "
                                "receiving DSL by phone")
        if not any(s["sealed_sha256"] == sealed_sha256 for s in self.sent):
            raise RuleViolation(f"transfer {self.transfer_id} sent no file with that hash")
        self.trigger_event(self.ReceiptRecorded, transfer_id=self.transfer_id, sealed_sha256=sealed_sha256,
                           receipt_sha256=_hex("receipt hash", receipt_sha256),
                           receiver_key=_hex("receiver's key", receiver_key), received_at=received_at,
                           receiver=require_text("receiver", receiver, 400), subjects=[self.person])


def _person(person: dict[str, Any]) -> dict[str, Any]:
    return {"id": require_text("id", str(person["id"]), 200), "name": str(person.get("name") or "")[:200],
            "roles": sorted(str(r) for r in person.get("roles") or [])}


class ReceivedFile(Aggregate):
    """A child protection file another school's ledger sent, taken in on this one (read-only:
    its entries keep their own signatures and proofs inside the kept file)."""

    class Received(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = (
            "transfer_id", "from_ledger", "from_origin", "ledger_key_fingerprint", "bundle_sha256",
            "sealed_sha256", "entries", "checks", "receiver_key", "receipt_sha256",
        )
        transfer_id: str
        from_ledger: str
        from_origin: str
        ledger_key_fingerprint: str
        bundle_sha256: str
        sealed_sha256: str
        entries: int
        checks: list[str]
        receiver_key: str
        receipt_sha256: str
        content_key: str
        from_school: str
        record_class: str
        subjects: list[str]
        #: The file's own signed introduction (who the child is, who wrote it), as checked on taking it in.
        about: dict[str, Any] | None = None

        def describe(self) -> str:
            """One line for the timeline."""
            what = "; it is " + introduction(self.about["child"], self.about.get("from_schools") or [],
                                             self.about.get("sender") or {}, self.about.get("authors") or []) \
                if self.about and self.about.get("child") else ""
            return (f"child protection file received from {self.from_school} (ledger {self.from_origin}, key "
                    f"{self.ledger_key_fingerprint}): {self.entries} entries, every check passed; receipt "
                    f"sha256 {self.receipt_sha256[:16]}…{what}")

    @classmethod
    def take_in(cls, transfer_id: str, from_ledger: str, from_origin: str, fingerprint: str, bundle_sha256: str,
                sealed_sha256: str, entries: int, checks: list[str], receiver_key: str, receipt_sha256: str,
                content_key: str, from_school: str, person: str | None,
                about: dict[str, Any] | None = None) -> ReceivedFile:
        """Record a sealed file that opened and verified."""
        return cls._create(
            cls.Received, id=received_record_id(transfer_id, sealed_sha256), transfer_id=transfer_id,
            from_ledger=from_ledger, from_origin=from_origin, ledger_key_fingerprint=fingerprint,
            bundle_sha256=_hex("bundle hash", bundle_sha256), sealed_sha256=_hex("file hash", sealed_sha256),
            entries=entries, checks=list(checks), receiver_key=_hex("receiver's key", receiver_key),
            receipt_sha256=_hex("receipt hash", receipt_sha256), content_key=_hex("content key", content_key),
            from_school=require_text("sending school", from_school, 200), record_class="safeguarding",
            subjects=[person] if person else [], about=dict(about) if about else None)

    def __init__(self, transfer_id: str, sealed_sha256: str, content_key: str, about: dict[str, Any] | None = None,
                 **_: object) -> None:
        self.transfer_id = transfer_id
        self.sealed_sha256 = sealed_sha256
        self.content_key = content_key
        self.about = about or {}


class ClosureDays(Aggregate):
    """Days the federation's schools are closed (INSET, holidays): not school days."""

    class Set(Aggregate.Created):
        clear_fields: ClassVar[tuple[str, ...]] = ("days",)
        days: list[str]
        reason: str
        record_class: str

        def describe(self) -> str:
            """One line for the timeline."""
            return f"closure days set: {len(self.days)} day(s): {self.reason}"

    class Changed(Aggregate.Event):
        clear_fields: ClassVar[tuple[str, ...]] = ("days",)
        days: list[str]
        reason: str

        def apply(self, aggregate: ClosureDays) -> None:
            aggregate.days = list(self.days)

        def describe(self) -> str:
            """One line for the timeline."""
            return f"closure days changed: {len(self.days)} day(s): {self.reason}"

    @classmethod
    def start(cls, days: list[str], reason: str) -> ClosureDays:
        """The first list of closure days."""
        return cls._create(cls.Set, id=closures_record_id(), days=_days(days),
                           reason=require_text("reason", reason, 2000), record_class="policy")

    def __init__(self, days: list[str], reason: str) -> None:
        self.days = list(days)

    def change(self, days: list[str], reason: str) -> None:
        """Replace the list of closure days."""
        self.trigger_event(self.Changed, days=_days(days), reason=require_text("reason", reason, 2000))


def _days(days: list[str]) -> list[str]:
    return sorted({parse_date("closure day", d) for d in days})


def closure_dates(days: list[str]) -> frozenset[dt.date]:
    """Closure days (ISO dates from a signed entry) as dates."""
    return frozenset(dt.date.fromisoformat(d) for d in days)
