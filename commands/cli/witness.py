"""``ledger witness …``: witnesses cosign checkpoints so that no one key holder can rewrite history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from ledger.errors import InvalidInput, RuleViolation, VerificationFailed

if TYPE_CHECKING:
    from commands.services import witnesses as service
    from ledger import files, witness
else:
    service = lazy.module("commands.services.witnesses")
    witness = lazy.module("ledger.witness")
    files = lazy.module("ledger.files")

PASSPHRASE_VARIABLE = "LEDGER_WITNESS_PASSPHRASE"


@click.group("witness")
def witness_group() -> None:
    """Witnesses: a governor, the trust's central team or a neighbouring school cosigns the
    ledger's checkpoints on their own machine, so a history cut or rewritten after they
    saw it fails `ledger verify` for everyone.

    \b
    Example:
      ledger witness init --name governors.example.sch.uk/w1 --dir ~/witness --log-key trust.json
      ledger witness request --out request.txt
      ledger witness record cosignature.txt
    """


@witness_group.command("init")
@click.option("--name", required=True, help="The witness's name: a URL-like name, e.g. governors.example.sch.uk/w1.")
@click.option("--dir", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder on the witness's own machine for its key and state.")
@click.option("--log-key", "log_keys", required=True, multiple=True,
              help="The ledger's verifier key, or its trust.json (repeat for more ledgers).")
@pass_state
def init(state: State, name: str, folder: Path, log_keys: tuple[str, ...]) -> None:
    """Create a witness identity (run by the witness, on their machine).

    The key is locked with a passphrase (LEDGER_WITNESS_PASSPHRASE or a prompt).
    Prints the witness key to give to the ledger's IT manager.

    \b
    Example:
      ledger witness init --name governors.example.sch.uk/w1 --dir ~/witness --log-key trust.json
    """
    if (folder / witness.CONFIG_FILE).exists():
        raise InvalidInput(f"{folder} already holds a witness", "choose another --dir")
    keys = [_log_key(text) for text in log_keys]
    passphrase = state.new_passphrase("New passphrase for the witness key", PASSPHRASE_VARIABLE)
    try:
        _, key = witness.WitnessFolder.create(folder, name, keys, passphrase)
    except witness.WitnessError as exc:
        raise InvalidInput(str(exc)) from None
    emit(key)
    emit(f"witness created in {folder}; give the key above to the ledger's IT manager "
         "(`ledger witness add KEY`)", err=True)


@witness_group.command("key")
@click.option("--dir", "folder", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
def key_cmd(folder: Path) -> None:
    """Print this witness's key (name+key id+base64 key).

    \b
    Example:
      ledger witness key --dir ~/witness
    """
    try:
        emit(witness.WitnessFolder(folder).verifier_key())
    except witness.WitnessError as exc:
        raise InvalidInput(str(exc)) from None


@witness_group.command("cosign")
@click.option("--dir", "folder", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the cosignature to FILE.")
@click.argument("request", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def cosign(state: State, folder: Path, out: Path | None, request: Path) -> None:
    """Check the ledger's REQUEST (`ledger witness request`) and cosign its checkpoint.

    Refuses a checkpoint the ledger's key did not sign, a rollback (smaller than
    the last one cosigned) and a fork (not consistent with it), loudly, keeping
    the request in DIR/evidence/. Prints the cosignature line (cosignature/v1).

    \b
    Example:
      ledger witness cosign --dir ~/witness request.txt --out cosignature.txt
    """
    text = files.read_small_text(request, "witness request")
    folder_ = witness.WitnessFolder(folder)
    passphrase = state.passphrase("Passphrase for the witness key", PASSPHRASE_VARIABLE)
    now = state.clock.now() if state.clock is not None else _system_now()
    try:
        line = folder_.cosign(text, passphrase, now)
    except (witness.Fork, witness.Rollback) as exc:
        raise VerificationFailed(str(exc), "tell the ledger's governors and the trust: the ledger's key "
                                 "signed a history that contradicts what you cosigned") from None
    except witness.Unprocessable as exc:
        raise VerificationFailed(str(exc), "fetch a fresh request from the ledger's desk and cosign that") from None
    except witness.Conflict as exc:
        raise RuleViolation(str(exc)) from None
    except witness.WitnessError as exc:
        raise InvalidInput(f"not cosigned: {exc}") from None
    if out is not None:
        files.write_private(out, line.encode())
    emit(line, nl=False)


@witness_group.command("request")
@click.option("--old", type=click.IntRange(min=0), help="The size the witness last cosigned (default: the newest "
              "recorded cosignature's).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it to FILE.")
@pass_state
def request(state: State, old: int | None, out: Path | None) -> None:
    """The newest checkpoint and a consistency proof, for a witness (C2SP add-checkpoint body).

    Holds no personal data. The witness runs `ledger witness cosign` on it.

    \b
    Example:
      ledger witness request --out request.txt
    """
    text = service.request(state.ledger(), old)
    if out is None:
        emit(text, nl=False)
    else:
        files.write_private(out, text.encode(), force=True)
        emit(f"request written to {out}", err=True)


@witness_group.command("record")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_options
@pass_state
def record(state: State, file: Path) -> list[dict[str, Any]]:
    """Store the cosignature(s) a witness returned (checked against the trust file's witnesses).

    \b
    Example:
      ledger witness record cosignature.txt
    """
    return service.record(state.ledger(), files.read_small_text(file, "cosignature"))


@witness_group.command("add")
@click.argument("key")
@click.option("--quorum", type=click.IntRange(min=1), help="How many witnesses must cosign (default: kept, or 1).")
@click.option("--max-age-days", type=click.FloatRange(min=0, min_open=True, max=366),
              help="How old an entry may be before a quorum must have cosigned it (default: kept, or 7).")
@pass_state
def add(state: State, key: str, quorum: int | None, max_age_days: float | None) -> None:
    """Name a witness in the ledger's trust file (the IT manager, once per witness).

    Give the new trust.json to auditors and witnesses; older copies stay valid but
    do not check the new witness.

    \b
    Example:
      ledger witness add 'governors.example.sch.uk/w1+1a2b3c4d+BA…' --quorum 1
    """
    ledger = state.ledger()
    fields = service.add_witness(ledger, key, quorum, max_age_days)
    emit(f"{ledger.config.trust_path} now names {len(fields['witnesses'])} witness(es), quorum "
         f"{fields['witness_quorum']}, max age {fields['witness_max_age_days']:g} days: give auditors the new copy")


@witness_group.command("list")
@output_options
@pass_state
def list_cmd(state: State) -> list[dict[str, Any]]:
    """Every recorded cosignature, checked against the trust file now.

    \b
    Example:
      ledger witness list --format csv
    """
    return service.list_cosignatures(state.ledger())


def _log_key(text: str) -> str:
    path = Path(text)
    if path.is_file():
        document = files.read_json(path, "trust file")
        if not isinstance(document, dict) or "ledger_key" not in document:
            raise InvalidInput(f"{path} has no ledger_key", "give the ledger's trust.json or its verifier key")
        return str(document["ledger_key"])
    return text


def _system_now() -> dt.datetime:
    from ledger.clock import SystemClock

    return SystemClock().now()


COMMANDS = (witness_group,)
