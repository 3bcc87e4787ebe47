"""Running the desk: waitress on one address, an idle-session sweeper, and a clean stop."""

from __future__ import annotations

import ipaddress
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from waitress.server import create_server

from commands.web.app import create_app
from commands.web.desk import Desk, Settings
from ledger.config import Config

#: Seconds between sweeps of idle sessions.
SWEEP_EVERY = 30.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sweeper(desk: Desk, stop: threading.Event) -> threading.Thread:
    def sweep() -> None:
        while not stop.wait(SWEEP_EVERY):
            desk.sessions.sweep()

    thread = threading.Thread(target=sweep, name="desk-session-sweeper", daemon=True)
    thread.start()
    return thread


def make_server(config: Config, host: str, port: int, settings: Settings, threads: int = 4) -> tuple[Any, Desk]:
    """A waitress server for the desk (not yet serving), and the desk's state."""
    app = create_app(config, settings)
    server = create_server(app, host=host, port=port, threads=threads, ident="policy-ledger",
                           clear_untrusted_proxy_headers=not settings.behind_proxy)
    return server, app.extensions["desk"]


def run(config: Config, host: str, port: int, settings: Settings, echo: Callable[[str], None],
        threads: int = 4) -> None:
    """Serve until interrupted; every session (and the keys it holds) is forgotten on the way out."""
    server, desk = make_server(config, host, port, settings, threads)
    stop = threading.Event()
    _sweeper(desk, stop)
    scheme = "https (through your proxy)" if settings.behind_proxy else "http"
    echo(f"The desk is open at http://{server.effective_host}:{server.effective_port}/  ({scheme}; "
         f"sessions end after {settings.idle_minutes:g} minutes idle). Stop it with Ctrl+C.")
    if not is_loopback(host) and not settings.behind_proxy:
        echo("Warning: this address is reachable from other machines over plain http. Put the desk behind the "
             "school's HTTPS reverse proxy (and give --behind-https-proxy), see docs/guide-it-manager.md.")
    previous = signal.signal(signal.SIGTERM, _interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        desk.stop()
        server.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        echo("The desk has stopped; every session was closed.")


@contextmanager
def in_background(config: Config, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the desk from a background thread (for scripts and browser tests); yields its base URL."""
    server, desk = make_server(config, host, port, settings)
    thread = threading.Thread(target=server.run, name="desk-server", daemon=True)
    thread.start()
    try:
        yield f"http://{server.effective_host}:{server.effective_port}"
    finally:
        desk.stop()
        server.close()
        thread.join(timeout=10)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
