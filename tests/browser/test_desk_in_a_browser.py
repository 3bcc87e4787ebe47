"""The casework journey in a real browser: headless Chromium, no JavaScript at all.

A teacher reports about a pupil; the DSL sees it in the inbox, triages it,
records an action, finds the child by name, opens their chronology and
prints it; an auditor verifies the ledger and sees no personal data.

Needs Debian's ``chromium`` and the ``playwright`` package (whose own browser
download is not used). Without them the suite is skipped with the reason,
except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from commands.services import people
from commands.web.desk import Settings
from commands.web.serve import in_background
from ledger import config as configuration
from tests.conftest import PASSPHRASE, build_federation

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser suite must run in CI: {reason}")
    pytest.skip(f"browser suite skipped: {reason} (CI runs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The desk over a small federation with the pupil Pip Pupil, served on a free port."""
    home = tmp_path_factory.mktemp("browser") / "home"
    from ledger import crypto

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed = build_federation(home)
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", "Oak Primary", "sb-pip")
        fed.ledger.close()
    with in_background(configuration.resolve({}, home=str(home)), Settings()) as url:
        yield url


def _page(browser: Any) -> Any:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 900})
    return context.new_page()


def _sign_in(page: Any, url: str, actor_id: str) -> None:
    page.goto(f"{url}/sign-in")
    page.fill("#actor_id", actor_id)
    page.fill("#passphrase", PASSPHRASE)
    page.click("button:has-text('Sign in')")


def _give_reason(page: Any, reason: str) -> None:
    if page.locator("#reason").count():
        page.fill("#reason", reason)
        page.click("button:has-text('Open')")


def test_a_teacher_reports_and_the_dsl_works_the_case_and_prints_the_chronology(browser: Any, desk_url: str) -> None:
    teacher = _page(browser)
    _sign_in(teacher, desk_url, "teacher")
    teacher.click("nav >> text=Report an incident")
    teacher.check("input[name=category][value=child-on-child]")
    teacher.fill("#occurred_at", "2026-01-05T12:30")
    teacher.select_option("#precision", "approximate")
    teacher.fill("#summary", "Image shared in a group chat")
    teacher.fill("#facts", "Pip showed me the group chat at lunch.")
    teacher.fill("#child_words", "everyone has seen it")
    teacher.fill("#find", "Pip")
    teacher.click("button:has-text('Find')")
    assert "may not read people's records" in teacher.inner_text("main")
    teacher.fill("#find", "sb-pip")
    teacher.click("button:has-text('Find')")
    teacher.click("button:has-text('add as victim')")
    assert teacher.input_value("#summary") == "Image shared in a group chat"
    teacher.click("button:has-text('Report')")
    shown = teacher.inner_text("main")
    inc = re.search(r"Reported as (inc-[0-9a-f]{8})", shown)
    assert inc, shown
    inc_id = inc.group(1)
    assert re.search(rf"{inc_id}\s+Child-on-child.*\breported\b", shown)
    teacher.click("button:has-text('Sign out')")
    assert teacher.url.endswith("/sign-in")

    dsl = _page(browser)
    _sign_in(dsl, desk_url, "dsl")
    assert dsl.url.endswith("/inbox") and inc_id in dsl.inner_text("main")
    dsl.click(f"a:has-text('{inc_id}')")
    _give_reason(dsl, "triage of a new report")
    assert "Pip showed me the group chat at lunch." in dsl.inner_text("main")
    dsl.fill("#rationale", "Sharing of images: safeguarding")
    dsl.click("button:has-text('Triage')")
    assert f"{inc_id} triaged and escalated to dsl" in dsl.inner_text("main")
    dsl.select_option("#action", "parents-informed")
    dsl.fill("#a-details", "Both families called by the DSL.")
    dsl.click("button:has-text('Record action')")
    assert "Both families called by the DSL." in dsl.inner_text("main")
    assert inc_id not in dsl.goto(f"{desk_url}/inbox").text()

    dsl.click("nav >> text=Find a person")
    dsl.fill("#name", "pip")
    dsl.click("button:has-text('Find')")
    dsl.click("a:has-text('Pip Pupil')")
    _give_reason(dsl, "strategy meeting")
    chronology = dsl.inner_text("main")
    assert "Pip Pupil" in chronology and "2016-04-12" in chronology and "Image shared in a group chat" in chronology
    dsl.click("a:has-text('Print view')")
    assert dsl.locator("body.print-view").count() == 1
    dsl.emulate_media(media="print")
    assert not dsl.locator("header.bar").is_visible() and dsl.locator("p.marking").is_visible()
    pdf = dsl.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1


def test_an_auditor_verifies_and_sees_nothing_personal(browser: Any, desk_url: str) -> None:
    auditor = _page(browser)
    _sign_in(auditor, desk_url, "auditor")
    assert auditor.url.endswith("/audit")
    auditor.click("button:has-text('Verify')")
    text = auditor.inner_text("main")
    assert "OK: the ledger verifies" in text
    for path in ("/audit", "/incidents", "/inbox", "/registers/incidents"):
        auditor.goto(f"{desk_url}{path}")
        content = auditor.content()
        assert "Pip Pupil" not in content and "group chat" not in content and "2016-04-12" not in content
