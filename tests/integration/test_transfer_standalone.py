"""The receiving DSL with no policy-ledger: scripts/transfer_box.py beside verify_bundle.py, in a
virtualenv holding only ``cryptography``, makes a key pair, opens a sealed file, refuses a
tampered one and writes the receipt the sending ledger records."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from commands.services import incidents, people
from commands.services import transfer as service
from tests.conftest import Federation, local_today

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "transfer_box.py"
KEY_PASSPHRASE = "a passphrase for the key file"


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "LEDGER_TRANSFER_PASSPHRASE": KEY_PASSPHRASE}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_script_is_the_packaged_module_and_imports_only_the_standard_library_and_cryptography() -> None:
    assert SCRIPT.read_bytes() == (REPO / "ledger" / "transfer_box.py").read_bytes()
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {str(n.module).split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    # ``ledger`` only inside policy-ledger; on its own it imports the verify_bundle.py beside it
    assert modules - set(sys.stdlib_module_names) == {"cryptography", "ledger", "verify_bundle"}


def test_a_dsl_without_policy_ledger_opens_the_file_and_the_receipt_is_recorded(
        sqlite_federation: Federation, lean_python: Path, tmp_path: Path) -> None:
    fed = sqlite_federation
    for name in ("transfer_box.py", "verify_bundle.py"):
        shutil.copy(REPO / "scripts" / name, tmp_path / name)
    made = run(lean_python, "transfer_box.py", "keygen", "--out", "key", "--school", "Elm Academy",
               "--name", "Dee Receiver", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "fingerprint to read out by phone" in made.stdout
    assert oct(os.stat(tmp_path / "key" / "transfer-key.json").st_mode & 0o777) == "0o600"
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Lou Lean")
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", f"{local_today(-2)}T09:00", "Upsetting post", "Reported by a friend",
        people=(f"{pupil}:victim",)))
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    service.leave(fed.ledger, fed["dsl"], pupil, local_today(), "Elm Academy")
    service.send(fed.ledger, fed["dsl"], service.SendRequest(pupil, "Elm Academy", tmp_path / "lou.transfer",
                                                             to_key=tmp_path / "key" / "transfer-key.pub.json"))
    data = (tmp_path / "lou.transfer").read_bytes()
    (tmp_path / "bad.transfer").write_bytes(data[:-30] + bytes([data[-30] ^ 1]) + data[-29:])
    bad = run(lean_python, "transfer_box.py", "open", "bad.transfer", "--key", "key/transfer-key.json",
              "--out", "bad.zip", "--receipt", "bad.json", cwd=tmp_path)
    assert bad.returncode == 2 and "altered" in bad.stderr and not (tmp_path / "bad.json").exists()

    done = run(lean_python, "transfer_box.py", "open", "lou.transfer", "--key", "key/transfer-key.json",
               "--out", "lou.zip", "--receipt", "receipt.json", "--trust", str(fed.ledger.config.trust_path),
               cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: the bundle verifies" in done.stdout
    assert "OK    the sealed file is the sending ledger's, and names this bundle" in done.stdout
    recorded = service.record_receipt(fed.ledger, fed["dsl"], tmp_path / "receipt.json")
    assert recorded.receiver == "Dee Receiver (Elm Academy)"
