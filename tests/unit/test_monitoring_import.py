"""The alert file reader on its own: formats, line numbers, normalisation, fuzzing."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.services.monitoring_import import COLUMNS, read_alert_file
from ledger.errors import InvalidInput, NotFound
from ledger.text import BIDI_CONTROLS

NOW = "2026-01-01T00:00:00+00:00"
HEADER = "time,source_system,source_record_id,device,user,category,severity,rule,action,detail"
ROW = "2025-03-03T08:55:12Z,smoothwall,{id},OAK-07,jsmith,social-media,low,Social,blocked,{detail}"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def test_a_csv_row_spanning_lines_is_numbered_by_its_first_line(tmp_path: Path) -> None:
    text = "\n".join([HEADER, ROW.format(id="a", detail='"two\nlines"'), ROW.format(id="b", detail="ok"),
                      ROW.format(id="c", detail="ok").replace("low", "loud")])
    with pytest.raises(InvalidInput, match=r"line 5, column severity: 'loud' is not a known severity"):
        read_alert_file(write(tmp_path, "a.csv", text), NOW)
    rows = list(read_alert_file(write(tmp_path, "b.csv", "\n".join(text.split("\n")[:4])), NOW).checked_rows())
    assert [r.line for r in rows] == [2, 4] and rows[0].detail == "two\nlines"


def test_csv_headers_are_matched_loosely_and_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    header = "Time,Source System,source-record-id,Category,SEVERITY,Action"
    text = "\ufeff" + header + "\n2025-03-03T08:55:12+01:00,SmoothWall,7,Self Harm,High,Flagged\n\n"
    (row,) = list(read_alert_file(write(tmp_path, "x.csv", text), NOW).checked_rows())
    assert (row.time, row.source_system, row.category, row.severity, row.action, row.user) == (
        "2025-03-03T07:55:12+00:00", "smoothwall", "self-harm", "high", "flagged", None)


def test_a_short_csv_row_is_refused_with_its_line(tmp_path: Path) -> None:
    text = HEADER + "\n" + ROW.format(id="a", detail="x") + "\n2025-03-03T08:55:12Z,smoothwall,b\n"
    with pytest.raises(InvalidInput, match="line 3: 3 field"):
        read_alert_file(write(tmp_path, "s.csv", text), NOW)


def test_json_lines_accept_missing_optional_keys_and_numeric_record_ids(tmp_path: Path) -> None:
    lines = [
        json.dumps({"time": "2025-03-05T11:02:00Z", "source_system": "senso", "source_record_id": 88121,
                    "category": "malware", "severity": "info", "action": "blocked", "user": None}),
        "",
        json.dumps({"time": "2025-03-05T11:03:00Z", "source_system": "senso", "source_record_id": "x",
                    "category": "malware", "severity": "info", "action": "blocked", "detail": "d"}),
    ]
    rows = list(read_alert_file(write(tmp_path, "a.jsonl", "\n".join(lines)), NOW).checked_rows())
    assert [(r.line, r.source_record_id, r.detail) for r in rows] == [(1, "88121", None), (3, "x", "d")]


@pytest.mark.parametrize("line, message", [
    ("[1, 2]", "line 2: not a JSON object"),
    ("{not json", "line 2: not valid JSON"),
    ('{"time": "2025-03-05T11:02:00Z", "source_system": "s", "source_record_id": "1", "category": "other", '
     '"severity": "low", "action": "allowed", "rule": 5}', "line 2, column rule: must be text, not int"),
    ('{"time": "2025-03-05T11:02:00Z", "source_system": "s", "source_record_id": true, "category": "other", '
     '"severity": "low", "action": "allowed"}', "line 2, column source_record_id: must be text, not bool"),
    ('{"Time": "2025-03-05T11:02:00Z"}', "line 2: unknown column 'Time'"),
])
def test_bad_json_lines_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"time": "2025-03-05T11:02:00Z", "source_system": "s", "source_record_id": "0",
                       "category": "other", "severity": "low", "action": "allowed"})
    with pytest.raises(InvalidInput, match=message):
        read_alert_file(write(tmp_path, "bad.jsonl", good + "\n" + line + "\n"), NOW)


def test_files_that_cannot_be_read_as_alerts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_alert_file(tmp_path / "missing.csv", NOW)
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        read_alert_file(write(tmp_path, "alerts.txt", HEADER), NOW)
    with pytest.raises(InvalidInput, match="line 2: not UTF-8"):
        read_alert_file(write(tmp_path, "latin.csv", (HEADER + "\nJos\xe9").encode("latin-1")), NOW)
    with pytest.raises(InvalidInput, match="is empty"):
        read_alert_file(write(tmp_path, "empty.csv", ""), NOW)
    with pytest.raises(InvalidInput, match="is not a time zone"):
        read_alert_file(write(tmp_path, "z.csv", HEADER + "\n"), NOW, assume_zone="Mars/Olympus")


def test_the_file_is_fingerprinted_by_its_exact_bytes(tmp_path: Path) -> None:
    text = HEADER + "\n" + ROW.format(id="a", detail="x") + "\n"
    one = read_alert_file(write(tmp_path, "one.csv", text), NOW)
    two = read_alert_file(write(tmp_path, "two.csv", text + "\n"), NOW)
    assert list(one.checked_rows()) == list(two.checked_rows()) and one.sha256 != two.sha256


free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                  blacklist_characters=sorted(BIDI_CONTROLS)) | st.sampled_from(',"\n\t'), max_size=40)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(free_text, min_size=1, max_size=5), details=st.lists(free_text, min_size=5, max_size=5))
def test_any_text_survives_a_csv_round_trip(tmp_path: Path, users: list[str], details: list[str]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for n, user in enumerate(users):
        writer.writerow({"time": "2025-03-03T08:55:12Z", "source_system": "fuzz", "source_record_id": f"r{n}",
                         "device": "", "user": user, "category": "other", "severity": "low", "rule": "",
                         "action": "allowed", "detail": details[n]})
    rows = list(read_alert_file(write(tmp_path, "fuzz.csv", out.getvalue()), NOW).checked_rows())
    assert [r.user for r in rows] == [u.strip() or None for u in users]
    assert [r.detail for r in rows] == [d.strip() or None for d in details[: len(users)]]


def test_the_examples_in_the_format_document_import_cleanly(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent.parent / "docs" / "monitoring-import-format.md").read_text()
    blocks: dict[str, list[str]] = {"csv": [], "json": []}
    for part in doc.split("```")[1::2]:
        kind, _, body = part.partition("\n")
        if kind in blocks:
            blocks[kind].append(body)
    assert len(blocks["csv"]) == 1 and len(blocks["json"]) == 1
    assert len(list(read_alert_file(write(tmp_path, "doc.csv", blocks["csv"][0]), NOW).checked_rows())) == 2
    assert len(list(read_alert_file(write(tmp_path, "doc.jsonl", blocks["json"][0]), NOW).checked_rows())) == 2


# -- hostile files -------------------------------------------------------------------------------

JSON_ROW = '{"time": "2025-03-05T11:02:00Z", "source_system": "senso", "source_record_id": "1", ' \
           '"category": "malware", "severity": "info", "action": "blocked"'


def test_a_fifo_is_refused_at_once_instead_of_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "alerts.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="not a regular file"):
        read_alert_file(fifo, NOW)


def test_a_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a regular file"):
        read_alert_file(Path("/dev/zero"), NOW, "csv")


@pytest.mark.parametrize("line, message", [
    (JSON_ROW + ', "user": "a", "user": "b"}', "appears twice"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "nested more than"),
    (JSON_ROW + ', "user": "\\ud800x"}', "U\\+D800 LONE SURROGATE at character 1"),
    (JSON_ROW + ', "detail": "\\u009b31m"}', "U\\+009B CONTROL CHARACTER at character 1"),
    (JSON_ROW + ', "detail": NaN}', "not valid JSON"),
])
def test_json_lines_refuse_ambiguous_deep_or_hostile_values(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"line 1.*{message}"):
        read_alert_file(write(tmp_path, "a.jsonl", line + "\n"), NOW)


def test_an_over_long_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="line 2: longer than"):
        read_alert_file(write(tmp_path, "a.csv", HEADER + "\n" + "x" * 300_000 + "\n"), NOW)


def test_a_file_changed_between_checking_and_writing_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "\n".join([HEADER, ROW.format(id="a", detail="one")]) + "\n")
    checked = read_alert_file(path, NOW)
    path.write_text("\n".join([HEADER, ROW.format(id="a", detail="two")]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="changed while it was imported"):
        list(checked.first_rows())


def test_a_windows_line_break_in_a_cell_is_one_line_break_and_a_lone_carriage_return_is_refused(
        tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", HEADER + "\r\n" + ROW.format(id="1", detail='"first\r\nsecond"') + "\r\n")
    [alert] = list(read_alert_file(path, NOW).checked_rows())
    assert alert.detail == "first\nsecond"
    path = write(tmp_path, "b.csv", HEADER + "\n" + ROW.format(id="1", detail='"shown\rhidden"') + "\n")
    with pytest.raises(InvalidInput, match="line 2, column detail: holds U\\+000D CONTROL CHARACTER at character 6"):
        read_alert_file(path, NOW)


def test_reading_a_big_alert_file_keeps_memory_far_below_its_size(tmp_path: Path) -> None:
    """The import streams its file (it used to hold all of it: 58 MB became 544 MB RSS)."""
    import tracemalloc

    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n")
        for n in range(3000):
            handle.write(ROW.format(id=f"SW-{n}", detail="captured text " * 150) + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        checked = read_alert_file(path, NOW)
        written = sum(1 for _ in checked.first_rows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert written == 3000 and size > 6_000_000
    assert peak < size / 10, f"{peak:,} bytes held at once reading a {size:,}-byte file"
