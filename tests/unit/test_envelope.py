"""The entry envelope: round trip and every tampering rejected."""

from __future__ import annotations

import pytest

from ledger import crypto, envelope
from ledger.errors import VerificationFailed

SIGNER = crypto.new_signing_key()
PUBLIC = crypto.signing_public_key(SIGNER)
DATA_KEY = crypto.random_key()


def header(version: int = 1, aggregate: str = "00000000-0000-0000-0000-000000000001") -> dict[str, object]:
    return {
        "ledger": "L1",
        "aggregate": aggregate,
        "version": version,
        "topic": "ledger.domain.people:Subject.Registered",
        "class_version": 1,
        "recorded_at": "2026-01-01T00:00:00+00:00",
        "occurred_at": None,
        "actor": "st-1",
        "actor_key": "k1",
        "record_class": "subject",
        "subjects": ["sb-1"],
        "claims": {},
        "lifted": [],
    }


def sealed(body: dict[str, object] | None = None, **kwargs: object) -> envelope.Envelope:
    return envelope.seal(header(**kwargs), body or {"name": "Nobody Special"}, "dk1", DATA_KEY, SIGNER)  # type: ignore[arg-type]


def check_all(state: bytes) -> dict[str, object]:
    entry = envelope.parse(state)
    envelope.verify_signature(entry, PUBLIC)
    return envelope.open_body(entry, DATA_KEY)


def test_round_trip_gives_back_the_body_and_the_exact_bytes() -> None:
    entry = sealed({"name": "Nobody Special", "n": 3})
    stored = entry.to_bytes()
    assert check_all(stored) == {"name": "Nobody Special", "n": 3}
    assert envelope.parse(stored).to_bytes() == stored
    assert b"Nobody" not in stored


@pytest.mark.parametrize("part", ["header", "signature", "body"])
def test_every_flipped_byte_is_rejected(part: str) -> None:
    stored = sealed().to_bytes()
    entry = envelope.parse(stored)
    start = {"header": 8, "signature": 8 + len(entry.header_bytes), "body": len(stored) - len(entry.body)}[part]
    end = {"header": 8 + len(entry.header_bytes), "signature": start + 64, "body": len(stored)}[part]
    for position in range(start, end):
        tampered = bytearray(stored)
        tampered[position] ^= 0x01
        with pytest.raises(VerificationFailed):
            check_all(bytes(tampered))


def test_a_body_moved_to_another_entry_is_rejected() -> None:
    first = sealed(version=1)
    second = sealed(version=2)
    moved = envelope.Envelope(second.header_bytes, second.header, second.signature, first.body)
    with pytest.raises(VerificationFailed):
        envelope.open_body(moved, DATA_KEY)


def test_a_body_moved_with_a_matching_hash_still_fails_decryption() -> None:
    # Even if an attacker could make the hash match, the AAD binds the entry.
    first = sealed(version=1)
    second = sealed(version=2)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(DATA_KEY, first.body, envelope.body_aad(second.header))


def test_a_wrong_data_key_is_rejected() -> None:
    entry = sealed()
    with pytest.raises(VerificationFailed, match="key commitment"):
        envelope.open_body(entry, crypto.random_key())


def test_a_wrong_signer_is_rejected() -> None:
    entry = sealed()
    other = crypto.signing_public_key(crypto.new_signing_key())
    with pytest.raises(VerificationFailed):
        envelope.verify_signature(entry, other)


def test_an_erased_entry_keeps_its_leaf() -> None:
    entry = sealed()
    erased = entry.without_body()
    assert erased.leaf_data == entry.leaf_data
    assert envelope.parse(erased.to_bytes()).erased
    with pytest.raises(VerificationFailed, match="erased"):
        envelope.open_body(erased, DATA_KEY)


@pytest.mark.parametrize("garbage", [b"", b"PLE1", b"XXXX\x00\x00\x00\x02{}", b"PLE1\x00\x00\x00\x02{}"])
def test_garbage_is_not_an_envelope(garbage: bytes) -> None:
    with pytest.raises(VerificationFailed):
        envelope.parse(garbage)
