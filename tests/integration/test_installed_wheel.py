"""A real install: build the wheel, install it (not editable) in a fresh virtualenv, and
use it away from the source tree. Its ``verify-bundle`` works, and the bundle it exports
carries the verifier, which checks it in a virtualenv holding only ``cryptography``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "an installed passphrase"


def _tracked_tree(target: Path) -> Path:
    """The files git tracks (a clean checkout: no virtualenv, no build leftovers)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            (target / name).symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtualenv with the wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = _tracked_tree(work / "source")
    passed = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")}
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), **passed}
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                            str(work / "dist"), str(source)], capture_output=True, text=True, env=env)
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("policy_ledger-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, capture_output=True)
    done = subprocess.run([str(work / "venv" / "bin" / "pip"), "install", "--quiet", str(wheel)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(source)
    return work / "venv" / "bin"


def _ledger(bin_dir: Path, home: Path, *args: str, actor: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LEDGER_HOME": str(home), "LEDGER_PASSPHRASE": PASSPHRASE,
           "LEDGER_NEW_PASSPHRASE": PASSPHRASE, "LEDGER_RECOVERY_PASSPHRASE": PASSPHRASE + " recovery"}
    command = [str(bin_dir / "ledger"), *(["--as", actor] if actor else []), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=home.parent)


def test_the_installed_package_runs_from_its_own_site_packages(installed: Path) -> None:
    where = subprocess.run([str(installed / "python"), "-c", "import ledger.verify_bundle as v; print(v.__file__)"],
                           capture_output=True, text=True, cwd="/", env={"PATH": "/usr/bin:/bin"})
    assert where.returncode == 0 and "site-packages" in where.stdout and str(REPO) not in where.stdout


def test_an_installed_ledger_exports_a_bundle_its_own_verifier_and_a_lean_python_accept(
    installed: Path, lean_python: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    for args, actor in (
        (("init", "--admin-name", "Ada Admin", "--admin-id", "admin"), None),
        (("people", "add-staff", "--name", "Hal Head", "--role", "headteacher", "--id", "head"), "admin"),
        (("people", "add-staff", "--name", "Dee Lead", "--role", "dsl", "--role", "staff", "--id", "dsl"), "head"),
    ):
        done = _ledger(installed, home, *args, actor=actor)
        assert done.returncode == 0, done.stderr
    reported = _ledger(installed, home, "incidents", "report", "--category", "child-on-child", "--occurred-at",
                       "2026-02-01T10:00", "--summary", "Chat", "--facts", "Seen in class", actor="dsl")
    assert reported.returncode == 0, reported.stderr
    out = tmp_path / "case.zip"
    exported = _ledger(installed, home, "export", "--incident", reported.stdout.strip(), "--reason", "referral",
                       "--out", str(out), actor="dsl")
    assert exported.returncode == 0, exported.stderr
    checked = _ledger(installed, home, "verify-bundle", str(out), "--trust", str(home / "trust.json"))
    assert checked.returncode == 0 and "RESULT: the bundle verifies" in checked.stdout, checked.stdout + checked.stderr
    recipient = tmp_path / "recipient"
    recipient.mkdir()
    with zipfile.ZipFile(out) as archive:
        (recipient / "verify_bundle.py").write_bytes(archive.read("verify_bundle.py"))
    shutil.copy(out, recipient / "bundle.zip")
    lean = subprocess.run([str(lean_python), "verify_bundle.py", "bundle.zip"], capture_output=True, text=True,
                          cwd=recipient, env={"PATH": "/usr/bin:/bin"})
    assert lean.returncode == 0 and "RESULT: the bundle verifies" in lean.stdout, lean.stdout + lean.stderr
