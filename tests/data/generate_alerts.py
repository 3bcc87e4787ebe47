"""Write a file of made-up monitoring alerts (CSV or JSON Lines) for tests and timing.

Usage::

    python tests/data/generate_alerts.py --rows 10000 --out /tmp/alerts.csv
    python tests/data/generate_alerts.py --rows 500 --out /tmp/alerts.jsonl --user pupil-1

Deterministic for a given --seed: the same arguments give the same file, so
re-importing it is a no-op.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

COLUMNS = ("time", "source_system", "source_record_id", "device", "user", "category", "severity", "rule",
           "action", "detail")
CATEGORIES = ("social-media", "gambling", "pornography", "bullying", "self-harm", "malware", "violence", "other")
SEVERITIES = ("info", "low", "medium", "high", "critical")
ACTIONS = ("blocked", "allowed", "warned", "flagged")


def alerts(rows: int, seed: int = 1, users: tuple[str, ...] = (), start: str = "2025-01-06T08:00:00+00:00",
           source: str = "smoothwall") -> Iterator[dict[str, str]]:
    """``rows`` alerts a minute apart from ``start``; users drawn from ``users`` or made up."""
    rng = random.Random(seed)
    first = dt.datetime.fromisoformat(start)
    for n in range(rows):
        user = rng.choice(users) if users else f"user{rng.randrange(1, 400):03d}"
        yield {
            "time": (first + dt.timedelta(minutes=n)).isoformat(),
            "source_system": source,
            "source_record_id": f"{source[:2].upper()}-{seed}-{n:07d}",
            "device": f"LAPTOP-{rng.randrange(1, 120):03d}",
            "user": user,
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES),
            "rule": f"rule {rng.randrange(1, 40)}",
            "action": rng.choice(ACTIONS),
            "detail": f"visited site-{rng.randrange(1, 10_000)}.example, search \"{rng.randrange(1, 99)}\"",
        }


def write(path: Path, rows: Iterator[dict[str, str]]) -> None:
    """Write rows as CSV or JSON Lines, by the file's extension."""
    with path.open("w", encoding="utf-8", newline="") as out:
        if path.suffix == ".csv":
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            out.writelines(json.dumps(r) + "\n" for r in rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--user", action="append", default=[], help="user value to draw from (repeatable)")
    args = parser.parse_args(argv)
    write(args.out, alerts(args.rows, args.seed, tuple(args.user)))


if __name__ == "__main__":
    main(sys.argv[1:])
