#!/usr/bin/env python3
"""Benchmarks, each against a baseline measured in the same run.

    python scripts/bench.py [--aggregates 300] [--events-per 10] [--postgres URL]

1. append: events/s through the full ledger path (sign, encrypt, seal,
   checkpoint) vs plain core ``eventsourcing`` on a SQLite file;
2. verify: entries/s with signatures checked serially vs over all cores;
3. merkle: cost of one append at 1k vs 256k leaves (should grow ~log n);
4. verify memory: peak Python allocation verifying N vs 2N entries (bounded).
7. names: finding a pupil by name in a federation of 5,000 (the schools' directories)
   vs opening one pupil's record.

Prints figures and ratios; asserts nothing (speed is never a test).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402

from commands.services.setup import init_ledger  # noqa: E402
from ledger import config as configuration  # noqa: E402
from ledger import crypto, merkle, verify as verify_module  # noqa: E402
from ledger.domain.people import Subject  # noqa: E402
from ledger.store import Ledger  # noqa: E402
from ledger.trust import Trust  # noqa: E402

PASSPHRASE = "benchmark passphrase"


class Plain(Aggregate):
    """The baseline aggregate: same shape of events, no envelope."""

    @event("Registered")
    def __init__(self, details: dict[str, str]) -> None:
        self.details = details

    @event("Corrected")
    def correct(self, details: dict[str, str]) -> None:
        self.details = details


def baseline_append(folder: Path, aggregates: int, per: int) -> float:
    """Events/s of plain eventsourcing on a SQLite file, one save per aggregate."""
    app: Application = Application(env={  # type: ignore[type-arg]
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "plain.db"),
    })
    start = time.perf_counter()
    for n in range(aggregates):
        item = Plain({"name": f"Person {n}"})
        for m in range(per - 1):
            item.correct({"name": f"Person {n}.{m}"})
        app.save(item)
    return aggregates * per / (time.perf_counter() - start)


def make_ledger(folder: Path, db: str | None) -> Ledger:
    crypto.SCRYPT_N = 2**12
    config = configuration.resolve({}, home=str(folder / "ledger"), db=db)
    init_ledger(config, "Bench Admin", PASSPHRASE, PASSPHRASE, "admin")
    ledger = Ledger(config)
    from commands.services import people

    admin = ledger.unlock("admin", PASSPHRASE)
    people.add_staff(ledger, admin, "Bench Head", ["headteacher"], PASSPHRASE, "head")
    people.add_staff(ledger, ledger.unlock("head", PASSPHRASE), "Bench Lead", ["dsl"], PASSPHRASE, "dsl")
    return ledger


def ledger_append(ledger: Ledger, aggregates: int, per: int) -> float:
    """Events/s through the ledger: one unit (transaction + checkpoint) per aggregate."""
    dsl = ledger.unlock("dsl", PASSPHRASE)
    start = time.perf_counter()
    for n in range(aggregates):
        with ledger.unit(dsl, write=True) as work:
            subject = Subject.register(f"sb-b{n}", "pupil", {"name": f"Person {n}"})
            for m in range(per - 1):
                subject.correct({"name": f"Person {n}.{m}"}, "bench")
            work.save(subject)
    return aggregates * per / (time.perf_counter() - start)


def timed_verify(ledger: Ledger, parallel: bool) -> tuple[float, int]:
    trust = Trust.load(ledger.config.trust_path)
    saved = verify_module.PARALLEL_FROM
    verify_module.PARALLEL_FROM = 0 if parallel else 10**12
    try:
        with ledger.engine.connect() as conn:
            start = time.perf_counter()
            report = verify_module.verify(conn, ledger.app.events_table, trust)
            elapsed = time.perf_counter() - start
    finally:
        verify_module.PARALLEL_FROM = saved
    if not report.ok:
        raise SystemExit(f"verify failed during the benchmark: {report.findings[:3]}")
    return report.entries / elapsed, report.entries


def merkle_append_cost(size: int, samples: int = 2000) -> float:
    """Microseconds per append after ``size`` leaves (nodes in memory)."""
    nodes = merkle.MemoryNodes()
    for i in range(size):
        nodes.append(i, merkle.leaf_hash(i.to_bytes(8, "big")))
    start = time.perf_counter()
    for i in range(size, size + samples):
        for level, index, value in merkle.append_nodes(i, merkle.leaf_hash(i.to_bytes(8, "big")), nodes.get):
            nodes.put(level, index, value)
    return (time.perf_counter() - start) / samples * 1e6


def verify_peak(ledger: Ledger) -> int:
    trust = Trust.load(ledger.config.trust_path)
    verify_module.PARALLEL_FROM = 10**12
    tracemalloc.start()
    with ledger.engine.connect() as conn:
        verify_module.verify(conn, ledger.app.events_table, trust)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aggregates", type=int, default=300)
    parser.add_argument("--events-per", type=int, default=10)
    parser.add_argument("--postgres", help="also measure the ledger on this PostgreSQL URL (an empty database)")
    parser.add_argument("--pupils", type=int, default=5_000, help="pupils in the name-search federation")
    parser.add_argument("--names-only", action="store_true", help="run only the name search (7)")
    parser.add_argument("--timeline-ledger", type=Path,
                        help="home of a large ledger built by scripts/bench_timeline.py --dir (e.g. 1,000,000 events)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    n_events = args.aggregates * args.events_per
    if args.names_only:
        with tempfile.TemporaryDirectory() as tmp:
            name_search(Path(tmp), args.pupils)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = baseline_append(folder, args.aggregates, args.events_per)
        ledger = make_ledger(folder, None)
        ours = ledger_append(ledger, args.aggregates, args.events_per)
        print(f"\n1. append ({args.aggregates} aggregates x {args.events_per} events, SQLite file)")
        print(f"   plain eventsourcing (baseline): {base:8.0f} events/s")
        print(f"   ledger (sign+encrypt+seal):     {ours:8.0f} events/s   ratio {ours / base:.2f}x of baseline")
        serial, entries = timed_verify(ledger, parallel=False)
        par, _ = timed_verify(ledger, parallel=True)
        print(f"\n2. verify ({entries} entries)")
        print(f"   serial signatures (baseline):   {serial:8.0f} entries/s")
        print(f"   parallel over {os.cpu_count()} cores:        {par:8.0f} entries/s   ratio {par / serial:.2f}x")
        peak_n = verify_peak(ledger)
        ledger.close()
        small, large = merkle_append_cost(1_000), merkle_append_cost(256_000)
        print("\n3. merkle append (in-memory node store)")
        print(f"   at 1k leaves (baseline):        {small:8.1f} us/append")
        print(f"   at 256k leaves:                 {large:8.1f} us/append   ratio {large / small:.2f}x "
              f"(leaves x256, log2 grows 10 -> 18)")
        double = make_ledger(folder / "double", None)
        ledger_append(double, args.aggregates * 2, args.events_per)
        peak_2n = verify_peak(double)
        double.close()
        print("\n4. verify peak Python memory")
        print(f"   {n_events} entries (baseline):      {peak_n / 1e6:8.2f} MB")
        print(f"   {2 * n_events} entries:                 {peak_2n / 1e6:8.2f} MB   ratio {peak_2n / peak_n:.2f}x")
        if args.postgres:
            pg = make_ledger(folder / "pg", args.postgres)
            pg_rate = ledger_append(pg, args.aggregates, args.events_per)
            pg.close()
            print(f"\n5. append on PostgreSQL: {pg_rate:8.0f} events/s   ratio {pg_rate / base:.2f}x of SQLite baseline")
        if args.timeline_ledger:
            timeline_scaling(folder, args.timeline_ledger)
        name_search(folder / "names", args.pupils)


SURNAMES = ("Evans", "Patel", "Smith", "Jones", "Khan", "Williams", "Brown", "Taylor", "Davies", "Wilson",
            "Ångström", "O'Neill", "Nowak", "Okafor", "Murphy", "Chen", "Ahmed", "Roberts", "Walker", "Wright")
GIVEN = ("Pip", "Zoë", "Amir", "Bea", "Cal", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kit", "Lola",
         "Milo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tom", "Uma", "Vik", "Wren")


def _median_ms(call: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def name_search(folder: Path, pupils: int, runs: int = 15) -> None:
    """Find a pupil by name among ``pupils`` in five schools, against opening one pupil's record."""
    from commands.services import directory, people, setup

    folder.mkdir(parents=True, exist_ok=True)
    ledger = make_ledger(folder, None)
    admin, dsl = ledger.unlock("admin", PASSPHRASE), ledger.unlock("dsl", PASSPHRASE)
    schools = tuple(f"School {n + 1}" for n in range(5))
    setup.change_settings(ledger, admin, None, schools, "the federation's schools")
    people.add_staff(ledger, admin, "Bench Teacher", ["staff"], PASSPHRASE, "teacher", school=schools[0])
    start = time.perf_counter()
    per = pupils // len(schools)
    for s, school in enumerate(schools):
        roll = [{"name": f"{GIVEN[(n * 7 + s) % len(GIVEN)]} {SURNAMES[(n // len(GIVEN) + s) % len(SURNAMES)]}"
                         f"-{n % 40}", "year_group": f"Year {n % 7 + 1}", "date_of_birth": "2014-09-01",
                 "id": f"sb-{s}-{n}"} for n in range(per)]
        people.add_pupils(ledger, dsl, school, roll)
    built = time.perf_counter() - start
    teacher = ledger.unlock("teacher", PASSPHRASE)
    one = _median_ms(lambda: people.read_details(ledger, dsl, "sb-0-1", "bench"), runs)
    found = directory.find(ledger, dsl, "pip evans", "pupil")
    found_ms = _median_ms(lambda: directory.find(ledger, dsl, "pip evans", "pupil"), runs)
    picked = directory.pick_pupils(ledger, teacher, "pip evans")
    picked_ms = _median_ms(lambda: directory.pick_pupils(ledger, teacher, "pip evans"), runs)
    ledger.close()
    print(f"\n7. name search, {per * len(schools):,} pupils in {len(schools)} schools (rolls imported in {built:.0f} s)")
    print(f"   open one pupil's record (`people show`, baseline):   median {one:6.1f} ms")
    print(f"   DSL finds \"pip evans\" in every school (`people find`): median {found_ms:6.1f} ms   "
          f"ratio {found_ms / one:.2f}x   ({len(found)} shown, DOB from each record); goal < 200 ms")
    print(f"   teacher picks \"pip evans\" in their school (`people pick`): median {picked_ms:6.1f} ms   "
          f"ratio {picked_ms / one:.2f}x   ({len(picked)} shown)")


def timeline_scaling(folder: Path, large_home: Path) -> None:
    """One incident's timeline on a small ledger (baseline) and on a large one."""
    import bench_timeline

    small_ledger, cast, inc, _ = bench_timeline.build_ledger(folder / "timeline", None, 5_000, 1_000)
    small = bench_timeline.measure(small_ledger, cast, inc)
    small_ledger.close()
    large_ledger, large_cast, large_inc = bench_timeline.reopen(large_home)
    large = bench_timeline.measure(large_ledger, large_cast, large_inc)
    large_ledger.close()
    print("\n6. one incident's timeline, in the process (query + decrypt)")
    print(f"   {small['events']:>9,.0f} events (baseline): median {small['timeline_median_ms']:6.1f} ms, "
          f"p95 {small['timeline_p95_ms']:.1f} ms ({small['rows']:.0f} rows)")
    print(f"   {large['events']:>9,.0f} events:            median {large['timeline_median_ms']:6.1f} ms, "
          f"p95 {large['timeline_p95_ms']:.1f} ms ({large['rows']:.0f} rows)   "
          f"ratio {large['timeline_median_ms'] / small['timeline_median_ms']:.2f}x; goal <= 50 ms")
    print(f"   whole timeline command (with its access-log entry): {small['service_median_ms']:.0f} ms -> "
          f"{large['service_median_ms']:.0f} ms")


if __name__ == "__main__":
    main()
