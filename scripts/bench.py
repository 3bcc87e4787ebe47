#!/usr/bin/env python3
"""Issue 13's figures, each measured against its baseline in the same run.

    python scripts/bench.py --events 100000 --dir /tmp/bench-fed [--db URL] [--postgres URL] [--json out.json]

A federation of about ``--events`` entries is built through the real write path
(monitoring imports in bulk, incidents with notes, policy versions and
acknowledgements, approval requests, a legal hold) in ``--dir`` and reused by
later runs with the same ``--dir`` (its size and build time are kept in
``bench-federation.json`` there). A small federation (``--small`` entries) is
built in a temporary folder each run as the baseline for the read figures.

Rows (issue 13's table):

- append, SQLite: ledger units of 10 events vs plain ``eventsourcing`` on a SQLite file;
- append, PostgreSQL (``--postgres`` server URL; two databases are created and dropped):
  ledger vs plain ``eventsourcing`` on the same server; then 4 concurrent writers
  (their combined rate vs the single writer's) and a verify of the result;
- build: events/s of the generator, and the time that means for 1,000,000 events;
- verify: full verify of the large federation, entries/s vs raw Ed25519
  verifications/s x cores measured in the same run;
- ``ledger --help`` CPU time over ``python -c pass``;
- list commands (incidents list, approvals list, policy status, retention plan,
  hold list), service time at the small and the large size;
- retention sweep: records erased per second on a federation whose alerts are all
  due, and the time that means for 100,000 due records;
- ``verify --since`` after 1,000 new entries (vs the full verify);
- inclusion proof (small vs large);
- peak memory (RSS) of a full verify in its own process (small vs large);
- one incident's timeline (small vs large);
- names (issue 11): finding a pupil by name among ``--pupils`` in five schools vs opening
  one pupil's record (``--names-only`` runs just this).

Prints the table and writes JSON with ``--json``. Asserts nothing: speed is never a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_timeline as generator  # noqa: E402
from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from commands.services import approvals, incidents, integrity, policy, retention, retention_plan  # noqa: E402
from commands.services.setup import init_ledger  # noqa: E402
from ledger import config as configuration, crypto, progress, proofs  # noqa: E402
from ledger.domain.people import Subject  # noqa: E402
from ledger.schema import merkle_leaves  # noqa: E402
from ledger.store import Actor, Ledger  # noqa: E402
from projections import runner  # noqa: E402

PASS = generator.PASS
MARKER = "bench-federation.json"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_ms(action: Callable[[], Any], runs: int = 5) -> float:
    """Median wall time of ``action`` in milliseconds (after one warm-up call)."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# -- the federation generator -------------------------------------------------------------


def _extras(ledger: Ledger, cast: dict[str, Actor], inc: str) -> None:
    """What the list commands list: a policy version and acknowledgements, requests, a hold."""
    import datetime as dt

    today = dt.date.fromisoformat(ledger.today())
    notified = today - dt.timedelta(days=60)
    policy.publish_version(ledger, cast["head"], f"{notified:%Y.%m}", notified.isoformat(),
                           policy.one_month_after(notified).isoformat(), "Board of Directors",
                           text="Social Media, Mobile Phone and Smart Technology Policy",
                           notified_on=notified.isoformat())
    for who in ("head", "dsl", "teacher"):
        policy.acknowledge(ledger, cast[who])
    for n in range(20):
        approvals.request_permission(ledger, cast["teacher"], "media", f"Talk number {n} about online safety")
    retention.place_hold(ledger, cast["dsl"], inc, "claim pending")


def federation(home: Path, db: str | None, events: int, per_file: int) -> tuple[Ledger, dict[str, Actor], str, dict[str, Any]]:
    """The federation in ``home``: built now (about ``events`` entries), or reused."""
    marker = home / MARKER
    if marker.exists():
        info = json.loads(marker.read_text())
        ledger, cast, inc = generator.reopen(home / "home", info.get("db"))
        cast = {name: ledger.unlock(name, PASS) for name in ("admin", "head", "dsl", "slt", "teacher")}
        info["reused"] = True
        return ledger, cast, inc, info
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ledger, cast, inc, _ = generator.build_ledger(home / "home", db, events, per_file)
    _extras(ledger, cast, inc)
    built_s = time.perf_counter() - started
    info = {"events": generator._events(ledger), "build_s": built_s, "db": db, "reused": False}
    marker.write_text(json.dumps(info))
    return ledger, cast, inc, info


# -- append -------------------------------------------------------------------------------


class Plain(Aggregate):
    """The baseline aggregate: same shape of events, no envelope."""

    @event("Registered")
    def __init__(self, details: dict[str, str]) -> None:
        self.details = details

    @event("Corrected")
    def correct(self, details: dict[str, str]) -> None:
        self.details = details


def plain_append(env: dict[str, str], aggregates: int, per: int) -> float:
    """Events/s of plain eventsourcing, one save (transaction) per aggregate."""
    app: Application = Application(env=env)  # type: ignore[type-arg]
    started = time.perf_counter()
    for n in range(aggregates):
        item = Plain({"name": f"Person {n}"})
        for m in range(per - 1):
            item.correct({"name": f"Person {n}.{m}"})
        app.save(item)
    rate = aggregates * per / (time.perf_counter() - started)
    app.close()
    return rate


def fresh_ledger(folder: Path, db: str | None) -> Ledger:
    config = configuration.resolve({}, home=str(folder), db=db)
    init_ledger(config, "Bench Admin", PASS, PASS, "admin")
    ledger = Ledger(config)
    from commands.services import people

    people.add_staff(ledger, ledger.unlock("admin", PASS), "Bench Head", ["headteacher", "staff"], PASS, "head")
    people.add_staff(ledger, ledger.unlock("head", PASS), "Bench Lead", ["dsl"], PASS, "dsl")
    return ledger


def ledger_append(ledger: Ledger, aggregates: int, per: int, prefix: str = "b") -> float:
    """Events/s through the ledger: one unit (transaction, seal, checkpoint) per aggregate."""
    dsl = ledger.unlock("dsl", PASS)
    started = time.perf_counter()
    for n in range(aggregates):
        with ledger.unit(dsl, write=True) as work:
            subject = Subject.register(f"sb-{prefix}{n}", "pupil", {"name": f"Person {n}"})
            for m in range(per - 1):
                subject.correct({"name": f"Person {n}.{m}"}, "bench")
            work.save(subject)
    return aggregates * per / (time.perf_counter() - started)


def _writer(args: tuple[str, str, int, int, str]) -> int:
    home, db, aggregates, per, prefix = args
    crypto.SCRYPT_N = 2**12
    ledger = Ledger(configuration.resolve({}, home=home, db=db))
    ledger_append(ledger, aggregates, per, prefix)
    ledger.close()
    return aggregates * per


def postgres_rows(server: str, folder: Path, aggregates: int, per: int) -> dict[str, Any]:
    """Ledger vs plain eventsourcing on the same PostgreSQL server; then 4 writers."""
    url = make_url(server)
    names = (f"bench_plain_{os.getpid()}", f"bench_ledger_{os.getpid()}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # eventsourcing's own PostgreSQL module needs psycopg_pool; its SQLAlchemy persistence
        # (the one the ledger is built on) is the same library on the same server.
        base = plain_append({
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url.set(database=names[0]).render_as_string(hide_password=False),
        }, aggregates, per)
        ledger_url = url.set(database=names[1]).render_as_string(hide_password=False)
        ledger = fresh_ledger(folder / "pg", ledger_url)
        ours = ledger_append(ledger, aggregates, per)
        ledger.close()
        started = time.perf_counter()
        jobs = [(str(folder / "pg"), ledger_url, aggregates // 4, per, f"w{n}-") for n in range(4)]
        with multiprocessing.get_context("fork").Pool(4) as pool:
            written = sum(pool.map(_writer, jobs))
        together = written / (time.perf_counter() - started)
        ledger = Ledger(configuration.resolve({}, home=str(folder / "pg"), db=ledger_url))
        report = integrity.verify_ledger(ledger, ledger.config.trust_path, None)
        ledger.close()
        return {"plain_pg_events_s": base, "ledger_pg_events_s": ours, "four_writers_events_s": together,
                "four_writers_verified": report.ok}
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- verify, proofs, memory ---------------------------------------------------------------


def raw_ed25519_rate(samples: int = 3000) -> float:
    """Ed25519 verifications/s on one core (what a full verify must do once per entry)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    messages = [os.urandom(400) for _ in range(samples)]
    signatures = [key.sign(m) for m in messages]
    started = time.perf_counter()
    for message, signature in zip(messages, signatures):
        public.verify(signature, message)
    return samples / (time.perf_counter() - started)


def full_verify(ledger: Ledger) -> tuple[float, int, bool]:
    started = time.perf_counter()
    report = integrity.verify_ledger(ledger, ledger.config.trust_path, None, projections=False)
    return time.perf_counter() - started, report.entries, report.ok


VERIFY_IN_A_PROCESS = """
import resource, sys, time
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from commands.services import integrity
from ledger import config as configuration
from ledger.store import Ledger
ledger = Ledger(configuration.resolve({}, home=sys.argv[1], db=sys.argv[2] or None))
report = integrity.verify_ledger(ledger, ledger.config.trust_path, None, projections=False)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(report.ok, report.entries, own, workers)
"""


def verify_peak_mb(ledger: Ledger) -> tuple[float, float]:
    """Peak resident memory (MB) of a full verify in its own process, and of its largest worker.

    Started through a small shell (never ``exec``): Linux keeps a process's peak RSS across
    ``execve``, so a child exec'ed straight from this (large) process would report ours.
    """
    command = " ".join(shlex.quote(a) for a in (
        sys.executable, "-c", VERIFY_IN_A_PROCESS, str(ledger.config.home),
        "" if ledger.config.is_sqlite else str(ledger.config.db_url), str(ROOT)))
    done = subprocess.run(["sh", "-c", f"{command}; true"], capture_output=True, text=True, check=True)
    ok, _, own, workers = done.stdout.split()
    if ok != "True":
        raise SystemExit("verify failed in the memory run")
    return int(own) / 1024, int(workers) / 1024


def inclusion_ms(ledger: Ledger) -> float:
    with ledger.engine.connect() as conn:
        size = int(conn.execute(select(func.count()).select_from(merkle_leaves)).scalar_one())
        index = size // 3
        return median_ms(lambda: proofs.inclusion(conn, index, size), runs=50)


def since_verify(ledger: Ledger, folder: Path) -> tuple[float, int]:
    """Seconds for ``verify --since`` (saved checkpoint) after 1,000 new entries."""
    saved = folder / "since.txt"
    saved.write_text(integrity.latest_checkpoint(ledger))
    ledger_append(ledger, 100, 10, prefix=f"s{int(time.time())}-")
    started = time.perf_counter()
    report = integrity.verify_ledger(ledger, ledger.config.trust_path, saved, projections=False)
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"verify --since failed: {report.findings[:3]}")
    if report.resumed is None:
        raise SystemExit(f"verify --since did not resume at the saved checkpoint: {report.replayed}")
    return elapsed, report.entries


# -- reads --------------------------------------------------------------------------------


def list_times(ledger: Ledger, cast: dict[str, Actor]) -> dict[str, float]:
    runner.catch_up(ledger)
    head, dsl = cast["head"], cast["dsl"]
    return {
        "incidents list": median_ms(lambda: incidents.list_incidents(ledger, dsl)),
        "approvals list": median_ms(lambda: approvals.list_approvals(ledger, head)),
        "policy status": median_ms(lambda: policy.acknowledgement_status(ledger, head)),
        "retention plan": median_ms(lambda: retention_plan.plan(ledger, head, None, retention_plan.SHOWN), runs=3),
        "hold list": median_ms(lambda: retention.list_holds(ledger)),
    }


def sweep_rate(folder: Path, alerts: int) -> tuple[float, int, float]:
    """Records erased per second by a sweep where every alert is due."""
    import datetime as dt

    ledger, cast, _, _ = generator.build_ledger(folder / "sweep", None, alerts + 700, alerts)
    runner.catch_up(ledger)
    as_of = dt.date.fromisoformat(ledger.today()) + dt.timedelta(days=400)
    started = time.perf_counter()
    _, counts = retention_plan.plan(ledger, cast["head"], as_of)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    done = retention_plan.sweep(ledger, cast["head"], "benchmark", as_of)
    elapsed = time.perf_counter() - started
    ledger.close()
    return done.erased / elapsed, done.erased, plan_s


def cpu_seconds(command: list[str], runs: int = 7) -> float:
    """Median user+system CPU seconds of a whole process."""
    spent = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(spent)


# -- names (issue 11) ---------------------------------------------------------------------

SURNAMES = ("Evans", "Patel", "Smith", "Jones", "Khan", "Williams", "Brown", "Taylor", "Davies", "Wilson",
            "Ångström", "O'Neill", "Nowak", "Okafor", "Murphy", "Chen", "Ahmed", "Roberts", "Walker", "Wright")
GIVEN = ("Pip", "Zoë", "Amir", "Bea", "Cal", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kit", "Lola",
         "Milo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tom", "Uma", "Vik", "Wren")


def name_search(folder: Path, pupils: int, runs: int = 15) -> None:
    """Find a pupil by name among ``pupils`` in five schools, against opening one pupil's record."""
    from commands.services import directory, people, setup

    folder.mkdir(parents=True, exist_ok=True)
    ledger = fresh_ledger(folder / "ledger", None)
    admin, dsl = ledger.unlock("admin", PASS), ledger.unlock("dsl", PASS)
    schools = tuple(f"School {n + 1}" for n in range(5))
    setup.change_settings(ledger, admin, None, schools, "the federation's schools")
    people.add_staff(ledger, admin, "Bench Teacher", ["staff"], PASS, "teacher", school=schools[0])
    start = time.perf_counter()
    per = pupils // len(schools)
    for s, school in enumerate(schools):
        roll = [{"name": f"{GIVEN[(n * 7 + s) % len(GIVEN)]} {SURNAMES[(n // len(GIVEN) + s) % len(SURNAMES)]}"
                         f"-{n % 40}", "year_group": f"Year {n % 7 + 1}", "date_of_birth": "2014-09-01",
                 "id": f"sb-{s}-{n}"} for n in range(per)]
        people.add_pupils(ledger, dsl, school, roll)
    built = time.perf_counter() - start
    teacher = ledger.unlock("teacher", PASS)
    one = median_ms(lambda: people.read_details(ledger, dsl, "sb-0-1", "bench"), runs)
    found = directory.find(ledger, dsl, "pip evans", "pupil")
    found_ms = median_ms(lambda: directory.find(ledger, dsl, "pip evans", "pupil"), runs)
    picked = directory.pick_pupils(ledger, teacher, "pip evans")
    picked_ms = median_ms(lambda: directory.pick_pupils(ledger, teacher, "pip evans"), runs)
    ledger.close()
    print(f"\n7. name search, {per * len(schools):,} pupils in {len(schools)} schools (rolls imported in {built:.0f} s)")
    print(f"   open one pupil's record (`people show`, baseline):   median {one:6.1f} ms")
    print(f"   DSL finds \"pip evans\" in every school (`people find`): median {found_ms:6.1f} ms   "
          f"ratio {found_ms / one:.2f}x   ({len(found)} shown, DOB from each record); goal < 200 ms")
    print(f"   teacher picks \"pip evans\" in their school (`people pick`): median {picked_ms:6.1f} ms   "
          f"ratio {picked_ms / one:.2f}x   ({len(picked)} shown)")


# -- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="size of the large federation (up to 1,000,000)")
    parser.add_argument("--dir", type=Path, help="where the large federation lives (reused when present)")
    parser.add_argument("--db", help="database URL for the large federation (default: SQLite in --dir)")
    parser.add_argument("--per-file", type=int, default=20_000, help="alerts per import unit")
    parser.add_argument("--small", type=int, default=5_000, help="size of the baseline federation")
    parser.add_argument("--aggregates", type=int, default=200, help="append: units of --events-per events")
    parser.add_argument("--events-per", type=int, default=10)
    parser.add_argument("--postgres", help="PostgreSQL server URL for the append rows (databases are made and dropped)")
    parser.add_argument("--sweep-alerts", type=int, default=300, help="due records in the sweep measurement")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--pupils", type=int, default=5_000, help="pupils in the name-search federation")
    parser.add_argument("--names-only", action="store_true", help="run only the name search")
    args = parser.parse_args()
    progress.show()
    crypto.SCRYPT_N = 2**12
    if args.names_only:
        with tempfile.TemporaryDirectory() as tmp:
            name_search(Path(tmp), args.pupils)
        return
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"{platform.platform()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    say(out["machine"])
    home = args.dir or Path(tempfile.mkdtemp(prefix="bench-fed-"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        say("help CPU time")
        ledger_cli = [sys.executable, "-c", "from commands.main import main; main()", "--help"]
        nothing = cpu_seconds([sys.executable, "-c", "pass"])
        out["help_cpu_s"] = cpu_seconds(ledger_cli) - nothing
        out["python_pass_cpu_s"] = nothing

        say("append, SQLite")
        out["plain_sqlite_events_s"] = plain_append(
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "plain.db")},
            args.aggregates, args.events_per)
        small_append = fresh_ledger(folder / "append", None)
        out["ledger_sqlite_events_s"] = ledger_append(small_append, args.aggregates, args.events_per)
        small_append.close()
        if args.postgres:
            say("append, PostgreSQL")
            out.update(postgres_rows(args.postgres, folder, args.aggregates, args.events_per))

        say(f"baseline federation (~{args.small:,} events)")
        small, small_cast, small_inc, _ = generator.build_ledger(folder / "small", None, args.small, args.small)
        _extras(small, small_cast, small_inc)
        small_cast = {name: small.unlock(name, PASS) for name in ("admin", "head", "dsl", "slt", "teacher")}
        say(f"large federation (~{args.events:,} events) in {home}")
        large, cast, inc, info = federation(home, args.db, args.events, args.per_file)
        out["events"], out["build_s"], out["reused"] = info["events"], info["build_s"], info["reused"]
        out["build_events_s"] = info["events"] / info["build_s"]
        runner.catch_up(small)
        started = time.perf_counter()
        runner.catch_up(large)
        out["catch_up_s"] = time.perf_counter() - started

        say("lists")
        out["lists_small_ms"] = list_times(small, small_cast)
        out["lists_large_ms"] = list_times(large, cast)
        out["small_events"] = generator._events(small)

        say("verify")
        out["ed25519_one_core_s"] = raw_ed25519_rate()
        seconds, entries, ok = full_verify(large)
        out["verify_s"], out["verify_entries"], out["verify_ok"] = seconds, entries, ok
        out["verify_entries_s"] = entries / seconds
        say("verify --since")
        out["since_s"], out["since_entries"] = since_verify(large, folder)
        say("inclusion proof")
        out["inclusion_small_ms"], out["inclusion_large_ms"] = inclusion_ms(small), inclusion_ms(large)
        say("verify memory")
        out["verify_rss_small_mb"], out["verify_worker_small_mb"] = verify_peak_mb(small)
        out["verify_rss_large_mb"], out["verify_worker_large_mb"] = verify_peak_mb(large)
        say("timeline")
        out["timeline_small"] = generator.measure(small, small_cast, small_inc, runs=15)
        out["timeline_large"] = generator.measure(large, cast, inc, runs=15)
        say("verify --since on the baseline federation")
        out["since_small_s"], _ = since_verify(small, folder)
        small.close()
        large.close()
        say("sweep")
        rate, erased, plan_s = sweep_rate(folder, args.sweep_alerts)
        out["sweep_records_s"], out["sweep_erased"], out["sweep_plan_s"] = rate, erased, plan_s
        name_search(folder / "names", args.pupils)
    if args.dir is None:
        shutil.rmtree(home, ignore_errors=True)
    table = render(out)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


def render(o: dict[str, Any]) -> str:
    n = f"{o['events']:,}"
    cores = os.cpu_count() or 1
    raw = o["ed25519_one_core_s"] * cores
    lines = [
        f"machine: {o['machine']}; {o['date']}",
        "",
        "| figure | baseline (same run) | ledger | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
        f"| append, SQLite, {o.get('events_per', 10)}-event units | plain eventsourcing {o['plain_sqlite_events_s']:,.0f} ev/s "
        f"| {o['ledger_sqlite_events_s']:,.0f} ev/s | {o['ledger_sqlite_events_s'] / o['plain_sqlite_events_s']:.2f}x | >= 0.5x |",
    ]
    if "plain_pg_events_s" in o:
        lines += [
            f"| append, PostgreSQL | plain eventsourcing (eventsourcing-sqlalchemy) on PostgreSQL {o['plain_pg_events_s']:,.0f} ev/s "
            f"| {o['ledger_pg_events_s']:,.0f} ev/s | {o['ledger_pg_events_s'] / o['plain_pg_events_s']:.2f}x | >= 0.5x |",
            f"| 4 concurrent writers, PostgreSQL | one writer {o['ledger_pg_events_s']:,.0f} ev/s "
            f"| {o['four_writers_events_s']:,.0f} ev/s combined, verifies: {o['four_writers_verified']} "
            f"| {o['four_writers_events_s'] / o['ledger_pg_events_s']:.2f}x | >= 1x |",
        ]
    lines += [
        f"| build ({'reused, ' if o['reused'] else ''}{n} events) | goal 1,000,000 in 300 s (3,333 ev/s) "
        f"| {o['build_events_s']:,.0f} ev/s ({o['build_s']:,.0f} s); 1M would take {1e6 / o['build_events_s']:,.0f} s "
        f"| {o['build_events_s'] / 3333:.2f}x | <= 300 s |",
        f"| full verify, {o['verify_entries']:,} entries, {cores} cores | raw Ed25519 {o['ed25519_one_core_s']:,.0f}/s x {cores} "
        f"= {raw:,.0f}/s | {o['verify_entries_s']:,.0f} entries/s ({o['verify_s']:.1f} s, ok: {o['verify_ok']}) "
        f"| {o['verify_entries_s'] / raw:.2f}x | >= 0.8x |",
        f"| `ledger --help` CPU | `python -c pass` {o['python_pass_cpu_s']:.3f} s | {o['help_cpu_s']:.3f} s over it | | <= 0.15 s |",
    ]
    for name, large in o["lists_large_ms"].items():
        small = o["lists_small_ms"][name]
        lines.append(f"| {name} | {small:,.1f} ms at {o['small_events']:,} | {large:,.1f} ms at {n} "
                     f"| {large / small:.2f}x | <= 100 ms at 1M |")
    lines += [
        f"| retention sweep | plan of the sweep ledger {o['sweep_plan_s']:.2f} s | {o['sweep_records_s']:,.1f} records/s "
        f"({o['sweep_erased']} erased); 100,000 would take {1e5 / o['sweep_records_s']:,.0f} s | | <= 60 s |",
        f"| verify --since after 1,000 new entries on {n} | full verify {o['verify_s']:.1f} s; --since at "
        f"{o['small_events']:,} {o['since_small_s']:.2f} s | {o['since_s']:.2f} s ({o['since_entries']:,} entries read) "
        f"| {o['since_s'] / o['verify_s']:.3f}x of full; {o['since_s'] / o['since_small_s']:.2f}x of small | <= 1 s at 1M |",
        f"| inclusion proof | {o['inclusion_small_ms']:.3f} ms at {o['small_events']:,} | {o['inclusion_large_ms']:.3f} ms at {n} "
        f"| {o['inclusion_large_ms'] / o['inclusion_small_ms']:.2f}x | <= 5 ms |",
        f"| verify peak RSS (main process; largest worker) | {o['verify_rss_small_mb']:.0f} MB; {o['verify_worker_small_mb']:.0f} MB "
        f"at {o['small_events']:,} | {o['verify_rss_large_mb']:.0f} MB; {o['verify_worker_large_mb']:.0f} MB at {n} "
        f"| {o['verify_rss_large_mb'] / o['verify_rss_small_mb']:.2f}x | <= 256 MB at 1M |",
        f"| one incident's timeline | {o['timeline_small']['timeline_median_ms']:.1f} ms at {o['small_events']:,} "
        f"| {o['timeline_large']['timeline_median_ms']:.1f} ms at {n} "
        f"| {o['timeline_large']['timeline_median_ms'] / o['timeline_small']['timeline_median_ms']:.2f}x | keep (<= 50 ms) |",
        f"| projections catch-up after build | | {o['catch_up_s']:.1f} s | | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
