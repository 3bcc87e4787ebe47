"""Who holds which key and role, as stated by signed entry headers.

The same interpretation of headers feeds the write side's registry tables
(in the transaction that seals the entries) and ``verify``'s in-memory
replay, so both agree on who was allowed to sign what, and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ledger.roles import event_name
from ledger.schema import actor_keys, actors


@dataclass(frozen=True)
class Change:
    """One registry fact carried by a header."""

    kind: str
    actor_id: str
    detail: dict[str, Any] = field(default_factory=dict)


def interpret(header: dict[str, Any]) -> Change | None:
    """The registry change a header makes, if any."""
    name = event_name(header["topic"])
    claims = header.get("claims") or {}
    aggregate = header["aggregate"]
    if name == "StaffMember.Registered":
        return Change("staff", claims["staff_id"], {"aggregate": aggregate, "roles": list(claims["roles"])})
    if name == "Subject.Registered":
        return Change("subject", claims["subject_id"], {"aggregate": aggregate, "kind": claims["kind"]})
    if name == "StaffMember.KeyRegistered":
        return Change("key", claims["owner"], dict(claims))
    if name == "StaffMember.KeyRevoked":
        return Change("revoke", claims["owner"], {"key_id": claims["key_id"]})
    if name == "StaffMember.RoleGranted":
        return Change("grant", claims["staff_id"], {"role": claims["role"]})
    if name == "StaffMember.RoleRemoved":
        return Change("remove", claims["staff_id"], {"role": claims["role"]})
    if name == "StaffMember.EmploymentEnded":
        return Change("left", claims["staff_id"])
    return None


def apply_to_db(conn: Connection, header: dict[str, Any], leaf_index: int) -> None:
    """Record the header's registry change in the registry tables."""
    change = interpret(header)
    if change is None:
        return
    who = actors.c.actor_id == change.actor_id
    if change.kind in ("staff", "subject"):
        conn.execute(
            insert(actors).values(
                actor_id=change.actor_id,
                kind=change.detail.get("kind", change.kind),
                aggregate_id=change.detail["aggregate"],
                roles=json.dumps(sorted(change.detail.get("roles", []))),
                active=True,
            )
        )
    elif change.kind == "key":
        conn.execute(
            insert(actor_keys).values(
                key_id=change.detail["key_id"],
                actor_id=change.actor_id,
                public_key=change.detail["public_key"],
                agreement_key=change.detail["agreement_key"],
                registered_leaf=leaf_index,
            )
        )
    elif change.kind == "revoke":
        conn.execute(
            update(actor_keys)
            .where(actor_keys.c.key_id == change.detail["key_id"])
            .values(revoked_leaf=leaf_index)
        )
    elif change.kind in ("grant", "remove"):
        current = set(json.loads(conn.execute(select(actors.c.roles).where(who)).scalar_one()))
        if change.kind == "grant":
            current.add(change.detail["role"])
        else:
            current.discard(change.detail["role"])
        conn.execute(update(actors).where(who).values(roles=json.dumps(sorted(current))))
    elif change.kind == "left":
        conn.execute(update(actors).where(who).values(active=False))


@dataclass
class KeyFact:
    """A registered key as verification sees it."""

    actor_id: str
    public_key: bytes
    registered_leaf: int
    revoked_leaf: int | None = None


@dataclass
class Replay:
    """The registry rebuilt in memory from headers, entry by entry (for verify)."""

    keys: dict[str, KeyFact] = field(default_factory=dict)
    roles: dict[str, set[str]] = field(default_factory=dict)
    aggregates: dict[str, str] = field(default_factory=dict)
    left: set[str] = field(default_factory=set)

    def apply(self, header: dict[str, Any], leaf_index: int) -> None:
        """Take in one verified header's registry change."""
        change = interpret(header)
        if change is None:
            return
        if change.kind in ("staff", "subject"):
            self.aggregates[change.actor_id] = change.detail["aggregate"]
            if change.kind == "staff":
                self.roles[change.actor_id] = set(change.detail["roles"])
        elif change.kind == "key":
            self.keys[change.detail["key_id"]] = KeyFact(
                change.actor_id, bytes.fromhex(change.detail["public_key"]), leaf_index
            )
        elif change.kind == "revoke" and change.detail["key_id"] in self.keys:
            self.keys[change.detail["key_id"]].revoked_leaf = leaf_index
        elif change.kind == "grant":
            self.roles.setdefault(change.actor_id, set()).add(change.detail["role"])
        elif change.kind == "remove":
            self.roles.setdefault(change.actor_id, set()).discard(change.detail["role"])
        elif change.kind == "left":
            self.left.add(change.actor_id)


def current_key(conn: Connection, actor_id: str) -> tuple[str, bytes]:
    """(key id, X25519 public key) of the actor's newest unrevoked key.

    NotFound when they have none (every key revoked, e.g. after leaving).
    """
    from ledger.errors import NotFound

    row = conn.execute(
        select(actor_keys.c.key_id, actor_keys.c.agreement_key)
        .where(actor_keys.c.actor_id == actor_id, actor_keys.c.revoked_leaf.is_(None))
        .order_by(actor_keys.c.registered_leaf.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"{actor_id} has no active key", "an admin must register a new key for them")
    return str(row.key_id), bytes.fromhex(row.agreement_key)
