"""A child's child protection file goes from one school's ledger to another's, and the receipt comes back.

The sending ledger runs on each backend; the receiving one on SQLite. Every attack the issue
names is mounted here: a receipt for another bundle, a forged or altered receipt, a replayed
receipt, a tampered file, the wrong key, the wrong passphrase, a non-DSL sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from commands.services import inbox, incidents, integrity, people
from commands.services import transfer as service
from ledger import crypto
from ledger import transfer_box as box
from ledger.errors import AlreadyExists, InvalidInput, NotFound, NotPermitted, RuleViolation, VerificationFailed
from tests.conftest import Federation, build_federation, local_today, module_federation, refused

KEY_PASSPHRASE = "receiving dsl key passphrase"
PHONE = "amber otter violin seventeen"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sender(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    yield from module_federation(request, tmp_path_factory, "transfer_send")


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed = build_federation(tmp_path_factory.mktemp("transfer_receive") / "home")
    yield fed
    fed.ledger.close()


@pytest.fixture(scope="module")
def receiver_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(box, "SCRYPT_N", 2**10)
        return box.keygen(tmp_path_factory.mktemp("elm-key"), "Elm Academy", "Dee Receiver", KEY_PASSPHRASE)


@dataclass
class Leaver:
    pupil: str
    transfer_id: str


def leaver(fed: Federation, name: str = "Pip Leaver", with_record: bool = True) -> Leaver:
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", name)
    if with_record:
        inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
            "child-on-child", f"{local_today(-3)}T10:00", "Worrying messages", "Seen on a phone in class",
            people=(f"{pupil}:victim",)))
        incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    done = service.leave(fed.ledger, fed["dsl"], pupil, local_today(), "Elm Academy")
    return Leaver(pupil, done.transfer_id)


def send_to_key(fed: Federation, who: Leaver, public: Path, out: Path) -> service.Sent:
    return service.send(fed.ledger, fed["dsl"], service.SendRequest(who.pupil, "Elm Academy", out, to_key=public))


def take_in(fed: Federation, sealed: Path, private: Path, receipt: Path, phone: str | None = None) -> service.TakenIn:
    return service.take_in(fed.ledger, fed["dsl"], service.TakeInRequest(
        sealed=sealed, key=private, key_passphrase=KEY_PASSPHRASE, receipt=receipt, phone_passphrase=phone))


def test_a_childs_file_goes_to_the_next_school_and_the_receipt_comes_back(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = receiver_key
    who = leaver(sender)
    waiting = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    assert waiting[who.transfer_id]["kind"] == "transfer-file" and "due by" in waiting[who.transfer_id]["what"]
    sent = send_to_key(sender, who, public, tmp_path / "pip.transfer")
    assert sent.sealed_sha256 == hashlib.sha256((tmp_path / "pip.transfer").read_bytes()).hexdigest()
    assert sent.entries >= 3 and not sent.late_by
    waiting = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    assert waiting[who.transfer_id]["kind"] == "transfer-receipt"
    assert b"Seen on a phone" not in (tmp_path / "pip.transfer").read_bytes(), "the file is sealed"

    taken = take_in(receiver, tmp_path / "pip.transfer", private, tmp_path / "receipt.json")
    assert taken.transfer_id == who.transfer_id and taken.entries == sent.entries
    assert taken.kept.read_bytes() == (tmp_path / "pip.transfer").read_bytes(), "kept as it came"
    opened = service.open_received(receiver.ledger, receiver["dsl"], who.transfer_id, tmp_path / "read.zip",
                                   "new pupil's file")
    assert opened.ok and hashlib.sha256((tmp_path / "read.zip").read_bytes()).hexdigest() == sent.bundle_sha256

    done = service.record_receipt(sender.ledger, sender["dsl"], tmp_path / "receipt.json")
    assert done.transfer_id == who.transfer_id and done.receiver == "Dee Receiver (Elm Academy)"
    assert who.transfer_id not in {i["ref"] for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    # replayed: the same receipt again is refused, and writes nothing
    refused(sender, RuleViolation, lambda: service.record_receipt(sender.ledger, sender["dsl"], tmp_path / "receipt.json"),
            "already recorded")
    for fed in (sender, receiver):
        report = integrity.verify_ledger(fed.ledger, fed.ledger.config.trust_path, None)
        assert report.ok, report


def test_the_received_entries_keep_their_signatures_and_are_not_signed_by_the_receiving_ledger(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = receiver_key
    who = leaver(sender, "Rowan Received")
    send_to_key(sender, who, public, tmp_path / "f.transfer")
    take_in(receiver, tmp_path / "f.transfer", private, tmp_path / "r.json")
    opened = box.check(box.read_sealed(tmp_path / "f.transfer"),
                       box.content_key(box.read_sealed(tmp_path / "f.transfer"),
                                       box.load_receiver_key(private, KEY_PASSPHRASE)))
    assert opened.trust["ledger_id"] == sender.ledger.meta()["ledger_id"] != receiver.ledger.meta()["ledger_id"]
    events = receiver.ledger.app.events_table
    with receiver.ledger.engine.connect() as conn:
        topics = [str(t) for t in conn.execute(events.select().with_only_columns(events.c.topic)).scalars()]
    assert not [t for t in topics if t.endswith(("Incident.Reported", "Incident.Triaged"))], \
        "the sending school's entries are not re-signed into the receiving ledger"
    assert sum(t.endswith("ReceivedFile.Received") for t in topics) >= 1
    refused(receiver, AlreadyExists, lambda: take_in(receiver, tmp_path / "f.transfer", private, tmp_path / "r2.json"),
            "already taken in")


def test_a_file_sealed_with_a_passphrase_opens_only_with_it(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, _ = receiver_key
    who = leaver(sender, "Sam Phone")
    sent = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "elm  academy", tmp_path / "p.transfer", passphrase=PHONE))
    assert sent.method == "passphrase"
    refused(receiver, InvalidInput, lambda: take_in(receiver, tmp_path / "p.transfer", private, tmp_path / "r.json",
                                                    "amber otter violin sixteen"), "wrong passphrase")
    assert not (tmp_path / "r.json").exists()
    take_in(receiver, tmp_path / "p.transfer", private, tmp_path / "r.json", PHONE)
    assert service.record_receipt(sender.ledger, sender["dsl"], tmp_path / "r.json").transfer_id == who.transfer_id


def test_the_standalone_tool_opens_the_file_and_its_receipt_is_recorded(
        sender: Federation, receiver_key: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = receiver_key
    who = leaver(sender, "Tam Standalone")
    send_to_key(sender, who, public, tmp_path / "s.transfer")
    monkeypatch.setenv("LEDGER_TRANSFER_PASSPHRASE", KEY_PASSPHRASE)
    code = box.main(["open", str(tmp_path / "s.transfer"), "--key", str(private), "--out", str(tmp_path / "b.zip"),
                     "--receipt", str(tmp_path / "r.json"), "--trust", str(sender.ledger.config.trust_path)])
    assert code == 0
    assert service.record_receipt(sender.ledger, sender["dsl"], tmp_path / "r.json").transfer_id == who.transfer_id


# -- attacks -------------------------------------------------------------------------------------------


def test_a_tampered_file_is_refused_by_the_receiver(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = receiver_key
    who = leaver(sender, "Tess Tampered")
    send_to_key(sender, who, public, tmp_path / "t.transfer")
    data = bytearray((tmp_path / "t.transfer").read_bytes())
    data[-40] ^= 1
    (tmp_path / "bad.transfer").write_bytes(bytes(data))
    refused(receiver, InvalidInput, lambda: take_in(receiver, tmp_path / "bad.transfer", private, tmp_path / "r.json"),
            "altered")
    # a header changed to name another transfer no longer matches what was encrypted under it
    sealed = box.read_sealed(tmp_path / "t.transfer")
    moved = box.pack({**sealed.header, "transfer_id": "tr-00000000"}, sealed.signature, sealed.body)
    (tmp_path / "moved.transfer").write_bytes(moved)
    refused(receiver, InvalidInput, lambda: take_in(receiver, tmp_path / "moved.transfer", private,
                                                    tmp_path / "r.json"))
    assert not (tmp_path / "r.json").exists()


def test_a_bundle_resealed_by_someone_without_the_ledger_key_is_refused(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    """Whoever holds the receiver's public key can seal a file for them: the sending ledger's
    signature on the header (and on the bundle) is what they cannot make."""
    private, public = receiver_key
    who = leaver(sender, "Ivy Imposter")
    send_to_key(sender, who, public, tmp_path / "real.transfer")
    key = box.load_receiver_key(private, KEY_PASSPHRASE)
    sealed = box.read_sealed(tmp_path / "real.transfer")
    bundle = box.decrypt(sealed, box.content_key(sealed, key))
    forger = crypto.new_signing_key()
    fresh = crypto.random_key()
    header = dict(sealed.header, wrapped_key=crypto.seal_to(
        bytes.fromhex(key.agreement_public), fresh,
        box.wrap_context(str(sealed.header["transfer_id"]), str(sealed.header["bundle_sha256"]))).hex())
    forged = box.seal(header, bundle, fresh, lambda data: crypto.sign(forger, "transfer-header/v1", data))
    (tmp_path / "forged.transfer").write_bytes(forged)
    refused(receiver, VerificationFailed, lambda: take_in(receiver, tmp_path / "forged.transfer", private,
                                                          tmp_path / "r.json"), "not signed by the sending ledger")


def test_the_wrong_key_cannot_open_the_file(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    _, public = receiver_key
    who = leaver(sender, "Wren Wrongkey")
    send_to_key(sender, who, public, tmp_path / "w.transfer")
    other, _ = box.keygen(tmp_path / "other", "Other School", "Someone Else", KEY_PASSPHRASE)
    refused(receiver, InvalidInput, lambda: take_in(receiver, tmp_path / "w.transfer", other, tmp_path / "r.json"),
            "sealed to another key")


def _resign(receipt: Path, body: dict[str, object], signing: bytes) -> Path:
    text = box.canonical(body).decode()
    signature = crypto.sign(signing, "transfer-receipt/v1", text.encode())
    out = receipt.with_name("forged-" + receipt.name)
    out.write_bytes(box.canonical({"receipt": text, "signature": signature.hex()}))
    return out


def test_forged_altered_and_misdirected_receipts_are_refused(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = receiver_key
    first, second = leaver(sender, "Flo First"), leaver(sender, "Sid Second")
    send_to_key(sender, first, public, tmp_path / "1.transfer")
    send_to_key(sender, second, public, tmp_path / "2.transfer")
    take_in(receiver, tmp_path / "1.transfer", private, tmp_path / "1.json")
    outer = json.loads((tmp_path / "1.json").read_text())
    body = json.loads(outer["receipt"])

    altered = dict(outer, receipt=outer["receipt"].replace("Dee Receiver", "Dee Receivex"))
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    refused(sender, VerificationFailed, lambda: service.record_receipt(sender.ledger, sender["dsl"],
                                                                       tmp_path / "altered.json"), "forged or altered")
    # a receipt for the second file, made by someone who never opened it (signed with a key of their own)
    stranger = crypto.new_signing_key()
    two = box.read_sealed(tmp_path / "2.transfer")
    claim = dict(body, transfer_id=second.transfer_id, sealed_sha256=two.sha256,
                 bundle_sha256=two.header["bundle_sha256"], receiver_key=crypto.signing_public_key(stranger).hex())
    refused(sender, VerificationFailed, lambda: service.record_receipt(
        sender.ledger, sender["dsl"], _resign(tmp_path / "2.json", claim, stranger)), "another key")
    # the receiving DSL's real key, but the receipt of the first file moved onto the second: no proof of opening
    key = box.load_receiver_key(private, KEY_PASSPHRASE)
    moved = dict(body, transfer_id=second.transfer_id, sealed_sha256=two.sha256,
                 bundle_sha256=two.header["bundle_sha256"])
    refused(sender, VerificationFailed, lambda: service.record_receipt(
        sender.ledger, sender["dsl"], _resign(tmp_path / "moved.json", moved, key.signing_private)), "opened")
    # a receipt naming a file that was never sent (another bundle)
    other = dict(body, sealed_sha256="0" * 64)
    refused(sender, VerificationFailed, lambda: service.record_receipt(
        sender.ledger, sender["dsl"], _resign(tmp_path / "other.json", other, key.signing_private)), "never sent")
    # a receipt from another ledger's transfer
    foreign = dict(body, from_ledger="another-ledger")
    refused(sender, VerificationFailed, lambda: service.record_receipt(
        sender.ledger, sender["dsl"], _resign(tmp_path / "foreign.json", foreign, key.signing_private)),
        "did not send")


def test_only_the_dsl_or_headteacher_may_transfer(sender: Federation, receiver_key: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    _, public = receiver_key
    who = leaver(sender, "Noor Notdsl")
    for name in ("teacher", "slt", "admin"):
        refused(sender, NotPermitted, lambda: service.send(sender.ledger, sender[name], service.SendRequest(
            who.pupil, "Elm Academy", tmp_path / "n.transfer", to_key=public)), "may not transfer")
        refused(sender, NotPermitted, lambda: service.leave(sender.ledger, sender[name], who.pupil, local_today(),
                                                            "Elm Academy"), "may not transfer")
    assert not (tmp_path / "n.transfer").exists()


def test_a_pupil_with_no_child_protection_record_has_nothing_to_send(
        sender: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    _, public = receiver_key
    who = leaver(sender, "Cleo Clean", with_record=False)
    refused(sender, NotFound, lambda: send_to_key(sender, who, public, tmp_path / "c.transfer"),
            "no child protection record")
    assert not (tmp_path / "c.transfer").exists()


def test_a_file_goes_only_to_the_school_the_pupil_left_for(
        sender: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    _, public = receiver_key
    who = leaver(sender, "Gil Elsewhere")
    refused(sender, InvalidInput, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Birch School", tmp_path / "b.transfer", to_key=public)), "another school")


def test_a_short_phone_passphrase_is_refused(sender: Federation, tmp_path: Path) -> None:
    who = leaver(sender, "Pat Short")
    refused(sender, InvalidInput, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "s.transfer", passphrase="1234")), "at least")


def test_an_overdue_transfer_is_flagged_in_the_inbox(sender: Federation) -> None:
    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Olly Overdue")
    done = service.leave(sender.ledger, sender["dsl"], pupil, local_today(-21), "Elm Academy")
    item = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"])}[done.transfer_id]
    assert item["note"] == "overdue" and "OVERDUE" in item["what"]
    assert done.transfer_id not in {i["ref"] for i in inbox.waiting_for(sender.ledger, sender["teacher"])}


def test_closure_days_are_signed_and_move_the_due_date(sender: Federation) -> None:
    start = dt.date.fromisoformat(local_today(-30))
    while start.weekday() != 0:  # a Monday
        start += dt.timedelta(days=1)
    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Cal Closure")
    before = service.leave(sender.ledger, sender["dsl"], pupil, start.isoformat(), "Elm Academy").due_by
    service.set_closures(sender.ledger, sender["head"], [(start + dt.timedelta(days=1)).isoformat()], "INSET day")
    after = service.leave(sender.ledger, sender["dsl"], pupil, start.isoformat(), "Elm Academy").due_by
    assert dt.date.fromisoformat(after) > dt.date.fromisoformat(before)
    refused(sender, NotPermitted, lambda: service.set_closures(sender.ledger, sender["dsl"], [], "no"))


def test_only_a_pupil_can_be_recorded_as_leaving(sender: Federation) -> None:
    parent = people.add_subject(sender.ledger, sender["dsl"], "parent", "Pam Parent")
    refused(sender, NotFound, lambda: service.leave(sender.ledger, sender["dsl"], parent, local_today(),
                                                    "Elm Academy"), "not a pupil")
    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Fen Future")
    refused(sender, InvalidInput, lambda: service.leave(sender.ledger, sender["dsl"], pupil, local_today(30),
                                                        "Elm Academy"), "in the future")


def test_a_file_taken_in_for_a_pupil_shows_in_their_chronology_on_the_receiving_ledger(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    from commands.services import readside

    private, public = receiver_key
    who = leaver(sender, "Cass Chronology")
    send_to_key(sender, who, public, tmp_path / "c.transfer")
    local = people.add_subject(receiver.ledger, receiver["dsl"], "pupil", "Cass Chronology")
    service.take_in(receiver.ledger, receiver["dsl"], service.TakeInRequest(
        sealed=tmp_path / "c.transfer", key=private, key_passphrase=KEY_PASSPHRASE, receipt=tmp_path / "r.json",
        person=local))
    rows = readside.timeline(receiver.ledger, receiver["dsl"], "new pupil", person=local).rows
    received = [r for r in rows if r["event"] == "ReceivedFile.Received"]
    assert len(received) == 1 and received[0]["recorded_by"] == "dsl"
    assert "child protection file received from" in str(received[0]["what"])
    with pytest.raises(NotPermitted):
        readside.timeline(receiver.ledger, receiver["teacher"], "curious", person=local)


def test_a_kept_file_changed_on_the_receiving_machine_is_refused_when_opened(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = receiver_key
    who = leaver(sender, "Kit Kept")
    send_to_key(sender, who, public, tmp_path / "k.transfer")
    kept = take_in(receiver, tmp_path / "k.transfer", private, tmp_path / "r.json").kept
    other = leaver(sender, "Kai Swapped")
    send_to_key(sender, other, public, tmp_path / "o.transfer")
    kept.write_bytes((tmp_path / "o.transfer").read_bytes())  # another genuine file put in its place
    with pytest.raises(VerificationFailed, match="not the one taken in"):
        service.open_received(receiver.ledger, receiver["dsl"], who.transfer_id, tmp_path / "out.zip", "reading")
    assert not (tmp_path / "out.zip").exists()


def test_a_leaving_recorded_again_supersedes_an_unsent_one(sender: Federation) -> None:
    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Ash Again")
    wrong = service.leave(sender.ledger, sender["dsl"], pupil, local_today(), "Elm Acadmey")
    right = service.leave(sender.ledger, sender["dsl"], pupil, local_today(), "Elm Academy")
    refs = {i["ref"] for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    assert right.transfer_id in refs and wrong.transfer_id not in refs
    listed = {r["transfer"]: r for r in service.transfers(sender.ledger, sender["dsl"])}
    assert listed[wrong.transfer_id]["receipt"] == "superseded by a later leaving"


def test_a_transfer_id_opens_its_chronology_on_both_ledgers(
        sender: Federation, receiver: Federation, receiver_key: tuple[Path, Path], tmp_path: Path) -> None:
    """The ``tr-…`` id `ledger transfer list` and `transfer received` show is what `timeline --incident` takes."""
    from commands.services import readside

    private, public = receiver_key
    who = leaver(sender, "Tam Timeline")
    send_to_key(sender, who, public, tmp_path / "t.transfer")
    sent = readside.timeline(sender.ledger, sender["dsl"], "transfer review", incident=who.transfer_id).rows
    assert {"ChildFileTransfer.PupilLeft", "ChildFileTransfer.FileSent"} <= {str(r["event"]) for r in sent}, sent
    earlier = leaver(sender, "Ora Earlier")
    send_to_key(sender, earlier, public, tmp_path / "e.transfer")
    take_in(receiver, tmp_path / "e.transfer", private, tmp_path / "e-receipt.json")
    take_in(receiver, tmp_path / "t.transfer", private, tmp_path / "t-receipt.json")
    got = readside.timeline(receiver.ledger, receiver["dsl"], "new pupil", incident=who.transfer_id).rows
    assert [r["event"] for r in got] == ["ReceivedFile.Received"], got
    # the index is the adversary's: pointed at the other file taken in, it is refused, not shown
    swap = text("UPDATE proj_entry_links SET ref = :new WHERE ref = :old")
    with receiver.ledger.engine.begin() as conn:
        moved = [n for (n,) in conn.execute(text("SELECT notification_id FROM proj_entry_links WHERE ref = :old"),
                                            {"old": earlier.transfer_id})]
        conn.execute(swap, {"new": who.transfer_id, "old": earlier.transfer_id})
    try:
        with pytest.raises(NotFound, match="signed entries do not carry it"):
            readside.timeline(receiver.ledger, receiver["dsl"], "new pupil", incident=who.transfer_id)
    finally:  # the receiving ledger is shared by this module's tests
        with receiver.ledger.engine.begin() as conn:
            for nid in moved:
                conn.execute(text("UPDATE proj_entry_links SET ref = :old WHERE notification_id = :nid"),
                             {"old": earlier.transfer_id, "nid": nid})
