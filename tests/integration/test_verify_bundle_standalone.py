"""The bundle verifier on its own, and a tamper case for every part of a bundle.

The standalone run uses a virtualenv holding only ``cryptography`` (made
once per test session), a clean environment and a folder outside the
repository. The exhaustive tamper cases run the same script's checks in
process (loaded from scripts/, as ``ledger verify-bundle`` does).
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commands.services import export, incidents, people
from commands.services.evidence import EvidenceFile
from ledger import bundle, crypto
from ledger.schema import checkpoints
from tests.conftest import Federation, build_federation

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "verify_bundle.py"


@dataclass
class Made:
    """A federation, one fresh bundle of a case with evidence, and its files."""

    fed: Federation
    path: Path
    files: dict[str, bytes]
    inc: str


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    folder = tmp_path_factory.mktemp("standalone")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed = build_federation(folder / "home")
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Penny Proof")
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-02-01T10:00", "Messages in a chat", "Pupil showed me", people=(f"{pupil}:victim",),
        evidence=(EvidenceFile("chat.png", b"\x89PNG chat", "teacher", "2026-02-01T10:30", "screenshot", "iPad"),),
    ))
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "Family called.")
    path = folder / "bundle.zip"
    export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", path, incident=inc))
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    yield Made(fed, path, files, inc)
    fed.ledger.close()


def pack(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return path


def reseal(made: Made, files: dict[str, bytes]) -> dict[str, bytes]:
    """What a forger holding the ledger key could do: recompute and re-sign SHA256SUMS."""
    return bundle.seal({k: v for k, v in files.items() if k not in (bundle.SUMS, bundle.SIGNATURE)},
                       made.fed.ledger.ledger_signing_key())


def flipped(data: bytes, at: int | None = None) -> bytes:
    at = len(data) // 2 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def failures(path: Path) -> str:
    report = export.verify_bundle(path)
    assert not report.ok, f"{path.name} verified although it was tampered with"
    return "\n".join(line for line in report.lines() if "FAIL" in line or line.startswith("          - "))


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env={"PATH": "/usr/bin:/bin"})


# -- standalone --------------------------------------------------------------------------------


def test_the_script_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {str(n.module).split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


def test_the_standalone_verifier_accepts_a_fresh_bundle_with_only_cryptography(
    made: Made, lean_python: Path, tmp_path: Path
) -> None:
    shutil.copy(SCRIPT, tmp_path / "verify_bundle.py")
    shutil.copy(made.path, tmp_path / "bundle.zip")
    done = run(lean_python, "verify_bundle.py", "bundle.zip", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: the bundle verifies" in done.stdout
    assert all(line.startswith(("Checking", "  OK", "  note", "RESULT")) for line in done.stdout.splitlines())
    trusted = run(lean_python, "verify_bundle.py", "bundle.zip", "--trust", str(made.fed.ledger.config.trust_path),
                  cwd=tmp_path)
    assert trusted.returncode == 0 and "given separately" in trusted.stdout


def test_the_copy_inside_the_bundle_checks_the_unpacked_folder(made: Made, lean_python: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(made.path) as archive:
        archive.extractall(tmp_path)
    done = run(lean_python, "verify_bundle.py", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout


def test_the_standalone_verifier_rejects_a_tampered_bundle_and_names_the_file(
    made: Made, lean_python: Path, tmp_path: Path
) -> None:
    files = dict(made.files)
    leaf = next(n for n in files if n.startswith("plaintext/") and b"Family called." in files[n])
    files[leaf] = files[leaf].replace(b"Family called.", b"Family emailed")
    pack(reseal(made, files), tmp_path / "bad.zip")
    done = run(lean_python, str(SCRIPT), "bad.zip", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{leaf}: missing, or not what" in done.stdout and "RESULT: FAILED" in done.stdout
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert run(lean_python, str(SCRIPT), "junk.zip", cwd=tmp_path).returncode == 2


# -- every kind of tampering -------------------------------------------------------------------------


def test_changing_any_byte_of_any_file_fails_and_names_the_file(made: Made, tmp_path: Path) -> None:
    for name in sorted(made.files):
        files = dict(made.files)
        files[name] = flipped(files[name])
        found = failures(pack(files, tmp_path / "t.zip"))
        assert name in found, (name, found)


@pytest.mark.parametrize("kind", ["entries/", "registry/", "plaintext/", "keys/", "attachments/att", "proofs/",
                                  "checkpoint.txt"])
def test_a_forger_holding_the_ledger_key_is_still_caught(made: Made, tmp_path: Path, kind: str) -> None:
    targets = [n for n in sorted(made.files) if n.startswith(kind) and not n.endswith(("index.json", "writers.json"))]
    assert targets
    for name in targets:
        for at in (0, len(made.files[name]) // 2, len(made.files[name]) - 2):
            files = dict(made.files)
            files[name] = flipped(files[name], at)
            found = failures(pack(reseal(made, files), tmp_path / "t.zip"))
            assert name in found or (kind == "checkpoint.txt" and "checkpoint" in found), (name, at, found)


def test_removing_any_file_fails_and_names_it(made: Made, tmp_path: Path) -> None:
    for name in sorted(made.files):
        files = {k: v for k, v in made.files.items() if k != name}
        found = failures(pack(files, tmp_path / "t.zip"))
        assert name in found, (name, found)


def test_adding_an_entry_fails(made: Made, tmp_path: Path) -> None:
    ledger = made.fed.ledger
    table = ledger.app.events_table
    size = json.loads(made.files["entries/index.json"])["checkpoint_size"]
    present = {int(n.split("/")[1][:-4]) for n in made.files if n.endswith(".bin")}
    extra = next(leaf for leaf in range(size) if leaf not in present)
    with ledger.engine.connect() as conn:
        entry = bundle.load(conn, table, [extra])[extra]
        snap = bundle.Snapshot(*_checkpoint_row(conn, size))
        proof = bundle.proof(conn, extra, entry, snap)
    files = dict(made.files)
    files[f"entries/{extra}.bin"] = entry.to_bytes()
    files[f"proofs/{extra}.json"] = bundle._json(proof)  # noqa: SLF001 - the bundle's own JSON layout
    assert f"entries/{extra}.bin is in the bundle but not listed" in failures(pack(files, tmp_path / "a.zip"))
    assert f"entries/{extra}.bin: not described in entries/index.json" in failures(
        pack(reseal(made, files), tmp_path / "b.zip"))


def _checkpoint_row(conn: Any, size: int) -> tuple[int, bytes, str]:
    row = conn.execute(select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.signed)
                       .where(checkpoints.c.size == size)).one()
    return int(row.size), bytes(row.root), str(row.signed)


def test_swapping_the_checkpoint_fails(made: Made, tmp_path: Path) -> None:
    ledger = made.fed.ledger
    size = json.loads(made.files["entries/index.json"])["checkpoint_size"]
    with ledger.engine.connect() as conn:
        older = conn.execute(select(checkpoints.c.signed).where(checkpoints.c.size < size)
                             .order_by(checkpoints.c.size.desc()).limit(1)).scalar_one()
    files = dict(made.files)
    files["checkpoint.txt"] = older.encode()
    assert "checkpoint.txt has changed" in failures(pack(files, tmp_path / "a.zip"))
    found = failures(pack(reseal(made, files), tmp_path / "b.zip"))
    assert "not proved in the checkpoint" in found and "FAIL  every entry is in the checkpoint" in found


def test_a_bundle_of_another_ledger_key_fails_against_the_real_trust_file(made: Made, tmp_path: Path) -> None:
    files = dict(made.files)
    forged = bundle.seal({k: v for k, v in files.items() if k not in (bundle.SUMS, bundle.SIGNATURE)
                          and k != bundle.PUBLIC_KEY} | {bundle.PUBLIC_KEY: crypto.public_key_pem(
                              crypto.signing_public_key(key := crypto.new_signing_key()))}, key)
    path = pack(forged, tmp_path / "f.zip")
    report = export.verify_bundle(path, made.fed.ledger.config.trust_path)
    assert not report.ok and "is not the ledger key named in the trust file" in "\n".join(report.lines())


# -- the two shell tools named in the README -------------------------------------------------------------


def _shell_check(folder: Path) -> tuple[int, int]:
    sums = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    sig = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "ledger-public-key.pem", "-rawin",
                          "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig"], cwd=folder, capture_output=True)
    return sums.returncode, sig.returncode


def test_sha256sum_and_openssl_pass_on_a_fresh_bundle_and_fail_on_a_tampered_one(made: Made, tmp_path: Path) -> None:
    fresh, bad = tmp_path / "fresh", tmp_path / "bad"
    with zipfile.ZipFile(made.path) as archive:
        archive.extractall(fresh)
        archive.extractall(bad)
    assert _shell_check(fresh) == (0, 0)
    note = next(p for p in (bad / "plaintext").iterdir())
    note.write_bytes(flipped(note.read_bytes()))
    assert _shell_check(bad)[0] != 0
    sums = bad / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(hashlib.sha256(flipped(note.read_bytes())).hexdigest(),
                                             hashlib.sha256(note.read_bytes()).hexdigest()))
    assert _shell_check(bad) != (0, 0)
    assert _shell_check(bad)[1] != 0, "a re-computed SHA256SUMS no longer matches its signature"
