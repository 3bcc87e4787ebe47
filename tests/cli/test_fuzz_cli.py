"""Every kind of value the command line takes, fuzzed through ``ledger`` itself: the
outcome is success, ``Error:`` with a ``Hint:`` (exit 1, nothing written) or a usage
error (exit 2); never a traceback, and a value that must be refused never succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import crypto, text
from tests.cli.conftest import LedgerCli
from tests.conftest import build_federation

VALUES = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("0123456789-T:+Z. \x1b\r\u202e\u0660²abc:/"), max_size=25),
    st.sampled_from(["0001-01-01T00:00+14:00", "9999-12-31T23:59-05:00", "9" * 5000, "2026-02-30",
                     "inc-00000000", "sb-fuzz:victim", "sb-fuzz:nobody", ":victim", "2024-09-01..2025-08-31",
                     "2025..2024", "/dev/zero", "-1", "0", "18446744073709551616", "\udcff", "a\u202eb"]),
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: One command per kind of input; ``{}`` is where the fuzzed value goes.
COMMANDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "free text": ("dsl", ("incidents", "report", "--category", "child-on-child", "--occurred-at", "2026-01-01",
                          "--facts", "f", "--summary", "{}")),
    "date-time": ("dsl", ("incidents", "report", "--category", "child-on-child", "--summary", "s", "--facts", "f",
                          "--occurred-at", "{}")),
    "date of birth": ("dsl", ("people", "add-subject", "--kind", "pupil", "--name", "N", "--dob", "{}")),
    "id:part": ("dsl", ("incidents", "report", "--category", "child-on-child", "--summary", "s", "--facts", "f",
                        "--occurred-at", "2026-01-01", "--person", "{}")),
    "incident id": ("dsl", ("incidents", "show", "{}", "--reason", "r")),
    "record id": ("dsl", ("timeline", "--incident", "{}", "--reason", "r")),
    "person id": ("head", ("people", "show", "{}", "--reason", "r")),
    "alert id": ("dsl", ("monitoring", "alerts", "show", "{}", "--reason", "r")),
    "entry": (None, ("proof", "inclusion", "{}")),
    "tree size": (None, ("proof", "consistency", "{}")),
    "period": ("head", ("monitoring", "review", "record", "--outcome", "effective", "--findings", "f",
                        "--period", "{}")),
    "as-of date": ("head", ("retention", "plan", "--as-of", "{}")),
    "since": ("dsl", ("monitoring", "alerts", "list", "--since", "{}")),
    "file": (None, ("verify", "--trust", "{}")),
    "bundle": (None, ("verify-bundle", "{}")),
    "timeline period": ("dsl", ("timeline", "--from", "{}", "--to", "2026-12-31", "--reason", "r")),
    "timeline as-of": ("dsl", ("timeline", "--person", "sb-fuzz", "--as-of", "{}", "--reason", "r")),
    "report day": ("head", ("report", "--from", "{}")),
    "school": ("head", ("report", "--school", "{}")),
    "family note": ("dsl", ("people", "relate", "sb-fuzz", "sb-fuzz-parent", "--relation", "parent", "--note", "{}")),
}


@pytest.fixture(scope="module")
def fuzz_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerCli]:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed = build_federation(home)
    from commands.services import people

    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Fuzz Pupil", subject_id="sb-fuzz")
    people.add_subject(fed.ledger, fed["dsl"], "parent", "Fuzz Parent", subject_id="sb-fuzz-parent")
    fed.ledger.close()
    yield LedgerCli(home)


def _must_refuse(value: str) -> bool:
    return text.refused_character(value) is not None or len(value) > 10_000


def _check(cli: LedgerCli, actor: str | None, args: tuple[str, ...], value: str) -> Result:
    before = cli.snapshot()
    done = cli.run(*[value if a == "{}" else a for a in args], actor=actor)
    assert done.exit_code in (0, 1, 2), done.output
    if done.exit_code == 1:
        assert done.stderr.startswith("Error: ") and "\nHint: " in done.stderr, done.stderr
        assert "unexpected failure" not in done.stderr, done.stderr
        assert cli.snapshot() == before, "a refusal wrote something"
    if _must_refuse(value):
        assert done.exit_code != 0, f"{value!r} was accepted"
    return done


@pytest.mark.parametrize("kind", sorted(COMMANDS))
@FUZZ
@given(value=VALUES)
def test_any_value_of_any_input_type_ends_cleanly(fuzz_cli: LedgerCli, kind: str, value: str) -> None:
    actor, args = COMMANDS[kind]
    _check(fuzz_cli, actor, args, value)


def test_every_hostile_value_is_refused_by_every_input_type(fuzz_cli: LedgerCli, tmp_path: Path) -> None:
    for kind, (actor, args) in sorted(COMMANDS.items()):
        for value in ("\x1b]0;x\x07", "a\u202eb", "\udcff", "x\x9b31m"):
            done = _check(fuzz_cli, actor, args, value)
            assert done.exit_code == 1 and "at character" in done.stderr, (kind, value, done.output)
