"""A bundle is hostile input: both verifiers refuse bombs, links, deep or ambiguous JSON
and oversized contents before reading them, and never print what a bundle says raw."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.cli.main import cli
from ledger import verify_bundle as checker


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return path


def _unreadable(path: Path) -> str:
    with pytest.raises(checker.Unreadable) as caught:
        checker.verify(path)
    return str(caught.value)


def test_a_zip_bomb_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"attachments/a.bin": bytes(20 * 1024 * 1024)})
    assert bomb.stat().st_size < 100_000
    assert "compressed more than 200 to 1" in _unreadable(bomb)


def test_a_file_larger_than_the_limit_or_too_many_files_are_refused(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checker, "MAX_FILE_BYTES", 1000)
    assert "larger than" in _unreadable(_zip(tmp_path / "big.zip", {"a.txt": os.urandom(2000)}))
    monkeypatch.setattr(checker, "MAX_FILES", 3)
    assert "more than 3 files" in _unreadable(_zip(tmp_path / "many.zip", {f"{n}.txt": b"x" for n in range(4)}))


def test_a_symbolic_link_inside_the_zip_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "link.zip", {"attachments/a.png": b"/etc/passwd"}, links=("attachments/a.png",))
    assert "is a symbolic link" in _unreadable(path)


@pytest.mark.parametrize("name", ["/abs.txt", "../up.txt", "a/../../b", "C:/x", "a\\b"])
def test_a_name_outside_the_bundle_is_refused(tmp_path: Path, name: str) -> None:
    assert "outside the bundle" in _unreadable(_zip(tmp_path / "n.zip", {name: b"x"}))


def test_a_symlinked_folder_or_a_fifo_in_an_unpacked_bundle_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    (folder / "entries").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (folder / "attachments").symlink_to(tmp_path / "elsewhere")
    assert "attachments is a symbolic link" in _unreadable(folder)
    (folder / "attachments").unlink()
    os.mkfifo(folder / "entries" / "0.bin")
    assert "entries/0.bin is not a regular file" in _unreadable(folder)


def _bundle_with(tmp_path: Path, index: bytes) -> Path:
    return _zip(tmp_path / "b.zip", {"entries/index.json": index, "trust.json": b"{}", "SHA256SUMS": b""})


def test_deeply_nested_json_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    report = checker.verify(_bundle_with(tmp_path, b"[" * 100_000 + b"]" * 100_000))
    assert not report.ok
    trust = checker.verify(tmp_path / "b.zip", _write(tmp_path / "t.json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000))
    assert not trust.ok and "nested more than" in "\n".join(trust.lines())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_repeated_key_in_the_trust_file_is_refused(tmp_path: Path) -> None:
    trust = _write(tmp_path / "t.json", b'{"origin": "a", "origin": "b"}')
    report = checker.verify(_bundle_with(tmp_path, b"{}"), trust)
    assert not report.ok and "appears twice" in "\n".join(report.lines())


def test_nothing_a_bundle_holds_reaches_the_terminal_raw(tmp_path: Path) -> None:
    path = _zip(tmp_path / "t.zip", {"entries/\x1b]0;pwned\x07.bin": b"x", "trust.json": b"{}"})
    lines = "\n".join(checker.verify(path).lines())
    assert "\x1b" not in lines and "\x07" not in lines and "\\x1b]0;pwned\\x07" in lines


def test_ledger_verify_bundle_refuses_a_bomb_and_a_fifo_with_an_error(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"a.bin": bytes(20 * 1024 * 1024)})
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    for path, message in ((bomb, "zip bomb"), (fifo, "neither a zip file nor a folder")):
        done = CliRunner().invoke(cli, ["verify-bundle", str(path)], catch_exceptions=False)
        assert done.exit_code == 1 and message in done.stderr and "Hint:" in done.stderr, done.output


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.dictionaries(st.sampled_from(["entries/index.json", "trust.json", "SHA256SUMS", "checkpoint.txt",
                                        "entries/0.bin", "proofs/0.json", "registry/writers.json"]),
                       st.binary(max_size=200) | st.text(max_size=200).map(str.encode), max_size=6))
def test_any_bundle_contents_give_a_report_never_a_traceback(tmp_path: Path, members: dict[str, bytes]) -> None:
    report = checker.verify(_zip(tmp_path / "f.zip", members))
    assert not report.ok and report.lines()[-1].startswith("RESULT: FAILED")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=20))
def test_any_json_index_gives_a_report(tmp_path: Path, document: object) -> None:
    report = checker.verify(_bundle_with(tmp_path, json.dumps(document).encode()))
    assert not report.ok
