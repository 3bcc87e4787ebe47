"""What one running desk holds: the ledger location, per-thread ledgers, sessions, settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from commands.web.sessions import DEFAULT_IDLE_MINUTES, SessionStore, Throttle
from ledger.clock import Clock

if TYPE_CHECKING:
    from ledger.config import Config
    from ledger.store import Ledger

#: Largest request body (uploads included) the desk accepts.
DEFAULT_MAX_UPLOAD_MB = 20


@dataclass(frozen=True)
class Settings:
    """How the desk runs."""

    idle_minutes: float = DEFAULT_IDLE_MINUTES
    secure_cookies: bool = False
    behind_proxy: bool = False
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    #: Serve the public ``/witness/add-checkpoint`` page (off: 404, and witnesses are handed
    #: ``ledger witness request`` files instead).
    witness_page: bool = True
    #: Seconds on a monotonic clock, for idle timeouts and throttling (never a date).
    clock: Callable[[], float] = field(default=time.monotonic)
    #: The clock every service reads, as for the CLI (None: the system's, or PostgreSQL's).
    time_source: Clock | None = None


class Ledgers:
    """One opened ledger per server thread (a ledger's unit binds its session to the event store)."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock
        self._local = threading.local()
        self._opened: list[Ledger] = []
        self._lock = threading.Lock()

    def get(self) -> Ledger:
        """This thread's ledger, opened on first use."""
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None:
            from ledger.store import Ledger  # the database, only when the desk runs

            ledger = Ledger(self.config, self.clock)
            ledger.meta()
            self._local.ledger = ledger
            with self._lock:
                self._opened.append(ledger)
        return ledger

    def close(self) -> None:
        """Release every thread's database connections."""
        with self._lock:
            for ledger in self._opened:
                ledger.close()
            self._opened.clear()


class Desk:
    """The state of one desk process."""

    def __init__(self, config: Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.ledgers = Ledgers(config, settings.time_source)
        self.sessions = SessionStore(settings.clock, settings.idle_minutes)
        self.throttle = Throttle(settings.clock)

    def stop(self) -> None:
        """Forget every session (and the keys they hold) and close the database."""
        self.sessions.clear()
        self.ledgers.close()
