"""The tamper matrix: every alteration is caught by verify and named."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from commands.services import people
from ledger import checkpoint, crypto, envelope, identity, sealer
from ledger.identity import KeyPair
from tests.adversary.attacker import Attacker
from ledger.schema import checkpoints, merkle_leaves, merkle_nodes
from ledger.trust import Trust
from ledger.verify import Report, verify
from tests.conftest import Federation


def run_verify(fed: Federation, since: checkpoint.Checkpoint | None = None) -> Report:
    trust = Trust.load(fed.ledger.config.trust_path)
    with fed.ledger.engine.connect() as conn:
        return verify(conn, fed.ledger.app.events_table, trust, since)


def problems(report: Report) -> str:
    return "\n".join(f"{f.leaf}|{f.event_type}|{f.problem}" for f in report.findings)


def rows(fed: Federation) -> list[tuple[int, bytes]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return [(r.id, bytes(r.state)) for r in conn.execute(select(table.c.id, table.c.state).order_by(table.c.id))]


def set_state(fed: Federation, row_id: int, state: bytes) -> None:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(state=state))


def forge(fed: Federation, pair: KeyPair, topic: str, claims: dict[str, object]) -> None:
    """Append an entry outside the application and seal it with the REAL ledger key (the IT manager)."""
    attacker = Attacker(fed)
    attacker.insert(attacker.forge(pair, uuid.uuid4(), topic, claims, version=1, record_class="subject"))
    attacker.seal_everything()


SUBJECT = "ledger.domain.people:Subject.Registered"


def test_an_untouched_ledger_verifies(federation: Federation) -> None:
    report = run_verify(federation)
    assert report.ok, problems(report)
    assert report.signatures == report.entries > 10


def test_a_flipped_body_byte_is_caught(federation: Federation) -> None:
    row_id, state = rows(federation)[4]
    tampered = bytearray(state)
    tampered[-5] ^= 0x40
    set_state(federation, row_id, bytes(tampered))
    report = run_verify(federation)
    assert not report.ok
    assert "4|" in problems(report) and "body does not match its signed body hash" in problems(report)


def test_a_changed_header_field_is_caught(federation: Federation) -> None:
    row_id, state = rows(federation)[6]
    entry = envelope.parse(state)
    changed = entry.header_bytes.replace(b'"recorded_at":"2', b'"recorded_at":"1')
    assert changed != entry.header_bytes
    set_state(federation, row_id, envelope.Envelope(changed, entry.header, entry.signature, entry.body).to_bytes())
    text = problems(run_verify(federation))
    assert "6|StaffMember" in text
    assert "signature does not verify" in text and "leaf hash mismatch" in text


def test_two_swapped_states_are_caught(federation: Federation) -> None:
    (a, sa), (b, sb) = rows(federation)[3], rows(federation)[8]
    set_state(federation, a, sb)
    set_state(federation, b, sa)
    text = problems(run_verify(federation))
    assert text.count("entries were moved or swapped") == 2


def test_a_deleted_middle_row_is_caught(federation: Federation) -> None:
    row_id, _ = rows(federation)[5]
    table = federation.ledger.app.events_table
    with federation.ledger.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id == row_id))
    text = problems(run_verify(federation))
    assert "5|None|entry is missing from the log (deleted?)" in text


def test_deleted_last_rows_are_caught(federation: Federation) -> None:
    table = federation.ledger.app.events_table
    last_ids = [r for r, _ in rows(federation)[-3:]]
    with federation.ledger.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id.in_(last_ids)))
    text = problems(run_verify(federation))
    assert "covers more entries than the log holds" in text
    assert "3 sealed leaves beyond the end of the log" in text


def test_a_row_forged_with_an_unregistered_key_is_caught(federation: Federation) -> None:
    made_up = identity.generate("dsl")
    forge(federation, made_up, SUBJECT, {"subject_id": "sb-x", "kind": "pupil"})
    text = problems(run_verify(federation))
    assert f"signed by unregistered key {made_up.key_id}" in text and "Subject.Registered" in text


def test_a_row_signed_with_a_revoked_key_is_caught(federation: Federation) -> None:
    old = federation["dsl"].pair
    people.rotate_key(federation.ledger, federation["dsl"], "the new passphrase")
    forge(federation, old, SUBJECT, {"subject_id": "sb-y", "kind": "pupil"})
    text = problems(run_verify(federation))
    assert f"signed by key {old.key_id}, revoked at entry" in text


def test_a_row_by_a_role_that_may_not_write_it_is_caught(federation: Federation) -> None:
    forge(federation, federation["teacher"].pair, SUBJECT, {"subject_id": "sb-z", "kind": "pupil"})
    text = problems(run_verify(federation))
    assert "teacher (roles: staff) may not write Subject.Registered" in text


def test_a_replaced_checkpoint_is_caught(federation: Federation) -> None:
    impostor = crypto.new_signing_key()
    meta = federation.ledger.meta()
    with federation.ledger.engine.begin() as conn:
        size, root, _ = sealer.latest_checkpoint(conn)  # type: ignore[misc]
        forged = checkpoint.sign_checkpoint(checkpoint.Checkpoint(meta["origin"], size, root), meta["origin"], impostor)
        conn.execute(update(checkpoints).where(checkpoints.c.size == size).values(signed=forged))
    text = problems(run_verify(federation))
    assert f"checkpoint {size}:" in text


def test_a_checkpoint_with_a_wrong_root_is_caught(federation: Federation) -> None:
    meta = federation.ledger.meta()
    key = federation.ledger.ledger_signing_key()
    with federation.ledger.engine.begin() as conn:
        size, _, _ = sealer.latest_checkpoint(conn)  # type: ignore[misc]
        bogus = bytes(32)
        signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(meta["origin"], size, bogus), meta["origin"], key)
        conn.execute(update(checkpoints).where(checkpoints.c.size == size).values(signed=signed, root=bogus))
    assert f"checkpoint {size}: root does not match the log as stored" in problems(run_verify(federation))


def test_a_truncated_and_resealed_log_is_caught_with_a_saved_checkpoint(federation: Federation, tmp_path: Path) -> None:
    ledger = federation.ledger
    trust = Trust.load(ledger.config.trust_path)
    people.add_subject(ledger, federation["dsl"], "pupil", "Kept")
    people.add_subject(ledger, federation["dsl"], "pupil", "To Be Cut")
    with ledger.engine.connect() as conn:
        saved = checkpoint.open_checkpoint(sealer.latest_checkpoint(conn)[2], trust.origin, trust.ledger_public_key)  # type: ignore[index]
    # the attacker, holding the real ledger key, cuts the last record and writes a different history on top
    Attacker(federation).delete_entries_and_resign([saved.size - 1])
    people.add_subject(ledger, federation["dsl"], "pupil", "Rewritten History")
    assert run_verify(federation).ok, "without a saved checkpoint the rewrite is self-consistent"
    report = run_verify(federation, since=saved)
    assert not report.ok
    assert "history was" in problems(report)


def test_verify_since_a_saved_checkpoint_checks_only_what_came_after(federation: Federation) -> None:
    trust = Trust.load(federation.ledger.config.trust_path)
    with federation.ledger.engine.connect() as conn:
        saved = checkpoint.open_checkpoint(sealer.latest_checkpoint(conn)[2], trust.origin, trust.ledger_public_key)  # type: ignore[index]
    people.add_subject(federation.ledger, federation["dsl"], "pupil", "Afterwards")
    report = run_verify(federation, since=saved)
    assert report.ok, problems(report)
    assert report.signatures == report.entries == 1  # resumed at the saved checkpoint: only the new entry is read
    assert report.tree_size == saved.size + 1


def test_a_trust_file_for_another_ledger_fails(federation: Federation, tmp_path: Path) -> None:
    trust = json.loads(federation.ledger.config.trust_path.read_text())
    trust["ledger_id"] = "someone-else"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(trust))
    with federation.ledger.engine.connect() as conn:
        report = verify(conn, federation.ledger.app.events_table, Trust.load(path))
    assert "not someone-else" in problems(report)


def test_an_unsealed_entry_is_caught(federation: Federation) -> None:
    with federation.ledger.engine.begin() as conn:
        last = conn.execute(select(merkle_leaves.c.leaf_index).order_by(merkle_leaves.c.leaf_index.desc())).first()
        conn.execute(delete(merkle_leaves).where(merkle_leaves.c.leaf_index == last[0]))  # type: ignore[index]
    assert "was never sealed: it was written into the event table outside the ledger" in problems(run_verify(federation))


def test_a_tampered_merkle_node_is_caught(federation: Federation) -> None:
    with federation.ledger.engine.begin() as conn:
        conn.execute(update(merkle_nodes).where(merkle_nodes.c.level == 1, merkle_nodes.c.idx == 2)
                     .values(hash=bytes(32)))
    assert "stored Merkle node (level 1, index 2) is wrong or missing" in problems(run_verify(federation))


def test_the_parallel_signature_path_catches_a_bad_signature(
    sqlite_federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger import verify as verify_module

    pupil = people.add_subject(sqlite_federation.ledger, sqlite_federation["dsl"], "pupil", "Often Read")
    for n in range(16):  # access-log entries: ordinary entries, checked in batches (not registry changes)
        people.read_details(sqlite_federation.ledger, sqlite_federation["dsl"], pupil, f"read {n}")
    all_rows = rows(sqlite_federation)
    row_id, state = all_rows[-3]
    entry = envelope.parse(state)
    forged = bytearray(entry.signature)
    forged[0] ^= 1
    set_state(sqlite_federation, row_id,
              envelope.Envelope(entry.header_bytes, entry.header, bytes(forged), entry.body).to_bytes())
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(verify_module, "POOL_MIN_BATCH", 1)
    monkeypatch.setattr(verify_module, "BATCH", 4)
    collected: list[int] = []
    original = verify_module.Verifier._collect_one

    def counting(self: verify_module.Verifier) -> None:
        collected.append(1)
        original(self)

    monkeypatch.setattr(verify_module.Verifier, "_collect_one", counting)
    report = run_verify(sqlite_federation)
    assert len(collected) >= 4, "batches of ordinary entries went through the process pool"
    bad = [f for f in report.findings if f.leaf == len(all_rows) - 3]
    assert "signature does not verify" in [f.problem for f in bad]
    assert report.signatures == report.entries - 1
