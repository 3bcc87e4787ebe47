"""Witnesses in evidence bundles: a quorum above one is met by each witness's own newest cosigned
checkpoint (shipped in ``witnessed/``), a forged or removed cosignature is named, and the standalone
verifier holds the entries it carries to the cosigning witnesses' times, as ``verify`` does."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zipfile
from pathlib import Path

from commands.services import export, incidents, witnesses
from ledger import bundle, checkpoint, verify_bundle, witness
from ledger.clock import FixedClock
from tests.adversary.test_witness import PASS, new_witness
from tests.adversary.test_witness_holes import cosign_size as cosign, report_incident
from tests.conftest import Federation, pinned_federation

UTC = dt.timezone.utc
DAY0 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def make_bundle(fed: Federation, inc: str, out: Path) -> dict[str, bytes]:
    export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", out, incident=inc))
    with zipfile.ZipFile(out) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def resealed(fed: Federation, files: dict[str, bytes], folder: Path) -> Path:
    """The bundle's files as the ledger-key holder would sign them again, unpacked in ``folder``."""
    sealed = bundle.seal({k: v for k, v in files.items() if k not in (bundle.SUMS, bundle.SIGNATURE)},
                         fed.ledger.ledger_signing_key())
    for name, data in sealed.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def checked(fed: Federation, path: Path, now: dt.datetime, witnessed: Path | None = None) -> tuple[bool, str]:
    report = verify_bundle.verify(path, fed.ledger.config.trust_path, now=now, witnessed=witnessed)
    return report.ok, "\n".join(report.lines())


def two_witnesses_at_different_sizes(fed: Federation, tmp_path: Path, clock: FixedClock) -> tuple[
        str, witness.WitnessFolder, witness.WitnessFolder, int, int]:
    w1 = new_witness(fed, tmp_path / "w1", "governors.example/w1")
    trust_key = checkpoint.verifier_key(fed.ledger.meta()["origin"], fed.ledger.ledger_public_key())
    w2, key = witness.WitnessFolder.create(tmp_path / "w2", "trust.example/w2", [trust_key], PASS)
    witnesses.add_witness(fed.ledger, key, 2, None)  # `ledger witness add KEY --quorum 2`
    inc = report_incident(fed)
    first = cosign(fed, w1, clock.now())
    clock.advance(hours=1)
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "escalated to the LADO")
    second = cosign(fed, w2, clock.now())
    return inc, w1, w2, first, second


def test_a_quorum_of_two_is_met_by_each_witnesss_own_newest_cosignature(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        inc, w1, w2, first, second = two_witnesses_at_different_sizes(fed, tmp_path, clock)
        assert first < second
        clock.advance(minutes=10)
        files = make_bundle(fed, inc, tmp_path / "b.zip")
        ok, text = checked(fed, tmp_path / "b.zip", clock.now())
        assert ok, text
        assert "OK    the checkpoint is one history with those a quorum of 2 witness(es) cosigned" in text
        for w in (w1, w2):  # each witness's own file agrees with the bundle
            ok, text = checked(fed, tmp_path / "b.zip", clock.now(), witnessed=w.folder / witness.WITNESSED_FILE)
            assert ok, text
        shipped = sorted(n for n in files if n.startswith("witnessed/"))
        assert len(shipped) == 4, shipped  # a checkpoint and a consistency proof for each witness
        w1_file = next(n for n in shipped if n.endswith(".txt") and b"governors.example/w1" in files[n]
                       and not n.endswith("-proof.txt"))

        # the IT manager, holding the ledger key, drops one witness's checkpoint and signs again
        removed = {k: v for k, v in files.items() if not k.startswith(w1_file[:-4])}
        ok, text = checked(fed, resealed(fed, removed, tmp_path / "removed"), clock.now())
        assert not ok and "cosigned by 1 of the trust file's witnesses, not 2" in text, text
        assert "no cosigned checkpoint from governors.example/w1" in text, text

        # ... or alters its cosignature: the witness is named
        note, _, line = files[w1_file].decode().rstrip("\n").rpartition("\n")
        name, _, encoded = line.rpartition(" ")
        raw = bytearray(base64.b64decode(encoded))
        raw[-1] ^= 1
        forged = dict(files)
        forged[w1_file] = (note + "\n" + name + " " + base64.b64encode(bytes(raw)).decode()
                           + "\n").encode()
        ok, text = checked(fed, resealed(fed, forged, tmp_path / "forged"), clock.now())
        assert not ok and "the cosignature by witness governors.example/w1 does not verify" in text, text


def test_an_entry_dated_after_the_witness_saw_it_is_refused_by_the_bundle_verifier(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        clock.advance(hours=3)  # the host's clock runs three hours fast: the note's time is pushed forward
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "dated three hours late")
        cosign(fed, w, DAY0 + dt.timedelta(minutes=30))  # the witness saw both entries at 10:30
        make_bundle(fed, inc, tmp_path / "b.zip")
        ok, text = checked(fed, tmp_path / "b.zip", clock.now())
        assert not ok, text
        assert "after witness governors.example/w1 saw the log" in text and "2026-01-05T10:30:00" in text, text


def test_an_honest_entry_written_just_before_the_witness_cosigned_passes_the_bound(tmp_path: Path) -> None:
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        w = new_witness(fed, tmp_path / "w")
        inc = report_incident(fed)
        clock.advance(minutes=4)  # the host's clock is four minutes ahead of the witness's: allowed
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "written a moment ago")
        cosign(fed, w, DAY0 + dt.timedelta(minutes=1))
        make_bundle(fed, inc, tmp_path / "b.zip")
        ok, text = checked(fed, tmp_path / "b.zip", clock.now())
        assert ok, text
        assert "OK    entries under a cosigned size are not dated after the witness saw them" in text


def test_a_witness_the_auditors_trust_file_does_not_name_is_not_counted(tmp_path: Path) -> None:
    """The auditor's trust file (given separately) decides: a witnessed file for a witness it does not
    name is set aside with a note, and cannot make up the quorum."""
    clock = FixedClock(DAY0)
    with pinned_federation("sqlite", tmp_path / "home", clock) as fed:
        inc, w1, w2, _, _ = two_witnesses_at_different_sizes(fed, tmp_path, clock)
        make_bundle(fed, inc, tmp_path / "b.zip")
        trust = json.loads(fed.ledger.config.trust_path.read_text())
        trust["witnesses"], trust["witness_quorum"] = trust["witnesses"][:1], 1
        (tmp_path / "one.json").write_text(json.dumps(trust))
        report = verify_bundle.verify(tmp_path / "b.zip", tmp_path / "one.json", now=clock.now())
        text = "\n".join(report.lines())
        assert report.ok, text
        assert "a witness's the trust file does not name: not counted" in text


def test_the_bundle_verifiers_time_bounds_name_a_late_and_a_back_dated_entry() -> None:
    """The two bounds on their own: below a cosigned size, not after the witness's time (+5 min);
    at or after it, not before the ledger signed that checkpoint."""
    def entry(leaf: int, recorded_at: str) -> verify_bundle.Entry:
        return verify_bundle.Entry(f"entries/{leaf}.bin", leaf, b"{}", {"recorded_at": recorded_at}, b"", b"")

    witnessed = int((DAY0 - verify_bundle.EPOCH).total_seconds())  # the witness saw size 3 at 10:00
    seen = [verify_bundle.Cosigned("witnessed/00000000.txt", 3, b"", {"w1": witnessed},
                                   DAY0 - dt.timedelta(minutes=30))]  # the ledger signed checkpoint 3 at 09:30
    honest = {0: entry(0, "2026-01-05T09:00:00+00:00"), 2: entry(2, "2026-01-05T10:04:59+00:00"),
              3: entry(3, "2026-01-05T09:30:00+00:00"), 4: entry(4, "2026-01-05T11:00:00+00:00")}
    report = verify_bundle.Report("synthetic")
    verify_bundle.check_witness_times(honest, seen, report)
    assert report.ok, report.lines()
    late = {**honest, 2: entry(2, "2026-01-05T10:06:00+00:00")}
    report = verify_bundle.Report("synthetic")
    verify_bundle.check_witness_times(late, seen, report)
    assert "entries/2.bin is recorded at 2026-01-05T10:06:00+00:00, after witness w1 saw the log" in "\n".join(
        report.lines())
    back = {**honest, 4: entry(4, "2026-01-05T09:29:59+00:00")}
    report = verify_bundle.Report("synthetic")
    verify_bundle.check_witness_times(back, seen, report)
    assert "entries/4.bin is recorded at 2026-01-05T09:29:59+00:00, but it was added after the ledger signed " \
           "checkpoint 3" in "\n".join(report.lines())
