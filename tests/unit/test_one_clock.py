"""One clock, passed in: nothing in the program reads the time of day but ``SystemClock``.

Services take "now" from the ledger's clock (``Ledger.now``, a unit's ``now``)
and "today" from it in the federation's time zone (``Ledger.today``,
``Unit.today``), so tests pin them with a FixedClock and the machine's own
zone (``TZ``) never changes an answer. This reads the source to keep it so.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "commands", "projections")

#: ``datetime``/``date`` class methods that read this machine's clock.
CLOCK_READS = frozenset({"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"})
#: ``time`` module functions that read the clock, or the machine's zone, as a date.
TIME_READS = frozenset({"time", "time_ns", "localtime", "gmtime", "ctime", "strftime", "mktime"})
#: The one place allowed to ask the operating system for the time; and the standalone transfer
#: tool (run without policy-ledger, so without its clock), whose command line stamps a receipt
#: with the receiving machine's time once (a claim the sending ledger records as the receiver's).
ALLOWED = {("ledger/clock.py", "now"), ("ledger/transfer_box.py", "now")}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def offences(path: Path, where: str | None = None) -> list[str]:
    """Every place in ``path`` that reads the clock or the machine's zone other than through a Clock."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = where or path.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"{where}:{node.lineno}: from time import {a.name}" for a in node.names if a.name in TIME_READS]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, attr = _name(node.func.value), node.func.attr
        if attr in CLOCK_READS and owner.split(".")[-1] in ("datetime", "date") and (where, attr) not in ALLOWED:
            found.append(f"{where}:{node.lineno}: {owner}.{attr}()")
        if owner == "time" and attr in TIME_READS:
            found.append(f"{where}:{node.lineno}: time.{attr}()")
        if attr == "astimezone" and not node.args and not node.keywords:
            found.append(f"{where}:{node.lineno}: .astimezone() with no zone (the machine's)")
    return found


def test_nothing_but_the_system_clock_reads_the_time_of_day() -> None:
    sources = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
    assert len(sources) > 100
    found = [line for path in sources for line in offences(path)]
    assert found == [], ("read the time through the ledger's clock (Ledger.now/today, Unit.now/today):\n"
                         + "\n".join(found))


def test_the_system_clock_is_the_one_exception_and_it_reads_utc() -> None:
    clock = (ROOT / "ledger" / "clock.py").read_text(encoding="utf-8")
    assert clock.count("dt.datetime.now(") == 1 and "dt.datetime.now(dt.timezone.utc)" in clock


def test_the_check_itself_finds_each_kind_of_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\nimport time\nfrom time import localtime\n"
        "a = dt.date.today()\nb = dt.datetime.now()\nc = dt.datetime.utcnow()\nd = time.time()\n"
        "e = dt.datetime.now(dt.timezone.utc).astimezone()\nf = clock.now()\ng = time.monotonic()\n",
        encoding="utf-8",
    )
    assert sorted(line.split(": ", 1)[1] for line in offences(sample, "sample.py")) == sorted([
        "from time import localtime", "dt.date.today()", "dt.datetime.now()", "dt.datetime.utcnow()", "time.time()",
        ".astimezone() with no zone (the machine's)", "dt.datetime.now()",
    ])
