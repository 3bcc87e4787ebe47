"""Checkpoints, proofs and ``ledger verify``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state, render
from ledger import files

if TYPE_CHECKING:
    from commands.services import integrity as service
else:
    service = lazy.module("commands.services.integrity")


@click.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save it to FILE (for an auditor).")
@pass_state
def checkpoint_cmd(state: State, out: Path | None) -> None:
    """Print the latest signed checkpoint (C2SP tlog-checkpoint).

    \b
    Example:
      ledger checkpoint --out audit-2026-11.checkpoint
    """
    text = service.latest_checkpoint(state.ledger())
    if out is None:
        emit(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        emit(f"checkpoint saved to {out}", err=True)


@click.command("checkpoints")
@output_options
@pass_state
def checkpoints_cmd(state: State) -> list[dict[str, Any]]:
    """List every checkpoint: tree size, root hash, when it was signed.

    \b
    Example:
      ledger checkpoints --format csv
    """
    return service.list_checkpoints(state.ledger())


@click.group("proof")
def proof() -> None:
    """RFC 9162 inclusion and consistency proofs.

    \b
    Example:
      ledger proof inclusion 42 --format json
    """


@proof.command("inclusion")
@click.argument("entry")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Prove against this saved checkpoint instead of the latest.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@pass_state
def inclusion(state: State, entry: str, checkpoint_file: Path | None, fmt: str) -> None:
    """Prove that ENTRY (a leaf index, or AGGREGATE-UUID:VERSION) is in the log.

    Text output is C2SP tlog-proof: index, proof hashes, then the checkpoint.

    \b
    Example:
      ledger proof inclusion 42 --checkpoint audit-2026-11.checkpoint
    """
    text = files.read_small_text(checkpoint_file, "saved checkpoint") if checkpoint_file else None
    result = service.inclusion_proof(state.ledger(), entry, text)
    if fmt == "json":
        emit(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    else:
        emit(result["text"], nl=False)


@proof.command("consistency")
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1), required=False)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@pass_state
def consistency(state: State, old: int, new: int | None, fmt: str) -> None:
    """Prove that the log at size OLD is a prefix of the log at size NEW (default: latest).

    \b
    Example:
      ledger proof consistency 120 450 --format json
    """
    result = service.consistency_proof(state.ledger(), old, new)
    if fmt == "json":
        emit(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    else:
        emit(result["text"], nl=False)


@click.command("verify")
@click.option("--trust", "trust_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The trust file given to you out of band.")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint you saved earlier: prove the log still extends it and check only what came "
                   "after (add --skip-read-models to keep the run proportional to what is new).")
@click.option("--skip-read-models", is_flag=True,
              help="Do not compare the read models with a replay of the log (faster on a large ledger).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@pass_state
def verify_cmd(state: State, trust_file: Path, since_file: Path | None, skip_read_models: bool, fmt: str) -> None:
    """Check every signature, key, permission, body hash, seal and checkpoint,
    every key wrap, role key copy and evidence file, and the read models.

    Needs no reader key and shows no personal data. Exit 0 when everything
    holds, 1 when anything fails (each bad entry is named), 2 on usage errors.

    \b
    Example:
      ledger verify --trust trust.json --since audit-2026-10.checkpoint
    """
    report = service.verify_ledger(state.ledger(), trust_file, since_file, projections=not skip_read_models)
    if fmt == "json":
        emit(json.dumps(report.as_dict(), indent=2))
    else:
        emit(f"entries:          {report.entries}")
        emit(f"signatures:       {report.signatures} verified")
        emit(f"bodies:           {report.bodies} match their hashes ({report.erased} erased)")
        emit(f"merkle nodes:     {report.nodes} recomputed")
        emit(f"checkpoints:      {report.checkpoints} verified (times and registry digests too)")
        emit(f"data keys:        {report.keys} wrapped to exactly their readers")
        emit(f"read models:      {report.read_models}")
        if report.since is not None:
            emit(f"since checkpoint: {report.since}")
        if report.resumed is not None:
            emit(f"resumed:          {report.resumed}")
        if report.replayed is not None:
            emit(f"replayed:         {report.replayed}")
        emit(f"tree size / root: {report.tree_size} / {report.root}")
        if report.findings:
            emit(f"\nFAILED: {len(report.findings)} problem(s)")
            emit(render([f.as_dict() for f in report.findings], "table",
                              ["leaf", "aggregate", "version", "event_type", "problem"]))
        else:
            emit("\nOK: the ledger verifies")
    if not report.ok:
        state.close()
        raise SystemExit(1)


COMMANDS = (checkpoint_cmd, checkpoints_cmd, proof, verify_cmd)
