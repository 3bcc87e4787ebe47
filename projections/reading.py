"""Opening indexed entries for a reader: decrypt if their keys allow, never guess.

The index holds only clear header facts; what an entry says is decrypted at
query time with the reader's own key ring, through the same mapper the event
store uses, so the event object (and its ``describe()``) is exactly what the
write side recorded. An entry the reader may not open is reported as
withheld, an erased one as erased, one whose body fails its checks as
unverified: never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import TopicError
from sqlalchemy import Connection, Table, select

from ledger import envelope, localtime
from ledger.domain.base import described, detailed
from ledger.errors import KeyMaterialMissing, NotPermitted, RecordErased, VerificationFailed
from ledger.keystore import KeyRing
from ledger.mapper import EnvelopeMapper, UnitContext, unit

SHOWN = "shown"
WITHHELD = "withheld"
ERASED = "erased"
UNVERIFIED = "unverified"
UNKNOWN = "unknown type"
MISSING = "missing"

#: Event fields read (decrypted body first, then clear claims) as "action taken".
ACTION_FIELDS = ("action_taken", "actions_taken", "action")
#: Event fields read as "outcome".
OUTCOME_FIELDS = ("outcome", "finding", "decision", "result", "status")


@dataclass(frozen=True)
class Opened:
    """What a reader gets from one entry."""

    status: str
    event: Any | None = None
    problem: str = ""

    def field(self, names: tuple[str, ...], claims: dict[str, Any]) -> str:
        """The first non-empty of ``names`` in the event (if opened), else in the claims."""
        sources = [vars(self.event)] if self.event is not None else []
        for source in [*sources, claims]:
            for name in names:
                value = source.get(name)
                if value not in (None, "", [], {}):
                    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        return ""

    def description(self, zone: dt.tzinfo = localtime.UTC) -> str | None:
        """The event's own one-line ``describe()`` (any moment in it in ``zone``), when it has
        one and it works."""
        if not callable(getattr(self.event, "describe", None)):
            return None
        try:
            return described(self.event, zone)
        except Exception:  # noqa: BLE001 - an old event lacking a field must not hide the row
            return None

    def details(self) -> list[dict[str, str]]:
        """The event's readable text beyond its one line, as ``{"label", "text"}`` pairs, when
        it was opened and has some (see :func:`ledger.domain.base.detailed`)."""
        if self.status != SHOWN or self.event is None:
            return []
        try:
            return [{"label": label, "text": text} for label, text in detailed(self.event)]
        except Exception:  # noqa: BLE001 - an old event lacking a field must not hide the row
            return []


def load_states(conn: Connection, events: Table, notification_ids: Iterable[int]) -> dict[int, bytes]:
    """Stored bytes of the given entries."""
    ids = sorted(set(notification_ids))
    states: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for nid, state in conn.execute(select(events.c.id, events.c.state).where(events.c.id.in_(chunk))):
            states[int(nid)] = bytes(state)
    return states


class Reader:
    """Opens entries for one key ring (None: a reader who holds no key)."""

    def __init__(self, conn: Connection, ledger_id: str, keyring: KeyRing | None) -> None:
        self.conn = conn
        self.ledger_id = ledger_id
        self.keyring = keyring
        self.mapper = EnvelopeMapper()

    def open(self, state: bytes, aggregate: str, version: int, topic: str) -> Opened:
        """Decrypt and rebuild one entry's event, or say why not."""
        try:
            sealed = envelope.parse(state)
        except VerificationFailed as exc:
            return Opened(UNVERIFIED, problem=str(exc))
        if sealed.erased:
            return Opened(ERASED)
        if self.keyring is None:
            return Opened(WITHHELD)
        ctx = UnitContext(self.ledger_id, self.conn, None, self.keyring, "")
        token = unit.set(ctx)
        try:
            event = self.mapper.to_domain_event(
                StoredEvent(originator_id=uuid.UUID(aggregate), originator_version=version, topic=topic, state=state)
            )
        except KeyMaterialMissing as exc:
            return Opened(UNVERIFIED, problem=exc.message)
        except RecordErased:
            return Opened(ERASED)
        except NotPermitted:
            return Opened(WITHHELD)
        except VerificationFailed as exc:
            return Opened(UNVERIFIED, problem=str(exc))
        except (TopicError, ImportError, AttributeError, ValueError, TypeError) as exc:
            return Opened(UNKNOWN, problem=f"{type(exc).__name__}: {exc}")
        finally:
            unit.reset(token)
        return Opened(SHOWN, event)
