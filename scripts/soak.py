#!/usr/bin/env python3
"""Soak the ledger: crash, concurrency and fault campaigns; print what was tried and what held.

    python scripts/soak.py [--kills 60] [--writers 4] [--writes 25] [--postgres URL] [--pg-cluster]
                           [--campaigns crash,concurrency,faults] [--quick]

crash        SIGKILL a worker process at a random moment while it appends entries, seals big
             units (imports), catches projections up, exports bundles and sweeps retention;
             after every kill: every acknowledged write is there, the ledger verifies, the
             read side catches up, and no temporary file outlives the next export.
concurrency  WRITERS processes write at once on SQLite (and PostgreSQL with --postgres): every
             acknowledged write is there exactly once, the log verifies (no fork, one chain of
             checkpoints) and the projections agree with a rebuild.
faults       a database locked by another program (SQLite), a read-only database, a full disk
             (SQLite max_page_count), PostgreSQL going away mid-run (pg_terminate_backend, or
             with --pg-cluster a throw-away cluster on port 5499 stopped with -m immediate):
             every failure is a clean "Error:" (a LedgerError), nothing is half-written, and
             the ledger verifies and accepts writes again once the fault is gone.

Exit 0 when everything held, 1 otherwise. Soak ledgers use a cheap scrypt cost for their
throw-away key files. Figures from a run are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402

from commands.services import export, incidents, monitoring, people, readside, retention_plan  # noqa: E402
from commands.services.setup import init_ledger  # noqa: E402
from ledger import config as configuration, crypto  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.schema import merkle_leaves  # noqa: E402
from ledger.store import Ledger  # noqa: E402
from ledger.trust import Trust  # noqa: E402
from ledger.verify import verify  # noqa: E402
from projections import runner  # noqa: E402

PASS = "soak passphrase words"
CAST = {"head": ["headteacher", "staff"], "dsl": ["dsl", "staff"], "it": ["admin", "staff"]}
PHASES = ("append", "seal", "catch-up", "export", "sweep")
#: Sweeps run as of a date by which every soak alert is due for erasure.
SWEEP_AS_OF = dt.date(2199, 1, 1)


@dataclass
class Outcome:
    """One campaign's line of the report."""

    name: str
    tried: str
    held: bool = True
    notes: list[str] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.held = False
        self.notes.append(why)


# -- ledgers -----------------------------------------------------------------------------


def create(home: Path, db: str | None = None) -> Ledger:
    """A new ledger with a Headteacher, a DSL and an IT manager (cheap throw-away keys)."""
    crypto.SCRYPT_N = 2**10
    config = configuration.resolve({}, home=str(home), db=db)
    init_ledger(config, "Soak Admin", PASS, PASS + " recovery", "admin")
    ledger = Ledger(config)
    registrar = ledger.unlock("admin", PASS)
    for staff_id, roles in CAST.items():  # the Headteacher first: they give every other reader role
        people.add_staff(ledger, registrar, f"Soak {staff_id}", roles, PASS, staff_id)
        if "headteacher" in roles:
            registrar = ledger.unlock(staff_id, PASS)
    return ledger


def opened(home: Path, db: str | None = None) -> Ledger:
    return Ledger(configuration.resolve({}, home=str(home), db=db))


def verifies(ledger: Ledger) -> tuple[bool, int, str]:
    """(ok, entries, first problem) of a full verify against the ledger's own trust file."""
    with ledger.engine.connect() as conn:
        report = verify(conn, ledger.app.events_table, Trust.load(ledger.config.trust_path))
    problem = report.findings[0].problem if report.findings else ""
    return report.ok, report.entries, problem


def alerts_file(folder: Path, rows: int, seed: int) -> Path:
    path = folder / f"alerts-{seed}.csv"
    lines = ["time,source_system,source_record_id,user,category,severity,action,detail"]
    lines += [f"2025-01-0{1 + n % 9}T08:00:00Z,soak,S{seed}-{n},u{n % 7},gambling,low,blocked,detail {n}"
              for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the worker: a child process that works until it is killed ----------------------------------------


def worker(phase: str, home: Path, db: str | None, seed: int, count: int) -> None:
    """Loop one kind of work, printing ``ACK kind id`` after each commit (the parent kills us)."""
    ledger = opened(home, db)
    actors = {name: ledger.unlock(name, PASS) for name in CAST}
    folder = home / "work"
    folder.mkdir(exist_ok=True)
    print("READY", flush=True)
    n = 0
    while count <= 0 or n < count:
        n += 1
        if phase in ("append", "concurrent"):
            subject = people.add_subject(ledger, actors["dsl"], "pupil", f"Pupil {seed}-{n}")
            print(f"ACK subject {subject}", flush=True)
            inc = incidents.report(ledger, actors["dsl"], incidents.IncidentReport(
                "child-on-child", "2026-01-05T10:00", f"Soak {seed}-{n}", "facts", people=(f"{subject}:victim",)))
            print(f"ACK incident {inc}", flush=True)
        elif phase == "seal":
            done = monitoring.import_alerts(ledger, actors["it"], alerts_file(folder, 150, seed * 1000 + n))
            print(f"ACK batch {done.batch_id}", flush=True)
        elif phase == "catch-up":
            runner.rebuild(ledger)
            print("ACK rebuild -", flush=True)
        elif phase == "export":
            inc = os.environ["SOAK_INCIDENT"]
            made = export.export(ledger, actors["head"], export.ExportRequest(
                "soak", home / "exports" / "case.zip", incident=inc, force=True))
            print(f"ACK export {made.sha256}", flush=True)
        elif phase == "sweep":
            retention_plan.sweep(ledger, actors["head"], "soak sweep", SWEEP_AS_OF)
            print("ACK sweep -", flush=True)


def spawn(phase: str, home: Path, db: str | None, seed: int, count: int = 0,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", phase, "--home", str(home),
               "--seed", str(seed), "--count", str(count)] + (["--db", db] if db else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def acknowledged(output: str) -> list[tuple[str, str]]:
    return [tuple(line.split()[1:3]) for line in output.splitlines() if line.startswith("ACK ")]  # type: ignore[misc]


# -- crash ------------------------------------------------------------------------------------


def crash(kills: int, rng: random.Random, root: Path) -> Outcome:
    home = root / "crash"
    ledger = create(home)
    head = ledger.unlock("head", PASS)
    inc = incidents.report(ledger, head, incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Exported case", "facts"))
    (home / "exports").mkdir()
    acked: list[tuple[str, str]] = []
    counted = {p: 0 for p in PHASES}
    stale_parts = 0
    outcome = Outcome("crash", "")
    for number in range(kills):
        phase = PHASES[number % len(PHASES)]
        if phase == "sweep":
            monitoring.import_alerts(ledger, ledger.unlock("it", PASS), alerts_file(root, 40, 90_000 + number))
        child = spawn(phase, home, None, number, env={"SOAK_INCIDENT": inc})
        assert child.stdout is not None
        if child.stdout.readline().strip() != "READY":
            outcome.fail(f"worker {phase} did not start: {child.stderr.read() if child.stderr else ''}")
            child.kill()
            continue
        time.sleep(rng.uniform(0.05, 0.9))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        if "Traceback" in err:
            outcome.fail(f"{phase}: the worker failed before the kill: {err.strip().splitlines()[-1]}")
        acked += acknowledged(out)
        counted[phase] += 1
        if phase == "export":  # did the kill land mid-write? (then the next export must remove what it left)
            stale_parts += sum(1 for p in (home / "exports").iterdir() if p.name.endswith(".part"))
        _after_kill(ledger, home, phase, acked, outcome)
    final = export.export(ledger, head, export.ExportRequest("soak", home / "exports" / "case.zip", incident=inc,
                                                             force=True))
    parts = sorted(p.name for p in (home / "exports").iterdir() if p.name.endswith(".part"))
    if parts:
        outcome.fail(f"temporary files outlived the next export: {parts}")
    if not export.verify_bundle(final.path).ok:
        outcome.fail("the final bundle does not verify")
    ok, entries, _ = verifies(ledger)
    outcome.tried = (f"{kills} SIGKILLs ({', '.join(f'{counted[p]} {p}' for p in PHASES)}); "
                     f"{len(acked)} acknowledged writes/operations; {entries} entries at the end")
    if outcome.held:
        outcome.notes.append("after every kill: every acknowledged write present, verify OK, projections caught "
                             f"up; {stale_parts} .part file(s) left by export kills, none after the next export; "
                             "the final bundle verifies")
    ledger.close()
    return outcome


def _after_kill(ledger: Ledger, home: Path, phase: str, acked: list[tuple[str, str]], outcome: Outcome) -> None:
    ok, entries, problem = verifies(ledger)
    if not ok:
        outcome.fail(f"after a kill during {phase}: verify failed at {entries} entries: {problem}")
    try:
        readside.ensure_current(ledger)
    except LedgerError as exc:
        outcome.fail(f"after a kill during {phase}: catch-up failed: {exc}")
    with ledger.engine.connect() as conn:
        known = {str(r) for (r,) in conn.execute(text("SELECT actor_id FROM actors"))}
    missing = [i for kind, i in acked if kind == "subject" and i not in known]
    if missing:
        outcome.fail(f"after a kill during {phase}: acknowledged subjects missing: {missing[:3]}")


# -- concurrency ----------------------------------------------------------------------------------


def concurrency(writers: int, writes: int, root: Path, db: str | None, label: str) -> Outcome:
    home = root / f"concurrency-{label}"
    ledger = create(home, db)
    before = _entries(ledger)
    children = [spawn("concurrent", home, db, 100 + n, writes) for n in range(writers)]
    acked: list[tuple[str, str]] = []
    outcome = Outcome(f"concurrency ({label})", "")
    for child in children:
        out, err = child.communicate(timeout=600)
        acked += acknowledged(out)
        if child.returncode != 0:
            outcome.fail(f"a writer failed: {err.strip().splitlines()[-1] if err.strip() else child.returncode}")
    expected = writers * writes * 2
    ok, entries, problem = verifies(ledger)
    subjects = {i for kind, i in acked if kind == "subject"}
    if len(acked) != expected or len(subjects) != writers * writes:
        outcome.fail(f"{len(acked)} acknowledged of {expected}")
    if not ok:
        outcome.fail(f"verify failed: {problem}")
    if entries < before + expected:
        outcome.fail(f"the log holds {entries - before} new entries for {expected} acknowledged writes")
    readside.ensure_current(ledger)
    status = {r["name"]: r["processed"] for r in runner.status(ledger)}
    runner.rebuild(ledger)
    if {r["name"]: r["processed"] for r in runner.status(ledger)} != status:
        outcome.fail("projections kept up entry by entry differ from a rebuild")
    outcome.tried = f"{writers} writer processes x {writes} subjects + {writes} incidents each = {expected} writes"
    if outcome.held:
        outcome.notes.append(f"all {expected} present once; {entries} entries verify (one chain of checkpoints, no "
                             "fork); projections equal a rebuild")
    ledger.close()
    return outcome


def _entries(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(merkle_leaves)).scalar_one())


# -- faults -----------------------------------------------------------------------------------------


def faults(root: Path, postgres: str | None, pg_cluster: bool) -> list[Outcome]:
    found = [_locked(root), _read_only(root), _disk_full(root)]
    if postgres:
        found.append(_pg_connections_killed(root, postgres))
    if pg_cluster:
        found.append(_pg_cluster_stopped(root))
    return found


def _locked(root: Path) -> Outcome:
    outcome = Outcome("fault: database locked", "another program holds SQLite's exclusive lock for 2 s while a "
                      "write and a first read start")
    ledger = create(root / "locked")
    dsl = ledger.unlock("dsl", PASS)
    assert ledger.config.sqlite_path is not None
    blocker = sqlite3.connect(ledger.config.sqlite_path, isolation_level=None, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    results: list[object] = []

    def write() -> None:
        try:
            started = time.monotonic()
            results.append(people.add_subject(ledger, dsl, "pupil", "Waited"))
            results.append(time.monotonic() - started)
            readside.ensure_current(ledger)
        except Exception as exc:  # noqa: BLE001 - reported
            results.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(2)
    blocker.execute("COMMIT")
    blocker.close()
    thread.join(120)
    if len(results) < 2 or isinstance(results[0], Exception):
        outcome.fail(f"the write failed: {results}")
    else:
        outcome.notes.append(f"the write waited {results[1]:.1f} s for the lock and then committed; the first "
                             "read created the projection tables after it")
    if not verifies(ledger)[0]:
        outcome.fail("verify failed afterwards")
    ledger.close()
    return outcome


def _read_only(root: Path) -> Outcome:
    outcome = Outcome("fault: read-only database", "")
    home = root / "readonly"
    create(home).close()
    before = (home / "ledger.db").read_bytes()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LEDGER_HOME": str(home), "LEDGER_PASSPHRASE": PASS,
           "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from commands.cli.main import main; main()", "--as", "dsl", "people",
               "add-subject", "--kind", "pupil", "--name", "Refused"]
    if os.geteuid() == 0:  # root ignores file modes: run the write as nobody
        for path in [home, *home.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        outcome.tried = "a write as a user who may read but not write the database files (setpriv to nobody)"
    else:
        (home / "ledger.db").chmod(0o444)
        home.chmod(0o555)
        outcome.tried = "a write with the database file and its folder read-only"
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root)
    if os.geteuid() != 0:
        home.chmod(0o700)
        (home / "ledger.db").chmod(0o600)
    if done.returncode != 1 or not done.stderr.startswith("Error: ") or "unexpected" in done.stderr:
        outcome.fail(f"not a clean refusal: exit {done.returncode}: {done.stderr.strip()[:200]}")
    else:
        outcome.notes.append(f"refused: {done.stderr.splitlines()[0][:110]}")
    if (home / "ledger.db").read_bytes() != before:
        outcome.fail("the database file changed")
    return outcome


def _disk_full(root: Path) -> Outcome:
    outcome = Outcome("fault: disk full", "SQLite max_page_count set a few pages above the database's size, then "
                      "writes until it is full")
    ledger = create(root / "full")
    dsl = ledger.unlock("dsl", PASS)

    @event.listens_for(ledger.engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 40}")

    ledger.engine.dispose()
    written, refused = 0, None
    for n in range(2000):
        try:
            people.add_subject(ledger, dsl, "pupil", f"Filler {n} " + "x" * 150)
            written += 1
        except LedgerError as exc:
            refused = exc
            break
        except Exception as exc:  # noqa: BLE001 - reported
            outcome.fail(f"not a LedgerError: {type(exc).__name__}: {exc}")
            break
    event.remove(ledger.engine, "connect", _limit)
    ledger.engine.dispose()
    if refused is None:
        outcome.fail("the disk never filled")
    else:
        outcome.notes.append(f"{written} writes fitted, then: Error: {str(refused)[:90]}")
    ok, entries, problem = verifies(ledger)
    with ledger.engine.connect() as conn:
        events = int(conn.execute(select(func.count()).select_from(ledger.app.events_table)).scalar_one())
    if not ok or events != entries:
        outcome.fail(f"after the full disk: verify {ok} ({problem}); {events} events vs {entries} sealed")
    try:
        people.add_subject(ledger, dsl, "pupil", "After space was freed")
        outcome.notes.append("nothing half-written (every event sealed, verify OK); writes work again once freed")
    except LedgerError as exc:
        outcome.fail(f"no write after space was freed: {exc}")
    ledger.close()
    return outcome


def _pg_connections_killed(root: Path, postgres: str) -> Outcome:
    outcome = Outcome("fault: PostgreSQL goes away", "a writer loops while every connection to its database is "
                      "terminated (pg_terminate_backend) five times")
    with scratch_database(postgres, "soak_fault") as (url, name):
        server = create_engine(configuration.normalise_url(postgres), isolation_level="AUTOCOMMIT")
        try:
            _writer_through_outages(root / "pg", url, outcome, lambda: _terminate(server, name), 5)
        finally:
            server.dispose()
    return outcome


@contextlib.contextmanager
def scratch_database(postgres: str, prefix: str) -> Iterator[tuple[str, str]]:
    """A new database on the server (its URL and name), dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    server = create_engine(configuration.normalise_url(postgres), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield configuration.normalise_url(postgres).rsplit("/", 1)[0] + "/" + name, name
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _terminate(server: Any, name: str) -> None:
    with server.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                          "AND pid <> pg_backend_pid()"), {"n": name})


def _writer_through_outages(home: Path, url: str, outcome: Outcome, outage: Any, times: int,
                            recover: Any = None) -> None:
    ledger = create(home, url)
    dsl = ledger.unlock("dsl", PASS)
    acked: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            try:
                acked.append(people.add_subject(ledger, dsl, "pupil", "Through an outage"))
            except LedgerError as exc:
                errors.append(str(exc)[:80])
                time.sleep(0.1)
            except Exception as exc:  # noqa: BLE001 - the thing this campaign looks for
                ours = [f for f in traceback.extract_tb(exc.__traceback__) if str(REPO) in f.filename and "/.venv/" not in f.filename]
                where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
                errors.append(f"UNEXPECTED {type(exc).__name__} at {where}: {str(exc).splitlines()[0]}")
                time.sleep(0.1)

    thread = threading.Thread(target=write)
    thread.start()
    for _ in range(times):
        time.sleep(0.7)
        outage()
        if recover is not None:
            time.sleep(1)
            recover()
    time.sleep(1)
    stop.set()
    thread.join(120)
    unexpected = [e for e in errors if e.startswith("UNEXPECTED")]
    if unexpected:
        outcome.fail(f"{len(unexpected)} failures were not clean errors: {unexpected[0][:150]}")
    ok, entries, problem = verifies(ledger)
    with ledger.engine.connect() as conn:
        known = {str(r) for (r,) in conn.execute(text("SELECT actor_id FROM actors"))}
    missing = [a for a in acked if a not in known]
    if not ok or missing:
        outcome.fail(f"verify {ok} ({problem}); {len(missing)} acknowledged writes missing")
    if outcome.held:
        outcome.notes.append(f"{len(acked)} writes acknowledged, {len(errors)} refused cleanly during outages "
                             f"(e.g. Error: {errors[0] if errors else '-'}); all acknowledged present, "
                             f"{entries} entries verify")
    ledger.close()


def _pg_cluster_stopped(root: Path) -> Outcome:
    outcome = Outcome("fault: PostgreSQL stopped", "a writer loops against a throw-away cluster (port 5499) that is "
                      "stopped with -m immediate and started again, three times")
    bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip())
    data = root / "pgcluster"
    data.mkdir()
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(root, "postgres", "postgres")
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log")]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)

    def start() -> None:
        subprocess.run([*pg_ctl, "-o", f"-p 5499 -k {data} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=True, capture_output=True)

    start()
    try:
        _writer_through_outages(root / "pgc", "postgresql+psycopg://postgres@127.0.0.1:5499/postgres", outcome,
                                stop, 3, start)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
    return outcome


# -- main -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--writes", type=int, default=25, help="subjects (and as many incidents) per writer")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--pg-cluster", action="store_true", help="also stop a throw-away PostgreSQL cluster")
    parser.add_argument("--campaigns", default="crash,concurrency,faults")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON as well")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.home, args.db, args.seed, args.count)
        return 0
    rng = random.Random(args.seed)
    chosen = set(args.campaigns.split(","))
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ledger-soak-") as folder:
        root = Path(folder)
        os.chmod(root, 0o755)
        if "crash" in chosen:
            outcomes.append(crash(args.kills, rng, root))
        if "concurrency" in chosen:
            outcomes.append(concurrency(args.writers, args.writes, root, None, "SQLite"))
            if args.postgres:
                with scratch_database(args.postgres, "soak_concurrency") as (url, _):
                    outcomes.append(concurrency(args.writers, args.writes, root, url, "PostgreSQL"))
        if "faults" in chosen:
            outcomes += faults(root, args.postgres, args.pg_cluster)
    for outcome in outcomes:
        print(f"{'HELD' if outcome.held else 'FAILED'}  {outcome.name}: {outcome.tried}")
        for note in outcome.notes:
            print(f"        {note}")
    print(f"{sum(o.held for o in outcomes)} of {len(outcomes)} campaigns held "
          f"({time.monotonic() - started:.0f} s)")
    if args.json:
        print(json.dumps([o.__dict__ for o in outcomes]))
    return 0 if outcomes and all(o.held for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
