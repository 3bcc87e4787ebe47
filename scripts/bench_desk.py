"""Benchmark: the desk's incident page and a child's chronology on a large ledger.

Builds a ledger through the real write path (``bench_timeline.build_ledger``:
bulk monitoring imports plus incidents), adds a child with a case history
(several incidents naming them, triaged, with notes, actions done and planned
with an owner, a referral and evidence described), then times
in the same run, alternately:

- the desk: ``GET /incidents/<id>``, ``GET /people/<child>`` (the access log
  left out, as the page shows it) and ``GET /people/<child>?with=access``
  through the WSGI app (signed in as the DSL, the reason already given): refresh of the
  session's roles, the service, the access-log entry it appends (sign, seal,
  checkpoint) and the page's HTML;
- the CLI's services for the same reads: ``incidents.show`` (``ledger
  incidents show``) and ``readside.timeline(person=…)`` (``ledger timeline
  --person``, with the same categories as the page), which append the same access-log entry. Each call gets a fresh
  key ring, as each run of a command does (and as each desk request does: a
  session never reuses a record key opened by an earlier request); the
  passphrase unlock a command also pays is left out.

Goal: each page under 150 ms at the 95th percentile. Nothing is asserted.

    python scripts/bench_desk.py --events 100000 --dir /tmp/bench-desk
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_timeline  # noqa: E402
from commands.services import chronology, incidents, people, readside  # noqa: E402
from commands.web.app import create_app  # noqa: E402
from ledger.keystore import KeyRing  # noqa: E402
from ledger.store import Actor, Ledger  # noqa: E402

GOAL_MS = 150.0


def _say(message: str) -> None:
    print(message, flush=True)


def child_with_history(ledger: Ledger, cast: dict[str, Actor], incidents_count: int = 4) -> str:
    """A pupil named in several incidents, each triaged, with notes and actions."""
    child = people.add_subject(ledger, cast["dsl"], "pupil", "Bench Child", "2015-05-05", "Oak Primary")
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    next_week = (dt.date.fromisoformat(ledger.today()) + dt.timedelta(days=7)).isoformat()
    for n in range(incidents_count):
        part = "victim" if n % 2 == 0 else "alleged"
        inc = incidents.report(ledger, cast["teacher"], incidents.IncidentReport(
            "child-on-child", when, f"Concern {n}", f"What was seen, {n}", people=(f"{child}:{part}",),
            child_words="it keeps happening"))
        incidents.triage(ledger, cast["dsl"], inc, "safeguarding")
        for k in range(3):
            incidents.add_note(ledger, cast["dsl"], inc, "fact", f"follow-up {k}")
        incidents.record_action(ledger, cast["dsl"], inc, "parents-informed", "called home")
        incidents.record_action(ledger, cast["dsl"], inc, "social-care-referral", "referred to MASH")
        incidents.record_action(ledger, cast["dsl"], inc, "parent-meeting", "meet the family",
                                next_week, cast["teacher"].actor_id)
        incidents.describe_evidence(ledger, cast["dsl"], inc, "Snapchat", "a message described by the child")
    return child


def signed_in_client(app: object, actor_id: str, passphrase: str) -> tuple[object, str]:
    """A test client signed in to the desk, and its CSRF token."""
    client = app.test_client()  # type: ignore[attr-defined]
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    client.post("/sign-in", data={"csrf": token, "actor_id": actor_id, "passphrase": passphrase})
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/mine").text).group(1)  # type: ignore[union-attr]
    return client, token


def give_reason(client: object, token: str, path: str, reason: str) -> None:
    """Answer the page's reason question once, as a person would."""
    asked = re.search(r'name="record" value="([^"]+)"', client.get(path).text)  # type: ignore[attr-defined]
    if asked:
        client.post("/reason", data={"csrf": token, "record": asked.group(1), "next": path,  # type: ignore[attr-defined]
                                     "reason": reason})


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(len(ordered) * 0.95)) - 1))]


def compare(name: str, page: Callable[[], object], service: Callable[[], object], runs: int) -> dict[str, float]:
    """Time the page and the CLI service alternately; print medians and p95s."""
    page(), service()  # warm both paths once
    desk, cli = [], []
    for _ in range(runs):
        desk.append(timed(page))
        cli.append(timed(service))
    result = {"desk_median": statistics.median(desk), "desk_p95": p95(desk),
              "cli_median": statistics.median(cli), "cli_p95": p95(cli)}
    verdict = "met" if result["desk_p95"] <= GOAL_MS else "NOT met"
    _say(f"{name}: desk median {result['desk_median']:.1f} ms, p95 {result['desk_p95']:.1f} ms; "
         f"CLI service median {result['cli_median']:.1f} ms, p95 {result['cli_p95']:.1f} ms "
         f"(desk/CLI {result['desk_median'] / result['cli_median']:.2f}x); goal p95 <= {GOAL_MS:.0f} ms {verdict}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="approximate ledger size")
    parser.add_argument("--dir", type=Path, help="ledger home (default: a temporary folder, removed after)")
    parser.add_argument("--db", help="database URL (default: SQLite in --dir)")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    home = args.dir or Path(tempfile.mkdtemp(prefix="bench-desk-")) / "home"
    _say(f"building a ledger of ~{args.events:,} events in {home} (real write path)")
    started = time.perf_counter()
    ledger, cast, inc, _ = bench_timeline.build_ledger(home, args.db, args.events, 20_000)
    child = child_with_history(ledger, cast)
    readside.ensure_current(ledger)
    _say(f"built {bench_timeline._events(ledger):,} events in {time.perf_counter() - started:,.0f} s; "
         f"incident {inc}, child {child}")
    app = create_app(ledger.config)
    client, token = signed_in_client(app, "dsl", bench_timeline.PASS)
    dsl = cast["dsl"]

    def fresh() -> Actor:
        return dataclasses.replace(dsl, keyring=KeyRing.for_pair(dsl.pair))

    incident_path, child_path = f"/incidents/{inc}", f"/people/{child}"
    for path in (incident_path, child_path):
        give_reason(client, token, path, "benchmark")
    assert client.get(incident_path).status_code == 200  # type: ignore[attr-defined]
    shown = readside.timeline(ledger, dsl, "benchmark", person=child)
    _say(f"the child's chronology holds {len(shown.rows)} rows")
    compare("incident page", lambda: client.get(incident_path),  # type: ignore[attr-defined]
            lambda: incidents.show(ledger, fresh(), inc, "benchmark"), args.runs)
    compare("child's chronology", lambda: client.get(child_path),  # type: ignore[attr-defined]
            lambda: readside.timeline(ledger, fresh(), "benchmark", person=child,
                                      categories=chronology.WITHOUT_ACCESS), args.runs)
    with_access = f"{child_path}?with=access"
    compare("child's chronology with the access log", lambda: client.get(with_access),  # type: ignore[attr-defined]
            lambda: readside.timeline(ledger, fresh(), "benchmark", person=child), args.runs)
    rows = len(readside.timeline(ledger, dsl, "benchmark", person=child).rows)
    _say(f"ledger now holds {bench_timeline._events(ledger):,} events; each read above appended an access entry "
         f"naming the child, whose chronology grew to {rows} rows")
    app.extensions["desk"].stop()  # type: ignore[attr-defined]
    ledger.close()
    if args.dir is None:
        shutil.rmtree(home.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
