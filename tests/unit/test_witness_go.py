"""Our signed checkpoints and cosignature/v1 lines, read by an independent implementation:
Go's golang.org/x/mod/sumdb/note (tests/go/cosigcheck). Skips, saying why, without Go or its sources."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger import checkpoint, crypto, merkle, witness
from ledger.checkpoint import Checkpoint

GOPATH = Path(os.environ.get("LEDGER_GOPATH", "/usr/share/gocode"))
SOURCE = Path(__file__).resolve().parents[1] / "go" / "cosigcheck"
LOG_PRIVATE = bytes(range(1, 33))
ORIGIN = "ledger.example/federation"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def cosigcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: the independent check of our note formats did not run")
    if not (GOPATH / "src" / "golang.org" / "x" / "mod" / "sumdb" / "note" / "note.go").is_file():
        pytest.skip(f"golang.org/x/mod sources are not under {GOPATH}: the Go check did not run")
    folder = tmp_path_factory.mktemp("go")
    binary = folder / "cosigcheck"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH), "GOCACHE": str(folder / "cache"),
           "GOFLAGS": "-mod=mod"}
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=SOURCE, env=env, check=True, capture_output=True,
                   timeout=600)
    return binary


def signed_checkpoint() -> str:
    nodes = merkle.MemoryNodes()
    for i in range(7):
        nodes.append(i, merkle.leaf_hash(str(i).encode()))
    cp = Checkpoint(ORIGIN, 7, merkle.root(7, nodes), ("policy-ledger/time 2026-03-02T08:59:58.000000+00:00",))
    return checkpoint.sign_checkpoint(cp, ORIGIN, LOG_PRIVATE)


def run(binary: Path, note: str, witnesses: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "note.txt"
    path.write_text(note, encoding="utf-8")
    log_key = checkpoint.verifier_key(ORIGIN, crypto.signing_public_key(LOG_PRIVATE))
    args = [str(binary), "-log", log_key]
    for key in witnesses:
        args += ["-witness", key]
    return subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=60)


def test_go_reads_our_checkpoint_and_cosignatures(cosigcheck: Path, tmp_path: Path) -> None:
    signed = signed_checkpoint()
    body = checkpoint.parse_signed_note(signed)[0]
    keys, lines = [], ""
    for n, name in enumerate(("governors.example/w1", "trust.example/central")):
        private = bytes([n + 40]) * 32
        keys.append(witness.verifier_key(name, crypto.signing_public_key(private)))
        lines += witness.cosign(body, name, private, int(NOW.timestamp()) + n)
    result = run(cosigcheck, signed + lines, keys, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"ledger {ORIGIN}",
        f"witness governors.example/w1 {int(NOW.timestamp())}",
        f"witness trust.example/central {int(NOW.timestamp()) + 1}",
    ]


def test_go_refuses_what_we_refuse(cosigcheck: Path, tmp_path: Path) -> None:
    signed = signed_checkpoint()
    body = checkpoint.parse_signed_note(signed)[0]
    private = bytes([40]) * 32
    key = witness.verifier_key("governors.example/w1", crypto.signing_public_key(private))
    line = witness.cosign(body, "governors.example/w1", private, int(NOW.timestamp()))
    name, kid, raw = witness.parse_lines(line)[0]
    moved = checkpoint.signature_line(name, kid, (int(NOW.timestamp()) - 86400).to_bytes(8, "big") + raw[8:])
    for note in (signed + moved, (signed + line).replace("\n7\n", "\n8\n", 1)):
        result = run(cosigcheck, note, [key], tmp_path)
        assert result.returncode == 1 and "cosigcheck:" in result.stderr
        with pytest.raises(witness.WitnessError):
            witness.open_witnessed(note, ORIGIN, crypto.signing_public_key(LOG_PRIVATE),
                                   [("governors.example/w1", crypto.signing_public_key(private))])
