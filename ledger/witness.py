"""Witnesses: C2SP tlog-cosignature (``cosignature/v1``) and tlog-witness's add-checkpoint body.

A witness is a party outside the ledger's host (a governor, the trust's central
team, a neighbouring school) with its own Ed25519 key. It cosigns a checkpoint
only after checking that the checkpoint is signed by the ledger's key and is
consistent with the last checkpoint it cosigned for that origin, and it adds
the time it did so. Once it has, whoever holds ``ledger-key.json`` can no longer
cut or rewrite the history up to that checkpoint without every verifier that
sees the cosignature noticing.

Formats (C2SP tlog-cosignature, Ed25519 type)::

    key id          SHA-256(<name> || 0x0A || 0x04 || public key)[:4]
    verifier key    <name>+<hex8 key id>+<base64(0x04 || public key)>
    signed message  "cosignature/v1\\n" "time <T>\\n" <checkpoint body>
    signature line  — <name> base64(key id || u64 big-endian T || Ed25519 signature)

``T`` is a POSIX time in seconds. The add-checkpoint request body (C2SP
tlog-witness) is ``old <size>\\n``, up to 63 base64 consistency proof lines, an
empty line, then the signed checkpoint. This project uses exactly that text as
the file the ledger hands a witness (``ledger witness request``).

Every malformed or failing input raises :class:`WitnessError` naming the
problem; a refused checkpoint (rollback, fork, unknown origin, stale old size)
raises one of its subclasses so the caller can say what it means.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import checkpoint, crypto, files, merkle
from ledger.checkpoint import Checkpoint, CheckpointError, NoteSignature

COSIGNATURE_TYPE = b"\x04"
COSIGNATURE_HEADER = "cosignature/v1"
TIMESTAMP_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1
MAX_PROOF_LINES = 63
KEY_CONTEXT = b"policy-ledger witness key v1"
CONFIG_FILE = "witness.json"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"
#: The file in a witness's folder an auditor takes (``ledger verify --witnessed``): the newest
#: checkpoint it cosigned, the ledger's signature and its cosignature, one signed note.
WITNESSED_FILE = "latest-cosigned.txt"
EVIDENCE_FOLDER = "evidence"

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")  # 2^64 - 1 has 20 digits
#: The last second ``datetime`` can show (9999-12-31T23:59:59Z); cosignature/v1 allows times up to 2^63.
LAST_READABLE_TIME = 253402300799


class WitnessError(Exception):
    """A cosignature, verifier key or add-checkpoint body is malformed or does not verify."""


class Refused(WitnessError):
    """The witness will not cosign this checkpoint (the message says why)."""


class Conflict(Refused):
    """The request's old size is not the size this witness last cosigned (C2SP: 409)."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class Rollback(Refused):
    """The checkpoint is smaller than one this witness already cosigned."""


class Fork(Refused):
    """The ledger's key signed two different roots for one size: two histories, proved."""


class Unprocessable(Refused):
    """The request's consistency proof does not verify (C2SP: 422). Not proof of a fork: anyone who
    can alter the request in transit can spoil its proof hashes; a fresh request from the ledger decides."""


# -- keys ---------------------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 cosigner key: SHA-256(name || 0x0A || 0x04 || key)[:4]."""
    try:
        return checkpoint.key_id(name, public_key, COSIGNATURE_TYPE)
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None


def verifier_key(name: str, public_key: bytes) -> str:
    """The cosigner's verifier key ``<name>+<hex8 key id>+<base64(0x04 || key)>``."""
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(COSIGNATURE_TYPE + public_key).decode()}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """``(name, public key)`` from a cosigner verifier key; its key id must match."""
    try:
        return checkpoint.parse_verifier_key(text, COSIGNATURE_TYPE)
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None


# -- cosignatures -------------------------------------------------------------------


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header line, time line, then the checkpoint body."""
    _check_timestamp(timestamp)
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n".encode() + body.encode("utf-8")


def cosign(body: str, name: str, private_key: bytes, timestamp: int) -> str:
    """A cosignature line (ending in a newline) over checkpoint ``body`` at POSIX time ``timestamp``."""
    checkpoint.parse_checkpoint_body(body)
    public = crypto.signing_public_key(private_key)
    signature = crypto.sign_raw(private_key, signed_message(body, timestamp))
    raw = key_id(name, public) + timestamp.to_bytes(TIMESTAMP_SIZE, "big") + signature
    return f"{checkpoint.SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode('ascii')}\n"


@dataclass(frozen=True)
class Cosignature:
    """One parsed cosignature: who, when (POSIX seconds) and the Ed25519 signature."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    @property
    def time(self) -> str:
        """The time as the ledger stores times (ISO-8601 UTC)."""
        return posix_to_iso(self.timestamp)


def parse_cosignature(signature: NoteSignature) -> Cosignature:
    """Read a note signature as a cosignature/v1 (structure only; nothing verified)."""
    name, kid, raw = signature
    if len(raw) != TIMESTAMP_SIZE + checkpoint.SIGNATURE_SIZE:
        raise WitnessError(f"the signature by {name!r} is not a timestamped Ed25519 cosignature (72 bytes)")
    timestamp = int.from_bytes(raw[:TIMESTAMP_SIZE], "big")
    _check_timestamp(timestamp)
    return Cosignature(name, kid, timestamp, raw[TIMESTAMP_SIZE:])


def parse_lines(text: str) -> list[NoteSignature]:
    """Signature lines as a witness returns them (C2SP tlog-witness's response body)."""
    if not isinstance(text, str) or not text.endswith("\n") or text == "\n":
        raise WitnessError("cosignature lines must be non-empty text ending with a newline")
    lines = text[:-1].split("\n")
    if len(lines) > checkpoint.MAX_SIGNATURES:
        raise WitnessError(f"more than {checkpoint.MAX_SIGNATURES} cosignature lines")
    try:
        return [checkpoint.parse_signature_line(line) for line in lines]
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None


def verify_cosignatures(body: str, signatures: Sequence[NoteSignature], name: str, public_key: bytes) -> int | None:
    """The newest time at which witness (``name``, ``public_key``) cosigned ``body``.

    Lines by other keys are ignored (None when this witness has none); any line
    that claims to be this witness's and does not verify raises WitnessError.
    """
    wanted = key_id(name, public_key)
    newest: int | None = None
    for signature in signatures:
        if signature[0] != name or signature[1] != wanted:
            continue
        cosig = parse_cosignature(signature)
        try:
            crypto.verify_raw(public_key, signed_message(body, cosig.timestamp), cosig.signature)
        except crypto.CryptoError:
            raise WitnessError(f"the cosignature by witness {name!r} does not verify: altered or forged") from None
        newest = cosig.timestamp if newest is None else max(newest, cosig.timestamp)
    return newest


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint signed by the ledger's key and cosigned by witnesses (name -> POSIX time)."""

    checkpoint: Checkpoint
    times: dict[str, int]

    def quorum(self, needed: int) -> bool:
        """Cosigned by at least ``needed`` distinct witnesses (and by at least one)."""
        return len(self.times) >= max(needed, 1)


def open_witnessed(text: str, origin: str, ledger_key: bytes, witnesses: Sequence[tuple[str, bytes]]) -> Witnessed:
    """Check a cosigned checkpoint: the ledger's signature, then each trusted witness's cosignature.

    Raises WitnessError if the ledger's signature fails, if any trusted witness's
    line fails, or if no trusted witness cosigned it.
    """
    try:
        opened = checkpoint.open_checkpoint(text, origin, ledger_key, expected_origin=origin)
        body, signatures = checkpoint.parse_signed_note(text)
    except CheckpointError as exc:
        raise WitnessError(f"not a checkpoint signed by this ledger's key: {exc}") from None
    times = {}
    for name, public in witnesses:
        when = verify_cosignatures(body, signatures, name, public)
        if when is not None:
            times[name] = when
    if not times:
        raise WitnessError("no witness the trust file names has cosigned it")
    return Witnessed(opened, times)


#: Cosigned checkpoints by (size, root): a note signed by the ledger, and each witness's valid lines on it.
Groups = dict[tuple[int, bytes], tuple[str, dict[str, str]]]


def cosigned_groups(notes: Sequence[str], origin: str, ledger_key: bytes, witnesses: Sequence[tuple[str, bytes]],
                    at_most: int | None = None) -> Groups:
    """Every note that checks out (no larger than ``at_most``), grouped by checkpoint, with each
    trusted witness's valid cosignature lines on it; each note's signatures are checked once."""
    groups: Groups = {}
    for text in notes:
        try:
            opened = open_witnessed(text, origin, ledger_key, witnesses)
            body, signatures = checkpoint.parse_signed_note(text)
        except (WitnessError, CheckpointError):
            continue
        cp = opened.checkpoint
        if at_most is not None and cp.size > at_most:
            continue
        signed, lines = groups.setdefault((cp.size, cp.root), (text, {}))
        keys = dict(witnesses)
        for name, kid, raw in signatures:
            if name in opened.times and kid == key_id(name, keys[name]):
                lines.setdefault(name, "")
                line = checkpoint.signature_line(name, kid, raw)
                if line not in lines[name]:
                    lines[name] += line
    return groups


def quorum_note(groups: Groups, origin: str, quorum: int) -> tuple[Checkpoint, str] | None:
    """The largest checkpoint of ``groups`` a quorum cosigned, with every witness's lines on it."""
    best = max((key for key, (_, lines) in groups.items() if len(lines) >= max(quorum, 1)), default=None)
    return None if best is None else _note(groups[best], origin, sorted(groups[best][1]))


def newest_of(groups: Groups, origin: str, name: str) -> tuple[Checkpoint, str] | None:
    """The largest checkpoint of ``groups`` witness ``name`` cosigned, with its lines only."""
    best = max((key for key, (_, lines) in groups.items() if name in lines), default=None)
    return None if best is None else _note(groups[best], origin, [name])


def _note(group: tuple[str, dict[str, str]], origin: str, names: Sequence[str]) -> tuple[Checkpoint, str]:
    text, lines = group
    body, signatures = checkpoint.parse_signed_note(text)
    ledger_lines = "".join(checkpoint.signature_line(*sig) for sig in signatures if sig[0] == origin)
    return checkpoint.parse_checkpoint_body(body), body + "\n" + ledger_lines + "".join(lines[n] for n in names)


def posix_to_iso(timestamp: int) -> str:
    """A POSIX time as the ledger stores times; WitnessError past the year 9999 (a broken clock)."""
    if timestamp > LAST_READABLE_TIME:
        raise WitnessError(f"the cosignature time {timestamp} is after the year 9999: the witness's clock is wrong")
    return (EPOCH + dt.timedelta(seconds=timestamp)).isoformat(timespec="microseconds")


# -- the add-checkpoint body --------------------------------------------------------------


def format_request(old: int, proof: Sequence[bytes], signed_checkpoint: str) -> str:
    """C2SP tlog-witness add-checkpoint body: ``old N``, proof lines, blank line, checkpoint."""
    checkpoint.check_count("old size", old)
    if len(proof) > MAX_PROOF_LINES:
        raise WitnessError(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    if old == 0 and proof:
        raise WitnessError("the proof must be empty when the old size is 0")
    try:
        checkpoint.check_signed_checkpoint(signed_checkpoint)
        lines = [f"old {old}", *checkpoint.format_hashes(proof)]
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None
    return "".join(line + "\n" for line in lines) + "\n" + signed_checkpoint


def parse_request(text: str) -> tuple[int, list[bytes], str]:
    """``(old size, proof hashes, signed checkpoint)`` from an add-checkpoint body (structure only)."""
    if not isinstance(text, str):
        raise WitnessError("the request must be text")
    head, separator, signed = text.partition("\n\n")
    if not separator:
        raise WitnessError("the request has no empty line before its checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if match is None:
        raise WitnessError("the request must start with 'old <size>' (decimal, no leading zeros, "
                           "at most 2^64 - 1)")
    old = int(match.group(1))
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(f"the request has more than {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = checkpoint.parse_hashes(lines[1:])
        checkpoint.check_signed_checkpoint(signed)
    except CheckpointError as exc:
        raise WitnessError(f"the request is malformed: {exc}") from None
    if old > checkpoint.MAX_SIZE:
        raise WitnessError("the old size is larger than 2^64 - 1")
    return old, proof, signed


# -- the witness's own folder ------------------------------------------------------------------


@dataclass(frozen=True)
class LogState:
    """What a witness last cosigned for one log."""

    size: int
    root: bytes
    timestamp: int
    cosigned: str


class WitnessFolder:
    """A witness's identity and state, kept in a folder on the witness's own machine.

    ``witness.json`` holds the name, the passphrase-locked private key and the
    logs it witnesses (origin -> the ledger's verifier key); ``state.json`` the
    newest checkpoint cosigned per origin; ``latest-cosigned.txt`` that checkpoint
    with its cosignature (for auditors). Every change is checked and written under
    one lock, so two runs at once cannot roll each other back.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def create(cls, folder: Path, name: str, log_keys: Sequence[str], passphrase: str,
               private_key: bytes | None = None) -> tuple[WitnessFolder, str]:
        """A new witness identity in ``folder`` (which must not hold one); returns it and its verifier key."""
        _check_name(name)
        if not passphrase:
            raise WitnessError("the witness key needs a passphrase")
        logs: dict[str, str] = {}
        for text in log_keys:
            try:
                origin, _ = checkpoint.parse_verifier_key(text)
            except CheckpointError as exc:
                raise WitnessError(f"the ledger key {text!r} is not a signed-note verifier key: {exc}") from None
            logs[origin] = text
        if not logs:
            raise WitnessError("name at least one ledger to witness (its verifier key, from trust.json)")
        private = private_key if private_key is not None else crypto.random_key()
        public = crypto.signing_public_key(private)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"name": name, "public_key": public.hex(), "logs": logs,
                    "private_key": crypto.lock_with_passphrase(passphrase, private, KEY_CONTEXT)}
        files.write_private(folder / CONFIG_FILE, (json.dumps(document, indent=2) + "\n").encode())
        return cls(folder), verifier_key(name, public)

    def config(self) -> dict[str, Any]:
        """``witness.json``, checked."""
        document = files.read_json(self.folder / CONFIG_FILE, "witness file", "run `ledger witness init` first")
        try:
            name, public = str(document["name"]), bytes.fromhex(document["public_key"])
            logs = {str(origin): str(text) for origin, text in document["logs"].items()}
            key_id(name, public)
            for origin, text in logs.items():
                if checkpoint.parse_verifier_key(text)[0] != origin:
                    raise ValueError(f"the key for {origin!r} is named differently")
        except (KeyError, TypeError, ValueError, AttributeError, CheckpointError, WitnessError) as exc:
            raise WitnessError(f"{self.folder / CONFIG_FILE} is damaged: {exc}") from None
        return dict(document)

    @property
    def name(self) -> str:
        return str(self.config()["name"])

    def verifier_key(self) -> str:
        """This witness's verifier key (give it to the ledger's IT manager)."""
        document = self.config()
        return verifier_key(str(document["name"]), bytes.fromhex(document["public_key"]))

    def private_key(self, passphrase: str) -> bytes:
        """The witness's private key, unlocked; WitnessError on a wrong passphrase."""
        document = self.config()
        try:
            private = crypto.unlock_with_passphrase(passphrase, document["private_key"], KEY_CONTEXT)
        except crypto.CryptoError as exc:
            raise WitnessError(f"cannot open the witness key: {exc} (wrong passphrase?)") from None
        if crypto.signing_public_key(private).hex() != document["public_key"]:
            raise WitnessError("the witness key does not match the public key beside it: the file was altered")
        return private

    def state(self, origin: str) -> LogState | None:
        """What this witness last cosigned for ``origin`` (None if nothing yet)."""
        path = self.folder / STATE_FILE
        if not path.exists():
            return None
        document = files.read_json(path, "witness state", "restore the witness folder from its backup")
        entry = document.get(origin) if isinstance(document, dict) else None
        if entry is None:
            return None
        try:
            return LogState(int(entry["size"]), base64.b64decode(entry["root"], validate=True),
                            int(entry["timestamp"]), str(entry["cosigned"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise WitnessError(f"{path} is damaged: {exc}") from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def cosign(self, request: str, passphrase: str, now: dt.datetime) -> str:
        """Check an add-checkpoint body against this witness's state, cosign it, and keep the new state.

        Returns the cosignature line. Refuses (Refused and its subclasses) an
        unknown origin, a checkpoint the ledger's key did not sign, an old size
        that is not the one last cosigned, a rollback and a fork; a fork's request
        is kept in ``evidence/`` as proof that the ledger's key signed two histories.
        """
        document = self.config()
        old, proof, signed = parse_request(request)
        body, _ = checkpoint.parse_signed_note(signed)
        claimed = checkpoint.parse_checkpoint_body(body)
        log_key = document["logs"].get(claimed.origin)
        if log_key is None:
            raise Refused(f"this witness does not witness {claimed.origin!r} (it witnesses "
                          f"{', '.join(sorted(document['logs']))})")
        try:
            cp = checkpoint.open_checkpoint(signed, *checkpoint.parse_verifier_key(log_key),
                                            expected_origin=claimed.origin)
        except CheckpointError as exc:
            raise Refused(f"the checkpoint is not signed by the ledger's key: {exc}") from None
        if old > cp.size:
            raise WitnessError(f"the old size {old} is larger than the checkpoint's size {cp.size}")
        private = self.private_key(passphrase)
        with self._locked():
            last = self.state(cp.origin)
            last_size = last.size if last else 0
            if last is not None and cp.size < last.size:
                kept = self._keep_evidence(request, now, "rollback")
                raise Rollback(f"ROLLBACK refused: this witness already cosigned {cp.origin} at size {last.size}; "
                               f"the ledger now offers size {cp.size}. Entries were removed from the log. Not cosigned; "
                               f"the request is kept as evidence in {kept}")
            if old != last_size:
                raise Conflict(f"this witness last cosigned size {last_size}, not {old}: ask the ledger for "
                               f"`ledger witness request --old {last_size}`", last_size)
            if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
                raise Refused("the ledger's key signed an empty checkpoint whose root is not the empty tree's: "
                              "not cosigned")
            if last is not None and cp.size == last.size and cp.root != last.root:
                kept = self._keep_evidence(request, now, "fork")
                raise Fork(f"FORK: the ledger's key signed two different roots for size {cp.size}: the one this "
                           f"witness cosigned and this one. The history was rewritten. Not cosigned; the request "
                           f"is kept as evidence in {kept}")
            if last_size == 0 and proof:
                raise WitnessError("the proof must be empty when the old size is 0")
            if last is not None and 0 < last.size < cp.size:
                try:
                    merkle.verify_consistency(last.size, cp.size, last.root, cp.root, proof)
                except merkle.MerkleError as exc:
                    kept = self._keep_evidence(request, now, "unproved")
                    raise Unprocessable(
                        f"UNPROVED: the request's proof does not show checkpoint {cp.size} extends the checkpoint "
                        f"{last.size} this witness cosigned ({exc}). Not cosigned. The request may have been "
                        f"damaged or altered on its way to you: fetch a fresh one from the ledger "
                        f"(`ledger witness request`). If a fresh request fails the same way, the ledger's history "
                        f"was rewritten: tell the chair of governors. The request is kept in {kept}") from None
            timestamp = int(now.timestamp())
            if last is not None and timestamp < last.timestamp:
                raise Refused(f"this machine's clock ({posix_to_iso(timestamp)}) is behind this witness's last "
                              f"cosignature ({posix_to_iso(last.timestamp)}): correct the clock")
            line = cosign(body, str(document["name"]), private, timestamp)
            cosigned = signed + line
            self._save(cp.origin, LogState(cp.size, cp.root, timestamp, cosigned))
        return line

    def _save(self, origin: str, state: LogState) -> None:
        path = self.folder / STATE_FILE
        document = files.read_json(path, "witness state") if path.exists() else {}
        document[origin] = {"size": state.size, "root": base64.b64encode(state.root).decode(),
                            "timestamp": state.timestamp, "cosigned": state.cosigned}
        files.write_private(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(), force=True)
        files.write_private(self.folder / WITNESSED_FILE, state.cosigned.encode(), force=True)

    def _keep_evidence(self, request: str, now: dt.datetime, kind: str) -> Path:
        folder = self.folder / EVIDENCE_FOLDER
        folder.mkdir(exist_ok=True, mode=0o700)
        path = folder / f"{kind}-{int(now.timestamp())}-{os.urandom(2).hex()}.txt"
        files.write_private(path, request.encode())
        return path


# -- helpers ---------------------------------------------------------------------------


def _check_name(name: str) -> None:
    try:
        checkpoint.check_key_name(name)
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None


def _check_timestamp(timestamp: int) -> None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise WitnessError("a cosignature time must be an integer in [0, 2^63)")


def _unb64(text: str, what: str) -> bytes:
    try:
        return checkpoint.decode_base64(text, what)
    except CheckpointError as exc:
        raise WitnessError(str(exc)) from None
