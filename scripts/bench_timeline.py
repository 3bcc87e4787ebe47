"""Benchmark: one incident's timeline on a large ledger, inside the process.

Builds a ledger through the REAL write path (signed, encrypted, sealed
envelopes, one checkpoint per unit): the filler is monitoring alerts imported
in bulk (the designed cheap path: each alert's key is wrapped under its
import batch's key) plus incidents with notes; then one incident the DSL is
investigating, with linked alerts, actions, a corrected outcome and earlier
reads. Projections catch up from the log, then the timeline is timed:

- ``query+decrypt``: selecting the incident's entries from the index and
  opening each with the DSL's key ring (what ``ledger timeline`` shows);
- ``service``: the whole read command, including the access-log entry it
  appends (sign, seal, checkpoint).

The query plans (SQLite) are printed to show the selection uses indexes.

    python scripts/bench_timeline.py --events 1000000 --dir /tmp/bench-ledger
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from commands.services import incidents, monitoring, people, readside  # noqa: E402
from commands.services.setup import init_ledger  # noqa: E402
from ledger import config as configuration, progress  # noqa: E402
from ledger.domain.incidents import Incident, incident_record_id  # noqa: E402
from ledger.domain.monitoring import alert_id_for  # noqa: E402
from ledger.store import Actor, Ledger  # noqa: E402
from projections import runner  # noqa: E402
from projections.timeline import Selection, build  # noqa: E402

PASS = "benchmark passphrase"
CATEGORIES = ("social-media", "gambling", "bullying", "malware", "other")


def _say(message: str) -> None:
    print(message, flush=True)


def _events(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger.app.events_table)).scalar_one())


def _alert_file(folder: Path, start: int, count: int, pupils: list[str]) -> Path:
    base = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=300)
    lines = ["time,source_system,source_record_id,user,category,severity,action,detail"]
    rng = random.Random(start)
    for n in range(start, start + count):
        when = (base + dt.timedelta(seconds=n * 7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"{when},smoothwall,SW-{n},{rng.choice(pupils)},{rng.choice(CATEGORIES)},low,flagged,visited site {n}")
    path = folder / f"alerts-{start}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _filler_incidents(ledger: Ledger, reporter: Actor, dsl: Actor, count: int, notes: int) -> None:
    """``count`` incidents of ``notes`` notes each, one unit per incident."""
    for n in range(count):
        form = incidents.IncidentReport("pupil-contact", "2025-06-01T10:00", f"Filler {n}", "facts")
        inc = incidents.report(ledger, reporter, form)
        with ledger.unit(dsl, write=True) as work:
            incident = work.get(Incident, incident_record_id(inc), "incident", redacted=True)
            for k in range(notes):
                incident.add_note("fact", f"note {k} on filler {n}")
            work.save(incident)


def build_ledger(home: Path, db: str | None, target: int, per_file: int) -> tuple[Ledger, dict[str, Actor], str, list[str]]:
    config = configuration.resolve({}, home=str(home), db=db)
    init_ledger(config, "Bench Admin", PASS, PASS, "admin")
    ledger = Ledger(config)
    admin = ledger.unlock("admin", PASS)
    people.add_staff(ledger, admin, "Bench head", ["headteacher", "staff"], PASS, "head")
    head = ledger.unlock("head", PASS)  # roles are granted by their holders (the Headteacher)
    for staff, roles in (("dsl", ["dsl", "staff"]), ("slt", ["slt", "staff"]), ("teacher", ["staff"])):
        people.add_staff(ledger, head, f"Bench {staff}", roles, PASS, staff)
    cast = {name: ledger.unlock(name, PASS) for name in ("admin", "head", "dsl", "slt", "teacher")}
    pupils = [people.add_subject(ledger, cast["dsl"], "pupil", f"Pupil {n}") for n in range(50)]
    folder = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    started = time.perf_counter()
    try:
        _filler_incidents(ledger, cast["teacher"], cast["slt"], max(1, min(20, target // 50_000)), 500)
        made = _events(ledger)
        start = 0
        with progress.bar(target, "build", "event") as shown:
            shown.update(made)
            while made < target - 100 or start == 0:
                count = max(10, min(per_file, target - 100 - made - 1))
                monitoring.import_alerts(ledger, cast["admin"], _alert_file(folder, start, count, pupils))
                start += count
                written = _events(ledger)
                shown.update(written - made)
                made = written
                if not progress.shown():
                    _say(f"  {made:>9,} events written ({made / (time.perf_counter() - started):,.0f}/s)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    inc = _target_incident(ledger, cast, pupils[0], folder)
    return ledger, cast, inc, pupils


def _target_incident(ledger: Ledger, cast: dict[str, Actor], pupil: str, folder: Path) -> str:
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = incidents.IncidentReport("child-on-child", when, "Image shared in a group chat", "Seen in class",
                                    people=(f"{pupil}:victim",))
    inc = incidents.report(ledger, cast["teacher"], form)
    incidents.triage(ledger, cast["dsl"], inc, "DSL leads")
    for n in range(3):
        monitoring.link_alert(ledger, cast["dsl"], alert_id_for("smoothwall", f"SW-{n}"), inc)
    for n in range(5):
        incidents.add_note(ledger, cast["dsl"], inc, "fact", f"follow-up {n}")
    incidents.record_action(ledger, cast["dsl"], inc, "removal-requested", "asked the platform")
    incidents.record_outcome(ledger, cast["dsl"], inc, "upheld", "first view")
    incidents.record_outcome(ledger, cast["dsl"], inc, "partly-upheld", "on review")
    return inc


def _plans(ledger: Ledger, inc: str) -> None:
    if not ledger.config.is_sqlite:
        return
    from projections.entries import aliases, entries, entry_links

    queries = {
        "alias": select(aliases.c.aggregate).where(aliases.c.alias == inc),
        "links": select(entry_links.c.aggregate).where(entry_links.c.ref.in_([inc])),
        "entries": select(entries).where(entries.c.aggregate.in_([str(incident_record_id(inc))])),
    }
    with ledger.engine.connect() as conn:
        for name, query in queries.items():
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            _say(f"  plan {name:<8} {' | '.join(plan)}")


def measure(ledger: Ledger, cast: dict[str, Actor], inc: str, runs: int = 30) -> dict[str, float]:
    """Catch the projections up, then time one incident's timeline (milliseconds)."""
    started = time.perf_counter()
    applied = runner.catch_up(ledger)
    catch_up_s = time.perf_counter() - started
    _say(f"projections caught up: {applied:,} entries in {catch_up_s:,.1f} s")
    with ledger.engine.connect() as conn:
        rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("proj_entries", "proj_entry_subjects", "proj_entry_links", "proj_records")}
    _say("  projection rows: " + ", ".join(f"{k}={v:,}" for k, v in rows.items()))
    _plans(ledger, inc)
    readside.timeline(ledger, cast["head"], "oversight", incident=inc)
    dsl = cast["dsl"]
    meta = ledger.meta()
    registry = ledger.registry()
    timings = []
    shown = 0
    for _ in range(runs):
        with ledger.engine.connect() as conn:
            t0 = time.perf_counter()
            found = build(conn, ledger.app.events_table, meta["ledger_id"], dsl.keyring, Selection(incident=inc),
                          "dsl", ledger.now().isoformat(), registry)
            timings.append((time.perf_counter() - t0) * 1000)
            shown = len(found.rows)
    noop = []
    for _ in range(5):
        t0 = time.perf_counter()
        runner.catch_up(ledger)
        noop.append((time.perf_counter() - t0) * 1000)
    service = []
    for _ in range(max(3, runs // 5)):
        t0 = time.perf_counter()
        readside.timeline(ledger, dsl, "benchmark", incident=inc)
        service.append((time.perf_counter() - t0) * 1000)
    result = {
        "events": float(_events(ledger)),
        "rows": float(shown),
        "catch_up_s": catch_up_s,
        "timeline_median_ms": statistics.median(timings),
        "timeline_p95_ms": sorted(timings)[max(0, int(len(timings) * 0.95) - 1)],
        "timeline_max_ms": max(timings),
        "catch_up_noop_ms": statistics.median(noop),
        "service_median_ms": statistics.median(service),
    }
    _say(f"ledger: {result['events']:,.0f} events; incident {inc}: {shown} timeline rows")
    _say(f"timeline query+decrypt: median {result['timeline_median_ms']:.1f} ms, "
         f"p95 {result['timeline_p95_ms']:.1f} ms, max {result['timeline_max_ms']:.1f} ms ({runs} runs)")
    _say(f"catch-up with nothing new: median {result['catch_up_noop_ms']:.1f} ms")
    _say(f"timeline command (catch-up, query, decrypt, access-log entry, seal, checkpoint): "
         f"median {result['service_median_ms']:.1f} ms")
    return result


def reopen(home: Path, db: str | None = None) -> tuple[Ledger, dict[str, Actor], str]:
    """A ledger built earlier by :func:`build_ledger`, and its target incident."""
    ledger = Ledger(configuration.resolve({}, home=str(home), db=db))
    cast = {name: ledger.unlock(name, PASS) for name in ("admin", "head", "dsl")}
    runner.catch_up(ledger)
    with ledger.engine.connect() as conn:
        inc = str(conn.execute(text("SELECT alias FROM proj_records WHERE kind = 'Incident' "
                                    "ORDER BY created_at DESC LIMIT 1")).scalar_one())
    return ledger, cast, inc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="approximate ledger size")
    parser.add_argument("--dir", type=Path, help="ledger home (default: a temporary folder, removed after)")
    parser.add_argument("--db", help="database URL (default: SQLite in --dir)")
    parser.add_argument("--per-file", type=int, default=20_000, help="alerts per import unit")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="reuse a ledger already built in --dir")
    args = parser.parse_args(argv)
    home = args.dir or Path(tempfile.mkdtemp(prefix="bench-timeline-")) / "home"
    if args.reuse:
        ledger, cast, inc = reopen(home, args.db)
    else:
        _say(f"building a ledger of ~{args.events:,} events in {home} (real write path)")
        started = time.perf_counter()
        ledger, cast, inc, _ = build_ledger(home, args.db, args.events, args.per_file)
        _say(f"built {_events(ledger):,} events in {time.perf_counter() - started:,.0f} s")
    result = measure(ledger, cast, inc, args.runs)
    ok = result["timeline_median_ms"] <= 50
    _say(f"goal (timeline <= 50 ms in the process): {'met' if ok else 'NOT met'}")
    ledger.close()
    if args.dir is None:
        shutil.rmtree(home.parent, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
