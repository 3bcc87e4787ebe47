"""``ledger transfer``: a child's file from one school's ledger to another's, by the CLI alone."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands.services import incidents, people
from ledger import crypto
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation, build_federation, local_today

KEY_PASSPHRASE = "the receiving dsl's key passphrase"


@dataclass
class Schools:
    """Oak (sending, with a pupil who has a safeguarding record) and Elm (receiving)."""

    oak: LedgerCli
    elm: LedgerCli
    pupil: str
    folder: Path
    oak_fed: Federation


@pytest.fixture(scope="module")
def schools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Schools]:
    folder = tmp_path_factory.mktemp("transfer-cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        oak, elm = build_federation(folder / "oak"), build_federation(folder / "elm")
    pupil = people.add_subject(oak.ledger, oak["dsl"], "pupil", "Pip Mover")
    inc = incidents.report(oak.ledger, oak["teacher"], incidents.IncidentReport(
        "child-on-child", f"{local_today(-4)}T11:00", "Threats in a group chat", "Shown by the pupil",
        people=(f"{pupil}:victim",)))
    incidents.triage(oak.ledger, oak["dsl"], inc, "safeguarding")
    try:
        yield Schools(LedgerCli(folder / "oak"), LedgerCli(folder / "elm"), pupil, folder, oak)
    finally:
        oak.ledger.close()
        elm.ledger.close()


def test_the_whole_journey_by_the_cli(schools: Schools) -> None:
    oak, elm, folder = schools.oak, schools.elm, schools.folder
    made = elm.run("transfer", "keygen", "--out", str(folder / "elm-key"), "--school", "Elm Academy",
                   "--name", "Dee Receiver", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE)
    assert made.exit_code == 0, made.output
    public = folder / "elm-key" / "transfer-key.pub.json"
    assert made.stdout == f"{public}\n" and "fingerprint to read out by phone" in made.stderr

    left = oak.run("transfer", "leave", "--person", schools.pupil, "--left", local_today(), "--to-school",
                   "Elm Academy", actor="dsl")
    assert left.exit_code == 0, left.output
    transfer_id = left.stdout.strip()
    assert transfer_id.startswith("tr-") and "is due by" in left.stderr
    due = [r for r in oak.rows("inbox", actor="dsl") if r["ref"] == transfer_id]
    assert [r["kind"] for r in due] == ["transfer-file"]

    refused = oak.run("transfer", "--person", schools.pupil, "--to-school", "Elm Academy", "--to-key", str(public),
                      "--out", str(folder / "pip.transfer"), actor="teacher")
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: teacher may not transfer")
    assert not (folder / "pip.transfer").exists()

    sent = oak.run("transfer", "--person", schools.pupil, "--to-school", "Elm Academy", "--to-key", str(public),
                   "--out", str(folder / "pip.transfer"), actor="dsl")
    assert sent.exit_code == 0, sent.output
    digest = hashlib.sha256((folder / "pip.transfer").read_bytes()).hexdigest()
    assert sent.stdout == f"{digest}  {folder / 'pip.transfer'}\n"
    assert f"transfer {transfer_id}: " in sent.stderr and ": in time" in sent.stderr

    taken = elm.run("transfer", "import", str(folder / "pip.transfer"), "--key",
                    str(folder / "elm-key" / "transfer-key.json"), "--receipt", str(folder / "receipt.json"),
                    actor="dsl", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE)
    assert taken.exit_code == 0, taken.output
    assert taken.stdout.startswith(f"transfer {transfer_id} from ") and "checks passed" in taken.stdout
    assert json.loads(json.loads((folder / "receipt.json").read_text())["receipt"])["transfer_id"] == transfer_id
    opened = elm.run("transfer", "open", transfer_id, "--out", str(folder / "read.zip"), "--reason", "new pupil",
                     actor="dsl")
    assert opened.exit_code == 0 and opened.stdout.splitlines()[-1] == "RESULT: the bundle verifies"

    recorded = oak.run("transfer", "receipt", str(folder / "receipt.json"), actor="dsl")
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.startswith(f"receipt for transfer {transfer_id} recorded: received by Dee Receiver "
                                      "(Elm Academy) at ")
    assert not [r for r in oak.rows("inbox", actor="dsl") if r["ref"] == transfer_id]
    listed = {r["transfer"]: r for r in oak.rows("transfer", "list", actor="dsl")}[transfer_id]
    assert listed["left_on"] == local_today() and listed["sent"] and listed["receipt"] not in ("", "outstanding")
    assert oak.run("transfer", "list", actor="teacher").exit_code == 1
    again = oak.run("transfer", "receipt", str(folder / "receipt.json"), actor="dsl")
    assert again.exit_code == 1 and "already recorded" in again.stderr


def test_sending_needs_its_options_and_writes_nothing_without_them(schools: Schools) -> None:
    before = schools.oak.snapshot()
    result = schools.oak.run("transfer", "--person", schools.pupil, actor="dsl")
    assert result.exit_code == 2 and "sending needs --person, --to-school and --out" in result.stderr
    both = schools.oak.run("transfer", "--person", schools.pupil, "--to-school", "Elm Academy", "--out",
                           str(schools.folder / "x.transfer"), actor="dsl")
    assert both.exit_code == 1 and "--to-key FILE" in both.stderr
    assert schools.oak.snapshot() == before and not (schools.folder / "x.transfer").exists()


def test_a_receipt_that_is_not_one_is_refused(schools: Schools) -> None:
    junk = schools.folder / "junk.json"
    junk.write_text('{"receipt": "{}", "signature": "00"}')
    before = schools.oak.snapshot()
    result = schools.oak.run("transfer", "receipt", str(junk), actor="dsl")
    assert result.exit_code == 1 and "is not a transfer receipt" in result.stderr
    assert schools.oak.snapshot() == before


def test_a_file_sealed_with_a_passphrase_read_by_phone(schools: Schools) -> None:
    oak, elm, folder = schools.oak, schools.elm, schools.folder
    phone = "lantern orbit meadow quartz"
    made = elm.run("transfer", "keygen", "--out", str(folder / "phone-key"), "--school", "Elm Academy",
                   "--name", "Dee Receiver", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE)
    assert made.exit_code == 0, made.output
    left = oak.run("transfer", "leave", "--person", schools.pupil, "--left", local_today(), "--to-school",
                   "Elm Academy", actor="dsl")
    assert left.exit_code == 0, left.output
    sent = oak.run("transfer", "--person", schools.pupil, "--to-school", "Elm Academy", "--passphrase-from-phone",
                   "--out", str(folder / "phone.transfer"), actor="dsl", LEDGER_TRANSFER_PHONE_PASSPHRASE=phone)
    assert sent.exit_code == 0, sent.output
    assert "with the passphrase (read it to the receiving DSL by phone" in sent.stderr
    args = ("transfer", "import", str(folder / "phone.transfer"), "--passphrase-from-phone", "--key",
            str(folder / "phone-key" / "transfer-key.json"), "--receipt", str(folder / "phone-receipt.json"))
    before = elm.snapshot()
    wrong = elm.run(*args, actor="dsl", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE,
                    LEDGER_TRANSFER_PHONE_PASSPHRASE="lantern orbit meadow quartzz")
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.stderr and elm.snapshot() == before
    assert not (folder / "phone-receipt.json").exists()
    taken = elm.run(*args, actor="dsl", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE,
                    LEDGER_TRANSFER_PHONE_PASSPHRASE=phone)
    assert taken.exit_code == 0, taken.output
    recorded = oak.run("transfer", "receipt", str(folder / "phone-receipt.json"), actor="dsl")
    assert recorded.exit_code == 0, recorded.output


def test_a_passphrase_file_is_imported_without_a_key_file(schools: Schools) -> None:
    """The receiving DSL has no transfer key yet: the phone passphrase opens the file, and the
    receipt is signed with a one-off key naming the school and person given."""
    oak, elm, folder = schools.oak, schools.elm, schools.folder
    phone = "harbour violet engine sparrow"
    pupil = people_of_oak_leaving(schools)
    sent = oak.run("transfer", "--person", pupil, "--to-school", "Elm Academy", "--passphrase-from-phone",
                   "--out", str(folder / "nokey.transfer"), actor="dsl", LEDGER_TRANSFER_PHONE_PASSPHRASE=phone)
    assert sent.exit_code == 0, sent.output
    args = ("transfer", "import", str(folder / "nokey.transfer"), "--passphrase-from-phone",
            "--receipt", str(folder / "nokey-receipt.json"))
    before = elm.snapshot()
    unnamed = elm.run(*args, actor="dsl", LEDGER_TRANSFER_PHONE_PASSPHRASE=phone)
    assert unnamed.exit_code != 0 and "--school" in unnamed.stderr and "--name" in unnamed.stderr, unnamed.output
    assert elm.snapshot() == before and not (folder / "nokey-receipt.json").exists()
    taken = elm.run(*args, "--school", "Elm Academy", "--name", "Dee Receiver", actor="dsl",
                    LEDGER_TRANSFER_PHONE_PASSPHRASE=phone)
    assert taken.exit_code == 0, taken.output
    assert "one-off key" in taken.stderr
    recorded = oak.run("transfer", "receipt", str(folder / "nokey-receipt.json"), actor="dsl")
    assert recorded.exit_code == 0 and "Dee Receiver (Elm Academy)" in recorded.output, recorded.output
    transfer_id = json.loads(json.loads((folder / "nokey-receipt.json").read_text())["receipt"])["transfer_id"]
    opened = elm.run("transfer", "open", transfer_id, "--out", str(folder / "nokey.zip"), "--reason", "new pupil",
                     actor="dsl")
    assert opened.exit_code == 0 and (folder / "nokey.zip").exists(), opened.output


def test_a_file_sealed_to_a_key_still_needs_the_key(schools: Schools) -> None:
    oak, elm, folder = schools.oak, schools.elm, schools.folder
    made = elm.run("transfer", "keygen", "--out", str(folder / "keyed-key"), "--school", "Elm Academy",
                   "--name", "Dee Receiver", LEDGER_TRANSFER_PASSPHRASE=KEY_PASSPHRASE)
    assert made.exit_code == 0, made.output
    pupil = people_of_oak_leaving(schools)
    sent = oak.run("transfer", "--person", pupil, "--to-school", "Elm Academy", "--to-key",
                   str(folder / "keyed-key" / "transfer-key.pub.json"), "--out", str(folder / "keyed.transfer"),
                   actor="dsl")
    assert sent.exit_code == 0, sent.output
    before = elm.snapshot()
    result = elm.run("transfer", "import", str(folder / "keyed.transfer"), "--school", "Elm Academy", "--name",
                     "Dee Receiver", "--receipt", str(folder / "keyed-receipt.json"), actor="dsl")
    assert result.exit_code == 1 and "give --key" in result.stderr, result.output
    assert elm.snapshot() == before and not (folder / "keyed-receipt.json").exists()


def people_of_oak_leaving(schools: Schools) -> str:
    """Another Oak pupil with a safeguarding record, recorded as leaving for Elm Academy."""
    from tests.integration.test_transfer import leaver

    return leaver(schools.oak_fed, "Kim Nokey").pupil
