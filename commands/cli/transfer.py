"""``ledger transfer``: a child protection file to the child's next school, and back a receipt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from ledger.errors import InvalidInput

if TYPE_CHECKING:
    from commands.services import transfer as service
    from ledger import transfer_box as box
else:
    service = lazy.module("commands.services.transfer")
    box = lazy.module("ledger.transfer_box")

PHONE_VARIABLE = "LEDGER_TRANSFER_PHONE_PASSPHRASE"
KEY_VARIABLE = "LEDGER_TRANSFER_PASSPHRASE"


@click.group("transfer", invoke_without_command=True)
@click.option("--person", metavar="PERSON", help="The pupil whose file is sent (id or unambiguous name).")
@click.option("--to-school", metavar="NAME", help="The school the pupil went to (as recorded when they left).")
@click.option("--to-key", type=click.Path(dir_okay=False, path_type=Path),
              help="The receiving DSL's transfer-key.pub.json (from `transfer keygen`).")
@click.option("--passphrase-from-phone", is_flag=True,
              help=f"Seal with a passphrase you read to the receiving DSL by phone (asked for, or {PHONE_VARIABLE}).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The sealed file to write (.transfer).")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@click.option("--again", is_flag=True, help="Send another copy when one was already sent (the first was lost).")
@click.option("--late-reason", metavar="TEXT", help="Why the file goes after its 5 school days (required then).")
@click.pass_context
def transfer(ctx: click.Context, person: str | None, to_school: str | None, to_key: Path | None,
             passphrase_from_phone: bool, out: Path | None, force: bool, again: bool, late_reason: str | None) -> None:
    """Send a child's child protection file to their next school (the DSL).

    The file is the child's safeguarding records as the signed, verifiable
    bundle `ledger export --person` writes, sealed for the receiving DSL
    (their key, or a passphrase given by phone) and signed by this ledger;
    the sending is recorded. Record the leaving first (`transfer leave`):
    KCSIE's 5 school days count from it. The receiving DSL opens it with
    scripts/transfer_box.py (no policy-ledger needed) or `ledger transfer
    import`, and sends back a receipt for `ledger transfer receipt`.

    \b
    Example:
      ledger --as dsl transfer --person sb-1a2b3c4d --to-school "Elm Academy" --to-key transfer-key.pub.json --out pip.transfer
      ledger --as dsl transfer --person sb-1a2b3c4d --to-school "Elm Academy" --passphrase-from-phone --out pip.transfer
    """
    if ctx.invoked_subcommand is not None:
        if person or to_school or to_key or passphrase_from_phone or out or again or late_reason:
            raise click.UsageError("options before a subcommand belong to sending; give them alone")
        return
    if not (person and to_school and out):
        raise click.UsageError("sending needs --person, --to-school and --out (or use a subcommand: see --help)")
    state: State = ctx.find_object(State)  # type: ignore[assignment]
    passphrase = state.new_passphrase("Passphrase to read to the receiving DSL", PHONE_VARIABLE) \
        if passphrase_from_phone else None
    done = service.send(state.ledger(), state.actor(), service.SendRequest(
        person=person, to_school=to_school, out=out, to_key=to_key, passphrase=passphrase, force=force,
        again=again, late_reason=late_reason))
    emit(f"{done.sealed_sha256}  {done.path}")
    emit(f"transfer {done.transfer_id}: the file of {done.person_label}"
         + (f" (copy {done.copy})" if done.copy > 1 else "") + f", {done.entries} entries sealed "
         + (f"to the key of {done.receiver_name} at {done.receiver_school} (fingerprint {done.receiver_fingerprint}: "
            "check it with them by phone)" if done.receiver_fingerprint
            else "with the passphrase (read it to the receiving DSL by phone, never send it with the file)"), err=True)
    emit(f"due by {done.due_by}" + (f": sent {done.late_by} school day(s) late, the reason recorded with it"
                                    if done.late_by else ": in time"), err=True)
    emit(f"ledger key fingerprint (for the receiving DSL to compare): {done.ledger_fingerprint}", err=True)
    emit("they open it with scripts/transfer_box.py (and verify_bundle.py beside it) or `ledger transfer import`; "
         "record their receipt with `ledger transfer receipt FILE`", err=True)


@transfer.command("leave")
@click.option("--person", required=True, metavar="PERSON", help="The pupil who left (id or unambiguous name).")
@click.option("--left", "left_on", required=True, metavar="DATE", help="The day they left (YYYY-MM-DD, local).")
@click.option("--to-school", required=True, metavar="NAME", help="The school they went to.")
@click.option("--new-term", metavar="DATE", help="Leaving at the end of a term: the first day of the new term, "
              "from which the 5 school days count.")
@pass_state
def leave(state: State, person: str, left_on: str, to_school: str, new_term: str | None) -> None:
    """Record that a pupil left the school (the start of the 5 school days).

    \b
    Example:
      ledger --as dsl transfer leave --person sb-1a2b3c4d --left 2026-03-06 --to-school "Elm Academy"
    """
    done = service.leave(state.ledger(), state.actor(), person, left_on, to_school, new_term)
    emit(done.transfer_id)
    if done.matched:
        emit(f"{person!r} matched {done.person_label}", err=True)
    for line in done.earlier:
        emit(f"note: {done.person_label} left before: {line}; if this leaving is a mistake, record it again "
             "correctly (an unsent leaving is superseded by a later one)", err=True)
    emit(f"{done.person_label} left on {done.left_on}: the child protection file is due by {done.due_by} "
         "(5 school days)", err=True)


@transfer.command("receipt")
@click.argument("receipt", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def receipt(state: State, receipt: Path) -> None:
    """Check a receipt the receiving school sent back and record it.

    Refused when its signature does not verify, it names a file this ledger
    did not send, it is signed by another key than the one the file was
    sealed to, it does not prove the file was opened, or it was already
    recorded.

    \b
    Example:
      ledger --as dsl transfer receipt receipt.json
    """
    done = service.record_receipt(state.ledger(), state.actor(), receipt)
    emit(f"receipt for transfer {done.transfer_id} recorded: received by {done.receiver} at {done.received_at}, "
         f"the file of {done.person_label} ({done.copy} sent); their checks passed and it names the very file sent: "
         "it arrived intact")


@transfer.command("keygen")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for transfer-key.json (private) and transfer-key.pub.json.")
@click.option("--school", required=True, help="Your school's name.")
@click.option("--name", required=True, help="Your name (the receiving DSL).")
@pass_state
def keygen(state: State, out: Path, school: str, name: str) -> None:
    """Make the receiving DSL's transfer key pair (the standalone tool makes the same).

    \b
    Example:
      ledger transfer keygen --out ~/transfer-key --school "Elm Academy" --name "Dee Lead"
    """
    passphrase = state.new_passphrase("New passphrase for the transfer key file", KEY_VARIABLE)
    try:
        private, public = box.keygen(out, school, name, passphrase)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    emit(f"{public}")
    emit(f"private key: {private} (keep it); give {public.name} to the sending school", err=True)
    emit(f"fingerprint to read out by phone: {box.fingerprint(box.load_public_key(public)['agreement_key'])}",
         err=True)


@transfer.command("import")
@click.argument("sealed", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path),
              help="Your transfer-key.json (not needed for a file sealed with a passphrase).")
@click.option("--receipt", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed receipt to send back.")
@click.option("--passphrase-from-phone", is_flag=True, help=f"The file was sealed with a passphrase ({PHONE_VARIABLE}).")
@click.option("--school", help="With no --key: your school's name, for the receipt.")
@click.option("--name", help="With no --key: your name (the receiving DSL), for the receipt.")
@click.option("--trust", type=click.Path(dir_okay=False, path_type=Path),
              help="The sending ledger's trust file, obtained separately (default: the bundle's own copy).")
@click.option("--person", metavar="PERSON", help="The pupil on this ledger the file is about, if already added.")
@click.option("--force", is_flag=True, help="Replace --receipt if it already exists.")
@pass_state
def import_(state: State, sealed: Path, key: Path | None, receipt: Path, passphrase_from_phone: bool,
            school: str | None, name: str | None, trust: Path | None, person: str | None, force: bool) -> None:
    """Take in a child protection file another school's ledger sent (the receiving DSL).

    Opens and verifies it exactly as the standalone tool; keeps it as it came
    (its entries keep their own signatures and proofs, attributed to the
    sending ledger); records that it was received; writes the signed receipt.

    With no key file, a file sealed with a passphrase (read by phone) is
    opened with the passphrase alone, and the receipt is signed with a
    one-off key naming --school and --name: it shows the file was opened,
    not who opened it (the sending DSL confirms that by phone).

    \b
    Example:
      ledger --as dsl transfer import pip.transfer --key ~/transfer-key/transfer-key.json --receipt receipt.json
      ledger --as dsl transfer import pip.transfer --passphrase-from-phone --school "Elm Academy" \\
          --name "Dee Lead" --receipt receipt.json
    """
    if key is not None and (school or name):
        raise click.UsageError("--school and --name are for a file opened without --key (your key file names them)")
    phone = state.passphrase("Passphrase given by phone", PHONE_VARIABLE) if passphrase_from_phone else None
    key_passphrase = state.passphrase("Passphrase of your transfer key file", KEY_VARIABLE) if key is not None else ""
    done = service.take_in(state.ledger(), state.actor(), service.TakeInRequest(
        sealed=sealed, key=key, key_passphrase=key_passphrase, receipt=receipt, phone_passphrase=phone, trust=trust,
        person=person, force=force, school=school, name=name))
    emit(f"transfer {done.transfer_id} from {done.from_origin} taken in: {done.entries} entries, "
         f"{len(done.checks)} checks passed")
    if done.introduced:
        emit(f"this is {done.introduced}", err=True)
    emit(f"sending ledger key fingerprint: {done.ledger_fingerprint} (compare with the sending school's)", err=True)
    if done.one_off_key:
        emit("the receipt is signed with a one-off key: it shows you opened the file, not who you are (the sending "
             "DSL confirms that by phone)", err=True)
    emit(f"receipt written to {done.receipt}: send it to the sending school; the file is kept in {done.kept}", err=True)


@transfer.command("open")
@click.argument("transfer_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The bundle zip to write.")
@click.option("--reason", required=True, help="Why you read it (recorded in the access log).")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@pass_state
def open_(state: State, transfer_id: str, out: Path, reason: str, force: bool) -> None:
    """Write the evidence bundle of a file taken in, checked again (the read is logged).

    \b
    Example:
      ledger --as dsl transfer open tr-1a2b3c4d --out pip.zip --reason "new pupil's file"
    """
    opened = service.open_received(state.ledger(), state.actor(), transfer_id, out, reason, force)
    emit("\n".join(opened.report.lines()))


@transfer.command("list")
@output_options
@pass_state
def list_(state: State) -> list[dict[str, Any]]:
    """Every leaver's transfer: left, due by, sent, receipt (the DSL and the Headteacher).

    \b
    Example:
      ledger --as dsl transfer list
    """
    return service.transfers(state.ledger(), state.actor())


@transfer.command("no-file")
@click.argument("transfer_id")
@click.option("--reason", required=True, help="Why no file is held (e.g. no concerns were ever recorded).")
@pass_state
def no_file(state: State, transfer_id: str, reason: str) -> None:
    """Record that no child protection file is held for a leaver: nothing is due.

    Refused when the pupil's records hold a child protection record (then send it).

    \b
    Example:
      ledger --as dsl transfer no-file tr-1a2b3c4d --reason "no concerns were ever recorded"
    """
    person = service.no_file_held(state.ledger(), state.actor(), transfer_id, reason)
    emit(f"transfer {transfer_id}: no child protection file held for {person}; the inbox no longer lists it")


@transfer.command("received")
@output_options
@pass_state
def received(state: State) -> list[dict[str, Any]]:
    """Every child protection file taken in here, by the child it names (the DSL and the Headteacher).

    \b
    Example:
      ledger --as dsl transfer received
    """
    return service.received(state.ledger(), state.actor())


@transfer.command("closures")
@click.option("--day", "days", multiple=True, metavar="DATE", help="A closure day to add (repeatable).")
@click.option("--remove", multiple=True, metavar="DATE", help="A closure day recorded in error (repeatable).")
@click.option("--reason", required=True, help="Why (e.g. the year's INSET days and holidays).")
@pass_state
def closures(state: State, days: tuple[str, ...], remove: tuple[str, ...], reason: str) -> None:
    """Add the days the federation's schools are closed (not school days), or take one away.

    Weekends and bank holidays are refused: they are never school days.

    \b
    Example:
      ledger --as head transfer closures --day 2026-04-07 --day 2026-04-08 --reason "Easter holiday"
      ledger --as head transfer closures --remove 2026-04-08 --reason "recorded in error"
    """
    saved = service.set_closures(state.ledger(), state.actor(), list(days), reason, list(remove))
    emit(f"{len(saved)} closure day(s) recorded: {', '.join(saved) or 'none'}")


COMMANDS = (transfer,)
