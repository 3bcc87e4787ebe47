"""What every command shares: the ledger context, errors, output formats."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from ledger import config as configuration
from ledger.config import Config
from ledger.errors import LedgerError
from ledger.store import Actor, Ledger


@dataclass
class State:
    """Options of the root command, resolved lazily."""

    env: Mapping[str, str]
    home: str | None = None
    db: str | None = None
    keys: str | None = None
    actor_id: str | None = None
    _ledger: Ledger | None = field(default=None, repr=False)

    def config(self) -> Config:
        """The resolved locations."""
        return configuration.resolve(self.env, self.home, self.db, self.keys)

    def ledger(self) -> Ledger:
        """The opened ledger (must exist)."""
        if self._ledger is None:
            self._ledger = Ledger(self.config())
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
            click.echo(f"Notice: {notice}", err=True)
        return actor

    def close(self) -> None:
        """Release the database."""
        if self._ledger is not None:
            self._ledger.close()


pass_state = click.make_pass_decorator(State)


class LedgerGroup(click.Group):
    """A group that turns LedgerError into ``Error: …`` on stderr, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for a person at a terminal
            if os.environ.get("LEDGER_DEBUG"):
                raise
            click.echo(f"Error: unexpected failure: {type(exc).__name__}: {exc}", err=True)
            click.echo("Hint: nothing was committed; set LEDGER_DEBUG=1 for details and report it", err=True)
            ctx.exit(1)


FORMATS = ("table", "json", "csv")


def render(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Rows as an aligned table, JSON or CSV."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return json.dumps([dict(r) for r in rows], indent=2, default=str)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value).replace("\n", " ")


def output_options(func: Callable[..., Sequence[Mapping[str, Any]]]) -> Callable[..., None]:
    """Give a listing command ``--format table|json|csv``; it returns rows."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                  help="Output format.")
    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str, **kwargs: Any) -> None:
        rows = func(*args, **kwargs)
        click.echo(render(rows, fmt))

    return wrapper


def environment() -> dict[str, str]:
    """The process environment, read once at the edge."""
    return dict(os.environ)
