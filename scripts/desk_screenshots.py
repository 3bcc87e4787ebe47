"""Screenshots of the desk's main pages, taken from the demo ledger, for docs/screenshots/.

Builds the demo federation (``ledger demo``) in a temporary folder, serves
the desk on a free local port, and photographs each main page as the person
who would use it, with headless Chromium (Debian's ``chromium``, driven by
Playwright, JavaScript off). A teacher first reports a concern about a demo
pupil so that the DSL's inbox has something in it.

    python scripts/desk_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.services import demo  # noqa: E402
from commands.web.desk import Settings  # noqa: E402
from commands.web.serve import in_background  # noqa: E402
from ledger import config as configuration, localtime  # noqa: E402
from ledger.clock import SystemClock  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _sign_in(page: Any, url: str, actor_id: str) -> None:
    page.goto(f"{url}/sign-in")
    page.fill("#actor_id", actor_id)
    page.fill("#passphrase", demo.DEMO_PASSPHRASE)
    page.click("button:has-text('Sign in')")


def _reason(page: Any, reason: str) -> None:
    if page.locator("#reason").count():
        page.fill("#reason", reason)
        page.click("button:has-text('Open')")


def _shot(page: Any, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def take(url: str, browser: Any, out: Path, pupil: str) -> None:
    """Sign in as each person and photograph their pages."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(f"{url}/sign-in")
    _shot(page, out, "01-sign-in")

    _sign_in(page, url, "teacher-1")
    page.goto(f"{url}/report")
    page.check("input[name=category][value=child-on-child]")
    page.select_option("#school", "Oak Primary")  # the demo federation has two schools
    local_now = localtime.local(SystemClock().now(), localtime.zone_named(localtime.DEFAULT_ZONE))
    when = f"{local_now - dt.timedelta(hours=3):%Y-%m-%d %H:%M}"  # typed as the clocks in school show it
    page.fill("#occurred_at", when)
    page.fill("#summary", "Unkind comments about a pupil in a class group chat")
    page.fill("#facts", "At break a pupil showed me messages in the class chat calling another pupil names.")
    page.fill("#child_words", "they won't stop and everyone laughs")
    page.fill("#find", "pip")  # a teacher picks a pupil of their school by name
    page.click("button:has-text('Find')")
    page.click("button:has-text('add as victim')")
    _shot(page, out, "02-teacher-report-form")
    page.click("button:has-text('Report')")
    _shot(page, out, "03-teacher-my-reports")
    page.click("button:has-text('Sign out')")

    _sign_in(page, url, "dsl")
    _shot(page, out, "04-dsl-inbox")
    page.click("main a[href^='/incidents/']")
    _reason(page, "triage of a new report")
    page.fill("#rationale", "Online bullying between pupils: safeguarding")
    page.click("button:has-text('Triage')")
    next_week = f"{local_now.date() + dt.timedelta(days=7):%Y-%m-%d}"
    page.select_option("#action", "parent-meeting")
    page.fill("#a-details", "Meet both families with the class teacher.")
    page.fill("#a-on", next_week)
    page.click("button:has-text('Add action')")
    _shot(page, out, "05-dsl-incident")
    page.goto(f"{url}/people")
    page.fill("#name", "pip")
    page.click("button:has-text('Find')")
    _shot(page, out, "06-dsl-find-a-child")
    page.click("main table a")
    _reason(page, "case review")
    _shot(page, out, "07-dsl-child-chronology")
    page.click("a:has-text('Print view')")
    _shot(page, out, "08-chronology-print-view")
    _pages(page, url, out, [("/incidents?status=all", "09-incidents-register"), ("/alerts", "13-dsl-alerts")])
    page.click("button:has-text('Sign out')")

    _sign_in(page, url, "head")
    _pages(page, url, out, [("/registers/approvals", "10-head-approvals-register"),
                            ("/governors", "11-head-governors-report")])
    page.click("button:has-text('Sign out')")

    _sign_in(page, url, "it-manager")
    page.goto(f"{url}/audit")
    page.click("button:has-text('Verify')")
    _shot(page, out, "12-audit-verify")
    context.close()


def _pages(page: Any, url: str, out: Path, shots: list[tuple[str, str]]) -> None:
    for path, name in shots:
        page.goto(f"{url}{path}")
        _shot(page, out, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="desk-demo-"))
    try:
        lines = list(demo.run(folder / "demo", {}))
        pupil = next(line.split()[0] for line in lines if " pupil at Oak Primary" in line)
        config = configuration.resolve({}, home=str(folder / "demo"))
        with in_background(config, Settings()) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            print(f"screenshots of the desk on the demo ledger, into {args.out}:")
            take(url, browser, args.out, pupil)
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
