"""Every ``ledger`` line in the role guides and the README is a command this ledger has.

Each shell line of each guide is parsed by the real command tree (the ``ledger`` program
with the web desk's ``serve``): the command path must exist, every option must be one the
command takes, every choice one it offers, and every required option given. The only
leniency is for files the reader brings (``--trust trust.json``): a path that does not exist
here is not the guide's fault. The README's first session is also run for real
(tests/cli/test_readme.py), and the DSL's working day on the demo ledger end to end
(tests/cli/test_dsl_journey.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from commands.main import cli

ROOT = Path(__file__).resolve().parents[2]
GUIDES = sorted((ROOT / "docs").glob("guide-*.md")) + [ROOT / "README.md"]


def ledger_lines(path: Path) -> list[str]:
    """The ``ledger …`` lines of a document's shell blocks, continuations joined, comments cut."""
    found = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s+#", line)[0].strip()
            if line.startswith("ledger "):
                found.append(re.sub(r"\$\([^)]*\)", "X", line))
    return found


def parse(line: str) -> click.Command:
    """Parse ``line`` down to its command, as running it would (without running it)."""
    ctx = cli.make_context("ledger", shlex.split(line)[1:])
    command: click.Command = cli
    rest = [*ctx._protected_args, *ctx.args]
    while isinstance(command, click.Group) and rest:
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, list(rest), parent=ctx)
        command = sub
        rest = [*ctx._protected_args, *ctx.args] if isinstance(sub, click.Group) else []
    return command


CASES = [(path.name, line) for path in GUIDES for line in ledger_lines(path)]


def test_every_guide_has_commands_to_check() -> None:
    per_guide = {name for name, _ in CASES}
    terminal_guides = {"guide-dsl.md", "guide-investigator.md", "guide-auditor.md", "guide-it-manager.md", "README.md"}
    assert terminal_guides <= per_guide, "a guide for terminal users without a single command block?"
    assert len(CASES) >= 80


@pytest.mark.parametrize(("guide", "line"), CASES, ids=[f"{g}:{i}" for i, (g, _) in enumerate(CASES)])
def test_the_guide_line_is_a_command_the_ledger_takes(guide: str, line: str) -> None:
    try:
        command = parse(line)
    except click.BadParameter as error:
        if "does not exist" in error.format_message():
            return  # a file the reader brings
        pytest.fail(f"{guide}: `{line}`\n  {error.format_message()}")
    except click.ClickException as error:
        pytest.fail(f"{guide}: `{line}`\n  {error.format_message()}")
    # a group that acts on its own (``ledger transfer --person …`` sends) is a command too
    acts = isinstance(command, click.Group) and command.invoke_without_command
    assert not isinstance(command, click.Group) or acts or "--help" in line, f"{guide}: `{line}` names only a group"


def test_a_drifted_line_is_caught() -> None:
    """The check itself can fail: an option the command does not take, a missing required one."""
    with pytest.raises(click.NoSuchOption):
        parse("ledger --as dsl timeline --incident inc-1 --reason r --colour red")
    with pytest.raises(click.MissingParameter):
        parse("ledger --as dsl registers access")
    with pytest.raises(click.UsageError):
        parse("ledger --as dsl incidents frobnicate inc-1")
