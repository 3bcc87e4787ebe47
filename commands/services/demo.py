"""``ledger demo``: a small federation built step by step, as different people."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from commands.services import approvals, casework_demo, export, incidents, monitoring, people, policy, readside
from commands.services import duties_demo, integrity, transfer_demo
from commands.services.setup import init_ledger
from ledger import config as configuration, localtime
from ledger.clock import Clock, SystemClock
from ledger.errors import AlreadyExists
from ledger.store import Ledger

DEMO_PASSPHRASE = "demo passphrase"

#: Each workflow walks through one of each of its steps, as the right people.
CHAPTERS = (
    policy.demo_chapter,
    approvals.demo_chapter,
    incidents.demo_chapter,
    monitoring.demo_chapter,
    casework_demo.demo_chapter,
    duties_demo.demo_chapter,
    readside.demo_chapter,
    export.demo_chapter,
    transfer_demo.demo_chapter,
)


def _integrity(ledger: Ledger) -> Iterator[str]:
    report = integrity.verify_ledger(ledger, ledger.config.trust_path, None)
    yield "Integrity (as an auditor would check it, with only the trust file)"
    verdict = "verifies" if report.ok else f"FAILS with {len(report.findings)} problem(s)"
    yield f"  {report.entries} signed entries, {report.checkpoints} checkpoints: the ledger {verdict}"


def run(directory: Path | None, env: Mapping[str, str], clock: Clock | None = None) -> Iterator[str]:
    """Build the demo ledger, its entries timed by ``clock`` (default: this machine's);
    yields a line per step."""
    if directory is None:
        started = localtime.local((clock or SystemClock()).now(), localtime.zone_named(localtime.DEFAULT_ZONE))
        directory = Path.cwd() / f"ledger-demo-{started:%Y%m%d-%H%M%S}"
    directory = directory.absolute()
    if directory.exists() and any(directory.iterdir()):
        raise AlreadyExists(f"{directory} is not empty", "give --dir a new or empty folder")
    config = configuration.resolve({}, home=str(directory), db=env.get("LEDGER_DEMO_DB"))
    created = init_ledger(config, "Pat Admin", DEMO_PASSPHRASE, DEMO_PASSPHRASE, "it-manager", None,
                          schools=("Oak Primary", "Elm Primary"), clock=clock)
    yield f"Created ledger {created.ledger_id} in {directory}"
    yield f"  IT manager (admin): {created.admin_id}"
    ledger = Ledger(config, clock)
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
        registrar = admin
        for staff_id, name, roles, school in staff:
            people.add_staff(ledger, registrar, name, roles, DEMO_PASSPHRASE, staff_id, school=school)
            yield f"  {staff_id:<13} {'+'.join(roles):<22} registered by {registrar.actor_id}, key created"
            if staff_id == "head":
                # The IT manager may give the first Headteacher their role; every other
                # role is given by those the grant table names (never the IT manager).
                registrar = ledger.unlock("head", DEMO_PASSPHRASE)
        dsl = ledger.unlock("dsl", DEMO_PASSPHRASE)
        pupils = [
            ("pupil1", "Pip Pupil", "2016-04-12", "Oak Primary"),
            ("pupil2", "Robin Reader", "2015-09-30", "Oak Primary"),
            ("pupil3", "Kit Kestrel", "2017-01-05", "Elm Primary"),
        ]
        subjects: dict[str, str] = {}
        for key, name, dob, school in pupils:
            subjects[key] = people.add_subject(ledger, dsl, "pupil", name, dob, school)
            yield f"  {subjects[key]:<13} pupil at {school}, registered by dsl (name and birth date encrypted)"
        subjects["parent1"] = people.add_subject(ledger, dsl, "parent", "Pat Parent", None, "Oak Primary")
        yield f"  {subjects['parent1']:<13} parent, registered by dsl"
        actors = {"it-manager": admin}
        actors.update({staff_id: ledger.unlock(staff_id, DEMO_PASSPHRASE) for staff_id, *_ in staff})
        for chapter in CHAPTERS:
            yield ""
            yield from chapter(ledger, actors, subjects)
        yield ""
        yield from _integrity(ledger)
        yield ""
        yield "Where it lives:"
        yield f"  database:   {config.db_url}"
        yield f"  keys:       {config.keys_dir}  (every demo passphrase is {DEMO_PASSPHRASE!r})"
        yield f"  trust file: {config.trust_path}"
        yield ""
        yield "Try:"
        yield f"  ledger --home {directory} people list"
        yield f"  export LEDGER_PASSPHRASE='{DEMO_PASSPHRASE}'"
        yield f"  ledger --home {directory} --as dsl people show {subjects['parent1']} --reason \"checking contact details\""
        yield f"  ledger --home {directory} --as head timeline --person {subjects['pupil1']} --reason \"case review\""
        yield f"  ledger --home {directory} verify --trust {config.trust_path}"
        yield ""
        yield "The web desk on this ledger:"
        yield f"  ledger --home {directory} serve"
        yield "  then open http://127.0.0.1:8080/ and sign in as dsl, head, teacher-1 or investigator"
        yield f"  with the passphrase {DEMO_PASSPHRASE!r} (Ctrl+C stops the desk and closes every session)"
    finally:
        ledger.close()
