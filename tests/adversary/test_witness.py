"""Witnesses against the ledger-key holder: a history cut or rewritten after a witness cosigned
fails verify for everyone (no saved checkpoint needed); forged rows and back-dated entries are named."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from commands.services import export, incidents, witnesses
from ledger import checkpoint, merkle, verify_bundle, witness
from ledger.clock import FixedClock, SystemClock
from ledger.errors import InvalidInput
from ledger.schema import cosignatures
from ledger.trust import Trust
from ledger.verify import Report, verify
from tests.adversary.attacker import Attacker
from tests.conftest import Federation, pinned_federation, refused

PASS = "witness passphrase"
SUBJECT = "ledger.domain.people:Subject.Registered"


def new_witness(fed: Federation, folder: Path, name: str = "governors.example/w1") -> witness.WitnessFolder:
    """A governor's witness for this ledger, named in the ledger's trust file."""
    trust_key = checkpoint.verifier_key(fed.ledger.meta()["origin"], fed.ledger.ledger_public_key())
    made, key = witness.WitnessFolder.create(folder, name, [trust_key], PASS)
    witnesses.add_witness(fed.ledger, key, None, None)
    return made


def cosign_latest(fed: Federation, w: witness.WitnessFolder, now: dt.datetime | None = None) -> str:
    """One scheduled round: the ledger's request, the witness's cosignature, the ledger records it."""
    state = w.state(fed.ledger.meta()["origin"])
    line = w.cosign(witnesses.request(fed.ledger, state.size if state else 0), PASS, now or SystemClock().now())
    witnesses.record(fed.ledger, line)
    return line


def audit(fed: Federation, now: dt.datetime | None = None, witnessed: tuple[str, ...] = ()) -> Report:
    """``ledger verify --trust`` with no saved checkpoint (only the trust file)."""
    with fed.ledger.engine.connect() as conn:
        return verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path), now=now,
                      witnessed=[("witness file", text) for text in witnessed])


def problems(report: Report) -> str:
    return "\n".join(f"{f.leaf}|{f.problem}" for f in report.findings)


def write_some(fed: Federation, n: int = 2) -> str:
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Image shared", "Seen"))
    for i in range(n):
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", f"note {i}")
    return inc


def tail(attacker: Attacker, n: int) -> list[int]:
    return list(range(len(attacker.rows()) - n, len(attacker.rows())))


def test_truncate_and_resign_after_a_cosignature_fails_verify_without_since(
    federation: Federation, attacker: Attacker, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    cosign_latest(fed, w)
    cosigned_size = w.state(fed.ledger.meta()["origin"]).size  # type: ignore[union-attr]
    assert audit(fed).ok
    write_some(fed)
    attacker.delete_entries_and_resign(tail(attacker, 8))  # back past what the witness saw; host file replaced
    report = audit(fed)
    assert f"cosigned checkpoint {cosigned_size}" in problems(report)
    assert "history was truncated after a witness saw it" in problems(report)
    # the same attack on a trust file without witnesses goes unseen: the witness is what catches it
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(cosignatures))
    assert "truncated" not in problems(audit(fed))


def test_a_history_rewritten_under_a_cosignature_fails_even_when_it_grew_back(
    federation: Federation, attacker: Attacker, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed, 3)
    cosign_latest(fed, w)
    size = len(attacker.rows())
    attacker.delete_entries_and_resign([size - 2])
    write_some(fed, 3)  # the log is longer than the witness saw again, with one entry gone from under it
    assert f"cosigned checkpoint {size}" in problems(audit(fed))
    assert "the log's root at that size differs: history was rewritten" in problems(audit(fed))
    # the witness itself refuses the rewritten log on its next round: the proof cannot connect it to what
    # it cosigned (a spoiled request looks the same, so it asks for a fresh one before raising the alarm)
    with pytest.raises(witness.Unprocessable, match="UNPROVED"):
        cosign_latest(fed, w)
    with pytest.raises(witness.Unprocessable, match="If a fresh request fails the same way"):
        cosign_latest(fed, w)


def test_deleting_the_cosignature_rows_too_fails_once_entries_outlive_the_window(
    federation: Federation, attacker: Attacker, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    cosign_latest(fed, w)
    kept_by_witness = (w.folder / witness.WITNESSED_FILE).read_text(encoding="utf-8")
    attacker.delete_entries_and_resign(tail(attacker, 3))
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(cosignatures))
    later = SystemClock().now() + dt.timedelta(days=8)
    text = problems(audit(fed, now=later))
    assert "no witness has seen entries 0.." in text and "more than 7 days before now" in text
    # before the window ends, the auditor who takes the witness's own file sees it at once
    assert "truncated after a witness saw it" in problems(audit(fed, witnessed=(kept_by_witness,)))


def test_an_unwitnessed_ledger_within_the_window_verifies_and_after_it_does_not(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    assert audit(fed).ok
    assert "no witness has seen entries 0.." in problems(audit(fed, now=SystemClock().now() + dt.timedelta(days=8)))
    cosign_latest(fed, w)
    assert audit(fed, now=SystemClock().now() + dt.timedelta(days=6)).ok
    # the cosignature itself ages: a week on without a fresh one is named (a cut back to it looks the same)
    assert "the newest cosignatures by a quorum of 1" in problems(
        audit(fed, now=SystemClock().now() + dt.timedelta(days=8)))
    report = audit(fed)
    assert report.witness is not None and report.witness["witnessed_size"] == report.tree_size


def test_a_forged_or_altered_cosignature_row_is_ignored_and_named(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    cosign_latest(fed, w)
    with fed.ledger.engine.begin() as conn:
        row = conn.execute(select(cosignatures)).one()
        name, kid, raw = witness.parse_lines(row.cosigned.split("\n\n")[1].split("\n", 1)[1])[0]
        moved = (raw[:7] + bytes([raw[7] ^ 1]) + raw[8:])  # the time changed by a second
        forged = row.cosigned.replace(row.cosigned.split("\n")[-2] + "\n",
                                      checkpoint.signature_line(name, kid, moved))
        conn.execute(update(cosignatures).values(cosigned=forged))
    text = problems(audit(fed))
    assert f"cosignature row {row.id} (witness governors.example/w1): the cosignature by witness " \
           "'governors.example/w1' does not verify: altered or forged; it is ignored" in text
    # and it is not counted: nothing is witnessed by it
    assert audit(fed).witness["witnessed_size"] is None  # type: ignore[index]


def test_recording_refuses_a_cosignature_it_cannot_check_and_writes_nothing(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    line = w.cosign(witnesses.request(fed.ledger, 0), PASS, SystemClock().now())
    stranger, _ = witness.WitnessFolder.create(tmp_path / "s", "stranger.example/w", [
        checkpoint.verifier_key(fed.ledger.meta()["origin"], fed.ledger.ledger_public_key())], PASS)
    other = stranger.cosign(witnesses.request(fed.ledger, 0), PASS, SystemClock().now())

    def count() -> int:
        with fed.ledger.engine.connect() as conn:
            return len(conn.execute(select(cosignatures.c.id)).all())

    name, kid, raw = witness.parse_lines(line)[0]
    altered = checkpoint.signature_line(name, kid, raw[:-1] + bytes([raw[-1] ^ 1]))
    for bad, message in ((other, "is not a witness the trust file names"),
                         (altered, "matches no checkpoint this ledger holds"),
                         ("not a line\n", "not a cosignature")):
        with pytest.raises(InvalidInput, match=message):
            witnesses.record(fed.ledger, bad)
        assert count() == 0
    refused(fed, InvalidInput, lambda: witnesses.record(fed.ledger, other))


def test_the_witness_cosigning_before_entries_were_recorded_names_their_false_time(tmp_path: Path) -> None:
    clock = FixedClock("2026-01-05T10:00:00+00:00")
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        write_some(fed)
        # the host's clock ran a day fast: the witness saw these entries a day before their times
        cosign_latest(fed, w, now=dt.datetime(2026, 1, 4, 10, 0, tzinfo=dt.timezone.utc))
        with fed.ledger.engine.connect() as conn:
            report = verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path),
                            now=clock.now())
        assert "after witness governors.example/w1 saw the log at that size (2026-01-04T10:00:00" in problems(report)


def test_a_rolled_back_ledger_offered_to_the_witness_is_refused_and_its_state_kept(
    federation: Federation, attacker: Attacker, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    cosign_latest(fed, w)
    before = w.state(fed.ledger.meta()["origin"])
    attacker.delete_entries_and_resign(tail(attacker, 2))
    with pytest.raises(witness.Rollback, match="ROLLBACK refused"):
        w.cosign(witnesses.request(fed.ledger, 0), PASS, SystemClock().now())
    assert w.state(fed.ledger.meta()["origin"]) == before
    assert len(list((w.folder / witness.EVIDENCE_FOLDER).iterdir())) == 1


# -- bundles ------------------------------------------------------------------------------


def export_case(fed: Federation, out: Path) -> dict[str, bytes]:
    inc = write_some(fed)
    export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", out, incident=inc))
    with zipfile.ZipFile(out) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def bundle_failures(path: Path, trust: Path, now: dt.datetime | None = None) -> str:
    report = verify_bundle.verify(path, trust, now=now)
    return "\n".join(report.lines())


def test_a_bundle_carries_the_witnessed_checkpoint_and_the_standalone_verifier_checks_it(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed)
    cosign_latest(fed, w)
    files = export_case(fed, tmp_path / "b.zip")
    assert {"witnessed.txt", "witnessed-proof.txt"} <= set(files)
    text = bundle_failures(tmp_path / "b.zip", fed.ledger.config.trust_path)
    assert "RESULT: the bundle verifies" in text and "note  witnessed: checkpoint" in text
    assert "OK    the checkpoint is one history with those a quorum of 1 witness(es) cosigned" in text
    # the entries the witness has not seen yet are fine while young, and named once too old
    late = bundle_failures(tmp_path / "b.zip", fed.ledger.config.trust_path,
                           now=SystemClock().now() + dt.timedelta(days=8))
    assert "FAIL  entries no witness has seen yet are under 7 days old" in late and "the witnesses never saw them" in late


def test_a_bundle_from_a_rewritten_log_fails_the_standalone_verifier(
    federation: Federation, attacker: Attacker, tmp_path: Path
) -> None:
    fed = federation
    w = new_witness(fed, tmp_path / "w")
    write_some(fed, 3)
    cosign_latest(fed, w)
    attacker.delete_entries_and_resign([len(attacker.rows()) - 2])
    export_case(fed, tmp_path / "b.zip")
    text = bundle_failures(tmp_path / "b.zip", fed.ledger.config.trust_path)
    assert "are not one history: the log was rewritten after the witnesses saw it" in text
    assert "RESULT: FAILED" in text
    # leaving the cosignatures out of the bundle does not help: the trust file names witnesses
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(cosignatures))
    export_case(fed, tmp_path / "c.zip")
    text = bundle_failures(tmp_path / "c.zip", fed.ledger.config.trust_path)
    assert "the bundle holds no checkpoint they cosigned (witnessed.txt, witnessed/)" in text and "RESULT: FAILED" in text


@pytest.mark.parametrize("size1, size2", [(1, 1), (1, 2), (3, 7), (4, 8), (5, 13), (8, 8), (6, 16)])
def test_the_standalone_consistency_check_agrees_with_the_ledgers(size1: int, size2: int) -> None:
    nodes = merkle.MemoryNodes()
    for i in range(size2):
        nodes.append(i, merkle.leaf_hash(bytes([i])))
    root1, root2 = merkle.root(size1, nodes), merkle.root(size2, nodes)
    proof = merkle.consistency_proof(size1, size2, nodes) if size1 != size2 else []
    assert verify_bundle.consistent(size1, size2, root1, root2, proof)
    assert not verify_bundle.consistent(size1, size2, merkle.leaf_hash(b"x"), root2, proof)
    if proof:
        assert not verify_bundle.consistent(size1, size2, root1, root2, proof[:-1])
        assert not verify_bundle.consistent(size1, size2, root1, root2, [*proof[:-1], merkle.leaf_hash(b"y")])
