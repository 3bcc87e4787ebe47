"""Holes a red team found in witnessed checkpoints, each mounted: a cut back to an older cosigned
size (key holder or keyless DBA), a bundle from a cut copy, false alarms (back-dated, FORK, the
empty tree), a verifier clock behind the log, and inputs that crashed instead of being named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from commands.services import export, incidents, witnesses
from ledger import checkpoint, crypto, merkle, verify_bundle, witness
from ledger.clock import FixedClock
from ledger.errors import AlreadyExists, InvalidInput
from ledger.schema import checkpoints, cosignatures, merkle_leaves, merkle_nodes
from ledger.trust import Trust
from ledger.verify import verify
from ledger.verify_witness import WitnessCheck
from tests.adversary.attacker import Attacker
from ledger.domain.people import subject_record_id
from tests.adversary.test_witness import PASS, SUBJECT, audit, new_witness, problems
from tests.conftest import Federation, pinned_federation

UTC = dt.timezone.utc
DAY0 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
ORIGIN = "school.example/ledger"


def cosign_size(fed: Federation, w: witness.WitnessFolder, now: dt.datetime) -> int:
    """One round of cosigning; the size the witness has now cosigned."""
    state = w.state(fed.ledger.meta()["origin"])
    witnesses.record(fed.ledger, w.cosign(witnesses.request(fed.ledger, state.size if state else 0), PASS, now))
    return w.state(fed.ledger.meta()["origin"]).size  # type: ignore[union-attr]


def report_incident(fed: Federation) -> str:
    return incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T09:00", "Image shared", "Seen"))


def cut_and_resign(fed: Federation, attacker: Attacker, k: int) -> None:
    """IT manager: cut the log back to exactly size k (cosigned long ago), re-sign, and drop the
    cosignature rows for the larger sizes cosigned since."""
    attacker.delete_entries_and_resign(list(range(k, len(attacker.rows()))))
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(cosignatures).where(cosignatures.c.size > k))


def test_a_cut_back_to_an_older_cosigned_size_is_named_once_its_cosignatures_are_stale(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        k = cosign_size(fed, w, clock.now())
        clock.advance(days=1)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "escalated to the LADO")
        assert cosign_size(fed, w, clock.now()) > k
        clock.advance(hours=1)
        cut_and_resign(fed, attacker, k)
        assert audit(fed, clock.now()).ok  # within the window only the witness's own file shows it
        clock.advance(days=30)
        text = problems(audit(fed, clock.now()))
        assert "the newest cosignatures by a quorum of 1 witness(es) are from 2026-01-05T10:00:00" in text
        assert "cut back to an older cosigned checkpoint" in text


def test_a_quiet_honest_ledger_stays_verified_when_its_witness_re_cosigns_the_same_size(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        report_incident(fed)
        size = cosign_size(fed, w, clock.now())
        clock.advance(days=20)
        assert "the newest cosignatures by a quorum" in problems(audit(fed, clock.now()))
        assert cosign_size(fed, w, clock.now()) == size  # nothing new: the same size, a fresh time
        report = audit(fed, clock.now())
        assert report.ok, problems(report)


def test_a_dba_without_the_ledger_key_rolling_back_to_a_cosigned_checkpoint_is_named(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        k = cosign_size(fed, w, clock.now())
        clock.advance(days=1)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "escalated to the LADO")
        cosign_size(fed, w, clock.now())
        with fed.ledger.engine.begin() as conn:
            doomed = [r.notification_id for r in conn.execute(
                merkle_leaves.select().where(merkle_leaves.c.leaf_index >= k))]
            conn.execute(delete(attacker.events).where(attacker.events.c.id.in_(doomed)))
            conn.execute(delete(merkle_leaves).where(merkle_leaves.c.leaf_index >= k))
            conn.execute(delete(merkle_nodes).where(text("(idx + 1) * (1 << level) > :k").bindparams(k=k)))
            conn.execute(delete(checkpoints).where(checkpoints.c.size > k))
            conn.execute(delete(cosignatures).where(cosignatures.c.size > k))
        clock.advance(days=30)
        assert "cut back to an older cosigned checkpoint" in problems(audit(fed, clock.now()))


def bundle_text(fed: Federation, inc: str, out: Path, now: dt.datetime, witnessed: Path | None = None) -> str:
    export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", out, incident=inc))
    report = verify_bundle.verify(out, fed.ledger.config.trust_path, now=now, witnessed=witnessed)
    return "\n".join(report.lines())


def test_a_bundle_from_a_cut_copy_says_what_it_cannot_exclude_and_fails_with_the_witnesss_file(
    tmp_path: Path
) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "first note")
        k = cosign_size(fed, w, clock.now())
        clock.advance(days=1)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "escalated to the LADO")
        cosign_size(fed, w, clock.now())
        clock.advance(hours=1)
        cut_and_resign(fed, attacker, k)
        clock.advance(days=20)
        alone = bundle_text(fed, inc, tmp_path / "b.zip", clock.now())
        assert "RESULT: the bundle verifies, but entries recorded after 2026-01-06T10:00:00" in alone
        assert "could have been cut from the ledger before it was made: check with a witness" in alone
        kept = w.folder / witness.WITNESSED_FILE
        checked = bundle_text(fed, inc, tmp_path / "c.zip", clock.now(), witnessed=kept)
        assert "Either the log was cut and grew again after the witness saw it" in checked
        assert "RESULT: FAILED" in checked


def test_an_honest_archived_bundle_verifies_against_the_witnesss_newer_file(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        cosign_size(fed, w, clock.now())
        out = tmp_path / "archived.zip"
        export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", out, incident=inc))
        clock.advance(days=1)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "a later note")
        cosign_size(fed, w, clock.now())
        report = verify_bundle.verify(out, fed.ledger.config.trust_path, now=clock.now(),
                                      witnessed=w.folder / witness.WITNESSED_FILE)
        lines = "\n".join(report.lines())
        assert report.ok, lines
        assert "RESULT: the bundle verifies, but it is older than what witness governors.example/w1 saw" in lines
        assert "OK    the witness's own latest cosigned checkpoint (--witnessed) agrees with the bundle" in lines
        for junk in (b"\xff\xfe not text", b"not a checkpoint\n"):  # a bad witness file fails, never crashes
            (tmp_path / "junk.txt").write_bytes(junk)
            bad = verify_bundle.verify(out, fed.ledger.config.trust_path, now=clock.now(),
                                       witnessed=tmp_path / "junk.txt")
            assert not bad.ok and "FAIL  the witness's own latest cosigned checkpoint" in "\n".join(bad.lines())


def test_a_witness_cosigning_after_new_entries_leaves_an_honest_ledger_verified(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        req = witnesses.request(fed.ledger, 0)                  # fetched from the desk at 10:00
        clock.advance(minutes=30)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "written at 10:30")
        witnesses.record(fed.ledger, w.cosign(req, PASS, DAY0 + dt.timedelta(hours=1)))  # cosigned at 11:00
        clock.advance(minutes=60)
        report = audit(fed, clock.now())
        assert report.ok, problems(report)


def test_an_entry_back_dated_before_the_cosigned_checkpoints_own_time_is_named(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        report_incident(fed)
        size = len(attacker.rows())
        attacker.seal_everything("2026-01-05T11:00:00.000000+00:00")  # checkpoint `size` re-signed at 11:00
        cosign_size(fed, w, DAY0 + dt.timedelta(hours=2))
        # added after the witness saw the log, claiming 10:30: later than every entry before it
        attacker.insert(attacker.forge(fed["dsl"].pair, subject_record_id("sb-backdated"), SUBJECT,
                                       {"subject_id": "sb-backdated", "kind": "pupil"}, version=1,
                                       record_class="subject", recorded_at="2026-01-05T10:30:00.000000+00:00"))
        attacker.seal_everything("2026-01-05T12:30:00.000000+00:00")
        with fed.ledger.engine.begin() as conn:  # the stored checkpoint goes; the cosigned copy remains
            conn.execute(delete(checkpoints).where(checkpoints.c.size == size))
        text = problems(audit(fed, DAY0 + dt.timedelta(hours=3)))
        assert (f"{size}|recorded at 2026-01-05T10:30:00.000000+00:00, but it was added after the ledger signed "
                f"checkpoint {size} at 2026-01-05T11:00:00.000000+00:00") in text


def signed_tree(private: bytes, size: int, nodes: merkle.MemoryNodes) -> str:
    root = merkle.root(size, nodes) if size else merkle.EMPTY_ROOT
    return checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, size, root), ORIGIN, private)


def witness_of_ledger(tmp_path: Path) -> tuple[witness.WitnessFolder, bytes, merkle.MemoryNodes]:
    private = crypto.random_key()
    vkey = checkpoint.verifier_key(ORIGIN, crypto.signing_public_key(private))
    w, _ = witness.WitnessFolder.create(tmp_path / "w", "gov/w1", [vkey], PASS)
    nodes = merkle.MemoryNodes()
    for i in range(5):
        nodes.append(i, merkle.leaf_hash(bytes([i])))
    return w, private, nodes


def test_a_junk_proof_is_unprocessable_not_a_fork_and_two_roots_for_one_size_are(tmp_path: Path) -> None:
    w, private, nodes = witness_of_ledger(tmp_path)
    w.cosign(witness.format_request(0, [], signed_tree(private, 3, nodes)), PASS, DAY0)
    junk = [b"\0" * 32] * len(merkle.consistency_proof(3, 5, nodes))
    with pytest.raises(witness.Unprocessable, match="UNPROVED.*fetch a fresh one"):
        w.cosign(witness.format_request(3, junk, signed_tree(private, 5, nodes)), PASS, DAY0)
    assert w.state(ORIGIN).size == 3  # type: ignore[union-attr]
    other = merkle.MemoryNodes()
    for i in range(3):
        other.append(i, merkle.leaf_hash(b"other" + bytes([i])))
    with pytest.raises(witness.Fork, match="two different roots for size 3"):
        w.cosign(witness.format_request(3, [], signed_tree(private, 3, other)), PASS, DAY0)
    good = merkle.consistency_proof(3, 5, nodes)
    w.cosign(witness.format_request(3, good, signed_tree(private, 5, nodes)), PASS, DAY0)
    assert w.state(ORIGIN).size == 5  # type: ignore[union-attr]


def test_a_witness_that_cosigned_the_empty_tree_cosigns_its_honest_extension(tmp_path: Path) -> None:
    w, private, nodes = witness_of_ledger(tmp_path)
    w.cosign(witness.format_request(0, [], signed_tree(private, 0, nodes)), PASS, DAY0)
    w.cosign(witness.format_request(0, [], signed_tree(private, 3, nodes)), PASS, DAY0 + dt.timedelta(hours=1))
    assert w.state(ORIGIN).size == 3  # type: ignore[union-attr]
    bogus = checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, 0, merkle.leaf_hash(b"x")), ORIGIN, private)
    fresh, _ = witness.WitnessFolder.create(tmp_path / "2", "gov/w2", list(w.config()["logs"].values()), PASS)
    with pytest.raises(witness.Refused, match="root is not the empty tree's"):
        fresh.cosign(witness.format_request(0, [], bogus), PASS, DAY0)


@pytest.mark.parametrize("where", ["old", "size"])
def test_a_huge_decimal_in_an_add_checkpoint_body_is_a_witness_error_not_a_crash(where: str) -> None:
    private = crypto.random_key()
    signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, 1, merkle.leaf_hash(b"x")), ORIGIN, private)
    if where == "old":
        body = "old " + "9" * 5000 + "\n\n" + signed
    else:
        body = "old 0\n\n" + signed.replace("\n1\n", "\n" + "9" * 5000 + "\n", 1)
    with pytest.raises(witness.WitnessError):
        witness.parse_request(body)


def test_a_verifier_whose_clock_is_behind_the_log_says_so(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        for i in range(2):
            incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", f"note {i}")
        cosign_size(fed, w, clock.now())
        attacker.delete_entries_and_resign(list(range(len(attacker.rows()) - 2, len(attacker.rows()))))
        with fed.ledger.engine.begin() as conn:
            conn.execute(delete(cosignatures))
        assert "more than 7 days before now" in problems(audit(fed, DAY0 + dt.timedelta(days=60)))
        text = problems(audit(fed, DAY0 - dt.timedelta(days=60)))
        assert "after this verifier's clock (2025-11-06T10:00:00.000000+00:00): this machine's clock is behind" in text


def test_a_cosignature_dated_far_in_the_future_is_named_not_a_crash(tmp_path: Path) -> None:
    private, wpriv = crypto.random_key(), crypto.random_key()
    root = merkle.leaf_hash(b"x")
    signed = checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, 1, root), ORIGIN, private)
    body, _ = checkpoint.parse_signed_note(signed)
    note = signed + witness.cosign(body, "gov/w1", wpriv, 2**40)
    trust = Trust("id", ORIGIN, crypto.signing_public_key(private), "a", "k", b"\0" * 32, "r", b"\0" * 32,
                  b"\0" * 32, "t", witnesses=(("gov/w1", crypto.signing_public_key(wpriv)),), witness_quorum=1)
    found: list[str] = []
    check = WitnessCheck(trust, [("witness file", note)], lambda p, leaf: found.append(p), DAY0)
    check.reached(1, root, "2026-01-05T09:00:00.000000+00:00")
    check.entry(1, "2026-01-05T09:10:00.000000+00:00")
    check.finish(2)
    assert any("dated POSIX time 1099511627776, after the year 9999" in p and "not counted" in p for p in found)
    with pytest.raises(witness.WitnessError, match="after the year 9999"):
        witness.posix_to_iso(2**40)


def test_recording_or_bundling_a_cosignature_from_the_far_future_is_refused_not_a_crash(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        signed = witnesses.request(fed.ledger, 0).split("\n\n", 1)[1]
        body = checkpoint.parse_signed_note(signed)[0]
        far = witness.cosign(body, w.name, w.private_key(PASS), 2**40)  # a witness whose clock is broken
        with pytest.raises(InvalidInput, match="after the year 9999"):
            witnesses.record(fed.ledger, far)
        with fed.ledger.engine.connect() as conn:
            assert conn.execute(select(cosignatures.c.id)).first() is None
        # planted by hand: listing names it, the bundle verifier fails it without a traceback
        size = checkpoint.parse_checkpoint_body(body).size
        with fed.ledger.engine.begin() as conn:
            conn.execute(cosignatures.insert().values(size=size, witness=w.name, timestamp=2**40,
                                                      cosigned=signed + far, recorded_at="x"))
        assert "after the year 9999" in witnesses.list_cosignatures(fed.ledger)[0]["status"]
        text = bundle_text(fed, inc, tmp_path / "b.zip", clock.now())
        assert "dated after the year 9999" in text and "RESULT: FAILED" in text


def test_one_key_cannot_be_named_twice_toward_the_quorum(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        public = bytes.fromhex(w.config()["public_key"])
        with pytest.raises(AlreadyExists, match="would count twice toward the quorum"):
            witnesses.add_witness(fed.ledger, witness.verifier_key("another.example/w2", public), 2, None)
        assert len(Trust.load(fed.ledger.config.trust_path).witnesses) == 1


def test_a_resumed_verify_with_a_saved_checkpoint_keeps_the_witness_checks(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        attacker = Attacker(fed)
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        k = cosign_size(fed, w, clock.now())
        with fed.ledger.engine.connect() as conn:
            saved = checkpoint.parse_checkpoint_body(checkpoint.parse_signed_note(
                str(conn.execute(select(checkpoints.c.signed).where(checkpoints.c.size == k)).scalar_one()))[0])
        clock.advance(days=1)
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "escalated to the LADO")
        cosign_size(fed, w, clock.now())
        trust = Trust.load(fed.ledger.config.trust_path)
        with fed.ledger.engine.connect() as conn:
            honest = verify(conn, fed.ledger.app.events_table, trust, since=saved, now=clock.now())
        assert honest.ok, problems(honest)
        assert honest.resumed is not None  # it read only the entries after the saved checkpoint
        cut_and_resign(fed, attacker, k)
        clock.advance(days=30)
        with fed.ledger.engine.connect() as conn:
            cut = verify(conn, fed.ledger.app.events_table, trust, since=saved, now=clock.now())
        assert "cut back to an older cosigned checkpoint" in problems(cut)
        assert cut.resumed is not None, cut.replayed
