"""Signed-in sessions, held in server memory only, and the sign-in throttle.

A session is a random token in an HttpOnly cookie; everything else (the
person's unlocked key, their CSRF token, the reasons they gave for reading
cases, messages for their next page) stays in this process's memory. It is
never written to disk, a database or the cookie, and it goes on sign-out,
after the idle timeout and when the server stops. Times come from the clock
the store is given, so tests can move it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.store import Actor

#: Minutes without a request after which a session ends.
DEFAULT_IDLE_MINUTES = 15.0


@dataclass
class SignedIn:
    """One person's session."""

    token: str
    actor: Actor
    csrf: str
    last_seen: float
    reasons: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def remember_reason(self, record: str, reason: str) -> None:
        """The reason given for reading ``record``, asked once per record per session."""
        self.reasons[record] = reason

    def reason_for(self, record: str) -> str | None:
        """The reason given earlier for ``record`` in this session, if any."""
        return self.reasons.get(record)

    def say(self, message: str) -> None:
        """A message for the next page this person sees."""
        self.messages.append(message)

    def take_messages(self) -> list[str]:
        """The waiting messages, once."""
        taken, self.messages = self.messages, []
        return taken


@dataclass(frozen=True)
class Ended:
    """What is remembered of a session that timed out: whose it was and its CSRF token, no key.

    A form posted with the ended session's own token is the person's own
    typing (no other page had that token), so the desk keeps it in the
    sign-in page instead of throwing it away.
    """

    actor_id: str
    csrf: str


class SessionStore:
    """Every live session of this process, and a bounded memory of the ones that timed out."""

    def __init__(self, clock: Callable[[], float], idle_minutes: float = DEFAULT_IDLE_MINUTES,
                 remembered: int = 10_000) -> None:
        self.clock = clock
        self.idle_seconds = idle_minutes * 60
        self._sessions: dict[str, SignedIn] = {}
        self._ended: OrderedDict[str, Ended] = OrderedDict()
        self._remembered = remembered
        self._lock = threading.Lock()

    def _end(self, token: str) -> None:
        """Drop a timed-out session (lock held), remembering whose it was and its CSRF token."""
        session = self._sessions.pop(token)
        self._ended[token] = Ended(session.actor.actor_id, session.csrf)
        while len(self._ended) > self._remembered:
            self._ended.popitem(last=False)

    def ended(self, token: str | None) -> Ended | None:
        """The session of ``token`` that timed out (taken once), if it did."""
        with self._lock:
            return self._ended.pop(token or "", None)

    def open(self, actor: Actor) -> SignedIn:
        """A new session for ``actor``."""
        session = SignedIn(secrets.token_urlsafe(32), actor, secrets.token_urlsafe(32), self.clock())
        with self._lock:
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> SignedIn | None:
        """The live session of ``token``, touched; None (and dropped) once idle too long."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                self._end(token)
                return None
            session.last_seen = now
            return session

    def close(self, token: str | None) -> None:
        """End one session (sign-out)."""
        with self._lock:
            self._sessions.pop(token or "", None)

    def sweep(self) -> int:
        """Drop every session idle for too long; how many were dropped."""
        now = self.clock()
        with self._lock:
            idle = [t for t, s in self._sessions.items() if now - s.last_seen > self.idle_seconds]
            for token in idle:
                self._end(token)
        return len(idle)

    def clear(self) -> None:
        """Drop every session (the server is stopping)."""
        with self._lock:
            self._sessions.clear()
            self._ended.clear()

    def __len__(self) -> int:
        return len(self._sessions)

    def holds(self, actor_id: str) -> bool:
        """Whether any live session belongs to ``actor_id``."""
        with self._lock:
            return any(s.actor.actor_id == actor_id for s in self._sessions.values())


class Throttle:
    """Wrong passphrases, counted per id: after ``free`` failures each further try waits longer.

    The wait doubles from ``base`` seconds with every failure, up to ``cap``; a
    success clears the count. Ids are kept in a bounded table so a flood of
    made-up ids cannot exhaust memory.
    """

    def __init__(self, clock: Callable[[], float], free: int = 5, base: float = 30.0, cap: float = 900.0,
                 size: int = 10_000) -> None:
        self.clock = clock
        self.free, self.base, self.cap, self.size = free, base, cap, size
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(actor_id: str) -> str:
        return actor_id.strip().casefold()[:200]

    def wait(self, actor_id: str) -> int:
        """Seconds before ``actor_id`` may try again (0: now)."""
        with self._lock:
            count, last = self._failures.get(self._key(actor_id), (0, 0.0))
        if count < self.free:
            return 0
        delay = min(self.cap, self.base * 2 ** (count - self.free))
        return max(0, int(last + delay - self.clock() + 0.999))

    def failed(self, actor_id: str) -> None:
        """Count one wrong passphrase for ``actor_id``."""
        key = self._key(actor_id)
        with self._lock:
            count, _ = self._failures.pop(key, (0, 0.0))
            self._failures[key] = (count + 1, self.clock())
            while len(self._failures) > self.size:
                self._failures.popitem(last=False)

    def succeeded(self, actor_id: str) -> None:
        """Clear the count for ``actor_id``."""
        with self._lock:
            self._failures.pop(self._key(actor_id), None)
