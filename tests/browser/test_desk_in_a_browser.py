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
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commands.services import people, setup
from commands.web.desk import Settings
from commands.web.serve import in_background
from ledger import config as configuration
from tests.conftest import PASSPHRASE, build_federation, local_today
from tests.web.conftest import Clock
from tests.web.test_desk_transfers_page import a_receipt_to_record

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
def clock() -> Clock:
    """The desk's idle clock, moved by the tests (a session times out without waiting 15 minutes)."""
    return Clock()


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[str]:
    """The desk over a small federation with the pupil Pip Pupil, served on a free port."""
    home = tmp_path_factory.mktemp("browser") / "home"
    from ledger import crypto

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(crypto, "SCRYPT_N", 2**10)
        fed = build_federation(home)
        setup.change_settings(fed.ledger, fed["admin"], None, ("Oak Primary",), "the school")
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", "Oak Primary", "sb-pip")
        people.join_school(fed.ledger, fed["head"], "teacher", "Oak Primary")  # picks Oak's pupils by name
        RECEIPT["transfer"], RECEIPT["file"] = a_receipt_to_record(fed, home.parent, patch, "Rae Leaver")
        fed.ledger.close()
    with in_background(configuration.resolve({}, home=str(home)), Settings(clock=clock)) as url:
        yield url


#: A leaver's file sent from the desk's ledger and the receipt the receiving school's tool wrote.
RECEIPT: dict[str, Any] = {}


def _page(browser: Any) -> Any:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 900})
    return context.new_page()


def _sign_in(page: Any, url: str, actor_id: str) -> None:
    page.goto(f"{url}/sign-in")
    page.fill("#actor_id", actor_id)
    page.fill("#passphrase", PASSPHRASE)
    page.click("button:has-text('Sign in')")


def _follow(page: Any, selector: str) -> None:
    """Click a link and wait for the page it opens, so that what is read next is that page."""
    with page.expect_navigation():
        page.click(selector)


def _give_reason(page: Any, reason: str) -> None:
    """Give a reason where the desk asks for one (once per record a session). The page the last
    click opened is awaited first: on a loaded machine the old page could still be the one shown,
    and the question would be missed."""
    page.wait_for_load_state()
    if page.locator("#reason").count():
        page.fill("#reason", reason)
        _follow(page, "button:has-text('Open')")


def _report(page: Any, url: str, summary: str) -> None:
    """Fill in the report form about Pip, found by name among the pupils of the teacher's school, unsent."""
    page.goto(f"{url}/mine")
    page.click("nav >> text=Report an incident")
    page.check("input[name=category][value=child-on-child]")
    page.fill("#occurred_at", "2026-01-05 12:30")
    page.select_option("#precision", "approximate")
    page.fill("#summary", summary)
    page.fill("#facts", "Pip showed me the group chat at lunch.")
    page.fill("#child_words", "everyone has seen it")
    page.fill("#find", "pip")
    page.click("button:has-text('Find')")
    assert "Pip Pupil" in page.inner_text("ul.found") and "2016-04-12" not in page.inner_text("main")
    page.click("button:has-text('add as victim')")
    assert page.input_value("#summary") == summary


def _reported(page: Any) -> str:
    shown = page.inner_text("main")
    inc = re.search(r"Reported as (inc-[0-9a-f]{8})", shown)
    assert inc, shown
    return inc.group(1)


def test_a_teacher_reports_and_the_dsl_works_the_case_and_prints_the_chronology(browser: Any, desk_url: str) -> None:
    teacher = _page(browser)
    _sign_in(teacher, desk_url, "teacher")
    teacher.goto(f"{desk_url}/people/sb-pip")
    _give_reason(teacher, "curious")
    assert "may not" in teacher.inner_text("main") and "2016-04-12" not in teacher.content()  # no record to read
    _report(teacher, desk_url, "Image shared in a group chat")
    teacher.click("button:has-text('Report')")
    inc_id = _reported(teacher)
    assert re.search(rf"{inc_id}\s+Child-on-child.*\breported\b", teacher.inner_text("main"))
    teacher.click("button:has-text('Sign out')")
    assert teacher.url.endswith("/sign-in")

    dsl = _page(browser)
    _sign_in(dsl, desk_url, "dsl")
    assert dsl.url.endswith("/inbox") and re.search(rf"triage\s.*waiting for triage\s+{inc_id}", dsl.inner_text("main"))
    _follow(dsl, f"a:has-text('{inc_id}')")
    _give_reason(dsl, "triage of a new report")
    assert "Pip showed me the group chat at lunch." in dsl.inner_text("main")
    dsl.fill("#rationale", "Sharing of images: safeguarding")
    dsl.click("button:has-text('Triage')")
    assert f"{inc_id} triaged and escalated to dsl" in dsl.inner_text("main")

    next_week = local_today(7)
    dsl.select_option("#action", "parent-meeting")
    dsl.fill("#a-details", "Meet both families with the class teacher.")
    dsl.fill("#a-on", next_week)
    dsl.click("button:has-text('Add action')")
    shown = dsl.inner_text("main")
    assert f"planned: meeting with parents or carers, for dsl, due {next_week}" in shown
    assert re.search(rf"meeting with parents or carers\s+dsl\s+{next_week}\s+open", shown)
    dsl.select_option("#action", "social-care-referral")
    dsl.fill("#a-details", "Referred to MASH, reference 4471.")
    dsl.click("button:has-text('Add action')")
    assert f"referral to children's social care (MASH): done on {local_today()}" in dsl.inner_text("main")
    inbox = dsl.goto(f"{desk_url}/inbox").text()
    assert f"Meeting with parents or carers: due {next_week}" in inbox and "due soon" in inbox

    dsl.click("nav >> text=Find a person")
    dsl.fill("#name", "pip")
    dsl.click("button:has-text('Find')")
    _follow(dsl, "a:has-text('Pip Pupil')")
    _give_reason(dsl, "strategy meeting")
    chronology = dsl.inner_text("main")
    assert "Pip Pupil" in chronology and "2016-04-12" in chronology and "Image shared in a group chat" in chronology
    assert f"action planned: meeting with parents or carers, for dsl, due {next_week}" in chronology
    dsl.click("a:has-text('Print view')")
    assert dsl.locator("body.print-view").count() == 1
    dsl.emulate_media(media="print")
    assert not dsl.locator("header.bar").is_visible() and dsl.locator("p.marking").is_visible()
    assert "OFFICIAL-SENSITIVE" in dsl.inner_text("p.marking")
    pdf = dsl.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.\d+ 84[12]\.\d+", pdf)  # A4: 595 x 842 points


def test_a_form_typed_as_the_session_ends_is_kept_and_sent_after_signing_in(
    browser: Any, desk_url: str, clock: Clock
) -> None:
    teacher = _page(browser)
    _sign_in(teacher, desk_url, "teacher")
    _report(teacher, desk_url, "Typed as the session ended")
    teacher.fill("#facts", "A long account typed over twenty minutes.")
    clock.advance(16)
    teacher.click("button:has-text('Report')")
    shown = teacher.inner_text("main")
    assert "Your session ended" in shown and "What you typed is kept in this page" in shown
    assert teacher.input_value("#actor_id") == "teacher"
    teacher.fill("#passphrase", PASSPHRASE)
    teacher.click("button:has-text('Sign in')")
    shown = teacher.inner_text("main")
    assert "A long account typed over twenty minutes." in shown and "Typed as the session ended" in shown
    teacher.click("button:has-text('Send it now')")
    _reported(teacher)


def test_an_investigator_sees_only_their_case_and_downloads_its_bundle(browser: Any, desk_url: str) -> None:
    teacher = _page(browser)
    _sign_in(teacher, desk_url, "teacher")
    _report(teacher, desk_url, "Case for the investigator")
    teacher.click("button:has-text('Report')")
    inc_id = _reported(teacher)
    head = _page(browser)
    _sign_in(head, desk_url, "head")
    head.goto(f"{desk_url}/incidents")
    _follow(head, f"a:has-text('{inc_id}')")
    _give_reason(head, "assigning an investigator")
    head.fill("#rationale", "safeguarding")
    head.click("button:has-text('Triage')")
    head.fill("#investigator", "investigator")
    head.fill("#remit", "Find out who shared the chat.")
    head.click("button:has-text('Assign')")
    assert "investigator assigned to" in head.inner_text("main")

    investigator = _page(browser)
    _sign_in(investigator, desk_url, "investigator")
    assert re.search(rf"assigned to you to investigate\s+{inc_id}", investigator.inner_text("main"))
    investigator.click("nav >> text=Incidents")
    listed = investigator.inner_text("main")
    assert inc_id in listed and len(set(re.findall(r"inc-[0-9a-f]{8}", listed))) == 1
    _follow(investigator, f"a:has-text('{inc_id}')")
    _give_reason(investigator, "investigation")
    investigator.fill("#e-reason", "for the disciplinary panel")
    with investigator.expect_download() as downloading:
        investigator.click("button:has-text('Download the bundle')")
    download = downloading.value
    assert re.fullmatch(rf"{inc_id}-evidence-[0-9a-f]{{12}}\.zip", download.suggested_filename)
    with zipfile.ZipFile(download.path()) as bundle:
        assert "SHA256SUMS" in bundle.namelist() and "timeline.html" in bundle.namelist()


def test_an_auditor_verifies_and_sees_nothing_personal(browser: Any, desk_url: str) -> None:
    auditor = _page(browser)
    _sign_in(auditor, desk_url, "auditor")
    assert auditor.url.endswith("/audit")
    auditor.click("button:has-text('Verify')")
    text = auditor.inner_text("main")
    assert "OK: the ledger verifies" in text
    for path in ("/audit", "/incidents", "/inbox", "/registers/incidents", "/alerts", "/people/sb-pip"):
        auditor.goto(f"{desk_url}{path}")
        content = auditor.content()
        assert "Pip Pupil" not in content and "group chat" not in content and "2016-04-12" not in content


def test_the_dsl_records_a_receipt_by_uploading_it(browser: Any, desk_url: str, tmp_path: Path) -> None:
    dsl = _page(browser)
    _sign_in(dsl, desk_url, "dsl")
    dsl.goto(f"{desk_url}/transfers")
    waiting = dsl.inner_text(f"tr#{RECEIPT['transfer']} td:last-child")
    altered = tmp_path / "receipt.json"
    altered.write_text(RECEIPT["file"].read_text().replace("Dee Receiver", "Dee Receivex"))
    dsl.set_input_files("#receipt", str(altered))
    dsl.click("button:has-text('Record the receipt')")
    assert "forged or altered" in dsl.inner_text("main")
    dsl.goto(f"{desk_url}/transfers")
    dsl.set_input_files("#receipt", str(RECEIPT["file"]))
    dsl.click("button:has-text('Record the receipt')")
    shown = dsl.inner_text("main")
    assert f"Receipt for {RECEIPT['transfer']} recorded: received by Dee Receiver (Elm Academy)" in shown, shown
    assert dsl.inner_text(f"tr#{RECEIPT['transfer']} td:last-child") not in ("", waiting)
