"""The ``ledger`` program: the command line, plus ``ledger serve`` for the web desk.

The CLI (``commands/cli``) and the desk (``commands/web``) never import each
other; this module is the one place that puts them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.cli import lazy
from commands.cli.base import State, pass_state
from commands.cli.main import cli
from commands.web.desk import DEFAULT_MAX_UPLOAD_MB, Settings
from commands.web.sessions import DEFAULT_IDLE_MINUTES
from ledger import progress

if TYPE_CHECKING:
    from commands.web import serve as desk
    from ledger import store
else:
    desk = lazy.module("commands.web.serve")
    store = lazy.module("ledger.store")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (this machine only by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--idle-minutes", default=DEFAULT_IDLE_MINUTES, show_default=True, type=click.FloatRange(min=1),
              help="A session (and the key it holds) ends after this long without a request.")
@click.option("--behind-https-proxy", is_flag=True,
              help="Trust one reverse proxy's X-Forwarded-Proto/-Host/-For; cookies are Secure.")
@click.option("--max-upload-mb", default=DEFAULT_MAX_UPLOAD_MB, show_default=True, type=click.IntRange(min=1),
              help="Largest request (evidence uploads included).")
@click.option("--witness-page/--no-witness-page", default=True, show_default=True,
              help="Serve the public /witness/add-checkpoint page (the newest signed checkpoint, its size and "
                   "signed time, for witnesses who fetch it); off, it is a 404.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@pass_state
def serve(state: State, host: str, port: int, idle_minutes: float, behind_https_proxy: bool, max_upload_mb: int,
          witness_page: bool, threads: int) -> None:
    """Open the web desk on this ledger: staff sign in with their id and passphrase.

    Pages are served by waitress; each person's key is unlocked in this
    process's memory for their session only.

    \b
    Example:
      ledger --home /srv/policy-ledger serve
      ledger --home /srv/policy-ledger serve --host 127.0.0.1 --port 8080 --behind-https-proxy
    """
    progress.show(False)  # the desk's work draws no bars on the server's terminal
    config = state.config()
    checked = store.Ledger(config, state.clock)
    try:
        checked.meta()
    finally:
        checked.close()
    settings = Settings(idle_minutes=idle_minutes, secure_cookies=behind_https_proxy,
                        behind_proxy=behind_https_proxy, max_upload_mb=max_upload_mb, time_source=state.clock,
                        witness_page=witness_page)
    desk.run(config, host, port, settings, lambda line: click.echo(line, err=True), threads)


cli.add_command(serve)


def main() -> None:
    """Console entry point."""
    cli(prog_name="ledger")
