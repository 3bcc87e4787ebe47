"""The desk's page of leavers' files: every transfer by pupil, linked from the inbox, and the form
that records the receipt a receiving school sends back (sending is done at the command line)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from commands.services import people, transfer
from ledger import transfer_box as box
from tests.integration.test_transfer import leaver, send_to_key
from tests.conftest import Federation, local_today
from tests.web.conftest import Site, text_of


def test_the_dsl_reads_every_leavers_file_on_the_desk_and_the_inbox_links_to_it(site: Site) -> None:
    pupil = people.add_subject(site.fed.ledger, site.fed["dsl"], "pupil", "Ria Desk")
    left = transfer.leave(site.fed.ledger, site.fed["dsl"], pupil, local_today(), "Elm Academy")
    dsl = site.visitor("dsl")
    assert f'href="/transfers#{left.transfer_id}"' in dsl.get("/inbox").text
    shown = dsl.get("/transfers")
    assert shown.status_code == 200
    assert f'id="{left.transfer_id}"' in shown.text
    assert f"Ria Desk ({pupil})" in text_of(shown) and left.due_by in text_of(shown)
    assert "ledger transfer" in text_of(shown), "the page says what is done at the command line"
    assert site.visitor("teacher").get("/transfers").status_code == 403


def a_receipt_to_record(fed: Federation, folder: Path, patch: pytest.MonkeyPatch, name: str) -> tuple[str, Path]:
    """A leaver's file sent from ``fed`` and opened by the receiving DSL's standalone tool, which
    writes the signed receipt: (transfer id, receipt file)."""
    patch.setattr(box, "SCRYPT_N", 2**10)
    private, public = box.keygen(folder / "elm-key", "Elm Academy", "Dee Receiver", "receiver passphrase")
    who = leaver(fed, name)
    send_to_key(fed, who, public, folder / "f.transfer")
    patch.setenv("LEDGER_TRANSFER_PASSPHRASE", "receiver passphrase")
    assert box.main(["open", str(folder / "f.transfer"), "--key", str(private), "--out", str(folder / "b.zip"),
                     "--receipt", str(folder / "receipt.json"), "--trust", str(fed.ledger.config.trust_path)]) == 0
    return who.transfer_id, folder / "receipt.json"


def _upload(visitor: Any, receipt: bytes, csrf: bool = True) -> Any:
    return visitor.post("/transfers/receipt", {"receipt": (io.BytesIO(receipt), "receipt.json")}, csrf=csrf,
                        content_type="multipart/form-data")


def _receipt_of(site: Site, transfer_id: str) -> str:
    return str({r["transfer"]: r for r in transfer.transfers(site.fed.ledger, site.fed["dsl"])}[transfer_id]["receipt"])


def test_the_dsl_records_a_receipt_on_the_desk_with_the_clis_checks(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transfer_id, receipt = a_receipt_to_record(site.fed, tmp_path, monkeypatch, "Rob Receipt")
    waiting = _receipt_of(site, transfer_id)
    dsl = site.visitor("dsl")
    assert 'action="/transfers/receipt"' in dsl.get("/transfers").text
    # altered on its way back: refused, nothing recorded
    outer = json.loads(receipt.read_text())
    altered = json.dumps(dict(outer, receipt=outer["receipt"].replace("Dee Receiver", "Dee Receivex"))).encode()
    refused = _upload(dsl, altered)
    assert refused.status_code >= 400 and "forged or altered" in text_of(refused)
    assert "/tmp" not in refused.text, "the message names the uploaded file, not where the desk kept it"
    junk = _upload(dsl, b"not json")
    assert junk.status_code == 400 and "receipt.json is not a transfer receipt" in text_of(junk)
    # a form that did not come from the desk (no CSRF token) changes nothing
    assert _upload(dsl, receipt.read_bytes(), csrf=False).status_code == 400
    # a teacher may not record one
    assert _upload(site.visitor("teacher"), receipt.read_bytes()).status_code == 403
    assert _receipt_of(site, transfer_id) == waiting
    # the genuine receipt is recorded, once
    done = _upload(dsl, receipt.read_bytes())
    assert done.status_code == 303, text_of(done)
    shown = text_of(dsl.get("/transfers"))
    assert f"Receipt for {transfer_id} recorded: received by Dee Receiver (Elm Academy)" in shown
    assert _receipt_of(site, transfer_id) != waiting
    again = _upload(dsl, receipt.read_bytes())
    assert again.status_code == 409, text_of(again)
