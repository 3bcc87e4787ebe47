"""Reading alert files: CSV and JSON Lines, every row checked before anything is written.

The format is documented in ``docs/monitoring-import-format.md``. Any problem
raises InvalidInput naming the file, the line and the column; the caller then
writes nothing. Files are read as a stream, twice (to check, then to write),
so memory grows with the number of alerts (a few bytes each), not with the
size of the file; only a regular file is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ledger import canonical, files, localtime, text
from ledger.domain.monitoring import ACTIONS, CATEGORIES, SEVERITIES, alert_id_for, check_source_system
from ledger.errors import InvalidInput

REQUIRED = ("time", "source_system", "source_record_id", "category", "severity", "action")
OPTIONAL = ("device", "user", "rule", "detail")
COLUMNS = REQUIRED + OPTIONAL
FORMATS = ("csv", "jsonl")
LIMITS = {"source_record_id": 100, "device": 200, "user": 200, "rule": 200, "detail": 10_000}
#: Alerts may be stamped a little ahead of the ledger's clock (clock drift).
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
#: Bounds on what one import reads: its size, its rows, one line.
MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_LINE = 256 * 1024
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
    """A whole checked file: what it holds, not its rows (they are read again,
    as a stream, when written, so memory does not grow with the file's size)."""

    path: Path
    name: str
    file_format: str
    sha256: str
    row_count: int
    #: Each alert id (as the integer of its 16 hex digits) -> the line of its first row.
    first_lines: dict[int, int]
    zone: dt.tzinfo | None
    now: dt.datetime
    #: The earliest and latest time among each alert's first row (ISO UTC).
    first_span: tuple[str, str]

    def checked_rows(self) -> Iterator[AlertRow]:
        """Every row, in file order, read and checked again.

        InvalidInput if the file changed since it was checked.
        """
        digest = hashlib.sha256()
        for line, record in _records(self.path, self.file_format, digest):
            yield _checked(self.path, line, record, self.zone, self.now)
        if digest.hexdigest() != self.sha256:
            raise InvalidInput(f"{self.path} changed while it was imported", "import it again once it is complete")

    def first_rows(self) -> Iterator[AlertRow]:
        """Each alert's first row, in file order (a row repeating an alert is skipped)."""
        return (r for r in self.checked_rows() if self.first_lines.get(alert_key(r.alert_id)) == r.line)


class _Problem(Exception):
    """A problem in one cell, before the file and line are known."""

    def __init__(self, column: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.hint = hint


def alert_key(alert_id: str) -> int:
    """An alert id as a small integer (for the per-row bookkeeping of big files)."""
    return int(alert_id[3:], 16)


def read_alert_file(path: Path, now: str, file_format: str | None = None, assume_zone: str | None = None) -> AlertFile:
    """Read and check every row of ``path``; InvalidInput names the first bad line."""
    file_format = file_format or _EXTENSIONS.get(path.suffix.lower())
    if file_format not in FORMATS:
        raise InvalidInput(
            f"cannot tell the format of {path}", "name it .csv or .jsonl, or give --type csv|jsonl"
        )
    zone = _zone(assume_zone)
    moment = dt.datetime.fromisoformat(now)
    digest = hashlib.sha256()
    first_lines: dict[int, int] = {}
    rows = 0
    earliest = latest = ""
    for line, record in _records(path, file_format, digest):
        row = _checked(path, line, record, zone, moment)
        rows += 1
        if rows > MAX_ROWS:
            raise InvalidInput(f"{path} holds more than {MAX_ROWS:,} alerts", "split it into several imports")
        if first_lines.setdefault(alert_key(row.alert_id), line) == line:
            earliest = min(earliest, row.time) if earliest else row.time
            latest = max(latest, row.time)
    if not rows:
        raise InvalidInput(f"{path} holds no alerts", "check that you exported the right file")
    return AlertFile(path, path.name, file_format, digest.hexdigest(), rows, first_lines, zone, moment,
                     (earliest, latest))


def _checked(path: Path, line: int, record: dict[str, Any], zone: dt.tzinfo | None, now: dt.datetime) -> AlertRow:
    try:
        return _check_row(line, record, zone, now)
    except _Problem as problem:
        raise InvalidInput(f"{path}, line {line}, column {problem.column}: {problem.message}", problem.hint) from None


class _Hashed(io.RawIOBase):
    """A binary stream that feeds what it reads into a hash."""

    def __init__(self, handle: BinaryIO, digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.handle.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _lines(path: Path, digest: Any) -> Iterator[tuple[int, str]]:
    """The file's lines as text (UTF-8, a BOM allowed), each at most MAX_LINE bytes."""
    with files.open_regular(path, MAX_FILE_BYTES) as raw:
        stream = io.BufferedReader(_Hashed(raw, digest))
        number = 0
        while True:
            number += 1
            data = stream.readline(MAX_LINE + 1)
            if not data:
                return
            if len(data) > MAX_LINE:
                raise InvalidInput(f"{path}, line {number}: longer than {MAX_LINE:,} bytes",
                                   "a row's values together are at most about 11,000 characters")
            if number == 1:
                data = data.removeprefix(b"\xef\xbb\xbf")
            try:
                yield number, data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"{path}, line {number}: not UTF-8 text", "export the file as UTF-8") from None


def _records(path: Path, file_format: str, digest: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    return _csv_records(path, digest) if file_format == "csv" else _jsonl_records(path, digest)


def _zone(name: str | None) -> dt.tzinfo | None:
    return None if name is None else localtime.zone_named(name)


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


def _csv_records(path: Path, digest: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    numbered = _lines(path, digest)
    physical = [0]

    def lines() -> Iterator[str]:
        for number, content in numbered:
            physical[0] = number
            yield content

    reader = csv.reader(lines(), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(f"{path} is empty", "the first line names the columns")
        names = [_header_name(h) for h in header]
        _check_columns(path, 1, names)
        start = physical[0] + 1
        for fields in reader:
            line, start = start, physical[0] + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != len(names):
                raise InvalidInput(
                    f"{path}, line {line}: {len(fields)} field(s) where the header names {len(names)}",
                    "quote any value that contains a comma",
                )
            yield line, dict(zip(names, fields))
    except csv.Error as exc:
        raise InvalidInput(f"{path}, line {physical[0]}: not valid CSV ({exc})") from None


def _jsonl_records(path: Path, digest: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, content in _lines(path, digest):
        content = content.rstrip("\r\n")
        if not content.strip():
            continue
        try:
            record = canonical.strict_loads(content, max_depth=2)
        except ValueError as exc:
            raise InvalidInput(f"{path}, line {line}: not valid JSON ({getattr(exc, 'msg', exc)})",
                               "one JSON object per line, each key once") from None
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
    value = value.replace("\r\n", "\n")  # a Windows line break inside a cell is one line break
    found = text.refused_character(value)  # a lone carriage return could overwrite a line on a terminal
    if found is not None:
        raise _Problem(name, f"holds {text.describe(found[1])} at character {found[0]}",
                       "control, surrogate and text-direction characters are refused; remove them")
    value = value.strip()
    return value or None


def _time(value: str, zone: dt.tzinfo | None, now: dt.datetime) -> str:
    """An alert's time as ISO UTC: with its own offset, or read in the zone the import assumes
    (where a time the clocks skip or repeat there is refused, as when a person types it)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Problem("time", f"{text.quoted(value)} is not an ISO 8601 time",
                       "write e.g. 2025-03-04T09:15:00Z") from None
    if moment.tzinfo is None and zone is None:
        raise _Problem(
            "time", f"{text.quoted(value)} has no time zone",
            "add Z or an offset such as +01:00, or import with --assume-timezone Europe/London",
        )
    if moment.tzinfo is not None and moment > now + FUTURE_TOLERANCE:
        raise _Problem("time", f"{text.quoted(value)} is in the future", "check the clock of the system that exported it")
    try:
        found = localtime.moment("time", value, zone or dt.timezone.utc)
    except InvalidInput as exc:
        raise _Problem("time", exc.message, exc.hint) from None
    if found > now + FUTURE_TOLERANCE:
        raise _Problem("time", f"{text.quoted(value)} is in the future",
                       "check the clock of the system that exported it")
    return found.isoformat()


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
