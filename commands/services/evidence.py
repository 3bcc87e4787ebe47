"""Evidence files on incidents: hashed at intake, stored encrypted, read under the access log.

A file's SHA-256 goes into the signed clear header of its ``EvidenceAdded``
entry, so anyone can later prove that the file handed over is the one taken
in. The content is encrypted (AES-256-GCM) under the incident's own data key
with the incident, attachment id and hash as associated data, so a stored
file cannot be swapped between attachments or incidents without detection,
and erasing the incident's key makes the file unreadable too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

from ledger import crypto, files
from ledger.domain.base import new_short_id, parse_moment
from ledger.domain.incidents import Incident
from ledger.errors import InvalidInput, NotFound, NotPermitted, VerificationFailed
from ledger.schema import attachments
from ledger.store import Actor, Unit

MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
AAD_DOMAIN = b"policy-ledger/attachment/v1\x00"


@dataclass(frozen=True)
class EvidenceFile:
    """A file handed in as evidence, with how it was captured."""

    filename: str
    content: bytes
    captured_by: str
    captured_at: str | None  # as typed, in the federation's local time; None: now
    method: str
    device: str
    description: str | None = None
    expect_sha256: str | None = None


@dataclass(frozen=True)
class Staged:
    """Evidence whose entry is pending in a unit: encrypted, waiting to be stored."""

    attachment_id: str
    sha256: str
    size: int
    key_id: str
    ciphertext: bytes


#: File name endings of pictures and videos (what the file's bytes say counts too).
IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff", ".avif")
VIDEO_ENDINGS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".wmv")


def media_of(content: bytes, filename: str) -> str:
    """``image``, ``video``, ``document`` or ``other``, from the file's bytes and its name.

    Either says image or video: a renamed photo is still a photo.
    """
    head, name = content[:16], filename.lower()
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")) \
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") \
            or (head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"hevc")) \
            or name.endswith(IMAGE_ENDINGS):
        return "image"
    if head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3") \
            or (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or name.endswith(VIDEO_ENDINGS):
        return "video"
    if head.startswith(b"%PDF") or name.endswith((".pdf", ".txt", ".csv", ".doc", ".docx", ".eml", ".html")):
        return "document"
    return "other"


def attachment_aad(record_id: str, attachment_id: str, sha256: str) -> bytes:
    """Associated data binding an attachment's ciphertext to where it belongs."""
    return AAD_DOMAIN + "\x00".join((record_id, attachment_id, sha256)).encode()


def stage(work: Unit, incident: Incident, item: EvidenceFile) -> Staged:
    """Hash and encrypt ``item`` and record its intake on ``incident`` (not yet saved).

    The file is encrypted under the key the incident's entries will use, so
    the signed entry can carry the hash of the stored bytes too.
    """
    if not item.content:
        raise InvalidInput(f"{item.filename} is empty", "evidence must be a file with content")
    if len(item.content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(
            f"{item.filename} is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB",
            "hand large media in through the school's evidence store and note its reference",
        )
    digest = hashlib.sha256(item.content).hexdigest()
    if item.expect_sha256 is not None and not hmac.compare_digest(digest, item.expect_sha256.strip().lower()):
        raise InvalidInput(
            f"{item.filename} does not match the SHA-256 given ({digest} was computed)",
            "the file changed since it was captured: take it in again from the original",
        )
    attachment_id = new_short_id("att")
    record_id = str(incident.id)
    _cls, key_id, key = work.ctx.data_key_for(record_id, incident.record_class, new=not work.exists(incident.id))
    ciphertext = crypto.encrypt(key, item.content, attachment_aad(record_id, attachment_id, digest))
    incident.add_evidence(
        attachment_id=attachment_id,
        sha256=digest,
        size=len(item.content),
        filename=Path(item.filename).name,
        captured_by=item.captured_by,
        captured_at=work.now if item.captured_at is None else parse_moment("captured-at", item.captured_at, work.zone),
        method=item.method,
        device=item.device,
        description=item.description,
        stored_sha256=hashlib.sha256(ciphertext).hexdigest(),
        media=media_of(item.content, item.filename),
    )
    return Staged(attachment_id, digest, len(item.content), key_id, ciphertext)


def store(work: Unit, incident: Incident, staged: Staged) -> None:
    """Store a staged (encrypted) file, after its entry was saved."""
    work.conn.execute(
        insert(attachments).values(
            attachment_id=staged.attachment_id,
            record_id=str(incident.id),
            key_id=staged.key_id,
            sha256=staged.sha256,
            size=staged.size,
            ciphertext=staged.ciphertext,
            created_at=work.now,
        )
    )


def read(work: Unit, actor: Actor, incident: Incident, attachment_id: str) -> bytes:
    """Decrypt one evidence file of a loaded incident and check it against its intake hash."""
    entry = incident.evidence.get(attachment_id)
    if entry is None and attachment_id in (getattr(incident, "removed_evidence", None) or []):
        raise NotFound(f"{attachment_id} of {incident.inc_id} was destroyed: the file no longer exists",
                       f"`ledger timeline --incident {incident.inc_id} --reason …` shows who removed it, when and why")
    if entry is None:
        raise NotFound(
            f"{incident.inc_id} has no attachment {attachment_id}",
            f"`ledger incidents show {incident.inc_id}` lists them",
        )
    row = work.conn.execute(select(attachments).where(attachments.c.attachment_id == attachment_id)).first()
    if row is None or not row.ciphertext:
        raise NotFound(f"the file of {attachment_id} is no longer stored (it was erased)")
    record_id = str(incident.id)
    if row.record_id != record_id or row.sha256 != entry["sha256"]:
        raise VerificationFailed(f"the stored file of {attachment_id} does not belong to {incident.inc_id}")
    try:
        key = actor.keyring.data_key(work.conn, row.key_id)
    except NotPermitted as exc:
        raise NotPermitted(f"{actor.actor_id} may not open the evidence of {incident.inc_id}") from exc
    try:
        content = crypto.decrypt(key, bytes(row.ciphertext), attachment_aad(record_id, attachment_id, entry["sha256"]))
    except crypto.CryptoError:
        raise VerificationFailed(
            f"the stored file of {attachment_id} fails its integrity check",
            "it was altered or damaged after intake: restore the database from backup and run `ledger verify`",
        ) from None
    if hashlib.sha256(content).hexdigest() != entry["sha256"]:
        raise VerificationFailed(f"{attachment_id} does not match the SHA-256 recorded at intake")
    return content


def read_file(path: Path) -> bytes:
    """A file handed in as evidence: a regular file of at most MAX_EVIDENCE_BYTES."""
    return files.read_regular(path, MAX_EVIDENCE_BYTES)
