"""Load what a command uses only when it runs.

``ledger --help`` and ``ledger <group> --help`` must not pay for the database,
eventsourcing or cryptography: each CLI module names the services and domain
modules it uses through :func:`module` (the real import happens at the first
attribute read, inside a command), and options whose choices come from the
domain use :class:`Choice` (read when the command's own help or its arguments
need them). Type checkers see the ordinary imports (``if TYPE_CHECKING``).
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Iterable
from typing import Any

import click


class _Deferred(types.ModuleType):
    """Stands for a module until one of its attributes is read."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def module(name: str) -> Any:
    """The module called ``name``, imported on first use."""
    return _Deferred(name)


class Choice(click.Choice[Any]):
    """A :class:`click.Choice` whose values are computed on first need."""

    def __init__(self, choices: Callable[[], Iterable[Any]], case_sensitive: bool = True) -> None:
        self._compute: Callable[[], Iterable[Any]] | None = choices
        self._values: tuple[Any, ...] = ()
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[Any, ...]:
        if self._compute is not None:
            self._values, self._compute = tuple(self._compute()), None
        return self._values

    @choices.setter
    def choices(self, values: Iterable[Any]) -> None:
        self._values, self._compute = tuple(values), None
