"""A bounded run of scripts/soak.py: SIGKILLs in every phase, four writers on both
backends, and every fault campaign; every campaign must hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import postgres_url

SOAK = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"


def test_a_short_soak_holds_on_every_campaign() -> None:
    url = postgres_url()
    command = [sys.executable, str(SOAK), "--kills", "10", "--writers", "4", "--writes", "3", "--seed", "7"]
    done = subprocess.run(command + (["--postgres", url] if url else []), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("FAILED")], done.stdout
    held = [line for line in lines if line.startswith("HELD")]
    assert any("crash: 10 SIGKILLs (2 append, 2 seal, 2 catch-up, 2 export, 2 sweep)" in line for line in held)
    assert any("concurrency (SQLite): 4 writer processes" in line for line in held)
    names = ("database locked", "read-only database", "disk full") + (("PostgreSQL goes away",) if url else ())
    assert all(any(name in line for line in held) for name in names), done.stdout
    if url:
        assert any("concurrency (PostgreSQL): 4 writer processes" in line for line in held)
