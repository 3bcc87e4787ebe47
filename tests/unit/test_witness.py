"""Cosignatures (C2SP tlog-cosignature), add-checkpoint bodies (C2SP tlog-witness) and a
witness's own checks: the spec's examples as vectors, then each refusal mounted."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from ledger import checkpoint, crypto, merkle, witness
from ledger.checkpoint import Checkpoint

# -- the specs' examples ------------------------------------------------------------

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_LOG_LINE = ("\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
                 "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")
SPEC_COSIGNATURE = ("\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
                    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
#: tlog-cosignature's "Ed25519 signed message" example, byte for byte.
SPEC_MESSAGE = ("cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
                "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n" + SPEC_BODY + "\n" + SPEC_LOG_LINE
    + "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUX"
    "TS5Rovnzv++qbSzm9Q=\n"
)
SPEC_RESPONSE = (
    "\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0p"
    "Wh6Up69HVOw==\n"
    "\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP"
    "1vi/lCAsmlw==\n"
    "\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXX"
    "vpysAdyP3wQ==\n"
)


def test_the_spec_cosignature_reads_as_key_id_time_and_signature() -> None:
    _, signatures = checkpoint.parse_signed_note(SPEC_BODY + "\n" + SPEC_LOG_LINE + SPEC_COSIGNATURE)
    cosig = witness.parse_cosignature(signatures[1])
    assert (cosig.name, cosig.key_id.hex(), cosig.timestamp) == ("witness.example.com/w1", "8d66cf3f", 1679315147)
    assert cosig.time == "2023-03-20T12:25:47.000000+00:00"
    assert witness.signed_message(SPEC_BODY, cosig.timestamp) == SPEC_MESSAGE.encode()


def test_the_spec_request_and_response_parse() -> None:
    old, proof, signed = witness.parse_request(SPEC_REQUEST)
    assert old == 20852014 and len(proof) == 4 and proof[0] == base64.b64decode(
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert checkpoint.parse_signed_note(signed)[0] == SPEC_BODY
    assert witness.format_request(old, proof, signed) == SPEC_REQUEST
    lines = witness.parse_lines(SPEC_RESPONSE)
    assert [(n, len(raw)) for n, _, raw in lines] == [("witness.example/w1", 72)] * 2 + [("witness.example/w2", 72)]
    # The response example's bytes are illustrative: two of its "timestamps" exceed 2^63 - 1,
    # which the spec says a timestamp MUST NOT, so a verifier refuses them before any signature check.
    for line in lines[:2]:
        with pytest.raises(witness.WitnessError, match="2\\^63"):
            witness.parse_cosignature(line)
    assert witness.parse_cosignature(lines[2]).key_id.hex() == "016ba2f1"


@pytest.mark.parametrize("request_text, problem", [
    (SPEC_REQUEST.replace("old 20852014", "old 020852014"), "old <size>"),
    (SPEC_REQUEST.replace("old 20852014", "old -1"), "old <size>"),
    (SPEC_REQUEST.replace("old ", "Old "), "old <size>"),
    ("old 0\n" + SPEC_BODY, "empty line"),
    (SPEC_REQUEST.replace("\n\n", "\n", 1), "malformed"),
    (SPEC_REQUEST.replace("PlRNCrwHpqhG", "PlRNCrwHpqh!"), "malformed"),
    ("old 1\n" + "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" * 64 + "\n" + SPEC_BODY + "\n" + SPEC_LOG_LINE,
     "more than 63"),
])
def test_malformed_requests_are_refused(request_text: str, problem: str) -> None:
    with pytest.raises(witness.WitnessError, match=problem):
        witness.parse_request(request_text)


# -- keys and our own cosignatures --------------------------------------------------------

PRIVATE = bytes(range(32))


def test_witness_key_round_trips_and_differs_from_a_note_key() -> None:
    public = crypto.signing_public_key(PRIVATE)
    key = witness.verifier_key("gov.example/w1", public)
    name, hex_id, encoded = key.split("+", 2)
    assert base64.b64decode(encoded)[0] == 4 and hex_id == witness.key_id(name, public).hex()
    assert witness.parse_verifier_key(key) == ("gov.example/w1", public)
    assert witness.key_id(name, public) != checkpoint.key_id(name, public)
    with pytest.raises(witness.WitnessError, match="type 0x01"):
        witness.parse_verifier_key(checkpoint.verifier_key("gov.example/w1", public))
    with pytest.raises(witness.WitnessError, match="key id"):
        witness.parse_verifier_key(key.replace(hex_id, "00000000"))


def test_a_cosignature_verifies_and_any_change_breaks_it() -> None:
    public = crypto.signing_public_key(PRIVATE)
    line = witness.cosign(SPEC_BODY, "gov.example/w1", PRIVATE, 1679315147)
    sigs = witness.parse_lines(line)
    assert witness.verify_cosignatures(SPEC_BODY, sigs, "gov.example/w1", public) == 1679315147
    assert witness.verify_cosignatures(SPEC_BODY, sigs, "other.example/w9", public) is None
    other_body = SPEC_BODY.replace("20852163", "20852164")
    with pytest.raises(witness.WitnessError, match="does not verify"):
        witness.verify_cosignatures(other_body, sigs, "gov.example/w1", public)
    name, kid, raw = sigs[0]
    later = (name, kid, (1679315148).to_bytes(8, "big") + raw[8:])  # the time moved: the signature covers it
    with pytest.raises(witness.WitnessError, match="does not verify"):
        witness.verify_cosignatures(SPEC_BODY, [later], "gov.example/w1", public)
    with pytest.raises(witness.WitnessError, match="72 bytes"):
        witness.verify_cosignatures(SPEC_BODY, [(name, kid, raw[8:])], "gov.example/w1", public)
    too_late = (name, kid, (2**63).to_bytes(8, "big") + raw[8:])
    with pytest.raises(witness.WitnessError, match="2\\^63"):
        witness.verify_cosignatures(SPEC_BODY, [too_late], "gov.example/w1", public)


# -- a witness's own checks -------------------------------------------------------------------

LOG_PRIVATE = bytes(range(1, 33))
ORIGIN = "ledger.example/test"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


class Log:
    """A tiny log signed with LOG_PRIVATE: leaves are b"0", b"1", …"""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes = merkle.MemoryNodes()
        for index, data in enumerate(leaves):
            self.nodes.append(index, merkle.leaf_hash(data))
        self.size = len(leaves)

    def signed(self, size: int | None = None) -> str:
        size = self.size if size is None else size
        return checkpoint.sign_checkpoint(Checkpoint(ORIGIN, size, merkle.root(size, self.nodes)), ORIGIN,
                                          LOG_PRIVATE)

    def request(self, old: int, size: int | None = None) -> str:
        size = self.size if size is None else size
        proof = merkle.consistency_proof(old, size, self.nodes) if 0 < old < size else []
        return witness.format_request(old, proof, self.signed(size))


def log_of(n: int, prefix: bytes = b"") -> Log:
    return Log([prefix + str(i).encode() for i in range(n)])


@pytest.fixture
def folder(tmp_path: Path) -> witness.WitnessFolder:
    log_key = checkpoint.verifier_key(ORIGIN, crypto.signing_public_key(LOG_PRIVATE))
    made, _ = witness.WitnessFolder.create(tmp_path / "w", "gov.example/w1", [log_key], "pass", PRIVATE)
    return made


def test_a_witness_cosigns_growth_and_keeps_its_state(folder: witness.WitnessFolder) -> None:
    log = log_of(5)
    line = folder.cosign(log.request(0), "pass", NOW)
    public = crypto.signing_public_key(PRIVATE)
    assert witness.verify_cosignatures(checkpoint.parse_signed_note(log.signed())[0], witness.parse_lines(line),
                                       "gov.example/w1", public) == int(NOW.timestamp())
    bigger = log_of(9)
    folder.cosign(bigger.request(5), "pass", NOW + dt.timedelta(hours=1))
    state = folder.state(ORIGIN)
    assert state is not None and state.size == 9
    kept = (folder.folder / witness.WITNESSED_FILE).read_text(encoding="utf-8")
    opened = witness.open_witnessed(kept, ORIGIN, crypto.signing_public_key(LOG_PRIVATE),
                                    [("gov.example/w1", public)])
    assert opened.checkpoint.size == 9 and (folder.folder / witness.WITNESSED_FILE).stat().st_mode & 0o077 == 0


def test_a_rollback_is_refused_and_kept_as_evidence(folder: witness.WitnessFolder) -> None:
    folder.cosign(log_of(9).request(0), "pass", NOW)
    with pytest.raises(witness.Rollback, match="ROLLBACK refused.*size 9.*size 5"):
        folder.cosign(log_of(5).request(0), "pass", NOW)
    state = folder.state(ORIGIN)
    assert state is not None and state.size == 9
    assert [p.name.split("-")[0] for p in (folder.folder / "evidence").iterdir()] == ["rollback"]


def test_a_fork_is_refused_loudly_and_kept_as_evidence(folder: witness.WitnessFolder) -> None:
    folder.cosign(log_of(5).request(0), "pass", NOW)
    forked = Log([b"0", b"1", b"X", b"3", b"4", b"5", b"6"])  # leaf 2 rewritten, then grown
    # no proof can connect it, but a spoiled request looks the same: unproved, ask again
    with pytest.raises(witness.Unprocessable, match="UNPROVED: .*does not show checkpoint 7 extends the checkpoint 5"):
        folder.cosign(forked.request(5), "pass", NOW)
    same_size = Log([b"0", b"1", b"X", b"3", b"4"])
    with pytest.raises(witness.Fork, match="FORK: the ledger's key signed two different roots for size 5"):
        folder.cosign(same_size.request(5), "pass", NOW)
    state = folder.state(ORIGIN)
    assert state is not None and state.size == 5 and len(list((folder.folder / "evidence").iterdir())) == 2


def test_a_stale_old_size_an_unknown_log_and_a_forged_checkpoint_are_refused(folder: witness.WitnessFolder) -> None:
    folder.cosign(log_of(5).request(0), "pass", NOW)
    with pytest.raises(witness.Conflict, match="last cosigned size 5, not 3.*--old 5") as caught:
        folder.cosign(log_of(9).request(3), "pass", NOW)
    assert caught.value.size == 5
    other = checkpoint.sign_checkpoint(Checkpoint("other.example/log", 1, merkle.leaf_hash(b"0")),
                                       "other.example/log", LOG_PRIVATE)
    with pytest.raises(witness.Refused, match="does not witness 'other.example/log'"):
        folder.cosign(witness.format_request(0, [], other), "pass", NOW)
    forged = checkpoint.sign_checkpoint(Checkpoint(ORIGIN, 9, merkle.root(9, log_of(9).nodes)), ORIGIN, PRIVATE)
    with pytest.raises(witness.Refused, match="not signed by the ledger's key"):
        folder.cosign(witness.format_request(5, merkle.consistency_proof(5, 9, log_of(9).nodes), forged), "pass", NOW)
    with pytest.raises(witness.WitnessError, match="wrong passphrase"):
        folder.cosign(log_of(9).request(5), "wrong", NOW)
    with pytest.raises(witness.Refused, match="clock .* is behind"):
        folder.cosign(log_of(9).request(5), "pass", NOW - dt.timedelta(days=1))
    state = folder.state(ORIGIN)
    assert state is not None and state.size == 5


def test_the_key_file_is_locked_and_private(folder: witness.WitnessFolder) -> None:
    path = folder.folder / witness.CONFIG_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    assert PRIVATE.hex() not in path.read_text(encoding="utf-8") and document["private_key"]["kdf"] == "scrypt"
    assert path.stat().st_mode & 0o077 == 0
    document["public_key"] = crypto.signing_public_key(LOG_PRIVATE).hex()
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(witness.WitnessError, match="does not match the public key"):
        folder.private_key("pass")
