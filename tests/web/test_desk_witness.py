"""The desk's one public page for witnesses: the add-checkpoint body, with nothing personal in it."""

from __future__ import annotations

from ledger import checkpoint, witness
from ledger.trust import Trust
from tests.web.conftest import Site


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
