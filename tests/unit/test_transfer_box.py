"""The receiving school's transfer key file keeps the real scrypt cost (the rest of the suite
lowers it, as it does for staff key files)."""

from __future__ import annotations

import pytest

from ledger import transfer_box as box


def test_new_transfer_key_files_use_the_owasp_scrypt_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the suite's cheap cost, set by an autouse fixture
    assert box.SCRYPT_N == 2**17
    locked = box.lock("a passphrase", b"secret", b"ctx")
    assert locked["n"] == 2**17
    assert box.unlock("a passphrase", locked, b"ctx") == b"secret"
    with pytest.raises(box.Unopenable, match="wrong passphrase"):
        box.unlock("another passphrase", locked, b"ctx")
