"""A file goes only to the key of the school the pupil left for, and only that school's receipt closes it.

Mounted as a DSL would get it wrong (or an attacker would try): a key file of another school
given at sending, a receipt signed by another school that somehow had the file (the passphrase
leaked, or an old file sealed before the check), and the standalone tool opening a file sealed
with a passphrase when the receiving DSL has no key of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.services import transfer as service
from ledger import transfer_box as box
from ledger.errors import InvalidInput, NotPermitted, VerificationFailed
from tests.conftest import Federation, build_federation, module_federation, refused
from tests.integration.test_transfer import KEY_PASSPHRASE, PHONE, leaver


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sender(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    yield from module_federation(request, tmp_path_factory, "transfer_bound")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(box, "SCRYPT_N", 2**10)
        return {"elm": box.keygen(tmp_path_factory.mktemp("elm"), "Elm Academy", "Dee Receiver", KEY_PASSPHRASE),
                "kings": box.keygen(tmp_path_factory.mktemp("kings"), "Kingsbridge Secondary", "Morgan Price",
                                    KEY_PASSPHRASE)}


def _receipt(sealed_path: Path, key_path: Path | None, out: Path, phone: str | None = None) -> Path:
    """What the standalone tool does on the receiving machine: open, check, sign a receipt."""
    sealed = box.read_sealed(sealed_path)
    key = box.load_receiver_key(key_path, KEY_PASSPHRASE) if key_path else None
    opened = box.check(sealed, box.content_key(sealed, key, phone))
    assert opened.ok, opened.report.lines()
    signer = key or box.new_receiver_key("Elm Academy", "Dee Receiver")
    out.write_bytes(box.receipt(opened, signer, dt.datetime.now(dt.timezone.utc)))
    return out


def test_a_file_is_not_sealed_to_the_key_of_another_school_than_the_pupil_left_for(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    who = leaver(sender, "Jo Wrongkey")
    out = tmp_path / "jo.transfer"
    refused(sender, InvalidInput, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", out, to_key=keys["kings"][1])),
        r"Morgan Price's at Kingsbridge Secondary.*left for Elm Academy")
    assert not out.exists()


def test_every_send_says_whose_key_the_file_was_sealed_to(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    who = leaver(sender, "Kit Keyname")
    sent = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "elm  ACADEMY", tmp_path / "k.transfer", to_key=keys["elm"][1]))
    public = box.load_public_key(keys["elm"][1])
    assert (sent.receiver_name, sent.receiver_school) == ("Dee Receiver", "Elm Academy")
    assert sent.receiver_fingerprint == box.fingerprint(public["agreement_key"])


def test_a_receipt_from_another_school_is_refused_and_the_genuine_one_is_then_recorded(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    who = leaver(sender, "Robin Passphrase")
    service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "r.transfer", passphrase=PHONE))
    # Kingsbridge had the passphrase too (overheard, or told by mistake): its receipt proves it opened
    # the file, but it is not the school the pupil left for
    wrong = _receipt(tmp_path / "r.transfer", keys["kings"][0], tmp_path / "kings.json", PHONE)
    refused(sender, VerificationFailed, lambda: service.record_receipt(sender.ledger, sender["dsl"], wrong),
            r"Kingsbridge Secondary.*left for Elm Academy")
    genuine = _receipt(tmp_path / "r.transfer", keys["elm"][0], tmp_path / "elm.json", PHONE)
    done = service.record_receipt(sender.ledger, sender["dsl"], genuine)
    assert done.transfer_id == who.transfer_id and done.receiver == "Dee Receiver (Elm Academy)"


def test_the_standalone_tool_opens_a_passphrase_file_without_a_key_and_its_receipt_is_recorded(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    who = leaver(sender, "Ash Nokey")
    service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "a.transfer", passphrase=PHONE))
    monkeypatch.setenv("LEDGER_TRANSFER_PHONE_PASSPHRASE", PHONE)
    base = ["open", str(tmp_path / "a.transfer"), "--passphrase-from-phone", "--out", str(tmp_path / "a.zip"),
            "--receipt", str(tmp_path / "a.json")]
    assert box.main(base) == 2 and "--school" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists() and not (tmp_path / "a.json").exists()
    assert box.main(base + ["--school", "Elm Academy", "--name", "Dee Receiver"]) == 0
    assert "one-off" in capsys.readouterr().err
    done = service.record_receipt(sender.ledger, sender["dsl"], tmp_path / "a.json")
    assert done.transfer_id == who.transfer_id and done.receiver == "Dee Receiver (Elm Academy)"
    # a file sealed to a key still needs the key
    other = leaver(sender, "Bo Keyed")
    service.send(sender.ledger, sender["dsl"], service.SendRequest(
        other.pupil, "Elm Academy", tmp_path / "b.transfer", to_key=keys["elm"][1]))
    assert box.main(["open", str(tmp_path / "b.transfer"), "--school", "Elm Academy", "--name", "Dee Receiver",
                     "--out", str(tmp_path / "b.zip"), "--receipt", str(tmp_path / "b.json")]) == 2
    assert "give --key" in capsys.readouterr().err and not (tmp_path / "b.json").exists()


# -- who the child is, and who wrote the file, for the receiving school --------------------------------


def test_the_receiving_school_learns_the_child_and_the_authors_from_signed_entries_in_the_file(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from commands.services import incidents, people
    from tests.conftest import local_today

    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Jo Evans", date_of_birth="2014-05-02",
                               school="Oak Primary")
    inc = incidents.report(sender.ledger, sender["teacher"], incidents.IncidentReport(
        "child-on-child", f"{local_today(-2)}T09:00", "Pushed in the lunch queue", "Seen by a dinner lady",
        people=(f"{pupil}:victim",)))
    incidents.triage(sender.ledger, sender["dsl"], inc, "safeguarding")
    service.leave(sender.ledger, sender["dsl"], pupil, local_today(), "Elm Academy")
    # the Headteacher sends: staff records (names) are read by the Headteacher, not the DSL
    sent = service.send(sender.ledger, sender["head"], service.SendRequest(
        pupil, "Elm Academy", tmp_path / "jo.transfer", to_key=keys["elm"][1]))
    assert sent.person_name == "Jo Evans"
    sealed = box.read_sealed(tmp_path / "jo.transfer")
    assert b"Jo Evans" not in sealed.header_bytes, "names never travel in the clear header"
    opened = box.check(sealed, box.content_key(sealed, box.load_receiver_key(keys["elm"][0], KEY_PASSPHRASE)))
    assert opened.ok
    about = opened.about
    assert about["child"] == {"id": pupil, "name": "Jo Evans", "date_of_birth": "2014-05-02", "school": "Oak Primary"}
    authors = {a["id"]: a for a in about["authors"]}
    assert authors["teacher"]["name"] == "Person teacher" and "staff" in authors["teacher"]["roles"]
    assert authors["dsl"]["name"] == "Person dsl" and "dsl" in authors["dsl"]["roles"]
    assert about["sender"] == {"id": "head", "name": "Person head", "roles": ["headteacher", "staff"]}
    assert "Jo Evans" in box.introduced(opened)
    # the standalone tool says it first
    monkeypatch.setenv("LEDGER_TRANSFER_PASSPHRASE", KEY_PASSPHRASE)
    assert box.main(["open", str(tmp_path / "jo.transfer"), "--key", str(keys["elm"][0]), "--out",
                     str(tmp_path / "jo.zip"), "--receipt", str(tmp_path / "jo.json")]) == 0
    out = capsys.readouterr()
    assert "Jo Evans (born 2014-05-02), formerly of Oak Primary" in out.out
    assert "Person teacher (staff)" in out.out


def test_an_introduction_altered_in_the_bundle_is_caught_and_never_shown(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    import io
    import json
    import zipfile

    who = leaver(sender, "Lee Altered")
    service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "l.transfer", passphrase=PHONE))
    sealed = box.read_sealed(tmp_path / "l.transfer")
    key = box.content_key(sealed, None, PHONE)
    bundle = box.decrypt(sealed, key)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    index = json.loads(contents["entries/index.json"])
    row = next(r for r in index["entries"] if r["event"] == "ChildFileTransfer.ChildIntroduced")
    contents[row["plaintext"]] = contents[row["plaintext"]].replace(b"Lee Altered", b"Someone Else")
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    # sealed again with the same key and header: only the ledger's signature on the header stays
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = os.urandom(12)
    body = nonce + AESGCM(key).encrypt(nonce, forged.getvalue(), box.label("transfer-body/v1") + sealed.header_bytes)
    (tmp_path / "forged.transfer").write_bytes(box.pack(sealed.header, sealed.signature, body))
    again = box.read_sealed(tmp_path / "forged.transfer")
    opened = box.check(again, key)
    assert not opened.ok and opened.about == {}
    assert "Someone Else" not in box.introduced(opened)


def test_a_file_taken_in_is_recorded_with_the_child_it_names(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from tests.integration.test_transfer import take_in

    receiver = build_federation(tmp_path / "elm")
    try:
        who = leaver(sender, "Cam Received")
        service.send(sender.ledger, sender["dsl"], service.SendRequest(
            who.pupil, "Elm Academy", tmp_path / "c.transfer", to_key=keys["elm"][1]))
        taken = take_in(receiver, tmp_path / "c.transfer", keys["elm"][0], tmp_path / "c.json")
        assert "the child protection file of Cam Received" in taken.introduced
        rows = service.received(receiver.ledger, receiver["dsl"])
        assert [(r["transfer"], r["child"]) for r in rows] == [(who.transfer_id, "Cam Received")]
        refused(receiver, NotPermitted, lambda: service.received(receiver.ledger, receiver["teacher"]), "may not")
    finally:
        receiver.ledger.close()


# -- names on the sending side ---------------------------------------------------------------------------


def test_the_sending_side_names_the_pupil_in_leave_send_receipt_list_and_inbox(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from commands.services import inbox, incidents, people
    from tests.conftest import local_today

    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Nia Namedsender")
    inc = incidents.report(sender.ledger, sender["teacher"], incidents.IncidentReport(
        "child-on-child", f"{local_today(-1)}T10:00", "Name calling", "Heard in the corridor",
        people=(f"{pupil}:victim",)))
    incidents.triage(sender.ledger, sender["dsl"], inc, "safeguarding")
    shown = f"Nia Namedsender ({pupil})"
    left = service.leave(sender.ledger, sender["dsl"], "Namedsender", local_today(), "Elm Academy")
    assert left.person == pupil and left.person_label == shown and left.matched, "a partial name is echoed"
    listed = {r["transfer"]: r for r in service.transfers(sender.ledger, sender["dsl"])}
    assert listed[left.transfer_id]["person"] == shown
    items = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"], "leavers due")}
    assert "Nia Namedsender" in items[left.transfer_id]["what"]
    items = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    assert "Nia Namedsender" not in items[left.transfer_id]["what"], "clear facts only without a reason"
    sent = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        pupil, "Elm Academy", tmp_path / "n.transfer", to_key=keys["elm"][1]))
    assert sent.person_label == shown
    receipt = _receipt(tmp_path / "n.transfer", keys["elm"][0], tmp_path / "n.json")
    assert service.record_receipt(sender.ledger, sender["dsl"], receipt).person_label == shown
    # a partial name that matches a pupil whose file already went: the leaving says so
    again = service.leave(sender.ledger, sender["dsl"], "Namedsender", local_today(), "Oak Secondary")
    assert again.matched and len(again.earlier) == 1 and again.earlier[0].startswith(left.transfer_id)
    assert "its receipt recorded" in again.earlier[0]


# -- a second copy, and a leaver with no file ------------------------------------------------------------


def test_a_second_send_is_refused_without_again_and_the_receipt_says_which_copy(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from ledger.errors import RuleViolation

    who = leaver(sender, "Sam Twice")
    first = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "1.transfer", to_key=keys["elm"][1]))
    refused(sender, RuleViolation, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "2.transfer", to_key=keys["elm"][1])), r"already sent at .*--again")
    assert not (tmp_path / "2.transfer").exists()
    second = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "2.transfer", to_key=keys["elm"][1], again=True))
    assert second.copy == 2 and first.copy == 1
    done = service.record_receipt(sender.ledger, sender["dsl"], _receipt(tmp_path / "1.transfer", keys["elm"][0],
                                                                          tmp_path / "1.json"))
    assert done.copy == "copy 1 of 2"
    row = {r["transfer"]: r for r in service.transfers(sender.ledger, sender["dsl"])}[who.transfer_id]
    assert row["copies"] == 2 and row["received_copy"] == 1


def test_a_leaver_with_no_file_is_marked_so_and_leaves_the_inbox(sender: Federation) -> None:
    from commands.services import inbox, people
    from ledger.errors import RuleViolation
    from tests.conftest import local_today

    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Alex Nofile")
    left = service.leave(sender.ledger, sender["dsl"], pupil, local_today(), "Elm Academy")
    refused(sender, NotPermitted, lambda: service.no_file_held(sender.ledger, sender["teacher"], left.transfer_id,
                                                               "no concerns"), "may not")
    service.no_file_held(sender.ledger, sender["dsl"], left.transfer_id, "no concerns were ever recorded")
    assert left.transfer_id not in {i["ref"] for i in inbox.waiting_for(sender.ledger, sender["dsl"])}
    row = {r["transfer"]: r for r in service.transfers(sender.ledger, sender["dsl"])}[left.transfer_id]
    assert row["receipt"] == "no file held"
    # a pupil with a record has a file: it cannot be marked as none
    who = leaver(sender, "Max Hasfile")
    refused(sender, RuleViolation, lambda: service.no_file_held(sender.ledger, sender["dsl"], who.transfer_id,
                                                                "none"), "has a child protection record")


def test_the_sending_ledger_key_has_one_fingerprint_on_both_sides(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    who = leaver(sender, "Fin Fingerprint")
    sent = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "f.transfer", to_key=keys["elm"][1]))
    sealed = box.read_sealed(tmp_path / "f.transfer")
    opened = box.check(sealed, box.content_key(sealed, box.load_receiver_key(keys["elm"][0], KEY_PASSPHRASE)))
    assert opened.fingerprint == sent.ledger_fingerprint
    # the verifier's note gives the full SHA-256 of the key (DER): the phone form is its first 20 digits
    note = next(n for n in opened.report.notes if "key fingerprint" in n)
    assert sent.ledger_fingerprint.replace(":", "") in note


# -- the smaller points ----------------------------------------------------------------------------------


def test_a_late_file_says_why_in_its_own_entry_and_the_wrong_school_is_named(
        sender: Federation, keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    from commands.services import inbox, incidents, people
    from tests.conftest import local_today

    pupil = people.add_subject(sender.ledger, sender["dsl"], "pupil", "Lou Late")
    inc = incidents.report(sender.ledger, sender["teacher"], incidents.IncidentReport(
        "child-on-child", f"{local_today(-30)}T10:00", "Threats", "Overheard", people=(f"{pupil}:victim",)))
    incidents.triage(sender.ledger, sender["dsl"], inc, "safeguarding")
    left = service.leave(sender.ledger, sender["dsl"], pupil, local_today(-21), "Elm Academy")
    refused(sender, InvalidInput, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        pupil, "Birch Academy", tmp_path / "w.transfer", to_key=keys["elm"][1])), r"left for Elm Academy, not")
    refused(sender, InvalidInput, lambda: service.send(sender.ledger, sender["dsl"], service.SendRequest(
        pupil, "Elm Academy", tmp_path / "l.transfer", to_key=keys["elm"][1])), r"school day\(s\) late.*--late-reason")
    sent = service.send(sender.ledger, sender["dsl"], service.SendRequest(
        pupil, "Elm Academy", tmp_path / "l.transfer", to_key=keys["elm"][1],
        late_reason="the new school was only confirmed today"))
    assert sent.late_by > 0
    from commands.services import readside
    rows = readside.timeline(sender.ledger, sender["dsl"], "check", person=pupil).rows
    assert any("the new school was only confirmed today" in str(r["what"]) for r in rows)
    item = {i["ref"]: i for i in inbox.waiting_for(sender.ledger, sender["dsl"])}[left.transfer_id]
    assert item["kind"] == "transfer-receipt" and item["since"] == local_today(), "since the file was sent"


def test_the_standalone_tool_confirms_a_new_passphrase_and_says_what_to_do_without_a_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LEDGER_TRANSFER_PASSPHRASE", raising=False)
    answers = iter(["first passphrase", "second passphrase"])
    monkeypatch.setattr(box.getpass, "getpass", lambda prompt="": next(answers))
    args = ["keygen", "--out", str(tmp_path / "k"), "--school", "Elm Academy", "--name", "Dee"]
    assert box.main(args) == 2 and "do not match" in capsys.readouterr().err
    assert not (tmp_path / "k" / "transfer-key.json").exists()

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(box.getpass, "getpass", no_terminal)
    assert box.main(args) == 2
    err = capsys.readouterr().err
    assert "LEDGER_TRANSFER_PASSPHRASE" in err and "Traceback" not in err


def test_the_standalone_tool_says_what_to_do_about_a_wrong_passphrase(
        sender: Federation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    who = leaver(sender, "Wyn Wrongphrase")
    service.send(sender.ledger, sender["dsl"], service.SendRequest(
        who.pupil, "Elm Academy", tmp_path / "w.transfer", passphrase=PHONE))
    monkeypatch.setenv("LEDGER_TRANSFER_PHONE_PASSPHRASE", PHONE.upper())
    assert box.main(["open", str(tmp_path / "w.transfer"), "--passphrase-from-phone", "--school", "Elm Academy",
                     "--name", "Dee", "--out", str(tmp_path / "w.zip"), "--receipt", str(tmp_path / "w.json")]) == 2
    err = capsys.readouterr().err
    assert "wrong passphrase" in err and "Hint: check the passphrase with the sending DSL by phone" in err
    assert not (tmp_path / "w.zip").exists() and not (tmp_path / "w.json").exists()
