"""Signing in for a long-lived session (the web desk): unlock once, re-check every request.

A command-line run unlocks the key, acts and exits. A session keeps the
unlocked key for a while, so each request starts from what the registry
says *now*: a person who has left, lost a role or had their key revoked or
rotated since signing in acts with today's roles or not at all. Each request
also gets a fresh key ring, so a record key opened earlier (say, of a case
an investigator has since been taken off) is never reused from a cache.
"""

from __future__ import annotations

import dataclasses

from ledger.errors import AuthenticationFailed, InvalidInput, NotFound, RuleViolation
from ledger.keystore import KeyRing
from ledger.store import Actor, Ledger

#: Longest id or passphrase a sign-in form accepts.
MAX_FIELD = 1024


def sign_in(ledger: Ledger, actor_id: str, passphrase: str) -> Actor:
    """Unlock ``actor_id``'s current key with ``passphrase`` (as ``--as`` does)."""
    actor_id = (actor_id or "").strip()
    if not actor_id:
        raise InvalidInput("give your staff id", "it is the id your IT manager registered you with, e.g. st-1a2b3c4d")
    if not passphrase:
        raise InvalidInput("give your passphrase")
    if len(actor_id) > MAX_FIELD or len(passphrase) > MAX_FIELD:
        raise InvalidInput("the id or passphrase is too long")
    return ledger.unlock(actor_id, passphrase)


def refresh(ledger: Ledger, actor: Actor) -> Actor:
    """``actor`` with today's roles and a fresh key ring; refused when they may no longer act.

    Roles, whether they are still here and which key is current come from the
    registry replayed from signed entries (checked against the latest checkpoint).
    """
    registry = ledger.registry()
    fact = registry.staff.get(actor.actor_id)
    if fact is None:
        raise NotFound(f"unknown actor {actor.actor_id!r}")
    if not fact.active:
        raise RuleViolation(
            f"{actor.actor_id} has left: their identity can no longer act",
            "their records stay in the ledger; act as a current member of staff",
        )
    current = registry.current_key(actor.actor_id)
    if current is None or current.key_id != actor.pair.key_id:
        raise AuthenticationFailed(
            f"the key {actor.actor_id} signed in with is no longer their current key",
            "sign in again with the passphrase of your current key",
        )
    return dataclasses.replace(actor, roles=frozenset(fact.roles), keyring=KeyRing.for_pair(actor.pair))
