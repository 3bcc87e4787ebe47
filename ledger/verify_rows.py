"""What ``verify`` can judge of a stored row by itself, in worker processes.

Reading an entry (the strict envelope and JSON parse), its leaf hash, its body
against the signed body hash, the row it is stored in, the form of its time and
its signature need nothing but the row's bytes, so :func:`examine` does them for
a batch of rows, in a worker process when the log is large. What needs the log
in order (versions, the registry's judgement, the tree, the checkpoints) stays
with ``ledger.verify``, which reads every answer it judges from here: the bytes
a worker examined are the bytes the verdict is about.

The signer's public key is the registry's to say, at the entry's position. A
worker is given the keys the registry knew when its batch was handed out and
checks the signature against the one the entry names; ``verify`` uses that
answer only when the registry, replayed to the entry, names the same key.
Otherwise (a key registered after the batch was handed out) ``verify`` reads
the row again and checks the signature itself, after making sure by the leaf
hash that it is checking the bytes the worker examined.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NamedTuple

from ledger import crypto, envelope, merkle
from ledger.clock import iso
from ledger.errors import VerificationFailed
from ledger.roles import event_name

#: Body states.
BODY_MATCHES, BODY_DIFFERS, BODY_ERASED = 0, 1, 2

#: A stored row as read: (notification id, originator id, originator version, topic, state).
Row = tuple[int, str, int, str, bytes]


class Examined(NamedTuple):
    """One row, as far as it can be judged alone. ``header`` is None when the entry is unreadable
    (``problem`` says why); then only the row's own columns and its seal are known."""

    id: int
    aggregate: str
    version: int
    topic: str
    header: dict[str, Any] | None
    problem: str | None
    #: The leaf hash of the stored bytes, and (leaf index, stored leaf hash) when the row was sealed.
    leaf: bytes | None
    sealed: tuple[int, bytes] | None
    body: int
    #: Why the row does not hold this entry (another ledger's, moved or swapped), in the order found.
    moved: tuple[str, ...]
    #: ``recorded_at`` in the ledger's form (None when it is not a time).
    recorded: str | None
    record_key: bytes
    event: str
    #: The key the signature was checked against (None: no key known) and the answer.
    signed_with: bytes | None
    signature_ok: bool


def examine(rows: list[Row], sealed: dict[int, tuple[int, bytes]], ledger_id: str,
            keys: dict[str, bytes]) -> list[Examined]:
    """Judge each row alone; ``keys`` (key id -> Ed25519 public key) are the keys to try signatures with."""
    return [_examine(row, sealed.get(row[0]), ledger_id, keys) for row in rows]


def examine_in_worker(rows: list[Row], sealed: dict[int, tuple[int, bytes]], ledger_id: str,
                      keys: dict[str, bytes]) -> list[tuple[Any, ...]]:
    """:func:`examine`, as plain tuples (a third cheaper through the pipe; :func:`received` reads them)."""
    return [tuple(item) for item in examine(rows, sealed, ledger_id, keys)]


def received(answers: list[tuple[Any, ...]]) -> list[Examined]:
    """What :func:`examine_in_worker` sent."""
    return [Examined._make(answer) for answer in answers]


def _examine(row: Row, sealed: tuple[int, bytes] | None, ledger_id: str, keys: dict[str, bytes]) -> Examined:
    row_id, aggregate, version, topic, state = row
    try:
        entry = envelope.parse(state)
    except VerificationFailed as exc:
        return Examined(row_id, aggregate, version, topic, None, str(exc), None, sealed, BODY_MATCHES, (),
                        None, b"", event_name(topic), None, False)
    header = entry.header
    moved: tuple[str, ...] = ()
    if header["ledger"] != ledger_id:
        moved += (f"belongs to ledger {header['ledger']}, not {ledger_id}",)
    if (aggregate, version, topic) != (header["aggregate"], header["version"], header["topic"]):
        moved += (f"stored in the row of {aggregate} v{version}: entries were moved or swapped",)
    if entry.erased:
        body = BODY_ERASED
    else:
        body = BODY_MATCHES if crypto.sha256(entry.body).hex() == header["body_hash"] else BODY_DIFFERS
    public = _signing_key(header, keys)
    ok = False
    if public is not None:
        try:
            crypto.verify(public, envelope.SIGNATURE_DOMAIN, entry.header_bytes, entry.signature)
            ok = True
        except crypto.CryptoError:
            ok = False
    return Examined(row_id, aggregate, version, topic, header, None, merkle.leaf_hash(entry.leaf_data), sealed, body,
                    moved, instant(header["recorded_at"]), record_key(header["aggregate"]),
                    event_name(header["topic"]), public, ok)


def _signing_key(header: dict[str, Any], keys: dict[str, bytes]) -> bytes | None:
    """The key to try: the one the entry names, or the one a first key's registration carries."""
    key_id = header["actor_key"]
    public = keys.get(key_id)
    if public is not None:
        return public
    claims = header.get("claims") or {}
    offered = claims.get("public_key")
    if claims.get("key_id") == key_id and isinstance(offered, str) and len(offered) == 64:
        try:
            return bytes.fromhex(offered)
        except ValueError:
            return None
    return None


def record_key(aggregate: Any) -> bytes:
    """A record's key in the verifier's map (its id's 16 bytes when it is a UUID)."""
    try:
        return uuid.UUID(str(aggregate)).bytes
    except ValueError:
        return str(aggregate).encode()


def instant(value: str) -> str | None:
    """``value`` as the ledger writes times (ISO-8601 UTC, microseconds), or None if it is not a time.

    Times are compared as text only in this form: ``…T10:00+23:00`` reads like ten
    o'clock but is eleven the day before.
    """
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return iso(moment)
