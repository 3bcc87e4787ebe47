"""The demo's transfer chapter: a pupil leaves for a school with its own ledger (in a sub-folder),
their child protection file goes there, and the receipt comes back."""

from __future__ import annotations

from collections.abc import Iterator

from commands.services import people
from commands.services import transfer as service
from commands.services.setup import init_ledger
from ledger import config as configuration
from ledger import transfer_box as box
from ledger.store import Actor, Ledger

NEXT_SCHOOL = "Birch Academy"


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """Pip leaves Oak Primary for Birch Academy, which runs its own policy-ledger."""
    from commands.services.demo import DEMO_PASSPHRASE

    home = ledger.config.home / "next-school"
    folder = ledger.config.home / "transfers"
    folder.mkdir(exist_ok=True)
    config = configuration.resolve({}, home=str(home))
    created = init_ledger(config, "Nia Admin", DEMO_PASSPHRASE, DEMO_PASSPHRASE, "it-manager", None,
                          schools=(NEXT_SCHOOL,), clock=ledger.clock)
    birch = Ledger(config, ledger.clock)
    try:
        admin = birch.unlock("it-manager", DEMO_PASSPHRASE)
        people.add_staff(birch, admin, "Bea Head", ["headteacher", "staff"], DEMO_PASSPHRASE, "head",
                         school=NEXT_SCHOOL)
        head = birch.unlock("head", DEMO_PASSPHRASE)
        people.add_staff(birch, head, "Ben Lead", ["dsl", "staff"], DEMO_PASSPHRASE, "dsl", school=NEXT_SCHOOL)
        birch_dsl = birch.unlock("dsl", DEMO_PASSPHRASE)
        yield "Transfer of a child protection file (KCSIE: within 5 school days, with a receipt):"
        yield f"  {NEXT_SCHOOL} runs its own ledger {created.ledger_id} in {home}"
        private, public = box.keygen(home / "transfer-key", NEXT_SCHOOL, "Ben Lead", DEMO_PASSPHRASE)
        yield (f"  Birch's DSL made a transfer key; its fingerprint, read out by phone: "
               f"{box.fingerprint(box.load_public_key(public)['agreement_key'])}")
        pupil = subjects["pupil1"]
        dsl = actors["dsl"]
        left = service.leave(ledger, dsl, pupil, ledger.today(), NEXT_SCHOOL)
        yield f"  {left.person_label} left Oak today for {NEXT_SCHOOL}: recorded by dsl, file due by {left.due_by}"
        out = folder / f"{pupil}.transfer"
        sent = service.send(ledger, dsl, service.SendRequest(pupil, NEXT_SCHOOL, out, to_key=public, force=True))
        yield (f"  {out.name}: {sent.entries} entries sealed to Birch's DSL, signed by Oak's ledger "
               f"(key {sent.ledger_fingerprint}); sha256 {sent.sealed_sha256[:16]}…")
        receipt = folder / f"{pupil}-receipt.json"
        taken = service.take_in(birch, birch_dsl, service.TakeInRequest(
            sealed=out, key=private, key_passphrase=DEMO_PASSPHRASE, receipt=receipt, force=True))
        yield (f"  Birch's dsl took it in: {taken.entries} entries, {len(taken.checks)} checks passed; their "
               "entries keep Oak's signatures (nothing is re-signed at Birch); signed receipt written")
        yield f"  the file says, in a signed entry inside it: {taken.introduced}"
        done = service.record_receipt(ledger, dsl, receipt)
        yield f"  Oak's dsl recorded the receipt: received by {done.receiver} at {done.received_at}"
        yield (f"  the DSL at Birch can read it: `ledger --home {home} --as dsl transfer open {taken.transfer_id} "
               "--out pip.zip --reason …`")
    finally:
        birch.close()
