"""Evidence bundles: a file set a third party can check without trusting the school.

A bundle holds, for the entries an export selected:

- ``entries/<leaf>.bin``: each entry's stored bytes (the exact signed header and
  signature; the encrypted body only when its content is disclosed);
- ``keys/<data key id>.hex`` and ``plaintext/<leaf>.json``: the disclosed data
  keys and the exact decrypted bodies, provable through the signed key
  commitment and body hash;
- ``attachments/``: evidence files with their intake hashes (``index.json``);
- ``registry/<leaf>.bin``: the key-registry entries that establish every
  signer's key (and roles) back to the first admin named in ``trust.json``;
- ``proofs/<leaf>.json``: an RFC 9162 inclusion proof of every entry above
  against ``checkpoint.txt``, one checkpoint signed by the ledger key;
- readable files (``timeline.html``, ``timeline.csv``, ``README.txt``) and
  ``entries/index.json``;
- ``witnessed/<key id>.txt`` (when the trust file names witnesses): each witness's own newest
  cosigned checkpoint, and ``witnessed.txt`` the newest one a quorum cosigned at one size, each
  with a consistency proof to ``checkpoint.txt`` (``…-proof.txt``), so a bundle from a history
  rewritten after a witness saw it fails the standalone verifier, and a quorum above one is met
  by each witness's own newest cosignature;
- ``SHA256SUMS`` over every file, signed (plain Ed25519 over its exact bytes)
  in ``SHA256SUMS.sig`` by the ledger key in ``ledger-public-key.pem``.

This module only gathers and packs; what to disclose (permissions,
redaction) is decided by the export service. Nothing here re-serialises an
entry: the stored bytes are copied as they are.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from ledger import checkpoint, crypto, envelope, localtime, merkle, progress, proofs, registry, roles, witness
from ledger.errors import NotFound, VerificationFailed
from ledger.registry import staff_aggregate
from ledger.roles import RECOVERY
from ledger.schema import merkle_leaves
from ledger.sealer import StoredNodes, latest_checkpoint
from ledger.trust import witness_settings
from ledger.verify_witness import stored_cosignatures

FORMAT = "policy-ledger evidence bundle v1"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
PUBLIC_KEY = "ledger-public-key.pem"

DISCLOSED = "disclosed"
REDACTED = "withheld (redacted)"
NOT_READABLE = "withheld (not readable by the exporter)"
ERASED = "erased"
REGISTRY = "header only (key registry)"


@dataclass(frozen=True)
class Snapshot:
    """The signed checkpoint every proof in a bundle is made against."""

    size: int
    root: bytes
    signed: str


@dataclass
class Item:
    """One selected entry and what the bundle discloses of it."""

    leaf: int
    entry: envelope.Envelope
    status: str = NOT_READABLE
    key: bytes | None = None
    plaintext: bytes | None = None

    @property
    def header(self) -> dict[str, Any]:
        """The entry's clear, signed header."""
        return self.entry.header

    def stored_bytes(self) -> bytes:
        """What goes into ``entries/``: the stored bytes, the body only if disclosed."""
        return self.entry.to_bytes() if self.status == DISCLOSED else envelope.MAGIC + self.entry.leaf_data


@dataclass
class Attachment:
    """One evidence file named by a selected ``EvidenceAdded`` entry."""

    attachment_id: str
    leaf: int
    sha256: str
    size: int
    status: str
    content: bytes | None = None
    filename: str | None = None

    @property
    def path(self) -> str | None:
        """Where the file goes in the bundle (with the original extension, if known)."""
        if self.content is None:
            return None
        suffix = Path(self.filename or "").suffix.lower()
        return f"attachments/{self.attachment_id}" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")


@dataclass
class Contents:
    """Everything one bundle holds, before it is packed."""

    ledger_id: str
    origin: str
    ledger_public_key: bytes
    trust: bytes
    snapshot: Snapshot
    items: list[Item]
    registry: dict[int, envelope.Envelope]
    attachments: list[Attachment]
    covers: str
    exporter: str
    generated_at: str
    redacted: list[str] = field(default_factory=list)
    #: The federation's time zone: the readable files show times in it.
    zone: str = localtime.DEFAULT_ZONE
    readable: dict[str, bytes] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


# -- gathering from the ledger -------------------------------------------------------


def snapshot(conn: Connection) -> Snapshot:
    """The latest signed checkpoint (entries after it are left out of a bundle)."""
    latest = latest_checkpoint(conn)
    if latest is None:
        raise NotFound("the ledger has no checkpoint yet", "nothing has been recorded to export")
    return Snapshot(*latest)


def _entries_at(conn: Connection, events: Table, condition: Any) -> dict[int, envelope.Envelope]:
    rows = conn.execute(
        select(merkle_leaves.c.leaf_index, events.c.state)
        .join(events, events.c.id == merkle_leaves.c.notification_id)
        .where(condition)
    ).all()
    return {int(leaf): envelope.parse(bytes(state)) for leaf, state in rows}


def load(conn: Connection, events: Table, leaves: Iterable[int]) -> dict[int, envelope.Envelope]:
    """The stored entries at these leaf indexes."""
    wanted = sorted(set(leaves))
    found: dict[int, envelope.Envelope] = {}
    for start in range(0, len(wanted), 500):
        found.update(_entries_at(conn, events, merkle_leaves.c.leaf_index.in_(wanted[start : start + 500])))
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise NotFound(f"entries {missing[:5]} are not sealed in the log", "run `ledger verify`")
    return found


#: Registry records every bundle carries whole: the permission tables in force and the recovery key.
SETUP_KINDS = ("permission-table", "recovery-key")


def registry_entries(conn: Connection, events: Table, size: int, signers: Iterable[str],
                     table_versions: int) -> dict[int, envelope.Envelope]:
    """The registry entries a bundle needs so each signer can be judged, up to ``size``.

    Every permission table entry and the recovery key's, then the staff
    records (registration, keys, resets, roles, leaving) of the signers and,
    in turn, of whoever signed those: enough to replay each signer's key and
    roles back to the first admin under the table then in force.
    """
    from ledger.domain.keys import permission_table_id, recovery_key_id

    found: dict[int, envelope.Envelope] = {}
    setup = [recovery_key_id()] + [permission_table_id(v) for v in range(1, table_versions + 1)]
    for leaf, entry in _entries_at(conn, events, events.c.originator_id.in_(setup)
                                   & (merkle_leaves.c.leaf_index < size)).items():
        found[leaf] = entry
    done: set[str] = set()
    todo = set(signers) | {str(e.header["actor"]) for e in found.values()}
    while todo - done:
        batch = sorted(todo - done)
        done |= set(batch)
        aggregates = [uuid.UUID(staff_aggregate(s)) for s in batch if s != RECOVERY]
        if not aggregates:
            continue
        rows = _entries_at(conn, events, events.c.originator_id.in_(aggregates) & (merkle_leaves.c.leaf_index < size))
        for leaf, entry in rows.items():
            if registry.is_registry_event(str(entry.header["topic"])):
                found[leaf] = entry
                todo.add(str(entry.header["actor"]))
    return dict(sorted(found.items()))


def disclose(entry: envelope.Envelope, key: bytes) -> bytes:
    """The exact decrypted body bytes, after checking body hash and key commitment."""
    envelope.check_body_hash(entry)
    envelope.check_key_commitment(entry, key)
    try:
        return crypto.decrypt(key, entry.body, envelope.body_aad(entry.header))
    except crypto.CryptoError:
        raise VerificationFailed("body does not decrypt for this entry", "run `ledger verify`") from None


def proof(conn: Connection, leaf: int, entry: envelope.Envelope, snap: Snapshot) -> dict[str, Any]:
    """The inclusion proof of ``entry`` (at ``leaf``) in the snapshot, checked before use."""
    path = proofs.inclusion(conn, leaf, snap.size)
    leaf_hash = merkle.leaf_hash(entry.leaf_data)
    try:
        merkle.verify_inclusion(leaf, snap.size, leaf_hash, path, snap.root)
    except merkle.MerkleError as exc:
        raise VerificationFailed(
            f"entry {leaf} does not prove into checkpoint {snap.size}: {exc}",
            "the stored log is damaged: run `ledger verify` before exporting",
        ) from None
    return {
        "index": leaf,
        "tree_size": snap.size,
        "leaf_hash": _b64(leaf_hash),
        "audit_path": [_b64(h) for h in path],
    }


# -- pseudonyms ---------------------------------------------------------------------------


class Pseudonyms:
    """Stable labels ("Pupil A", "Reporter B") for redacted people, in order of
    first appearance, and their replacement in readable text."""

    def __init__(self, kinds: Mapping[str, str]) -> None:
        self.kinds = dict(kinds)
        self.labels: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        names = sorted(self.kinds, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])") if names else None
        )

    def see(self, value: Any) -> None:
        """Label every redacted id found in ``value`` (strings, lists, dicts) not yet labelled."""
        if isinstance(value, str) and self._pattern is not None:
            for match in self._pattern.finditer(value):
                self.label(match.group(1))
        elif isinstance(value, (list, tuple)):
            for part in value:
                self.see(part)
        elif isinstance(value, dict):
            for part in value.values():
                self.see(part)

    def label(self, person: str) -> str:
        """The label of a redacted person (assigned on first use)."""
        if person not in self.labels:
            kind = self.kinds[person]
            number = self._counts.get(kind, 0)
            self._counts[kind] = number + 1
            self.labels[person] = f"{kind} {_letters(number)}"
        return self.labels[person]

    def scrub(self, value: Any) -> Any:
        """``value`` with every redacted id replaced by its label."""
        if isinstance(value, str):
            if self._pattern is None:
                return value
            return self._pattern.sub(lambda m: self.label(m.group(1)), value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.scrub(v) for v in value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


def _letters(number: int) -> str:
    text = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


# -- packing --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def files(conn: Connection, contents: Contents, scrub: Pseudonyms) -> dict[str, bytes]:
    """Every file of the bundle except ``SHA256SUMS`` and its signature."""
    snap = contents.snapshot
    out: dict[str, bytes] = {}
    index: list[dict[str, Any]] = []
    shown = progress.bar(len(contents.items) + len(contents.registry), "export", "proof")
    for item in sorted(contents.items, key=lambda i: i.leaf):
        shown.update(1)
        header = item.header
        out[f"entries/{item.leaf}.bin"] = item.stored_bytes()
        out[f"proofs/{item.leaf}.json"] = _json(proof(conn, item.leaf, item.entry, snap))
        row: dict[str, Any] = {
            "leaf": item.leaf, "file": f"entries/{item.leaf}.bin", "proof": f"proofs/{item.leaf}.json",
            "aggregate": header["aggregate"], "version": header["version"],
            "event": roles.event_name(header["topic"]), "record_class": header["record_class"],
            "recorded_at": header["recorded_at"], "actor": scrub.scrub(header["actor"]),
            "subjects": scrub.scrub(list(header["subjects"])), "content": item.status,
        }
        if item.status == DISCLOSED and item.key is not None and item.plaintext is not None:
            out[f"keys/{header['data_key']}.hex"] = (item.key.hex() + "\n").encode("ascii")
            out[f"plaintext/{item.leaf}.json"] = item.plaintext
            row.update({"key": f"keys/{header['data_key']}.hex", "plaintext": f"plaintext/{item.leaf}.json"})
        index.append(row)
    registry_rows = []
    selected = {i.leaf for i in contents.items}
    for leaf, entry in contents.registry.items():
        shown.update(1)
        if leaf in selected:
            continue
        out[f"registry/{leaf}.bin"] = envelope.MAGIC + entry.leaf_data
        out[f"proofs/{leaf}.json"] = _json(proof(conn, leaf, entry, snap))
        registry_rows.append({
            "leaf": leaf, "file": f"registry/{leaf}.bin", "proof": f"proofs/{leaf}.json",
            "event": roles.event_name(entry.header["topic"]), "actor": scrub.scrub(entry.header["actor"]),
            "content": REGISTRY,
        })
    shown.close()
    out["entries/index.json"] = _json({
        "format": FORMAT, "ledger": contents.ledger_id, "origin": contents.origin,
        "covers": scrub.scrub(contents.covers), "checkpoint_size": snap.size, "redacted": contents.redacted,
        "zone": contents.zone,
        "entries": index, "registry": registry_rows,
    })
    attachment_rows = []
    for attachment in contents.attachments:
        path = attachment.path
        if path is not None and attachment.content is not None:
            out[path] = attachment.content
        attachment_rows.append({
            "attachment": attachment.attachment_id, "entry": attachment.leaf, "sha256": attachment.sha256,
            "size": attachment.size, "file": path, "filename": attachment.filename, "content": attachment.status,
        })
    if attachment_rows:
        out["attachments/index.json"] = _json(attachment_rows)
    out["checkpoint.txt"] = snap.signed.encode("utf-8")
    out.update(witnessed(conn, contents.trust, snap))
    out["trust.json"] = contents.trust
    out[PUBLIC_KEY] = crypto.public_key_pem(contents.ledger_public_key)
    out.update(contents.readable)
    return out


def witnessed(conn: Connection, trust_json: bytes, snap: Snapshot) -> dict[str, bytes]:
    """What the trust file's witnesses cosigned, each with a consistency proof to the bundle's checkpoint:

    - ``witnessed/<key id>.txt`` and ``witnessed/<key id>-proof.txt``: each witness's own newest
      cosigned checkpoint (its lines only), so a quorum above one is met by each witness's newest
      cosignature even when they cosigned different sizes;
    - ``witnessed.txt`` and ``witnessed-proof.txt``: the newest checkpoint a quorum cosigned at one
      size, when there is one (what earlier verifiers read).

    None when the trust file names no witness."""
    document = json.loads(trust_json)
    settings = witness_settings(document)
    if not settings["witnesses"]:
        return {}
    origin, _, _ = str(document["ledger_key"]).partition("+")
    groups = witness.cosigned_groups([text for _, text in stored_cosignatures(conn)], origin,
                                     bytes.fromhex(document["ledger_public_key"]), settings["witnesses"])
    out: dict[str, bytes] = {}

    def ship(stem: str, found: tuple[checkpoint.Checkpoint, str] | None) -> None:
        if found is not None:
            cp, note = found
            size1, size2 = sorted((cp.size, snap.size))
            hashes = merkle.consistency_proof(size1, size2, StoredNodes(conn)) if 0 < size1 < size2 else []
            out[f"{stem}.txt"] = note.encode("utf-8")
            out[f"{stem}-proof.txt"] = checkpoint.format_consistency_proof(size1, size2, hashes).encode("ascii")

    ship("witnessed", witness.quorum_note(groups, origin, settings["witness_quorum"]))
    for name, key in settings["witnesses"]:
        ship(f"witnessed/{witness.key_id(name, key).hex()}", witness.newest_of(groups, origin, name))
    return out


def sha256sums(bundle: Mapping[str, bytes]) -> bytes:
    """``sha256sum`` format (hash, two spaces, path) over every file but the sums and signature."""
    lines = [
        f"{hashlib.sha256(data).hexdigest()}  {path}\n"
        for path, data in sorted(bundle.items())
        if path not in (SUMS, SIGNATURE)
    ]
    return "".join(lines).encode("utf-8")


def seal(bundle: dict[str, bytes], ledger_key: bytes) -> dict[str, bytes]:
    """Add ``SHA256SUMS`` and its Ed25519 signature by the ledger key."""
    if crypto.public_key_pem(crypto.signing_public_key(ledger_key)) != bundle.get(PUBLIC_KEY):
        raise VerificationFailed("the ledger key on this machine is not the key in the bundle")
    sealed = dict(bundle)
    sealed[SUMS] = sha256sums(bundle)
    sealed[SIGNATURE] = crypto.sign_raw(ledger_key, sealed[SUMS])
    return sealed


def write_zip(bundle: Mapping[str, bytes], handle: Any, when: str) -> None:
    """Pack the files (sorted, deflated, one timestamp) into an open binary file."""
    stamp = tuple(int(p) for p in re.split(r"[-T:.+]", when)[:6])
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(bundle.items()):
            info = zipfile.ZipInfo(path, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)


# -- the README ---------------------------------------------------------------------------


def fingerprint(pem: bytes) -> str:
    """SHA-256 of a PEM key's DER form, as `openssl pkey -pubin -outform DER | sha256sum` prints it."""
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


def _local(moment: str, zone: str) -> str:
    return localtime.shown(localtime.local(moment, localtime.zone_named(zone)))


def readme(contents: Contents, scrub: Pseudonyms) -> bytes:
    """README.txt: what the bundle is and how anyone can check it, in plain words."""
    counts: dict[str, int] = {}
    for item in contents.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    shown = [f"  {n:>4}  {status}" for status, n in sorted(counts.items())]
    files_out = sum(1 for a in contents.attachments if a.content is not None)
    key_print = fingerprint(crypto.public_key_pem(contents.ledger_public_key))
    text = f"""EVIDENCE BUNDLE
===============

This is a copy of records from the policy ledger of a school federation (the
ledger that records what its Social Media, Mobile Phone and Smart Technology
Policy requires). It was made so that you can check, without trusting the
school, that these records are exactly what was recorded, when and by whom.

  Covers:        {scrub.scrub(contents.covers)}
  Exported by:   {contents.exporter}, at {_local(contents.generated_at, contents.zone)} ({contents.generated_at} UTC)
  Ledger:        {contents.origin} ({contents.ledger_id})
  Checkpoint:    the ledger held {contents.snapshot.size} entries when this was made
  Entries:       {len(contents.items)}
{chr(10).join(shown)}
  Evidence files included: {files_out} of {len(contents.attachments)}

WHERE TO START READING

  timeline.html   the records in time order; open it in any web browser.
  timeline.csv    the same, for a spreadsheet.
  attachments/    evidence files (screenshots, statements) as taken in;
                  attachments/index.json gives the hash each had on intake.

"Withheld" in the timeline means an entry exists and is proved to exist, but
its content is not in this bundle (see REDACTION, or it was not readable by
the person who exported it). "Erased" means its content was destroyed under
the school's retention rules; the fact that it existed remains.

HOW TO CHECK IT

Unzip the bundle into a folder, open a terminal in that folder and run:

  1. Every file is unchanged:
       sha256sum -c SHA256SUMS
     Every line must end in "OK".

  2. The list of files is signed by the ledger's key:
       openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
     It must print "Signature Verified Successfully".

  3. The key is really the school's ledger key. Its fingerprint is
       {key_print}
     Run  openssl pkey -pubin -in {PUBLIC_KEY} -outform DER | sha256sum
     and compare the result with the fingerprint the school gives you
     separately (by letter or phone), not with this file.

  4. Everything else, in one go (needs Python 3 and `pip install cryptography`):
       python3 verify_bundle.py bundle.zip [--trust trust.json]
     It checks each entry's signature by the member of staff who made it, that
     their key was registered (back to the first administrator in trust.json)
     and not revoked, that they were allowed to record that kind of entry,
     that every entry is in the signed checkpoint (inclusion proofs), that each
     disclosed key matches the key the entry committed to, that the plaintext
     is exactly what the entry's encrypted body decrypts to, and that each
     evidence file has the hash recorded when it was taken in. A copy of the
     checker is included; a careful recipient uses one obtained from the
     school separately, and the school's own trust.json via --trust.

WHAT THE CHECKS PROVE

They prove that each entry here was recorded in the ledger, signed by the
person named, before the checkpoint; that nothing in this folder was changed
after export; and that the readable content is what was recorded. They do not
prove that the export selected every relevant record: ask the school.

CHAIN OF CUSTODY

Making this bundle was itself recorded in the ledger as an export entry that
names the entries above and this zip file's SHA-256. That entry was written
after the bundle, so it is not inside it: ask the school to show it, and
compare its hash with `sha256sum` of the zip file you received.

FILES

  entries/<n>.bin       each entry's stored bytes: signed header and signature
                        (and the encrypted body when its content is disclosed)
  entries/index.json    what each entry is and whether its content is disclosed
  keys/<id>.hex         the keys of the disclosed records
  plaintext/<n>.json    the decrypted content of entry n, exactly as recorded
  proofs/<n>.json       proof that entry n is in the checkpoint (RFC 9162)
  registry/             the entries registering the signers' keys and roles,
                        and the table of which roles may record what
  checkpoint.txt        the ledger's signed checkpoint (C2SP format)
  witnessed.txt         the newest checkpoint a quorum of the ledger's witnesses cosigned
  witnessed/<id>.txt    each witness's own newest cosigned checkpoint (when it has witnesses)
  ...-proof.txt         proof that checkpoint.txt and each of those is one history
  trust.json            the ledger's identity and first administrator's key
  {PUBLIC_KEY}   the ledger's public key
  SHA256SUMS(.sig)      the hash of every file, and its signature
"""
    if contents.redacted:
        labels = sorted(set(contents.labels.values()))
        text += f"""
REDACTION

This bundle is redacted for an outside party: {' and '.join(contents.redacted)}.
In the readable files (timeline, index) each redacted person appears under a
label that is the same throughout this bundle ({', '.join(labels) or 'none needed'});
the list of who is who is not included. Every entry that names, mentions or
was written by a redacted person is still here and still proved (its header,
signature and inclusion proof), but its content and key are withheld and it is
marked "withheld (redacted)". Evidence files of a record that names a redacted person
are withheld too (their intake hashes remain in attachments/index.json).
The exact entry bytes in entries/ and registry/ keep the ledger's own ids for
people: those ids are pseudonymous already (random codes, not names), and
changing them would break the signatures.
"""
    return text.encode("utf-8")
