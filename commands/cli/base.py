"""What every command shares: the ledger context, errors, output formats."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from ledger import localtime, text
from ledger.clock import Clock
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger import config as configuration, store
    from ledger.config import Config
    from ledger.store import Actor, Ledger
else:
    configuration = lazy.module("ledger.config")
    store = lazy.module("ledger.store")


@dataclass
class State:
    """Options of the root command, resolved lazily."""

    env: Mapping[str, str]
    home: str | None = None
    db: str | None = None
    keys: str | None = None
    actor_id: str | None = None
    #: The clock every service reads: None is this machine's (PostgreSQL's for entries);
    #: tests pin it by invoking the CLI with a :class:`~ledger.clock.Clock` as ``obj``.
    clock: Clock | None = None
    _ledger: Ledger | None = field(default=None, repr=False)

    def config(self) -> Config:
        """The resolved locations."""
        return configuration.resolve(self.env, self.home, self.db, self.keys)

    def ledger(self) -> Ledger:
        """The opened ledger (must exist)."""
        if self._ledger is None:
            self._ledger = store.Ledger(self.config(), self.clock)
            self._ledger.meta()
        return self._ledger

    def passphrase(self, prompt: str = "Passphrase", variable: str = "LEDGER_PASSPHRASE") -> str:
        """A passphrase from the environment, or asked for without echo."""
        value = self.env.get(variable)
        if value is not None:
            return value
        return str(click.prompt(prompt, hide_input=True, err=True))

    def new_passphrase(self, prompt: str, variable: str) -> str:
        """A new passphrase from the environment, or asked for twice."""
        value = self.env.get(variable)
        if value is not None:
            return value
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True))

    def actor(self) -> Actor:
        """Unlock the acting identity (--as / LEDGER_ACTOR)."""
        actor_id = self.actor_id or self.env.get("LEDGER_ACTOR")
        if not actor_id:
            raise LedgerError(
                "no identity to act as", "give --as ID (or set LEDGER_ACTOR); `ledger people list` shows ids"
            )
        ledger = self.ledger()
        actor = ledger.unlock(actor_id, self.passphrase(f"Passphrase for {actor_id}"))
        for notice in actor.notices:
            emit(f"Notice: {notice}", err=True)
        return actor

    def close(self) -> None:
        """Release the database."""
        if self._ledger is not None:
            self._ledger.close()


pass_state = click.make_pass_decorator(State)


class LedgerGroup(click.Group):
    """A group that turns LedgerError into ``Error: …`` on stderr, exit 1.

    As the root, it first refuses any argument holding a control, surrogate
    or text-direction character, whatever the option, so no such character
    reaches a service, a file name or the database from the command line.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            check_arguments(ctx.meta.get(_ARGV, []))
            return super().invoke(ctx)
        except LedgerError as exc:
            emit(f"Error: {exc.message}", err=True)
            if exc.hint:
                emit(f"Hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # the reader closed the pipe (``| head``): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            ctx.exit(1)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for a person at a terminal
            if os.environ.get("LEDGER_DEBUG"):
                raise
            emit(f"Error: unexpected failure: {type(exc).__name__}: {exc}", err=True)
            emit("Hint: nothing was committed; set LEDGER_DEBUG=1 for details and report it", err=True)
            ctx.exit(1)


FORMATS = ("table", "json", "csv")
_ARGV = "ledger.argv"
#: The longest argument accepted (the longest free text is 10,000 characters).
MAX_ARGUMENT = 20_000


def check_arguments(args: Sequence[str]) -> None:
    """Refuse an over-long argument, or one holding a character input never accepts."""
    for number, value in enumerate(args, start=1):
        option = next((a for a in reversed(args[: number - 1]) if a.startswith("-")), None)
        where = f"argument {number}" + (f" (after {text.quoted(option, 30)})" if option else "")
        try:
            text.check(where, value, MAX_ARGUMENT)
        except LedgerError as exc:
            raise type(exc)(exc.message, exc.hint) from None


def emit(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Print to the terminal (stdout, or stderr with ``err``) through the one
    output-sanitising layer: stored text can never send escape sequences,
    carriage returns or direction overrides to the reader's terminal."""
    click.echo(text.shown(message, keep_newlines=True), err=err, nl=nl)


def as_json(document: Any) -> str:
    """A document as indented JSON; a moment is ISO 8601 with its (local) offset, a date ISO."""
    return json.dumps(document, indent=2, default=_json_value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return localtime.iso(value)
    return str(value)


def render(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Rows as an aligned table, JSON (exact) or CSV (safe to open in a spreadsheet).

    Moments (aware datetimes, in the federation's time zone as the services
    give them) read ``2026-06-01 12:30 BST`` in a table and ISO 8601 with the
    offset in JSON and CSV.
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return as_json([dict(r) for r in rows])
    if fmt == "csv":
        return text.csv_table(rows, columns).rstrip("\n")
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def wrapped_table(rows: Sequence[Mapping[str, Any]], wrap: str, width: int) -> str:
    """Rows as an aligned table no wider than ``width`` (when it can be): every column but
    ``wrap`` keeps its natural width, and ``wrap``, whose cell is a list of passages, takes the
    rest, each passage wrapped on words and every passage after the first indented."""
    if not rows:
        return "(none)"
    columns = list(rows[0].keys())
    fixed = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns if c != wrap}
    room = max(30, width - sum(fixed.values()) - 2 * (len(columns) - 1))
    widths = {**fixed, wrap: room}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip(), "  ".join("-" * widths[c] for c in columns)]
    for row in rows:
        passages = row.get(wrap) or [""]
        wrapped: list[str] = []
        for number, passage in enumerate(passages):
            indent = "" if number == 0 else "  "
            wrapped += textwrap.wrap(text.shown(str(passage).replace("\n", " ")), room, initial_indent=indent,
                                     subsequent_indent=indent + ("" if number == 0 else "  "),
                                     break_on_hyphens=False) or [""]
        for i, part in enumerate(wrapped):
            cells = [part if c == wrap else (_cell(row.get(c)) if i == 0 else "") for c in columns]
            lines.append("  ".join(v.ljust(widths[c]) for v, c in zip(cells, columns)).rstrip())
    return "\n".join(lines)


def terminal_width() -> int:
    """Columns of the terminal output goes to (``COLUMNS`` when set; 100 when not a terminal)."""
    return shutil.get_terminal_size((100, 24)).columns


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return localtime.shown(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return text.shown(",".join(str(v) for v in value))
    return text.shown(str(value).replace("\n", " "))


def output_options(func: Callable[..., Sequence[Mapping[str, Any]]]) -> Callable[..., None]:
    """Give a listing command ``--format table|json|csv``; it returns rows."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                  help="Output format.")
    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str, **kwargs: Any) -> None:
        rows = func(*args, **kwargs)
        emit(render(rows, fmt))

    return wrapper


def environment() -> dict[str, str]:
    """The process environment, read once at the edge."""
    return dict(os.environ)
