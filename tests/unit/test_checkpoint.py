"""Tests for ledger.checkpoint: signed-note checkpoints, verifier keys and proof texts."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    CONSISTENCY_HEADER,
    PROOF_HEADER,
    Checkpoint,
    CheckpointError,
    format_consistency_proof,
    format_inclusion_proof,
    key_id,
    open_checkpoint,
    parse_checkpoint_body,
    parse_consistency_proof,
    parse_inclusion_proof,
    parse_inclusion_proof_extra,
    parse_signed_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_note,
)
from ledger.crypto import new_signing_key, sha256, signing_public_key

NAME = "ledger.example/policy-log"
PRIVATE = new_signing_key()
PUBLIC = signing_public_key(PRIVATE)
ROOT = sha256(b"root")
CP = Checkpoint(NAME, 20852163, ROOT)
H = [sha256(bytes([i])) for i in range(5)]

# golang.org/x/mod/sumdb/note documentation example (an independent implementation).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def signed() -> str:
    return sign_checkpoint(CP, NAME, PRIVATE)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- checkpoint body -------------------------------------------------------------


def test_body_format() -> None:
    assert CP.body() == f"{NAME}\n20852163\n{b64(ROOT)}\n"
    assert parse_checkpoint_body(CP.body()) == CP


def test_extension_lines_round_trip() -> None:
    cp = Checkpoint(NAME, 3, ROOT, ("ext one", "ext two"))
    assert cp.body().endswith("ext one\next two\n")
    assert open_checkpoint(sign_checkpoint(cp, NAME, PRIVATE), NAME, PUBLIC) == cp


@pytest.mark.parametrize(
    "body",
    [
        "",
        f"{NAME}\n5\n",
        f"\n5\n{b64(ROOT)}\n",
        f"{NAME}\n05\n{b64(ROOT)}\n",
        f"{NAME}\n-5\n{b64(ROOT)}\n",
        f"{NAME}\n+5\n{b64(ROOT)}\n",
        f"{NAME}\n 5\n{b64(ROOT)}\n",
        f"{NAME}\n\u0665\n{b64(ROOT)}\n",
        f"{NAME}\n{2**64}\n{b64(ROOT)}\n",
        f"{NAME}\n5\n{b64(ROOT[:31])}\n",
        f"{NAME}\n5\n{b64(ROOT + b'x')}\n",
        f"{NAME}\n5\n{b64(ROOT).rstrip('=')}\n",
        f"{NAME}\n5\n{b64(ROOT)}",
        f"{NAME}\n5\n{b64(ROOT)}\n\n",
        f"{NAME}\n5\n{b64(ROOT)}\n\nextension\n",
        f"{NAME}\n5\n*{b64(ROOT)[1:]}\n",
    ],
)
def test_malformed_bodies_rejected(body: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint_body(body)


def test_zero_size_allowed() -> None:
    assert parse_checkpoint_body(f"{NAME}\n0\n{b64(ROOT)}\n").size == 0


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("a\nb", 1, ROOT), (NAME, -1, ROOT), (NAME, 2**64, ROOT), (NAME, 1, ROOT[:5])],
)
def test_invalid_checkpoint_values_rejected(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root)


# -- signing and opening ---------------------------------------------------------------


def test_sign_open_round_trip() -> None:
    text = signed()
    body, sigs = parse_signed_note(text)
    assert body == CP.body()
    assert text == body + "\n" + f"\u2014 {NAME} {b64(sigs[0][1] + sigs[0][2])}\n"
    assert sigs[0][0] == NAME and sigs[0][1] == key_id(NAME, PUBLIC) and len(sigs[0][2]) == 64
    assert open_checkpoint(text, NAME, PUBLIC) == CP
    assert open_checkpoint(text, NAME, PUBLIC, expected_origin=NAME) == CP


def test_expected_origin_mismatch_rejected() -> None:
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(signed(), NAME, PUBLIC, expected_origin="other.example/log")


def test_body_change_rejected() -> None:
    text = signed().replace(NAME + "\n", "evil.example/log\n", 1)
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(text, NAME, PUBLIC)


def test_size_change_rejected() -> None:
    text = signed().replace("\n20852163\n", "\n20852164\n")
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(text, NAME, PUBLIC)


def test_root_change_rejected() -> None:
    text = signed().replace(b64(ROOT), b64(sha256(b"other")))
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(text, NAME, PUBLIC)


@pytest.mark.parametrize("byte", [4, 20, 67])
def test_signature_byte_flip_rejected(byte: int) -> None:
    text = signed()
    name, kid, sig = parse_signed_note(text)[1][0]
    raw = bytearray(kid + sig)
    raw[byte] ^= 0x01
    tampered = CP.body() + f"\n\u2014 {name} {b64(bytes(raw))}\n"
    with pytest.raises(CheckpointError):
        open_checkpoint(tampered, NAME, PUBLIC)


def test_key_id_flip_means_no_signature() -> None:
    _, kid, sig = parse_signed_note(signed())[1][0]
    other = bytes([kid[0] ^ 1]) + kid[1:]
    with pytest.raises(CheckpointError, match="no signature"):
        open_checkpoint(CP.body() + f"\n\u2014 {NAME} {b64(other + sig)}\n", NAME, PUBLIC)


def test_wrong_key_rejected() -> None:
    other = signing_public_key(new_signing_key())
    with pytest.raises(CheckpointError, match="no signature"):
        open_checkpoint(signed(), NAME, other)
    with pytest.raises(CheckpointError, match="no signature"):
        open_checkpoint(signed(), "other.example/key", PUBLIC)


def test_same_name_and_id_but_bad_signature_rejects_note() -> None:
    forged = CP.body() + f"\n\u2014 {NAME} {b64(key_id(NAME, PUBLIC) + bytes(64))}\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(forged + signed().split("\n\n")[1], NAME, PUBLIC)


def test_missing_signature_rejected() -> None:
    with pytest.raises(CheckpointError):
        open_checkpoint(CP.body(), NAME, PUBLIC)
    with pytest.raises(CheckpointError):
        open_checkpoint(CP.body() + "\n", NAME, PUBLIC)


def test_unknown_signatures_ignored() -> None:
    other_key = new_signing_key()
    witness = sign_checkpoint(CP, "witness.example/w1", other_key).split("\n\n")[1]
    both = signed() + witness
    assert open_checkpoint(both, NAME, PUBLIC) == CP
    assert open_checkpoint(both, "witness.example/w1", signing_public_key(other_key)) == CP
    junk = f"\u2014 someone.example {b64(b'1234' + bytes(10))}\n"
    assert open_checkpoint(signed() + junk, NAME, PUBLIC) == CP


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "garbage\n",
        lambda t: t + "garbage",
        lambda t: "garbage" + t,
        lambda t: t.replace("\n\n", "\n"),
        lambda t: t.replace("\u2014", "-"),
        lambda t: t.replace("\u2014 ", "\u2014"),
        lambda t: t.replace("\n\u2014", "\n\u2014 "),
        lambda t: t[:-1],
        lambda t: t + "\n",
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.replace(NAME, NAME + "\x00"),
        lambda t: t.rstrip("\n") + "=\n",
        lambda t: t.rstrip("=\n") + "\n",
        lambda t: t.replace(f"\u2014 {NAME} ", f"\u2014 {NAME}  "),
    ],
)
def test_extra_garbage_rejected(mangle: object) -> None:
    assert callable(mangle)
    with pytest.raises(CheckpointError):
        open_checkpoint(mangle(signed()), NAME, PUBLIC)


def test_body_with_empty_line_rejected_even_if_signed() -> None:
    note = sign_note(f"{NAME}\n1\n\n{b64(ROOT)}\n", NAME, PRIVATE)
    assert verify_note(note, NAME, PUBLIC) == f"{NAME}\n1\n\n{b64(ROOT)}\n"
    with pytest.raises(CheckpointError):
        open_checkpoint(note, NAME, PUBLIC)


def test_go_sumdb_note_known_answer() -> None:
    name, public = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann"
    assert verify_note(GO_NOTE, name, public) == GO_TEXT
    seed = base64.b64decode(GO_SEED_B64)[1:]
    assert signing_public_key(seed) == public
    assert sign_note(GO_TEXT, name, seed) == GO_NOTE
    with pytest.raises(CheckpointError):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), name, public)


# -- verifier keys ---------------------------------------------------------------------


def test_vkey_round_trip() -> None:
    vkey = verifier_key(NAME, PUBLIC)
    name, hex_id, encoded = vkey.split("+", 2)
    assert name == NAME and hex_id == key_id(NAME, PUBLIC).hex()
    assert base64.b64decode(encoded) == b"\x01" + PUBLIC
    assert parse_verifier_key(vkey) == (NAME, PUBLIC)
    assert key_id(NAME, PUBLIC) == sha256(NAME.encode() + b"\n\x01" + PUBLIC)[:4]


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_vkeys_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(vkey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0"])
def test_bad_key_names_rejected(name: str) -> None:
    with pytest.raises(CheckpointError):
        key_id(name, PUBLIC)
    with pytest.raises(CheckpointError):
        sign_checkpoint(CP, name, PRIVATE)


def test_bad_key_material_rejected() -> None:
    with pytest.raises(CheckpointError):
        key_id(NAME, PUBLIC[:31])
    with pytest.raises(CheckpointError):
        sign_checkpoint(CP, NAME, PRIVATE[:31])


# -- proof texts -----------------------------------------------------------------------


def test_inclusion_proof_text_round_trip() -> None:
    text = format_inclusion_proof(73894, H, signed())
    assert text.startswith(f"{PROOF_HEADER}\nindex 73894\n{b64(H[0])}\n")
    assert text.endswith("\n\n" + signed())
    assert parse_inclusion_proof(text) == (73894, H, signed())
    assert open_checkpoint(parse_inclusion_proof(text)[2], NAME, PUBLIC) == CP


def test_inclusion_proof_with_extra_and_no_hashes() -> None:
    text = format_inclusion_proof(0, [], signed(), extra=b"context")
    assert text.startswith(f"{PROOF_HEADER}\nextra {b64(b'context')}\nindex 0\n\n")
    assert parse_inclusion_proof_extra(text) == (0, [], signed(), b"context")
    assert parse_inclusion_proof(text) == (0, [], signed())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(PROOF_HEADER, "c2sp.org/tlog-proof@v2"),
        lambda t: t.replace("index 7\n", "index 07\n"),
        lambda t: t.replace("index 7\n", "index -7\n"),
        lambda t: t.replace("index 7\n", "index  7\n"),
        lambda t: t.replace("index 7\n", "Index 7\n"),
        lambda t: t.replace("index 7\n", ""),
        lambda t: t.replace("index 7\n", "extra !!\nindex 7\n"),
        lambda t: t.replace("index 7\n", "index 7\nextra AAAA\n"),
        lambda t: t.replace(b64(H[1]), b64(H[1])[:-2]),
        lambda t: t.replace(b64(H[1]), b64(H[1] + b"x")),
        lambda t: t.replace(b64(H[1]) + "\n", b64(H[1]) + "\n\n"),
        lambda t: t.replace("\n\n", "\n", 1),
        lambda t: t[: t.index("\n\n") + 2],
        lambda t: t[: t.index("\n\n") + 2] + CP.body(),
        lambda t: t + "trailing",
        lambda t: "\n" + t,
    ],
)
def test_malformed_inclusion_proofs_rejected(mangle: object) -> None:
    assert callable(mangle)
    text = format_inclusion_proof(7, H, signed())
    with pytest.raises(CheckpointError):
        parse_inclusion_proof(mangle(text))


def test_format_inclusion_proof_validates() -> None:
    with pytest.raises(CheckpointError):
        format_inclusion_proof(-1, H, signed())
    with pytest.raises(CheckpointError):
        format_inclusion_proof(1, [b"short"], signed())
    with pytest.raises(CheckpointError):
        format_inclusion_proof(1, H, CP.body())


def test_consistency_proof_text_round_trip() -> None:
    text = format_consistency_proof(3, 7, H[:4])
    assert text == f"{CONSISTENCY_HEADER}\nsize1 3\nsize2 7\n" + "".join(b64(h) + "\n" for h in H[:4])
    assert parse_consistency_proof(text) == (3, 7, H[:4])
    assert parse_consistency_proof(format_consistency_proof(5, 5, [])) == (5, 5, [])


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"{CONSISTENCY_HEADER}\n",
        f"{CONSISTENCY_HEADER}\nsize1 3\n",
        f"{CONSISTENCY_HEADER}\nsize1 3\nsize2 7",
        f"{CONSISTENCY_HEADER}\nsize2 7\nsize1 3\n",
        f"{CONSISTENCY_HEADER}\nsize1 8\nsize2 7\n",
        f"{CONSISTENCY_HEADER}\nsize1 03\nsize2 7\n",
        f"{CONSISTENCY_HEADER}\nsize1 3\nsize2 7\n\n",
        f"{CONSISTENCY_HEADER}\nsize1 3\nsize2 7\nnot-base64\n",
        f"{CONSISTENCY_HEADER}\nsize1 3\nsize2 7\n{b64(b'short')}\n",
        "policy-ledger/consistency-proof@v9\nsize1 3\nsize2 7\n",
    ],
)
def test_malformed_consistency_proofs_rejected(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_consistency_proof(text)


def test_format_consistency_proof_validates() -> None:
    with pytest.raises(CheckpointError):
        format_consistency_proof(8, 7, H)
    with pytest.raises(CheckpointError):
        format_consistency_proof(3, 7, [b"short"])


# -- fuzzing ----------------------------------------------------------------------------


NOTE_ALPHABET = st.sampled_from(["\n", "\u2014", " ", "+", "=", "/", "A", "z", "0", "5", "\x00", "\r", "é"])
NOTE_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=NOTE_ALPHABET),
    st.builds(lambda a, b: a + "\n\n\u2014 " + b, st.text(), st.text()),
)


@settings(max_examples=400, deadline=None)
@given(NOTE_TEXT)
def test_fuzz_parsers_raise_only_checkpoint_error(text: str) -> None:
    for parse in (
        parse_signed_note,
        parse_checkpoint_body,
        parse_verifier_key,
        parse_inclusion_proof,
        parse_consistency_proof,
    ):
        try:
            parse(text)
        except CheckpointError:
            pass
    try:
        open_checkpoint(text, NAME, PUBLIC)
    except CheckpointError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(signed()) - 1), st.characters())
def test_fuzz_mutated_checkpoint_never_misbehaves(position: int, char: str) -> None:
    text = signed()
    mutated = text[:position] + char + text[position + 1 :]
    try:
        cp = open_checkpoint(mutated, NAME, PUBLIC)
    except CheckpointError:
        return
    assert cp == CP
