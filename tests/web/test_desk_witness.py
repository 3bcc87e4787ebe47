"""The desk's one public page for witnesses: the add-checkpoint body, with nothing personal in it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from commands.services import incidents, witnesses
from ledger import checkpoint, witness
from ledger.clock import SystemClock
from ledger.trust import Trust
from commands.web import audit
from tests.web.conftest import Site, text_of


def test_a_witness_fetches_the_request_without_signing_in(site: Site) -> None:
    visitor = site.visitor()
    response = visitor.get("/witness/add-checkpoint")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    old, proof, signed = witness.parse_request(response.text)
    trust = Trust.load(site.fed.ledger.config.trust_path)
    cp = checkpoint.open_checkpoint(signed, trust.origin, trust.ledger_public_key)
    assert old == 0 and proof == [] and cp.size > 0
    grown = visitor.get("/witness/add-checkpoint?old=3")
    old, proof, _ = witness.parse_request(grown.text)
    assert old == 3 and proof, "a consistency proof from size 3"
    assert "Person" not in grown.text and "Pip" not in grown.text


def test_a_bad_old_size_is_refused(site: Site) -> None:
    visitor = site.visitor()
    for query in ("old=abc", "old=-1", "old=99999999999999999999999", "old=\u0663"):
        response = visitor.get(f"/witness/add-checkpoint?{query}")
        assert response.status_code in (400, 422), (query, response.status_code)
    huge = visitor.get("/witness/add-checkpoint?old=999999")
    assert huge.status_code >= 400 and "larger than the newest checkpoint" in huge.text
    assert visitor.get("/audit").status_code == 303, "everything else still needs signing in"


def test_the_auditor_checks_a_witness_file_in_the_browser(site: Site, tmp_path: Path) -> None:
    fed = site.fed
    log_key = checkpoint.verifier_key(fed.ledger.meta()["origin"], fed.ledger.ledger_public_key())
    folder, key = witness.WitnessFolder.create(tmp_path / "w", "governors.example/w1", [log_key], "pass")
    witnesses.add_witness(fed.ledger, key, None, None)
    folder.cosign(witnesses.request(fed.ledger, 0), "pass", SystemClock().now())
    kept = (tmp_path / "w" / witness.WITNESSED_FILE).read_bytes()
    auditor = site.visitor("auditor")
    trust = fed.ledger.config.trust_path.read_bytes()
    checked = auditor.post("/audit/verify", {"trust": (io.BytesIO(trust), "trust.json"),
                                             "witnessed": (io.BytesIO(kept), "latest-cosigned.txt")},
                           content_type="multipart/form-data")
    text = text_of(checked)
    assert "OK: the ledger verifies" in text and "cosigned by a quorum of witnesses at" in text
    body, signatures = checkpoint.parse_signed_note(kept.decode("utf-8"))
    name, kid, raw = signatures[-1]
    altered = (kept.decode("utf-8").rsplit("\u2014 ", 1)[0]
               + checkpoint.signature_line(name, kid, raw[:-1] + bytes([raw[-1] ^ 1]))).encode("utf-8")
    failed = auditor.post("/audit/verify", {"trust": (io.BytesIO(trust), "trust.json"),
                                            "witnessed": (io.BytesIO(altered), "latest-cosigned.txt")},
                          content_type="multipart/form-data")
    assert "FAILED" in text_of(failed) and "altered or forged" in text_of(failed), text_of(failed)


def test_the_public_request_is_worked_out_once_per_checkpoint(site: Site, monkeypatch: Any) -> None:
    audit._requests.clear()
    made: list[int | None] = []
    real = witnesses.request

    def counted(ledger: Any, old: int | None = None) -> str:
        made.append(old)
        return real(ledger, old)

    monkeypatch.setattr(witnesses, "request", counted)
    visitor = site.visitor()
    first = [visitor.get("/witness/add-checkpoint").text for _ in range(5)]
    assert len(made) == 1 and len(set(first)) == 1, "five visits, one piece of checking work"
    visitor.get("/witness/add-checkpoint?old=3")
    assert made == [None, 3]
    # a new entry makes a new checkpoint: the page works the request out afresh
    incidents.report(site.fed.ledger, site.fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Image shared", "Seen"))
    newer = visitor.get("/witness/add-checkpoint").text
    assert len(made) == 3 and newer != first[0]


def test_the_witness_page_can_be_turned_off(site: Site) -> None:
    """``ledger serve --no-witness-page``: the page is a plain 404 that says nothing of the ledger."""
    from commands.web.app import create_app
    from commands.web.desk import Settings
    from ledger import config as configuration

    app = create_app(configuration.resolve({}, home=str(site.fed.home)), Settings(witness_page=False))
    try:
        visitor = app.test_client()
        for path in ("/witness/add-checkpoint", "/witness/add-checkpoint?old=3"):
            off = visitor.get(path)
            assert off.status_code == 404, path
            assert "There is no such page." in off.text
            assert "policy-ledger/time" not in off.text
    finally:
        app.extensions["desk"].stop()
    assert site.visitor().get("/witness/add-checkpoint").status_code == 200, "on by default"


def test_the_witness_page_shows_no_time_but_the_checkpoints_signed_one(site: Site) -> None:
    """The newest checkpoint's time leaves only as its signed line: no header carries a time of the
    ledger's (Last-Modified, ETag, Date, Expires), and the body is the signed note, unchanged."""
    import re

    response = site.visitor().get("/witness/add-checkpoint")
    assert not {"Last-Modified", "ETag", "Date", "Expires", "Age"} & set(response.headers.keys())
    assert response.headers["Cache-Control"] == "no-store"
    _, _, signed = witness.parse_request(response.text)
    body, _ = checkpoint.parse_signed_note(signed)
    times = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d", response.text)
    assert len(times) == 1 and f"{checkpoint.TIME_EXTENSION} {times[0]}" in body, "only the signed time line"
