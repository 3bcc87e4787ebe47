#!/usr/bin/env python3
"""Check a policy-ledger evidence bundle on its own: ``python3 verify_bundle.py BUNDLE [--trust trust.json]``.

Needs only Python 3.9+ and ``cryptography`` (``pip install cryptography``), not the policy-ledger
software. BUNDLE is the zip or the folder it was unpacked into; ``--trust`` is the ledger's trust
file obtained from the school separately (otherwise the bundle's own copy is used and the ledger
key's fingerprint is printed, to compare with the school's). Checks, from the bytes alone: the
SHA256SUMS list and its signature by the ledger key, the signed checkpoint, every entry's RFC 9162
inclusion proof, each entry's Ed25519 signature by a key registered back to the first admin and not
revoked, whose holder's roles allowed it, body hashes, key commitments, decrypted plaintext and
evidence files' intake hashes, and (when the trust file names witnesses) that the checkpoint and
each witness's newest cosigned one (``witnessed/<key id>.txt`` and ``witnessed.txt``, C2SP
cosignature/v1) are one history, that a quorum of witnesses' newest cosignatures covers the
entries or they are younger than the trust file allows, and that no entry is dated after a
witness saw it or before the checkpoint it came after was signed. One
line per check; exit 0 if all pass, 1 if any fails, 2 if the
bundle cannot be read. Formats: ledger/envelope.py, ledger/checkpoint.py, ledger/bundle.py.

A bundle is hostile input until checked: it is refused before anything is decompressed when it
holds more than MAX_FILES files, a file over MAX_FILE_BYTES, more than MAX_TOTAL_BYTES in all, a
file compressed more than MAX_RATIO to one (a zip bomb), overlapping or linked (symbolic link)
members, or names outside the bundle; decompression stops at each file's declared size. An
unpacked folder may hold only regular files and folders (no links, pipes or devices). JSON with a
repeated key, NaN or nesting deeper than MAX_DEPTH is malformed. Every line printed has its control
and direction characters escaped, so nothing in a bundle can rewrite what the terminal shows.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import html
import io
import json
import os
import re
import struct
import stat
import sys
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

MAGIC = b"PLE1"
ENTRY_DOMAIN = b"policy-ledger/entry/v1\x00"
COMMITMENT_DOMAIN = b"policy-ledger/key-commitment/v1\x00"
AAD_DOMAIN = b"policy-ledger/body-aad/v1\x00"
SUMS, SIGNATURE, PEM = "SHA256SUMS", "SHA256SUMS.sig", "ledger-public-key.pem"
DISCLOSED = "disclosed"
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, RecursionError)  # RecursionError: nesting too deep
#: Limits on what a bundle may make the verifier read (an evidence file is at most 50 MB).
MAX_FILES = 100_000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
MAX_DEPTH = 32
LAST_READABLE_TIME = 253402300799  # 9999-12-31T23:59:59Z; cosignature/v1 allows up to 2^63
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: How far a witness's clock and the ledger host's may disagree before a time is called wrong.
CLOCK_ALLOWANCE = timedelta(minutes=5)


class Unreadable(Exception):
    """The bundle cannot be opened at all."""


@dataclass
class Check:
    """One line of the report: what was checked, how many passed, what failed."""

    title: str
    done: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.problems.append(problem)


@dataclass
class Report:
    """Every check in order; ``ok`` only when each checked something and none failed."""

    source: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What the checks could not exclude, said in the result (e.g. entries cut after the checkpoint).
    limits: list[str] = field(default_factory=list)

    def check(self, title: str) -> Check:
        self.checks.append(Check(title))
        return self.checks[-1]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.done and not c.problems for c in self.checks)

    def lines(self) -> list[str]:
        return [printable(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        out = [f"Checking {self.source}"]
        for c in self.checks:
            out.append(f"  {'OK  ' if c.done and not c.problems else 'FAIL'}  {c.title} ({c.done} checked)")
            out += [f"          - {p}" for p in c.problems[:20]]
            if len(c.problems) > 20:
                out.append(f"          - ... and {len(c.problems) - 20} more")
        out += [f"  note  {n}" for n in self.notes]
        failed = sum(1 for c in self.checks if c.problems or not c.done)
        if not self.ok:
            out.append(f"RESULT: FAILED ({failed} check(s) failed): do not rely on this bundle")
        elif self.limits:
            out.append("RESULT: the bundle verifies, but " + "; ".join(self.limits))
        else:
            out.append("RESULT: the bundle verifies")
        return out


@dataclass
class Entry:
    """One entry file: ``PLE1 || u32be(len) || header || signature(64) || body``."""

    file: str
    leaf: int
    header_bytes: bytes
    header: dict[str, Any]
    signature: bytes
    body: bytes

    @classmethod
    def parse(cls, file: str, leaf: int, data: bytes) -> Entry:
        if len(data) < 8 or data[:4] != MAGIC:
            raise ValueError("not an entry (bad magic)")
        end = 8 + struct.unpack(">I", data[4:8])[0]
        if len(data) < end + 64:
            raise ValueError("entry is truncated")
        header = strict_json(data[8:end])
        if not isinstance(header, dict):
            raise ValueError("entry header is not an object")
        return cls(file, leaf, data[8:end], header, data[end:end + 64], data[end + 64:])

    @property
    def leaf_hash(self) -> bytes:
        """RFC 9162 leaf hash of the leaf data (length, header, signature: not the body)."""
        return sha256(b"\x00" + struct.pack(">I", len(self.header_bytes)) + self.header_bytes + self.signature)

    @property
    def event(self) -> str:
        return str(self.header.get("topic")).rsplit(":", 1)[-1]

    @property
    def claims(self) -> dict[str, Any]:
        value = self.header.get("claims")
        return value if isinstance(value, dict) else {}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ed25519_ok(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def root_from_proof(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root an inclusion proof leads to."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise ValueError("proof is too long")
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof is too short")
    return r


def consistent(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: whether the tree (size2, root2) extends the tree (size1, root1)."""
    if size1 == size2:
        return not proof and root1 == root2 and (size1 > 0 or root1 == sha256(b""))
    if not 0 < size1 < size2 or not proof:
        return False
    if size1 & (size1 - 1) == 0:
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = sha256(b"\x01" + c + fr), sha256(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


def cosigned_by(text: str, witnesses: list[str]) -> dict[str, int]:
    """Which of ``witnesses`` (C2SP verifier keys, type 0x04) cosigned the note ``text``, and when
    (POSIX seconds, C2SP tlog-cosignature v1). A line claiming a listed key that fails is an error."""
    body, _, block = text.rpartition("\n\n")
    body += "\n"
    lines = [(line[2:].partition(" ")[0], base64.b64decode(line[2:].partition(" ")[2], validate=True))
             for line in block[:-1].split("\n")]
    times: dict[str, int] = {}
    if len({key.rpartition("+")[2] for key in witnesses}) != len(witnesses):
        raise ValueError("the trust file names one witness key twice: it would count twice toward the quorum")
    for key in witnesses:
        name, key_id, encoded = key.split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) != 33 or raw[0] != 4 or sha256(name.encode() + b"\n" + raw)[:4].hex() != key_id:
            raise ValueError(f"witness key {name} in the trust file is not a cosignature/v1 key")
        for signer, sig in lines:
            if signer != name or sig[:4].hex() != key_id:
                continue
            stamp = int.from_bytes(sig[4:12], "big")
            message = f"cosignature/v1\ntime {stamp}\n".encode() + body.encode("utf-8")
            if len(sig) != 76 or stamp > 2**63 - 1 or not ed25519_ok(raw[1:], message, sig[12:]):
                raise ValueError(f"the cosignature by witness {name} does not verify")
            if stamp > LAST_READABLE_TIME:
                raise ValueError(f"the cosignature by witness {name} is dated after the year 9999 (POSIX time "
                                 f"{stamp}): the witness's clock is wrong")
            times[name] = max(stamp, times.get(name, 0))
    return times


def open_checkpoint(text: str, name: str, public: bytes) -> tuple[int, bytes]:
    """A C2SP signed note holding a tlog-checkpoint, signed by (name, public): (size, root)."""
    body, sep, block = text.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise ValueError("not a signed note")
    body += "\n"
    key_id = sha256(name.encode("utf-8") + b"\n\x01" + public)[:4]
    mine = []
    for line in block[:-1].split("\n"):
        signer, _, encoded = line[2:].partition(" ")
        raw = base64.b64decode(encoded, validate=True)
        if not line.startswith("\u2014 "):
            raise ValueError("malformed signature line")
        if signer == name and raw[:4] == key_id:
            mine.append(raw[4:])
    if not mine or not all(ed25519_ok(public, body.encode("utf-8"), s) for s in mine):
        raise ValueError(f"no valid signature by the ledger key {name}")
    lines = body[:-1].split("\n")
    root = base64.b64decode(lines[2], validate=True) if len(lines) >= 3 else b""
    if lines[0] != name or not lines[1].isdigit() or len(root) != 32:
        raise ValueError(f"not a checkpoint of {name}")
    return int(lines[1]), root


def printable(line: str) -> str:
    """``line`` with every control, direction or invisible format character written as an escape."""
    out = []
    for char in line:
        if char.isprintable() or char in "\u200c\u200d" or unicodedata.category(char) == "Zs":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):  # a key came twice: name it
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return document


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_json(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """JSON with no repeated key, no NaN or infinity, nested at most ``max_depth`` deep (else
    ValueError, never RecursionError). The ledger's own strict reader is this function."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    if text.count("[") + text.count("{") <= max_depth:
        return value  # no deeper than the brackets it holds
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    if deepest > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep")
    return value


def _bounded(count: int, total: int) -> None:
    if count > MAX_FILES:
        raise Unreadable(f"the bundle holds more than {MAX_FILES} files")
    if total > MAX_TOTAL_BYTES:
        raise Unreadable(f"the bundle's files add up to more than {MAX_TOTAL_BYTES // 2**20} MB")


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and ":" not in parts[0] \
        and all(p not in ("", ".", "..") for p in parts)


def _read_folder(path: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    total = 0
    for folder, subfolders, names in os.walk(path, followlinks=False):
        for name in sorted(subfolders + names):
            full = Path(folder) / name
            mode = os.lstat(full).st_mode
            relative = full.relative_to(path).as_posix()
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
                raise Unreadable(f"{relative} is {kind}: a bundle folder holds only files and folders")
            size = os.lstat(full).st_size
            if size > MAX_FILE_BYTES:
                raise Unreadable(f"{relative} is larger than {MAX_FILE_BYTES // 2**20} MB")
            total += size
            _bounded(len(found) + 1, total)
            with open(full, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise Unreadable(f"{relative} grew past {MAX_FILE_BYTES // 2**20} MB while it was read")
            found[relative] = data
    return dict(sorted(found.items()))


def _read_zip(archive: zipfile.ZipFile) -> dict[str, bytes]:
    members = [m for m in archive.infolist() if not m.filename.endswith("/")]
    names = [m.filename for m in members]
    if len(names) != len(set(names)) or not all(_safe_name(n) for n in names):
        raise Unreadable("the zip holds a repeated file name or a file outside the bundle")
    _bounded(len(members), sum(m.file_size for m in members))
    spans = sorted((m.header_offset, m.header_offset + len(m.FileHeader()) + m.compress_size, m.filename)
                   for m in members)
    for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
        if start < end:
            raise Unreadable(f"the zip's members {first} and {second} overlap (a zip bomb)")
    for m in members:
        if stat.S_ISLNK(m.external_attr >> 16):
            raise Unreadable(f"{m.filename} is a symbolic link: a bundle holds only files")
        if m.file_size > MAX_FILE_BYTES:
            raise Unreadable(f"{m.filename} is larger than {MAX_FILE_BYTES // 2**20} MB")
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Unreadable(f"{m.filename} is compressed more than {MAX_RATIO} to 1 (a zip bomb)")
    found: dict[str, bytes] = {}
    for m in members:
        with archive.open(m) as handle:
            data = handle.read(m.file_size + 1)
        if len(data) != m.file_size:
            raise Unreadable(f"{m.filename} is not the size its zip entry declares")
        found[m.filename] = data
    return found


def read_bundle(path: Path) -> dict[str, bytes]:
    """Every file of a bundle zip (or unpacked folder) by its relative path, within the limits."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return _read_folder(path)
        if not stat.S_ISREG(mode):
            raise Unreadable(f"{path} is neither a zip file nor a folder")
        with zipfile.ZipFile(path) as archive:
            return _read_zip(archive)
    except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as exc:
        raise Unreadable(f"cannot read {path}: {exc}") from None


def load_json(files: dict[str, bytes], name: str) -> Any:
    if name not in files:
        raise ValueError(f"{name} is missing")
    return strict_json(files[name])


# -- the checks, in order ------------------------------------------------------------------


def check_sums(files: dict[str, bytes], report: Report) -> None:
    c = report.check("every file is listed in SHA256SUMS and unchanged")
    listed: dict[str, str] = {}
    for line in files.get(SUMS, b"").decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or name in listed:
            c.fail(f"SHA256SUMS line is malformed or repeated: {line[:80]!r}")
            continue
        listed[name] = digest
    if SUMS not in files:
        c.fail("SHA256SUMS is missing")
    for name in sorted(set(listed) | set(files) - {SUMS, SIGNATURE}):
        if name not in files:
            c.fail(f"{name} is listed in SHA256SUMS but missing from the bundle")
        elif name not in listed:
            c.fail(f"{name} is in the bundle but not listed in SHA256SUMS (added?)")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            c.fail(f"{name} has changed: its SHA-256 differs from SHA256SUMS")
        else:
            c.done += 1


def check_ledger_key(files: dict[str, bytes], trust: dict[str, Any], report: Report) -> bytes | None:
    c = report.check("SHA256SUMS is signed by the ledger key, which matches the trust file")
    try:
        public = bytes.fromhex(trust["ledger_public_key"])
        name, key_id, encoded = str(trust["ledger_key"]).split("+", 2)
        bytes.fromhex(trust["first_admin_public_key"])
        if (name, key_id, base64.b64decode(encoded)) != (
                trust["origin"], sha256(name.encode() + b"\n\x01" + public)[:4].hex(), b"\x01" + public):
            raise ValueError("its ledger key entries disagree")
        pem = load_pem_public_key(files[PEM])
        if not isinstance(pem, Ed25519PublicKey):
            raise ValueError(f"{PEM} is not an Ed25519 key")
    except MALFORMED as exc:
        c.fail(f"trust file or {PEM} is unusable: {exc}")
        return None
    der = pem.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    report.notes.append(f"ledger {trust['origin']}: key fingerprint (SHA-256 of {PEM} in DER) "
                        f"{hashlib.sha256(der).hexdigest()}")
    if pem.public_bytes(Encoding.Raw, PublicFormat.Raw) != public:
        c.fail(f"{PEM} is not the ledger key named in the trust file")
    elif not ed25519_ok(public, files.get(SUMS, b""), files.get(SIGNATURE, b"")):
        c.fail("SHA256SUMS.sig is not the ledger key's signature of SHA256SUMS")
    else:
        c.done += 1
    return public


def check_proofs(files: dict[str, bytes], trust: dict[str, Any], public: bytes, report: Report) -> dict[int, Entry]:
    """The checkpoint, then every entry's inclusion proof against it; returns the entries by leaf."""
    c = report.check("checkpoint.txt is signed by the ledger key")
    try:
        size, root = open_checkpoint(files["checkpoint.txt"].decode("utf-8"), trust["origin"], public)
        c.done += 1
    except (*MALFORMED, UnicodeDecodeError) as exc:
        c.fail(f"checkpoint.txt: {exc}")
        size, root = -1, b""
    p = report.check(f"every entry is in the checkpoint (inclusion proofs, tree size {size})")
    entries: dict[int, Entry] = {}
    for name in sorted(files):
        match = re.fullmatch(r"(entries|registry)/(0|[1-9][0-9]*)\.bin", name)
        if not match:
            continue
        try:
            entry = entries[int(match[2])] = Entry.parse(name, int(match[2]), files[name])
            proof = load_json(files, f"proofs/{entry.leaf}.json")
            path = [base64.b64decode(h, validate=True) for h in proof["audit_path"]]
            if (proof["index"], proof["tree_size"], base64.b64decode(proof["leaf_hash"])) != (
                    entry.leaf, size, entry.leaf_hash):
                raise ValueError("the proof is for another entry, leaf hash or tree size")
            if root_from_proof(entry.leaf, size, entry.leaf_hash, path) != root:
                raise ValueError("the proof does not lead to the checkpoint's root")
            if entry.header.get("ledger") != trust.get("ledger_id"):
                raise ValueError("the entry belongs to another ledger")
            p.done += 1
        except MALFORMED as exc:
            p.fail(f"{name}: not proved in the checkpoint by proofs/{match[2]}.json: {exc}")
    known = {f"proofs/{leaf}.json" for leaf in entries}
    p.problems += [f"{n}: a proof without its entry" for n in sorted(files) if n.startswith("proofs/") and n not in known]
    if not entries:
        p.fail("the bundle holds no entries")
    return entries


def checkpoint_time(text: str) -> datetime | None:
    """The ledger's signed time in a checkpoint (its ``policy-ledger/time`` line), if any."""
    for line in text.split("\n\n", 1)[0].split("\n")[3:]:
        if line.startswith("policy-ledger/time "):
            moment = datetime.fromisoformat(line.split(" ", 1)[1])
            return moment if moment.tzinfo is not None else None
    return None


def check_witness_file(files: dict[str, bytes], trust: dict[str, Any], report: Report, text: str,
                       proved: set[tuple[int, bytes]]) -> None:
    """The witness's own newest cosigned checkpoint (its ``latest-cosigned.txt``) against the bundle's:
    a smaller checkpoint the ledger signed after the witness saw a larger one is a cut. ``proved``:
    the cosigned checkpoints (size, root) the bundle proved one history with its own."""
    c = report.check("the witness's own latest cosigned checkpoint (--witnessed) agrees with the bundle")
    public = bytes.fromhex(trust["ledger_public_key"])
    bundle_text = files["checkpoint.txt"].decode("utf-8")
    size, root = open_checkpoint(bundle_text, trust["origin"], public)
    signed = checkpoint_time(bundle_text)
    try:
        w_size, w_root = open_checkpoint(text, trust["origin"], public)
        times = cosigned_by(text, [str(k) for k in trust.get("witnesses") or []])
    except MALFORMED as exc:
        c.fail(f"the witness's file is not a checkpoint of this ledger cosigned by a witness it names: {exc}")
        return
    if not times:
        c.fail("the witness's file is cosigned by none of the trust file's witnesses")
        return
    w_time = EPOCH + timedelta(seconds=max(times.values()))
    w_signed = checkpoint_time(text)
    who = ", ".join(sorted(times))
    if w_size == size and w_root != root:
        c.fail(f"witness {who} cosigned another root for size {size}: the ledger's key signed two histories")
    elif w_size < size and (w_size, w_root) not in proved:
        c.fail(f"the bundle cannot show that its checkpoint ({size}) extends the one witness {who} cosigned "
               f"({w_size}): none of its witnessed files is at that size. Either the log was cut and grew again "
               "after the witness saw it, or that cosignature was not yet recorded: ask the school to record it "
               "(`ledger witness record`) and export again, then check the new bundle")
    elif w_size > size and signed is not None and (
            signed > w_time + CLOCK_ALLOWANCE or (w_signed is not None and signed >= w_signed)):
        c.fail(f"the bundle's checkpoint ({size} entries, signed {signed.isoformat()}) was signed after witness "
               f"{who} had seen {w_size} entries (checkpoint signed {w_signed.isoformat() if w_signed else '?'}, "
               f"cosigned {w_time.isoformat()}): entries were cut from the ledger before this bundle was made")
    else:
        c.done += 1
        if w_size > size:
            report.limits.append(
                f"it is older than what witness {who} saw ({w_size} entries by {w_time.isoformat()}): entries "
                f"recorded after {signed.isoformat() if signed else 'its checkpoint'} are not in it, whether it "
                "was made then or they were cut since; ask the school for a new bundle if they matter")
    report.notes.append(f"witness file: checkpoint {w_size} cosigned by {who} at {w_time.isoformat()}")


@dataclass
class Cosigned:
    """One cosigned checkpoint the bundle carries, proved one history with ``checkpoint.txt``."""

    file: str
    size: int
    root: bytes
    times: dict[str, int]  # witness name -> POSIX time of its cosignature
    signed: datetime | None  # the ledger's own signed time in the checkpoint


def _witnessed_files(files: dict[str, bytes]) -> list[str]:
    """``witnessed.txt`` (a quorum's newest at one size) and ``witnessed/<key id>.txt`` (each
    witness's own newest), each beside its ``…-proof.txt``."""
    return sorted(n for n in files if re.fullmatch(r"witnessed(/[0-9a-f]{8})?\.txt", n))


def _open_cosigned(files: dict[str, bytes], trust: dict[str, Any], name: str, size: int,
                   root: bytes) -> Cosigned:
    """One witnessed file, checked: the ledger's signature, every trusted witness's line on it (a
    failing one names its witness), and a consistency proof with the bundle's checkpoint."""
    public, keys = bytes.fromhex(trust["ledger_public_key"]), [str(k) for k in trust.get("witnesses") or []]
    text = files[name].decode("utf-8")
    w_size, w_root = open_checkpoint(text, trust["origin"], public)
    times = cosigned_by(text, keys)
    stem = name[:-len(".txt")]
    if stem != "witnessed" and stem.rpartition("/")[2] not in {k.split("+")[1] for k in keys
                                                                 if k.partition("+")[0] in times}:
        raise ValueError("it holds no cosignature by the witness whose key id it is named for")
    proof = files.get(f"{stem}-proof.txt", b"").decode("ascii").split("\n")
    if proof[:3] != ["policy-ledger/consistency-proof@v1", f"size1 {min(size, w_size)}",
                     f"size2 {max(size, w_size)}"] or proof[-1] != "":
        raise ValueError(f"{stem}-proof.txt is missing or is not a proof between the two checkpoints' sizes")
    hashes = [base64.b64decode(h, validate=True) for h in proof[3:-1]]
    pair = ((w_size, w_root), (size, root)) if w_size <= size else ((size, root), (w_size, w_root))
    if not consistent(pair[0][0], pair[1][0], pair[0][1], pair[1][1], hashes):
        raise ValueError(f"checkpoint.txt ({size}) and the checkpoint witness(es) {', '.join(sorted(times))} "
                         f"cosigned ({w_size}) are not one history: the log was rewritten after the witnesses saw it")
    return Cosigned(name, w_size, w_root, times, checkpoint_time(text))


def check_witnesses(files: dict[str, bytes], trust: dict[str, Any], entries: dict[int, Entry], report: Report,
                    now: datetime | None = None, witnessed: str | None = None) -> None:
    """The bundle's checkpoint is one history with each witness's newest cosigned checkpoint it
    carries; a quorum of witnesses' newest cosignatures covers the entries below the quorum's
    size; entries after that are younger than the trust file's maximum age; and every entry
    carried is dated as the witnesses saw it (:func:`check_witness_times`)."""
    keys = trust.get("witnesses") or []
    names = _witnessed_files(files)
    if not keys:
        if names:
            report.notes.append("the witnessed files were not checked: the trust file names no witness")
        return
    quorum = max(int(trust.get("witness_quorum", 1)), 1)
    c = report.check(f"the checkpoint is one history with those a quorum of {quorum} witness(es) cosigned")
    if not names:
        c.fail("the trust file names witnesses, but the bundle holds no checkpoint they cosigned (witnessed.txt, "
               "witnessed/)")
        return
    public = bytes.fromhex(trust["ledger_public_key"])
    size, root = open_checkpoint(files["checkpoint.txt"].decode("utf-8"), trust["origin"], public)
    seen: list[Cosigned] = []
    named_ids = {str(k).split("+", 2)[1] for k in keys if "+" in str(k)}
    for name in names:
        if name != "witnessed.txt" and name[len("witnessed/"):-len(".txt")] not in named_ids:
            report.notes.append(f"{name} is a witness's the trust file does not name: not counted")
            continue
        try:
            seen.append(_open_cosigned(files, trust, name, size, root))
        except (*MALFORMED, UnicodeDecodeError) as exc:
            c.fail(f"{name}: {exc}")
    newest: dict[str, tuple[int, int]] = {}  # witness -> (size, time) of its newest cosignature
    for item in seen:
        for who, when in item.times.items():
            newest[who] = max(newest.get(who, (item.size, when)), (item.size, when))
    if c.problems:
        return
    if len(newest) < quorum:
        missing = sorted({str(k).partition("+")[0] for k in keys} - set(newest))
        c.fail(f"the witnessed files are cosigned by {len(newest)} of the trust file's witnesses, not {quorum}: "
               f"no cosigned checkpoint from {', '.join(missing)}")
        return
    c.done += 1
    # every witness in the quorum saw the log at least at the quorum-th largest of their sizes
    ranked = sorted(newest.values(), reverse=True)
    w_size, latest = ranked[quorum - 1][0], EPOCH + timedelta(seconds=max(t for _, t in ranked[:quorum]))
    check_witness_times(entries, seen, report)
    if witnessed is not None:
        check_witness_file(files, trust, report, witnessed, {(i.size, i.root) for i in seen})
    else:
        signed = checkpoint_time(files["checkpoint.txt"].decode("utf-8"))
        report.limits.append(
            f"entries recorded after {signed.isoformat() if signed else 'its checkpoint'} could have been cut "
            "from the ledger before it was made: check with a witness (--witnessed, the witness's "
            "latest-cosigned.txt)")
    report.notes.append("witnessed: " + "; ".join(f"checkpoint {s} cosigned by {who} at {_posix(t)}"
                                                  for who, (s, t) in sorted(newest.items()))
                        + f" (a quorum of {quorum} covers {w_size} entries, latest {latest.isoformat()})")
    later = sorted(leaf for leaf in entries if leaf >= w_size)
    if later:
        days = float(trust.get("witness_max_age_days", 7))
        a = report.check(f"entries no witness has seen yet are under {days:g} days old")
        oldest = min(_instant(entries[leaf].header.get("recorded_at")) for leaf in later)
        moment = now or datetime.now(timezone.utc)
        if (moment - datetime.fromisoformat(oldest)).total_seconds() > days * 86400:
            a.fail(f"entries {later[0]}.. are after the newest checkpoint a quorum of witnesses saw ({w_size}) though "
                   f"recorded at {oldest}: the witnesses never saw them")
        else:
            a.done += 1


def _posix(stamp: int) -> str:
    return (EPOCH + timedelta(seconds=stamp)).isoformat()


def check_witness_times(entries: dict[int, Entry], seen: list[Cosigned], report: Report) -> None:
    """As ``ledger verify`` does: an entry below a cosigned size is not dated after the witness saw
    the log at that size (plus the clock allowance), and one at or after it is not dated before the
    ledger signed that checkpoint (it was added after)."""
    c = report.check("entries under a cosigned size are not dated after the witness saw them")
    for leaf, e in sorted(entries.items()):
        recorded = datetime.fromisoformat(_instant(e.header.get("recorded_at")))
        problem = ""
        for item in seen:
            if leaf < item.size:
                who, stamp = min(item.times.items(), key=lambda pair: pair[1])
                if recorded > EPOCH + timedelta(seconds=stamp + 1) + CLOCK_ALLOWANCE:
                    problem = (f"{e.file} is recorded at {recorded.isoformat()}, after witness {who} saw the log at "
                               f"size {item.size} ({_posix(stamp)}; {item.file}): its time is false")
                    break
            elif item.signed is not None and recorded < item.signed:
                problem = (f"{e.file} is recorded at {recorded.isoformat()}, but it was added after the ledger "
                           f"signed checkpoint {item.size} at {item.signed.isoformat()} ({item.file}): back-dated")
                break
        if problem:
            c.fail(problem)
        else:
            c.done += 1


NAMESPACE = uuid.UUID("6f1c2b1e-8f0c-4f3b-9d55-5f0c1a9e7a11")
RECOVERY = "recovery"


def record_of(kind: str, key: str) -> str:
    """The record (aggregate) id the ledger gives a natural key, e.g. a staff id."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


class Signers:
    """Who held which key and role, replayed from the bundle's registry entries in log order.

    A subset of the ledger's own registry (``ledger/registry.py``): keys are
    registered on their owner's record (the first one signs itself, later ones
    by the owner, or a reset two other people sign); grants follow the grant
    table in force, never to oneself; the permission table comes from the
    signed ``PermissionTable`` entries. Rules that need the whole log (a role
    with no members left, a role key still to be replaced) are ``ledger
    verify``'s, with the database.
    """

    def __init__(self, trust: dict[str, Any]) -> None:
        self.trust = trust
        self.table: dict[str, Any] | None = None
        self.proposal: tuple[str, str, dict[str, Any]] | None = None  # digest, by, table
        self.keys: dict[str, list[Any]] = {}  # key id -> [owner, public key, revoked leaf]
        self.staff: dict[str, dict[str, Any]] = {}  # id -> {"roles", "left", "keyed"}
        self.resets: dict[str, dict[str, Any]] = {}
        self.recoveries: set[str] = set()
        self.reset_keys: dict[str, str] = {}  # key id -> who reset it
        self.head_granted = False

    def _bootstrap(self, actor: str, key_id: str) -> bool:
        first = self.staff.get(actor)
        return (actor, key_id) == (self.trust.get("first_admin"), self.trust.get("first_admin_key")) and (
            first is None or not first["keyed"])

    def roles(self, actor: str) -> set[str]:
        if actor == RECOVERY:
            return {RECOVERY}
        if actor in self.staff:
            return set(self.staff[actor]["roles"])
        return {"admin"} if actor == self.trust.get("first_admin") else set()

    def signing_key(self, e: Entry) -> tuple[bytes | None, str]:
        actor, key_id, claims = str(e.header.get("actor")), str(e.header.get("actor_key")), e.claims
        if actor == RECOVERY:
            recovery = self.trust.get("recovery_key") or {}
            if key_id != recovery.get("key_id"):
                return None, f"signed as the recovery key by unknown key {key_id}"
            return bytes.fromhex(recovery["signing_key"]), ""
        fact = self.keys.get(key_id)
        if fact is None:
            first = self.staff.get(actor)
            if e.event == "StaffMember.KeyRegistered" and claims.get("key_id") == key_id and first and not first["keyed"]:
                return bytes.fromhex(claims["public_key"]), ""
            if self._bootstrap(actor, key_id):
                return bytes.fromhex(self.trust["first_admin_public_key"]), ""
            return None, f"signed by key {key_id}, which no entry in the bundle registers"
        if fact[0] != actor:
            return None, f"key {key_id} belongs to {fact[0]}"
        if fact[2] is not None:
            return None, f"key {key_id} was revoked at entry {fact[2]}"
        return fact[1], ""

    def judge(self, e: Entry) -> str:
        actor, name, claims = str(e.header.get("actor")), e.event, e.claims
        if actor in self.staff and self.staff[actor]["left"]:
            return f"signed after {actor} left"
        held = self.roles(actor)
        if self.table is None:
            if name.startswith("PermissionTable.") and self._bootstrap(actor, str(e.header.get("actor_key"))):
                return ""
            return "no permission table is in force for it"
        allowed = set(self.table["writers"].get(name, []))
        own = actor in self.staff and record_of("staff", actor) == e.header.get("aggregate")
        if not (held & allowed or (own and "self" in allowed)):
            return f"roles {sorted(held)} may not record {name}"
        subject = claims.get("staff_id", claims.get("owner"))
        if name.startswith("StaffMember.") and subject is not None and record_of("staff", str(subject)) != e.header.get("aggregate"):
            return f"names {subject} but is written on another record"
        if name == "StaffMember.KeyRegistered" and claims.get("owner") != actor:
            return f"{actor} may not register a key for {claims.get('owner')}: that needs a two-person reset"
        if name == "StaffMember.KeyResetApproved":
            pending = self.resets.get(str(claims.get("reset_id")))
            if pending is None or actor in (pending["owner"], pending["by"]):
                return "a key reset must be proposed by one person and approved by another, neither its owner"
        if name == "PermissionTable.Adopted" and not self._bootstrap(actor, str(e.header.get("actor_key"))):
            if self.proposal is None or self.proposal[0] != claims.get("digest") or actor == self.proposal[1] \
                    or "headteacher" not in held:
                return "a new permission table must be proposed by one person and adopted by a Headteacher"
        if name in ("StaffMember.Registered", "StaffMember.RoleGranted"):
            target = str(claims.get("staff_id"))
            wanted = claims.get("roles") if name == "StaffMember.Registered" else [claims.get("role")]
            for role in wanted or []:
                problem = self._grant(actor, held, str(role), target, e)
                if problem:
                    return problem
        return ""

    def _grant(self, actor: str, held: set[str], role: str, target: str, e: Entry) -> str:
        assert self.table is not None
        if target == actor and not self._bootstrap(actor, str(e.header.get("actor_key"))):
            return f"{actor} granted {role} to themselves"
        if held & set(self.table["grants"].get(role, [])):
            pass
        elif role == "headteacher" and "admin" in held and not self.head_granted:
            pass
        elif self._bootstrap(actor, str(e.header.get("actor_key"))) and target == actor:
            pass
        elif f"{role}:{target}" not in self.recoveries:
            return f"{actor} may not grant {role}"
        others = set(self.staff.get(target, {}).get("roles", [])) | set(e.claims.get("roles") or [])
        exclusive = self.table["exclusive"]
        bad = (set(exclusive.get(role, [])) | {r for r, rs in exclusive.items() if role in rs}) & (others - {role})
        return f"{role} may not be held together with {', '.join(sorted(bad))}" if bad else ""

    def apply(self, e: Entry, leaf: int) -> None:
        name, claims, actor = e.event, e.claims, str(e.header.get("actor"))
        if name == "PermissionTable.Proposed":
            self.proposal = (str(claims.get("digest")), actor, claims.get("table") or {})
        elif name == "PermissionTable.Adopted":
            self.table, self.proposal = claims.get("table"), None
        elif name == "RecoveryKey.RoleRecoveryApproved":
            self.recoveries.add(f"{claims['role']}:{claims['staff_id']}")
        elif name == "StaffMember.Registered":
            self.staff[claims["staff_id"]] = {"roles": set(claims["roles"]), "left": False, "keyed": False}
            self.head_granted |= "headteacher" in claims["roles"]
        elif name == "StaffMember.KeyRegistered":
            self.keys[claims["key_id"]] = [claims["owner"], bytes.fromhex(claims["public_key"]), None]
            self.staff.setdefault(claims["owner"], {"roles": set(), "left": False, "keyed": False})["keyed"] = True
        elif name == "StaffMember.KeyResetProposed":
            self.resets[claims["reset_id"]] = {"owner": claims["owner"], "by": actor, "key": claims["key_id"],
                                               "public": claims["public_key"]}
        elif name == "StaffMember.KeyResetApproved":
            reset = self.resets.pop(claims["reset_id"])
            self.keys[reset["key"]] = [reset["owner"], bytes.fromhex(reset["public"]), None]
            self.reset_keys[reset["key"]] = f"proposed by {reset['by']}, approved by {actor}"
        elif name == "StaffMember.KeyRevoked" and claims["key_id"] in self.keys:
            self.keys[claims["key_id"]][2] = leaf
        elif name in ("StaffMember.RoleGranted", "StaffMember.RoleRemoved"):
            held = self.staff.setdefault(claims["staff_id"], {"roles": set(), "left": False, "keyed": False})["roles"]
            (held.add if name.endswith("Granted") else held.discard)(claims["role"])
            self.head_granted |= name.endswith("Granted") and claims["role"] == "headteacher"
            self.recoveries.discard(f"{claims['role']}:{claims['staff_id']}")
        elif name == "StaffMember.EmploymentEnded":
            self.staff.setdefault(claims["staff_id"], {"roles": set(), "left": False, "keyed": False})["left"] = True


def check_signers(files: dict[str, bytes], trust: dict[str, Any], entries: dict[int, Entry], report: Report) -> None:
    """Replay the key registry in log order, as the ledger's own ``verify`` does (see :class:`Signers`)."""
    c = report.check("entry signatures by keys registered to their signers, whose roles then allowed them")
    signers = Signers(trust)
    for leaf, e in sorted(entries.items()):
        where = f"{e.file} ({e.event} by {e.header.get('actor')})"
        try:
            public, problem = signers.signing_key(e)
            problem = problem or signers.judge(e)
        except MALFORMED as exc:
            public, problem = None, f"malformed registry claims ({type(exc).__name__})"
        if problem or public is None:
            c.fail(f"{where}: {problem}")
        elif not ed25519_ok(public, ENTRY_DOMAIN + e.header_bytes, e.signature):
            c.fail(f"{where}: the signature does not verify")
        else:
            c.done += 1
            signers.apply(e, leaf)
            reset = signers.reset_keys.get(str(e.header.get("actor_key")))
            if reset:
                report.notes.append(f"{e.file} ({e.event} by {e.header.get('actor')}) was signed with a key "
                                    f"set by a reset ({reset}), not one its owner made")


def check_content(files: dict[str, bytes], trust: dict[str, Any], entries: dict[int, Entry], report: Report) -> None:
    """The index, then each disclosed entry's body hash, key commitment and plaintext."""
    i = report.check("entries/index.json describes exactly the entries present")
    b = report.check("bodies match their signed hashes, disclosed keys their commitments")
    t = report.check("each plaintext file is exactly what its entry decrypts to")
    index = load_json(files, "entries/index.json")
    rows = {r["file"]: r for r in index["entries"] + index["registry"]}
    used, withheld = {SUMS, SIGNATURE}, dict[str, int]()
    for leaf, e in sorted(entries.items()):
        row, h = rows.pop(e.file, None), e.header
        if row is None or row.get("leaf") != leaf:
            i.fail(f"{e.file}: not described in entries/index.json (added?)")
            continue
        if "aggregate" in row and (row["aggregate"], row["version"], row["event"]) != (
                h.get("aggregate"), h.get("version"), e.event):
            i.fail(f"{e.file}: entries/index.json says it is another entry")
            continue
        i.done += 1
        status = row.get("content", DISCLOSED)
        if status != DISCLOSED:
            if e.file.startswith("entries/"):
                withheld[status] = withheld.get(status, 0) + 1
            if e.body or row.get("key") or row.get("plaintext"):
                b.fail(f"{e.file}: marked {status} but carries content")
            continue
        key_file, text_file = f"keys/{h.get('data_key')}.hex", f"plaintext/{leaf}.json"
        used |= {key_file, text_file}
        well_formed = re.fullmatch(rb"[0-9a-f]{64}\n", files.get(key_file, b""))
        key = bytes.fromhex(files[key_file].decode("ascii")) if well_formed else b""
        if hashlib.sha256(e.body).hexdigest() != h.get("body_hash"):
            b.fail(f"{e.file}: the body does not match its signed body hash")
        elif not well_formed:
            b.fail(f"{e.file}: its key {key_file} is missing or malformed")
        elif sha256(COMMITMENT_DOMAIN + str(h["data_key"]).encode() + b"\x00" + key).hex() != h.get("key_commitment"):
            b.fail(f"{key_file}: not the key that {e.file} committed to")
        else:
            b.done += 1
            identity = {k: h[k] for k in ("ledger", "aggregate", "version", "topic", "data_key")}
            aad = sha256(AAD_DOMAIN + json.dumps(identity, sort_keys=True, separators=(",", ":"),
                                                 ensure_ascii=False).encode("utf-8"))
            try:
                plain = AESGCM(key).decrypt(e.body[:12], e.body[12:], aad)
            except (InvalidTag, ValueError):
                t.fail(f"{e.file}: the body does not decrypt under {key_file}")
                continue
            if files.get(text_file) == plain:
                t.done += 1
            else:
                t.fail(f"{text_file}: missing, or not what {e.file} decrypts to")
    i.problems += [f"entries/index.json lists {name}, which is not in the bundle" for name in sorted(rows)]
    t.problems += [f"{n}: not the key or plaintext of any disclosed entry"
                   for n in sorted(files) if n.startswith(("keys/", "plaintext/")) and n not in used]
    if not (b.done or b.problems or t.done or t.problems):
        report.checks[-2:] = []
        report.notes.append("no entry content is disclosed in this bundle (all withheld or erased)")
    for status, count in sorted(withheld.items()):
        report.notes.append(f"{count} {'entry' if count == 1 else 'entries'}: content {status} (existence still proved)")


def check_attachments(files: dict[str, bytes], trust: dict[str, Any], entries: dict[int, Entry], report: Report) -> None:
    names = {n for n in files if n.startswith("attachments/") and n != "attachments/index.json"}
    if "attachments/index.json" not in files and not names:
        return
    c = report.check("evidence files have the SHA-256 recorded in their signed intake entry")
    for row in load_json(files, "attachments/index.json"):
        entry = entries.get(row.get("entry"))
        claims = (entry.header.get("claims") or {}) if entry else {}
        name, path = f"attachment {row.get('attachment')}", row.get("file")
        if (claims.get("attachment_id"), claims.get("sha256"), claims.get("size")) != (
                row.get("attachment"), row.get("sha256"), row.get("size")):
            c.fail(f"{name}: does not match the intake entry {row.get('entry')}")
        elif (row.get("content") == DISCLOSED) != bool(path):
            c.fail(f"{name}: attachments/index.json says {row.get('content')!r} but the file is "
                   + ("present" if path else "absent"))
        elif not path:
            report.notes.append(f"evidence file {row['attachment']}: {row.get('content')} (hash {row['sha256'][:16]}...)")
        elif not str(path).startswith(f"attachments/{row['attachment']}") or row.get("filename") != strict_json(
                files.get(f"plaintext/{row['entry']}.json", b"{}")).get("filename"):
            c.fail(f"{name}: its file name differs from the one recorded at intake")
        elif path not in files:
            c.fail(f"{path}: missing")
        elif hashlib.sha256(files[path]).hexdigest() != row["sha256"]:
            c.fail(f"{path}: differs from the file taken in (SHA-256 mismatch)")
        else:
            c.done += 1
        names.discard(path)
    c.problems += [f"{n}: an evidence file no intake entry accounts for" for n in sorted(names)]
    if not c.done and not c.problems:
        report.checks.remove(c)


def _instant(value: Any) -> str:
    """A moment as UTC text (``…+00:00``), so two spellings of one moment compare equal."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment.astimezone(timezone.utc).isoformat()


def _reworded(row: dict[str, Any], expected: dict[str, Any], escape: Any, page: str) -> bool:
    """Whether a disclosed row (and the HTML page) says other than ``expected``, the columns the
    ledger rebuilt from the checked plaintext: ``what``, ``action``, ``outcome``, ``details``."""
    details = [(str(label), str(text)) for label, text in expected["details"]]
    if any(str(row.get(k) or "") != str(expected[k]) for k in ("what", "action", "outcome")):
        return True
    if "details" in row and row["details"] != "\n".join(f"{label}: {text}" for label, text in details):
        return True
    return bool(page) and any(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" not in page
                              for label, text in details)


def check_timeline(files: dict[str, bytes], trust: dict[str, Any], entries: dict[int, Entry], report: Report,
                   wording: Any = None) -> None:
    """The readable timeline (CSV and HTML) against the entries proved above.

    Each row of timeline.csv must name a proved entry of this bundle, once, with the event,
    version, signer and recording time its signed header says, shown if and only if its
    content is disclosed; every entry must have its row; timeline.html must show each row's
    words. Given ``wording`` (``ledger export verify`` passes the ledger's own: this file
    imports nothing from the package), each disclosed row's words are rebuilt from its checked
    plaintext too, so a forger holding the ledger key, who can sign SHA256SUMS again, still
    cannot make the readable timeline say what the entries do not.
    """
    if "timeline.csv" not in files and "timeline.html" not in files:
        return
    c = report.check("timeline.csv and timeline.html show the proved entries as they were signed")
    index = load_json(files, "entries/index.json")
    statuses = {int(r["leaf"]): str(r.get("content", DISCLOSED)) for r in index["entries"]}
    redacted = bool(index.get("redacted"))
    zone = str(index.get("zone") or "Europe/London")
    escape = getattr(wording, "escape", html.escape)
    page = files.get("timeline.html", b"").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(files.get("timeline.csv", b"").decode("utf-8"))))
    shown: set[int] = set()
    for number, row in enumerate(rows, 2):
        where = f"timeline.csv line {number}"
        leaf = int(row["entry"]) if str(row.get("entry") or "").isdigit() else -1
        e = entries.get(leaf)
        if e is None or leaf not in statuses or leaf in shown:
            c.fail(f"{where}: names no entry proved in this bundle, or one named twice ({row.get('entry')!r})")
            continue
        shown.add(leaf)
        h, disclosed = e.header, statuses[leaf] == DISCLOSED
        signer_hidden = redacted and not disclosed and row.get("recorded_by") != h.get("actor")
        if (row.get("event"), row.get("version")) != (e.event, str(h.get("version"))):
            c.fail(f"{where}: says {row.get('event')} v{row.get('version')}, but entry {leaf} is "
                   f"{e.event} v{h.get('version')}")
        elif _instant(row.get("recorded_at")) != _instant(h.get("recorded_at")):
            c.fail(f"{where}: says it was recorded at {row.get('recorded_at')}, entry {leaf} at {h.get('recorded_at')}")
        elif row.get("recorded_by") != h.get("actor") and not signer_hidden:
            c.fail(f"{where}: says {row.get('recorded_by')} recorded it, entry {leaf} is signed by {h.get('actor')}")
        elif (row.get("status") == "shown") != disclosed:
            c.fail(f"{where}: its status {row.get('status')!r} does not match entries/index.json ({statuses[leaf]})")
        elif disclosed and wording is not None and _reworded(row, wording(
                e.header, strict_json(files.get(f"plaintext/{leaf}.json", b"{}")), zone), escape, page):
            c.fail(f"{where}: its words (or timeline.html's) are not what entry {leaf}'s checked plaintext says")
        elif "timeline.html" in files and escape(str(row.get("what") or "")) not in page:
            c.fail(f"timeline.html does not show what {where} says about entry {leaf}")
        else:
            c.done += 1
    c.problems += [f"entry {leaf} has no row in timeline.csv (left out?)" for leaf in sorted(set(statuses) - shown)]
    if "timeline.html" in files and page.count("<tr") != len(rows) + 1:
        c.fail(f"timeline.html has {page.count('<tr') - 1} rows, timeline.csv {len(rows)}")
    if wording is None:
        report.notes.append("the timeline's wording of disclosed entries was not rebuilt (that needs "
                            "`ledger export verify`): each entry's own words, checked above, are in plaintext/")


def _read_trust(path: Path) -> bytes:
    with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NONBLOCK)) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError(f"{path} is not a regular file")
        return handle.read(1024 * 1024)


def _read_witness_file(path: Path, report: Report) -> str:
    """The witness's own file as text; a file that cannot be read fails its check (and is no text)."""
    try:
        return _read_trust(path).decode("utf-8")
    except (OSError, ValueError) as exc:
        report.check("the witness's own latest cosigned checkpoint (--witnessed) is readable").fail(
            f"{path}: {type(exc).__name__}: {exc}")
        return ""


def verify(bundle: Path, trust_file: Path | None = None, wording: Any = None, now: datetime | None = None,
           witnessed: Path | None = None) -> Report:
    """Run every check on a bundle; raises Unreadable only when it cannot be opened.

    ``wording(header, plaintext, zone)``, when given, is how the ledger words a disclosed
    entry in the timeline: its ``what``, ``action``, ``outcome`` and ``details`` (see
    :func:`check_timeline`). ``now`` (default: this machine's clock) judges how long entries
    have gone unwitnessed. ``witnessed`` is a witness's own newest cosigned checkpoint (its
    ``latest-cosigned.txt``): without it, a bundle cannot show that later entries were not cut."""
    files = read_bundle(bundle)
    report = Report(str(bundle))
    check_sums(files, report)
    try:
        trust_bytes = _read_trust(trust_file) if trust_file else files["trust.json"]
        trust = strict_json(trust_bytes)
        report.notes.append("trust: " + (f"{trust_file} (given separately)" if trust_file else
                                         "the bundle's own trust.json: compare its SHA-256 and witness list "
                                         "with the school's"))
        names = [str(k).partition("+")[0] for k in trust.get("witnesses") or []]
        report.notes.append(f"trust file SHA-256 {hashlib.sha256(trust_bytes).hexdigest()}; witnesses: "
                            f"{', '.join(names) if names else 'none'}"
                            + (f" (quorum {trust.get('witness_quorum', 1)})" if names else ""))
        public = check_ledger_key(files, trust, report)
        if public is not None:
            entries = check_proofs(files, trust, public, report)
            witness_text = _read_witness_file(witnessed, report) if witnessed else None
            steps: list[tuple[Any, dict[str, Any]]] = [(check_witnesses, {"now": now, "witnessed": witness_text}),
                (check_signers, {}), (check_content, {}), (check_attachments, {}),
                (check_timeline, {"wording": wording})]
            for step, extra in steps:
                try:
                    step(files, trust, entries, report, **extra)
                except (*MALFORMED, UnicodeDecodeError) as exc:
                    report.check(f"{step.__name__}: files are well formed").fail(f"{type(exc).__name__}: {exc}")
    except (OSError, *MALFORMED) as exc:
        report.check("the trust file is readable").fail(f"trust file: {type(exc).__name__}: {exc}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a policy-ledger evidence bundle.")
    parser.add_argument("bundle", type=Path, help="the bundle zip, or the folder it was unpacked into")
    parser.add_argument("--trust", type=Path, help="the ledger's trust file, obtained from the school separately")
    parser.add_argument("--witnessed", type=Path, help="a witness's own latest-cosigned.txt, obtained from the "
                        "witness: shows whether entries after the bundle's checkpoint were cut")
    args = parser.parse_args(argv)
    try:
        report = verify(args.bundle, args.trust, witnessed=args.witnessed)
    except Unreadable as exc:
        print(printable(f"Error: {exc}"), file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
