"""``verify`` with each row judged alone in worker processes: the same verdict as judging in one process.

The workers parse each row, hash its leaf and body and check its signature against the key the
entry names as the registry knew it when the batch was handed out; the main process judges in
log order and trusts a worker's signature answer only for the key the registry names at the
entry's position.
"""

from __future__ import annotations

import uuid

import pytest

from commands.services import people
from ledger import envelope, identity, verify as verify_module, verify_rows
from ledger.verify import Report
from tests.adversary.attacker import Attacker
from tests.conftest import Federation
from tests.integration.test_tamper import SUBJECT, problems, rows, run_verify, set_state


def in_workers(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(verify_module, "POOL_MIN_BATCH", 1)
    monkeypatch.setattr(verify_module, "BATCH", batch)


def both_ways(fed: Federation, monkeypatch: pytest.MonkeyPatch, batch: int = 3) -> tuple[Report, Report]:
    """The verdict judged in this process, then with every batch examined in the worker pool."""
    alone = run_verify(fed)
    with monkeypatch.context() as patch:
        in_workers(patch, batch)
        pooled = run_verify(fed)
    return alone, pooled


def test_many_tampers_get_the_same_findings_from_the_workers(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    fed = sqlite_federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Often Read")
    for n in range(6):
        people.read_details(fed.ledger, fed["dsl"], pupil, f"read {n}")
    all_rows = rows(fed)
    # a body byte flipped, a header changed after signing, a row of garbage, two rows swapped
    row_id, state = all_rows[4]
    flipped = bytearray(state)
    flipped[-5] ^= 0x40
    set_state(fed, row_id, bytes(flipped))
    row_id, state = all_rows[6]
    entry = envelope.parse(state)
    changed = entry.header_bytes.replace(b'"recorded_at":"2', b'"recorded_at":"1')
    set_state(fed, row_id, envelope.Envelope(changed, entry.header, entry.signature, entry.body).to_bytes())
    set_state(fed, all_rows[-2][0], b"PLE1 not an envelope at all")
    set_state(fed, all_rows[9][0], all_rows[11][1])
    set_state(fed, all_rows[11][0], all_rows[9][1])
    alone, pooled = both_ways(fed, monkeypatch)
    assert problems(pooled) == problems(alone)
    assert pooled.as_dict() == alone.as_dict()
    text = problems(pooled)
    assert "4|" in text and "body does not match its signed body hash" in text
    assert "6|StaffMember" in text and "leaf hash mismatch" in text
    assert text.count("entries were moved or swapped") == 2
    unreadable = [f for f in pooled.findings if f.problem.startswith("stored entry is unreadable")]
    assert [(f.leaf, f.aggregate) for f in unreadable] == [(len(all_rows) - 2, str(pupil_row(fed, all_rows[-2][0])))]


def pupil_row(fed: Federation, row_id: int) -> uuid.UUID:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return uuid.UUID(str(conn.execute(table.select().where(table.c.id == row_id)).one().originator_id))


def test_a_key_registered_in_the_batch_it_first_signs_in_is_checked_here(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers were handed the registry's keys from before the batch: the new key's signatures
    are checked by the main process against the key the registry names."""
    fed = sqlite_federation
    people.rotate_key(fed.ledger, fed["dsl"], "the new passphrase")
    dsl = fed.ledger.unlock("dsl", "the new passphrase")
    people.add_subject(fed.ledger, dsl, "pupil", "After The Rotation")
    checked_here: list[bytes] = []
    original = verify_module.Verifier._signature_ok

    def spying(self: verify_module.Verifier, public: bytes, item: verify_rows.Examined,
               where: verify_module.Where) -> bool | None:
        if item.signed_with != public:
            checked_here.append(public)
        return original(self, public, item, where)

    monkeypatch.setattr(verify_module.Verifier, "_signature_ok", spying)
    with monkeypatch.context() as patch:
        in_workers(patch, 10_000)  # one batch: the workers know only the keys from before the log began
        report = run_verify(fed)
    assert report.ok, problems(report)
    assert report.signatures == report.entries
    assert checked_here, "signatures by keys the workers were not given were checked in the main process"


def test_a_key_only_the_entry_itself_offers_does_not_pass_in_the_workers(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged entry that carries its own public key in its claims verifies against that key in a
    worker; the registry never authorised it, so the verdict must still name it."""
    fed = sqlite_federation
    made_up = identity.generate("dsl")
    attacker = Attacker(fed)
    claims = {"subject_id": "sb-x", "kind": "pupil", "key_id": made_up.key_id, "public_key": made_up.public.public_key.hex()}
    attacker.insert(attacker.forge(made_up, uuid.uuid4(), SUBJECT, claims, version=1, record_class="subject"))
    attacker.seal_everything()
    alone, pooled = both_ways(fed, monkeypatch)
    assert problems(pooled) == problems(alone)
    assert f"signed by unregistered key {made_up.key_id}" in problems(pooled)
    assert pooled.signatures == pooled.entries - 1


def test_a_bad_signature_by_a_known_key_is_named_from_the_workers(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    fed = sqlite_federation
    all_rows = rows(fed)
    row_id, state = all_rows[-1]
    entry = envelope.parse(state)
    forged = bytearray(entry.signature)
    forged[10] ^= 1
    set_state(fed, row_id, envelope.Envelope(entry.header_bytes, entry.header, bytes(forged), entry.body).to_bytes())
    alone, pooled = both_ways(fed, monkeypatch)
    assert problems(pooled) == problems(alone)
    assert f"{len(all_rows) - 1}|" in problems(pooled) and "signature does not verify" in problems(pooled)


def test_a_row_changed_after_a_worker_read_it_is_named(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main process reads a row again only to check a signature by a key the worker was not
    given; if the row no longer holds the bytes the worker examined (by their leaf hash), that is
    named at the entry, and the signature is not taken as checked."""
    fed = sqlite_federation
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Read Once")
    people.read_details(fed.ledger, fed["dsl"], pupil, "a reason")
    last = rows(fed)[-1]
    original = verify_rows.examine

    def read_earlier(batch: list[verify_rows.Row], sealed: dict[int, tuple[int, bytes]], ledger_id: str,
                     keys: dict[str, bytes]) -> list[verify_rows.Examined]:
        # as if the worker had read the row before it was rewritten: other bytes, no key to try
        return [item._replace(leaf=bytes(32), signed_with=None) if item.id == last[0] else item
                for item in original(batch, sealed, ledger_id, keys)]

    monkeypatch.setattr(verify_rows, "examine", read_earlier)
    report = run_verify(fed)
    changed = [f for f in report.findings if "changed while it was being verified" in f.problem]
    assert [(f.leaf, f.aggregate) for f in changed] == [(report.entries - 1, str(pupil_row(fed, last[0])))]
    assert report.signatures == report.entries - 1


def test_a_row_is_examined_alone() -> None:
    """Garbage is unreadable (named with the row's own columns); an unsealed row says so."""
    garbage = verify_rows.examine([(7, "rec", 2, "x:Subject.Registered", b"PLE1\x00\x00\x00\x09{}")], {}, "L", {})
    assert garbage[0].header is None and garbage[0].problem == "entry is truncated"
    assert (garbage[0].aggregate, garbage[0].version, garbage[0].event, garbage[0].sealed) == (
        "rec", 2, "Subject.Registered", None)
