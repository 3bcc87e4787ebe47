"""Reading alert files: CSV and JSON Lines, every row checked before anything is written.

The format is documented in ``docs/monitoring-import-format.md``. Any problem
raises InvalidInput naming the file, the line and the column; the caller then
writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.domain.monitoring import ACTIONS, CATEGORIES, SEVERITIES, alert_id_for, check_source_system
from ledger.errors import InvalidInput, NotFound

REQUIRED = ("time", "source_system", "source_record_id", "category", "severity", "action")
OPTIONAL = ("device", "user", "rule", "detail")
COLUMNS = REQUIRED + OPTIONAL
FORMATS = ("csv", "jsonl")
LIMITS = {"source_record_id": 100, "device": 200, "user": 200, "rule": 200, "detail": 10_000}
#: Alerts may be stamped a little ahead of the ledger's clock (clock drift).
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class AlertRow:
    """One checked, normalised row of an alert file."""

    line: int
    time: str
    source_system: str
    source_record_id: str
    category: str
    severity: str
    action: str
    device: str | None
    user: str | None
    rule: str | None
    detail: str | None

    @property
    def alert_id(self) -> str:
        """The alert's stable short id (from its natural key)."""
        return alert_id_for(self.source_system, self.source_record_id)

    def personal(self) -> dict[str, str | None]:
        """The fields kept only in the encrypted body."""
        return {"user": self.user, "device": self.device, "rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class AlertFile:
    """A whole checked file."""

    name: str
    file_format: str
    sha256: str
    rows: list[AlertRow]


class _Problem(Exception):
    """A problem in one cell, before the file and line are known."""

    def __init__(self, column: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.hint = hint


def read_alert_file(path: Path, now: str, file_format: str | None = None, assume_zone: str | None = None) -> AlertFile:
    """Read and check every row of ``path``; InvalidInput names the first bad line."""
    file_format = file_format or _EXTENSIONS.get(path.suffix.lower())
    if file_format not in FORMATS:
        raise InvalidInput(
            f"cannot tell the format of {path}", "name it .csv or .jsonl, or give --type csv|jsonl"
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no file {path}", "check the path") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path}, line {line}: not UTF-8 text", "export the file as UTF-8") from None
    zone = _zone(assume_zone)
    moment = dt.datetime.fromisoformat(now)
    records = _csv_records(path, text) if file_format == "csv" else _jsonl_records(path, text)
    rows = []
    for line, record in records:
        try:
            rows.append(_check_row(line, record, zone, moment))
        except _Problem as problem:
            raise InvalidInput(f"{path}, line {line}, column {problem.column}: {problem.message}", problem.hint) from None
    if not rows:
        raise InvalidInput(f"{path} holds no alerts", "check that you exported the right file")
    return AlertFile(path.name, file_format, hashlib.sha256(raw).hexdigest(), rows)


def _zone(name: str | None) -> dt.tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", "use a name such as Europe/London") from None


def _header_name(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def _check_columns(path: Path, line: int, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name not in COLUMNS:
            raise InvalidInput(
                f"{path}, line {line}: unknown column {name!r}",
                f"columns are: {', '.join(COLUMNS)} (see docs/monitoring-import-format.md)",
            )
        if name in seen:
            raise InvalidInput(f"{path}, line {line}: column {name!r} appears twice")
        seen.add(name)
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise InvalidInput(
            f"{path}, line {line}: missing column(s) {', '.join(missing)}",
            f"required columns are: {', '.join(REQUIRED)}",
        )


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(f"{path} is empty", "the first line names the columns")
        names = [_header_name(h) for h in header]
        _check_columns(path, 1, names)
        start = reader.line_num + 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != len(names):
                raise InvalidInput(
                    f"{path}, line {line}: {len(fields)} field(s) where the header names {len(names)}",
                    "quote any value that contains a comma",
                )
            yield line, dict(zip(names, fields))
    except csv.Error as exc:
        raise InvalidInput(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None


def _jsonl_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, content in enumerate(text.split("\n"), start=1):
        content = content.removesuffix("\r")
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}, line {line}: not valid JSON ({exc.msg})", "one JSON object per line") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"{path}, line {line}: not a JSON object", "one JSON object per line")
        _check_columns(path, line, list(record))
        yield line, record


def _check_row(line: int, record: dict[str, Any], zone: dt.tzinfo | None, now: dt.datetime) -> AlertRow:
    values = {name: _text(name, record.get(name)) for name in COLUMNS}
    for name in REQUIRED:
        if values[name] is None:
            raise _Problem(name, "is empty", f"every row needs {', '.join(REQUIRED)}")
    for name, limit in LIMITS.items():
        value = values[name]
        if value is not None and len(value) > limit:
            raise _Problem(name, f"is longer than {limit} characters")
    return AlertRow(
        line=line,
        time=_time(str(values["time"]), zone, now),
        source_system=_source_system(str(values["source_system"])),
        source_record_id=str(values["source_record_id"]),
        category=_vocabulary("category", str(values["category"]), CATEGORIES),
        severity=_vocabulary("severity", str(values["severity"]), SEVERITIES),
        action=_vocabulary("action", str(values["action"]), ACTIONS),
        device=values["device"],
        user=values["user"],
        rule=values["rule"],
        detail=values["detail"],
    )


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name == "source_record_id":
        value = str(value)
    if not isinstance(value, str):
        raise _Problem(name, f"must be text, not {type(value).__name__}")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise _Problem(name, "contains control characters")
    value = value.strip()
    return value or None


def _time(value: str, zone: dt.tzinfo | None, now: dt.datetime) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Problem("time", f"{value!r} is not an ISO 8601 time", "write e.g. 2025-03-04T09:15:00Z") from None
    if moment.tzinfo is None:
        if zone is None:
            raise _Problem(
                "time", f"{value!r} has no time zone",
                "add Z or an offset such as +01:00, or import with --assume-timezone Europe/London",
            )
        moment = moment.replace(tzinfo=zone)
    if moment > now + FUTURE_TOLERANCE:
        raise _Problem("time", f"{value!r} is in the future", "check the clock of the system that exported it")
    return moment.astimezone(dt.timezone.utc).isoformat()


def _source_system(value: str) -> str:
    try:
        return check_source_system(value.lower())
    except InvalidInput as exc:
        raise _Problem("source_system", exc.message, exc.hint) from None


def _vocabulary(column: str, value: str, allowed: tuple[str, ...]) -> str:
    normal = value.strip().lower().replace("_", "-").replace(" ", "-")
    if normal not in allowed:
        raise _Problem(column, f"{value!r} is not a known {column}", f"{column} is one of: {', '.join(allowed)}")
    return normal
