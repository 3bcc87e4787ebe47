"""``ledger demo``: a small federation built step by step, as different people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

from commands.services import people
from commands.services.setup import init_ledger
from ledger import config as configuration
from ledger.errors import AlreadyExists
from ledger.store import Ledger

DEMO_PASSPHRASE = "demo passphrase"


def run(directory: Path | None, env: Mapping[str, str]) -> Iterator[str]:
    """Build the demo ledger; yields a line per step."""
    if directory is None:
        directory = Path.cwd() / f"ledger-demo-{dt.datetime.now():%Y%m%d-%H%M%S}"
    directory = directory.absolute()
    if directory.exists() and any(directory.iterdir()):
        raise AlreadyExists(f"{directory} is not empty", "give --dir a new or empty folder")
    config = configuration.resolve({}, home=str(directory), db=env.get("LEDGER_DEMO_DB"))
    created = init_ledger(config, "Pat Admin", DEMO_PASSPHRASE, DEMO_PASSPHRASE, "it-manager", None)
    yield f"Created ledger {created.ledger_id} in {directory}"
    yield f"  IT manager (admin): {created.admin_id}"
    ledger = Ledger(config)
    try:
        admin = ledger.unlock("it-manager", DEMO_PASSPHRASE)
        staff = [
            ("head", "Helen Head", ["headteacher", "staff"], "Oak Primary"),
            ("dsl", "Dev Lead", ["dsl", "staff"], "Oak Primary"),
            ("slt", "Sam Senior", ["slt", "staff"], "Elm Primary"),
            ("poster-1", "Abi Bowden", ["poster", "staff"], "Oak Primary"),
            ("teacher-1", "Tara Teacher", ["staff"], "Oak Primary"),
            ("teacher-2", "Tom Tutor", ["staff"], "Elm Primary"),
            ("investigator", "Ivy Inquiry", ["investigator", "staff"], "Elm Primary"),
        ]
        for staff_id, name, roles, school in staff:
            people.add_staff(ledger, admin, name, roles, DEMO_PASSPHRASE, staff_id, school=school)
            yield f"  {staff_id:<13} {'+'.join(roles):<22} registered by it-manager, key created"
        dsl = ledger.unlock("dsl", DEMO_PASSPHRASE)
        pupils = [
            ("Pip Pupil", "2016-04-12", "Oak Primary"),
            ("Robin Reader", "2015-09-30", "Oak Primary"),
            ("Kit Kestrel", "2017-01-05", "Elm Primary"),
        ]
        for name, dob, school in pupils:
            subject_id = people.add_subject(ledger, dsl, "pupil", name, dob, school)
            yield f"  {subject_id:<13} pupil at {school}, registered by dsl (name and birth date encrypted)"
        parent = people.add_subject(ledger, dsl, "parent", "Pat Parent", None, "Oak Primary")
        yield f"  {parent:<13} parent, registered by dsl"
        yield ""
        yield "Where it lives:"
        yield f"  database:   {config.db_url}"
        yield f"  keys:       {config.keys_dir}  (every demo passphrase is {DEMO_PASSPHRASE!r})"
        yield f"  trust file: {config.trust_path}"
        yield ""
        yield "Try:"
        yield f"  ledger --home {directory} people list"
        yield f"  LEDGER_PASSPHRASE='{DEMO_PASSPHRASE}' ledger --home {directory} --as dsl people show {parent} --reason \"checking contact details\""
    finally:
        ledger.close()
