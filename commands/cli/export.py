"""``ledger export`` and ``ledger verify-bundle``: evidence bundles for a third party."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.cli import lazy
from commands.cli.base import State, emit, pass_state

if TYPE_CHECKING:
    from commands.services import export as service
    from ledger.domain import export as domain
else:
    service = lazy.module("commands.services.export")
    domain = lazy.module("ledger.domain.export")


@click.command("export")
@click.option("--incident", metavar="ID", help="The incident to export, e.g. inc-1a2b3c4d.")
@click.option("--person", metavar="PERSON", help="Everything about one person, by id or unambiguous name (Headteacher; DSL: safeguarding records).")
@click.option("--reason", help="Why it is exported and for whom (required; recorded with the export).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip file to write.")
@click.option("--redact", multiple=True, type=lazy.Choice(lambda: domain.REDACTIONS),
              help="For an outside party: withhold what names these people, who appear under labels (repeatable).")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@pass_state
def export(state: State, incident: str | None, person: str | None, reason: str | None, out: Path,
           redact: tuple[str, ...], force: bool) -> None:
    """Write an evidence bundle a third party can check without trusting the school.

    The zip holds the entries' exact signed bytes, the disclosed keys and
    plaintext, evidence files, inclusion proofs against one signed
    checkpoint, the key registry, a timeline (HTML and CSV), a README and a
    SHA256SUMS signed by the ledger key. The export is itself recorded in the
    ledger with the zip's SHA-256. Nothing is written if anything fails.

    \b
    Example:
      ledger --as investigator export --incident inc-1a2b3c4d --reason "disciplinary hearing" --out case.zip
      ledger --as head export --person sb-1a2b3c4d --reason "LADO referral" --redact reporters --out sb.zip
    """
    done = service.export(state.ledger(), state.actor(), service.ExportRequest(
        reason=reason or "", out=out, incident=incident, person=person, redact=redact, force=force,
    ))
    emit(f"{done.sha256}  {done.path}")
    emit(f"export {done.export_id} recorded in the ledger: {done.entries} entries "
               f"({done.disclosed} disclosed, {done.withheld} withheld, {done.erased} erased), "
               f"{done.attachments} evidence file(s), proved against checkpoint {done.checkpoint_size}", err=True)
    emit(f"ledger key fingerprint (for the recipient to compare): {done.fingerprint}", err=True)
    for note in done.notes:
        emit(f"Note: {note}", err=True)


@click.command("verify-bundle")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--trust", "trust_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ledger's trust file, obtained separately (default: the bundle's own copy).")
@click.option("--witnessed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A witness's own latest-cosigned.txt, obtained from the witness: shows whether entries "
                   "after the bundle's checkpoint were cut from the ledger.")
def verify_bundle(bundle: Path, trust_file: Path | None, witnessed: Path | None) -> None:
    """Check an evidence bundle: sums, signatures, keys, proofs, plaintext, evidence hashes.

    The same checks as the standalone scripts/verify_bundle.py (which the
    recipient can run without this software). Exit 0 when every check
    passes, 1 when any fails (each problem is named).

    \b
    Example:
      ledger verify-bundle case.zip --trust trust.json --witnessed latest-cosigned.txt
    """
    report = service.verify_bundle(bundle, trust_file, witnessed)
    emit("\n".join(report.lines()))
    if not report.ok:
        raise SystemExit(1)


COMMANDS = (export, verify_bundle)
