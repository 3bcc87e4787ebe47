"""The HTML timeline: one self-contained, escaped, printable file that a browser renders whole.

The rendering check runs headless Chromium (``chromium`` on PATH). Without it
the test is skipped with a reason, except in CI (CI=true), which must have it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from commands.services import incidents, people, readside
from ledger import crypto
from projections import timeline_html
from projections.timeline import Timeline
from tests.conftest import Federation, build_federation

HOSTILE = '<script>alert("x")</script> & <img src="http://example.invalid/x.png"> "Ünïcödé"'
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    """A timeline with a late report, a correction, withheld-free rows and hostile text."""
    home = tmp_path_factory.mktemp("html") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed: Federation = build_federation(home)
        ledger = fed.ledger
        pupil = people.add_subject(ledger, fed["dsl"], "pupil", "Hettie Html")
        when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%MZ")
        form = incidents.IncidentReport("child-on-child", when, HOSTILE, "Facts & more <b>facts</b>",
                                        people=(f"{pupil}:victim",))
        inc = incidents.report(ledger, fed["teacher"], form)
        incidents.triage(ledger, fed["dsl"], inc, "DSL leads")
        incidents.record_outcome(ledger, fed["dsl"], inc, "upheld", "first view")
        incidents.record_outcome(ledger, fed["dsl"], inc, "no-further-action", "second view")
        readside.timeline(ledger, fed["head"], "oversight", incident=inc)
        yield readside.timeline(ledger, fed["dsl"], "case file", incident=inc)
        ledger.close()


def chromium() -> str:
    """The Chromium executable, or skip (fail in CI) with the reason."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is required in CI: install the chromium package")
    pytest.skip("headless Chromium is not installed (apt-get install chromium); CI runs this check")


class Rows(HTMLParser):
    """Collects the rendered table rows and any element that could fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.fetching: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and "entry" in (values.get("class") or "").split():
            self.refs.append(values.get("data-ref") or "")
        if tag == "script":
            self.scripts += 1
        if tag in ("img", "link", "iframe", "object", "embed") or values.get("src") or values.get("href"):
            self.fetching.append(tag)


def test_the_html_is_self_contained_escaped_and_printable(found: Timeline) -> None:
    page = timeline_html.render(found)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "@media print" in page and "table-header-group" in page
    assert not re.search(r"https?://|@import|url\(", page.replace("http://example.invalid", ""))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in page
    parsed = Rows()
    parsed.feed(page)
    assert parsed.refs == [r["ref"] for r in found.rows]
    assert parsed.fetching == [] and parsed.scripts == 0
    assert 'class="entry shown late"' in page and "correction of" in page


def test_the_html_renders_in_headless_chromium_with_every_row(found: Timeline, tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "timeline.html"
    page.write_text(timeline_html.render(found), encoding="utf-8")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Rows()
    dom.feed(done.stdout)
    assert len(found.rows) >= 5
    assert dom.refs == [r["ref"] for r in found.rows], "every row, in order"
    assert dom.scripts == 0 and dom.fetching == []
    assert 'alert("x")' in done.stdout.replace("&quot;", '"') and "Ünïcödé" in done.stdout
    assert "LATE" in done.stdout


def test_the_html_carries_the_readable_text_and_a_confidentiality_marking(found: Timeline) -> None:
    page = timeline_html.render(found)
    assert "<dt>facts</dt><dd>Facts &amp; more &lt;b&gt;facts&lt;/b&gt;</dd>" in page
    assert f'<p class="marking">{html.escape(timeline_html.MARKING)}</p>' in page


def test_printed_every_page_is_marked_and_numbered(found: Timeline, tmp_path: Path) -> None:
    """A chronology printed for a strategy meeting: the marking heads every page, "Page n of N" foots it."""
    pypdf = pytest.importorskip("pypdf")
    browser = chromium()
    long = dataclasses.replace(found, rows=found.rows * 12)
    page = tmp_path / "timeline.html"
    page.write_text(timeline_html.render(long), encoding="utf-8")
    pdf = tmp_path / "timeline.pdf"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    pages = [p.extract_text() for p in pypdf.PdfReader(pdf).pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        flat = " ".join(unicodedata.normalize("NFKC", text).split())  # the PDF's ligatures as letters
        assert f"Page {number} of {len(pages)}" in flat, flat[-300:]
        assert "OFFICIAL-SENSITIVE: confidential safeguarding record" in flat
