"""Key wrapping and passphrase protection."""

from __future__ import annotations

import pytest

from ledger import crypto


def test_sealed_key_opens_only_for_its_recipient_and_context() -> None:
    alice = crypto.new_agreement_key()
    eve = crypto.new_agreement_key()
    secret = crypto.random_key()
    sealed = crypto.seal_to(crypto.agreement_public_key(alice), secret, b"ctx")
    assert crypto.open_sealed(alice, sealed, b"ctx") == secret
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(eve, sealed, b"ctx")
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(alice, sealed, b"other")


def test_passphrase_lock_rejects_a_wrong_passphrase() -> None:
    locked = crypto.lock_with_passphrase("right passphrase", b"secret", b"c")
    assert crypto.unlock_with_passphrase("right passphrase", locked, b"c") == b"secret"
    with pytest.raises(crypto.CryptoError):
        crypto.unlock_with_passphrase("wrong passphrase", locked, b"c")


def test_signatures_are_domain_separated() -> None:
    key = crypto.new_signing_key()
    public = crypto.signing_public_key(key)
    signature = crypto.sign(key, "entry/v1", b"m")
    crypto.verify(public, "entry/v1", b"m", signature)
    with pytest.raises(crypto.CryptoError):
        crypto.verify(public, "checkpoint/v1", b"m", signature)


def test_batch_wrap_round_trip() -> None:
    kek, key = crypto.random_key(), crypto.random_key()
    assert crypto.unwrap_under(kek, crypto.wrap_under(kek, key)) == key
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_under(crypto.random_key(), crypto.wrap_under(kek, key))


def test_new_key_files_use_the_owasp_scrypt_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the suite's cheap cost, set by an autouse fixture
    assert crypto.SCRYPT_N == 2**17
    locked = crypto.lock_with_passphrase("a passphrase", b"secret", b"ctx")
    assert locked["n"] == 2**17
    assert crypto.unlock_with_passphrase("a passphrase", locked, b"ctx") == b"secret"


@pytest.mark.parametrize("n", [2**30, 3, 0, -1, "lots"])
def test_a_key_file_naming_an_absurd_scrypt_cost_is_damaged_not_obeyed(n: object) -> None:
    locked = dict(crypto.lock_with_passphrase("a passphrase", b"secret", b"ctx"), n=n)
    with pytest.raises(crypto.CryptoError, match="damaged"):
        crypto.unlock_with_passphrase("a passphrase", locked, b"ctx")  # type: ignore[arg-type]
