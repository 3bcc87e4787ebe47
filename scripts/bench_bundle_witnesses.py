"""What a bundle's witnessed files cost to gather at export: ``witnessed.txt`` alone (the one
quorum note, what export wrote before the per-witness files) against ``bundle.witnessed`` (it and
one note per witness, each with a consistency proof). A throwaway ledger with 3 witnesses,
quorum 2, ROUNDS rounds in which each witness cosigns the newest checkpoint after a new entry;
the two are timed alternately, 5 times each.

    python scripts/bench_bundle_witnesses.py [ROUNDS]      (default 40; run from the repository)
"""
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from commands.services import incidents, witnesses
from ledger import bundle, checkpoint, crypto, merkle, witness
from ledger.trust import witness_settings
from ledger.sealer import StoredNodes
from ledger.verify_witness import stored_cosignatures
from ledger.clock import SystemClock
from tests.conftest import build_federation

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
crypto.SCRYPT_N = 2**10

def main_version(conn, trust_json, snap):  # witnessed.txt alone, as export wrote it before
    document = json.loads(trust_json)
    settings = witness_settings(document)
    origin = str(document["ledger_key"]).partition("+")[0]
    groups = witness.cosigned_groups([t for _, t in stored_cosignatures(conn)], origin,
                                     bytes.fromhex(document["ledger_public_key"]), settings["witnesses"])
    newest = witness.quorum_note(groups, origin, settings["witness_quorum"])
    if newest is None:
        return {}
    cp, note = newest
    size1, size2 = sorted((cp.size, snap.size))
    hashes = merkle.consistency_proof(size1, size2, StoredNodes(conn)) if 0 < size1 < size2 else []
    return {"witnessed.txt": note.encode(), "witnessed-proof.txt": checkpoint.format_consistency_proof(size1, size2, hashes).encode()}

with tempfile.TemporaryDirectory() as folder:
    fed = build_federation(Path(folder) / "home")
    origin = fed.ledger.meta()["origin"]
    log_key = checkpoint.verifier_key(origin, fed.ledger.ledger_public_key())
    ws = []
    for i in range(3):
        w, key = witness.WitnessFolder.create(Path(folder) / f"w{i}", f"w{i}.example/w", [log_key], "pass")
        witnesses.add_witness(fed.ledger, key, 2 if i == 2 else None, None)
        ws.append(w)
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport("child-on-child", "2026-01-05T10:00", "x", "y"))
    for r in range(ROUNDS):
        incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", f"note {r}")
        for w in ws:
            st = w.state(origin)
            witnesses.record(fed.ledger, w.cosign(witnesses.request(fed.ledger, st.size if st else 0), "pass", SystemClock().now()))
    trust_json = fed.ledger.config.trust_path.read_bytes()
    with fed.ledger.engine.connect() as conn:
        snap = bundle.snapshot(conn)
        rows = len(stored_cosignatures(conn))
        times = {"witnessed.txt alone": [], "bundle.witnessed": []}
        for _ in range(5):  # alternate the two versions
            for name, fn in (("witnessed.txt alone", main_version), ("bundle.witnessed", bundle.witnessed)):
                t = time.perf_counter(); out = fn(conn, trust_json, snap); times[name].append(time.perf_counter() - t)
        print(f"cosignature rows {rows}, witnesses 3, quorum 2, files {len(main_version(conn, trust_json, snap))} and {len(bundle.witnessed(conn, trust_json, snap))}")
        for name, ts in times.items():
            ts.sort(); print(f"{name}: median {ts[2]*1000:.1f} ms (min {ts[0]*1000:.1f}, max {ts[-1]*1000:.1f})")
    fed.ledger.close()
