"""The desk as a door: headers, CSRF, cookies, sessions, throttling, errors, uploads, logs."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from commands.services import incidents, people
from commands.web.app import create_app
from commands.web.cases import DESK_EXPORTS
from commands.web.desk import Settings
from ledger import config as configuration, text
from tests.conftest import row_counts
from tests.web.conftest import Clock, Site, text_of

PAGES = ("/inbox", "/mine", "/report", "/policy", "/requests", "/incidents", "/people", "/registers",
         "/registers/incidents", "/registers/approvals", "/governors", "/audit", "/alerts")

POSTS = ("/sign-in", "/sign-out", "/reason", "/report", "/policy/acknowledge", "/requests/post", "/requests/device",
         "/requests/permission", "/incidents/inc-00000000/triage", "/incidents/inc-00000000/export", "/people",
         "/approvals/dev-00000000/decide", "/audit/verify", "/incidents/inc-00000000/action",
         "/incidents/inc-00000000/done", "/incidents/inc-00000000/cancel", "/incidents/inc-00000000/describe",
         "/incidents/inc-00000000/remove-evidence", "/alerts/al-0000000000000000/link",
         "/alerts/al-0000000000000000/dismiss")


def _has_security_headers(headers: dict[str, str] | object, page: bool = True) -> None:
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert headers["Referrer-Policy"] == "no-referrer"  # type: ignore[index]
    if page:
        assert headers["Cache-Control"] == "no-store"  # type: ignore[index]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(site: Site, path: str) -> None:
    response = site.visitor("head").get(path)
    assert response.status_code == 200, text_of(response)
    _has_security_headers(response.headers)
    assert "<script" not in response.text and " on" + "click=" not in response.text


def test_sign_in_error_and_refusal_pages_send_them_too(site: Site) -> None:
    visitor = site.visitor()
    for response in (visitor.get("/sign-in"), visitor.get("/no-such-page"), site.visitor("teacher").read("/incidents/inc-00000000")):
        _has_security_headers(response.headers)
    sheet = visitor.get("/static/desk.css")
    _has_security_headers(sheet.headers, page=False)
    assert "no-store" not in sheet.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", POSTS)
def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(site: Site, path: str) -> None:
    visitor = site.visitor("head")
    before = row_counts(site.fed)
    response = visitor.post(path, {"reason": "x", "rationale": "x", "actor_id": "head", "passphrase": "x"}, csrf=False)
    assert response.status_code == 400
    assert "did not come from the desk" in text_of(response)
    assert row_counts(site.fed) == before
    assert visitor.get("/mine").status_code == 200  # still signed in: sign-out was refused too


def test_a_token_from_another_session_is_refused(site: Site) -> None:
    mine, theirs = site.visitor("dsl"), site.visitor("teacher")
    before = row_counts(site.fed)
    response = theirs.post("/policy/acknowledge", {"csrf": mine.token})
    assert response.status_code == 400
    assert row_counts(site.fed) == before


def _cookie(response: object) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("desk_session=")]  # type: ignore[attr-defined]
    assert len(cookies) == 1
    return str(cookies[0])


def test_the_session_cookie_is_httponly_strict_and_holds_only_a_token(site: Site) -> None:
    visitor = site.visitor()
    visitor.get("/sign-in")
    cookie = _cookie(visitor.post("/sign-in", {"actor_id": "dsl", "passphrase": "correct horse battery"}))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40
    session = site.desk.sessions.get(token)
    assert session is not None and session.actor.actor_id == "dsl"
    assert session.actor.pair.signing_key.hex() not in cookie


def test_the_cookie_is_secure_over_https_and_behind_the_proxy(site: Site, tmp_path: Path) -> None:
    visitor = site.visitor(base_url="https://localhost")
    visitor.get("/sign-in")
    assert "Secure" in _cookie(visitor.post("/sign-in", {"actor_id": "dsl", "passphrase": "correct horse battery"}))
    proxied = create_app(configuration.resolve({}, home=str(site.fed.home)),
                         Settings(secure_cookies=True, behind_proxy=True))
    client = proxied.test_client()
    page = client.get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/sign-in", data={"csrf": token, "actor_id": "dsl", "passphrase": "correct horse battery"},
                           headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in _cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    proxied.extensions["desk"].stop()


def test_signing_out_forgets_the_session_and_its_key(site: Site) -> None:
    visitor = site.visitor("dsl")
    sessions = len(site.desk.sessions)
    response = visitor.post("/sign-out")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in")
    assert len(site.desk.sessions) == sessions - 1
    assert visitor.get("/inbox").headers["Location"].endswith("/sign-in")


def test_an_idle_session_ends_after_the_timeout(site: Site) -> None:
    visitor = site.visitor("dsl")
    site.clock.advance(14)
    assert visitor.get("/inbox").status_code == 200
    site.clock.advance(14)
    assert visitor.get("/inbox").status_code == 200
    site.clock.advance(15.1)
    response = visitor.get("/inbox")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in")


def test_idle_sessions_are_swept_even_if_never_used_again(site: Site) -> None:
    site.visitor("slt")
    assert site.desk.sessions.holds("slt")
    site.clock.advance(16)
    site.desk.sessions.sweep()
    assert not site.desk.sessions.holds("slt")


def test_stopping_the_desk_forgets_every_session(site: Site) -> None:
    app = create_app(configuration.resolve({}, home=str(site.fed.home)), Settings(clock=Clock()))
    desk = app.extensions["desk"]
    from tests.web.conftest import Visitor

    Visitor(app).sign_in("dsl")
    assert len(desk.sessions) == 1
    desk.stop()
    assert len(desk.sessions) == 0


def test_wrong_passphrases_are_rate_limited_per_id(site: Site) -> None:
    visitor = site.visitor()
    for _ in range(5):
        response = visitor.sign_in("poster", "not the passphrase")
        assert response.status_code == 401
        assert "wrong passphrase for poster" in text_of(response)
    refused = visitor.sign_in("poster")  # even the right passphrase waits now
    assert refused.status_code == 429 and "Too many wrong passphrases for poster" in text_of(refused)
    assert site.visitor().sign_in("slt").status_code == 303  # another id is not held up
    site.clock.advance(1)
    assert visitor.sign_in("poster").status_code == 303


def test_signing_in_writes_nothing_anywhere(site: Site) -> None:
    home = site.fed.home
    files = {p: p.stat().st_mtime_ns for p in home.rglob("*") if p.is_file() and not p.name.startswith("ledger.db")}
    before = row_counts(site.fed)
    site.visitor("head")
    assert row_counts(site.fed) == before
    assert {p: p.stat().st_mtime_ns for p in home.rglob("*") if p.is_file() and not p.name.startswith("ledger.db")} == files


def test_names_are_posted_never_put_in_addresses(site: Site) -> None:
    dsl = site.visitor("dsl")
    for path in ("/people", "/report"):
        page = dsl.get(path).text
        assert 'method="get"' not in page.split("<main>")[1].split("</form>")[0]
    assert dsl.get("/people?name=Pip").status_code == 200
    assert "Pip Pupil" not in dsl.get("/people?name=Pip").text


def test_no_personal_data_reaches_the_server_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    teacher = site.visitor("teacher")
    response = teacher.post("/report", {
        "do": "report", "category": "child-on-child", "occurred_at": "2026-01-05T10:00", "precision": "exact",
        "source": "seen", "summary": "Sentinel Zebedee summary", "facts": "Zebedee Quartermaine said so",
        "people": "sb-pip:victim",
    })
    assert response.status_code == 303 and "Zebedee" not in response.headers["Location"]
    assert "Zebedee" not in caplog.text and "Quartermaine" not in caplog.text


def test_an_unexpected_failure_shows_a_plain_page_and_logs_no_details(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("Pip Pupil's secret in a stack trace")

    monkeypatch.setattr(incidents, "show", broken)
    caplog.set_level(logging.DEBUG)
    response = site.visitor("dsl").read("/incidents/inc-00000000")
    assert response.status_code == 500
    text = text_of(response)
    assert "nothing was committed" in text and "Pip" not in response.text and "Traceback" not in response.text
    assert "Pip" not in caplog.text and "RuntimeError" in caplog.text


def test_uploads_over_the_limit_are_refused_before_anything_is_read(site: Site) -> None:
    app = create_app(configuration.resolve({}, home=str(site.fed.home)), Settings(max_upload_mb=1))
    from tests.web.conftest import Visitor

    visitor = Visitor(app)
    visitor.sign_in("teacher")
    before = row_counts(site.fed)
    import io

    response = visitor.post("/report", {"do": "report", "evidence": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than the desk accepts" in text_of(response)
    assert row_counts(site.fed) == before
    app.extensions["desk"].stop()


def test_uploads_are_kept_in_memory_never_in_a_temporary_file(site: Site) -> None:
    import io

    request = site.app.request_class.from_values()
    stream = request._get_file_stream(10 * 1024 * 1024, "image/png", "big.png")
    assert isinstance(stream, io.BytesIO)


def test_a_reason_form_only_returns_to_a_page_of_the_desk(site: Site) -> None:
    visitor = site.visitor("dsl")
    response = visitor.post("/reason", {"record": "incident:inc-1", "reason": "x", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_stored_control_and_direction_characters_reach_no_page_raw(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = "\x1b]0;pwned\x07\rEVIL\x9b31m\u202egnp.exe"
    fed = site.fed
    with monkeypatch.context() as older:  # written as an older version could have, before input refused them
        older.setattr(text, "refused_character", lambda value, allow="": None)
        pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", f"Name{hostile}", "2015-01-02")
        inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
            "child-on-child", "2026-02-01T10:00", f"Summary{hostile}", f"Facts{hostile}\tafter a tab",
            people=(f"{pupil}:victim",)))
    dsl = site.visitor("dsl")
    for path in (f"/people/{pupil}", f"/incidents/{inc}", "/people", "/incidents", "/inbox"):
        response = dsl.read(path)
        assert response.status_code == 200, (path, response.text[:300])
        for char in ("\x1b", "\x07", "\r", "\x9b", "\u202e"):
            assert char not in response.text, f"{char!r} reached {path}"
    page = dsl.read(f"/incidents/{inc}").text
    assert "Summary\\x1b]0;pwned\\x07\\rEVIL\\x9b31m\\u202egnp.exe" in page
    assert "Name\\x1b]0;pwned" in dsl.read(f"/people/{pupil}").text
    assert "\tafter a tab" in page, "a tab is only white space in a page: kept as typed"


def test_a_bundle_the_desk_exports_leaves_nothing_decrypted_behind_even_after_a_kill(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # What a desk killed in the middle of an export left: a folder holding a finished bundle.
    stale = tmp_path / f".{DESK_EXPORTS}.dead0000.part"
    stale.mkdir(mode=0o700)
    (stale / "inc-00000000.zip").write_bytes(b"decrypted bundle")
    inc = incidents.report(site.fed.ledger, site.fed["dsl"], incidents.IncidentReport(
        "child-on-child", "2026-02-01T10:00", "Exported from the desk", "Facts"))
    response = site.visitor("dsl").post(f"/incidents/{inc}/export", {"reason": "referral"})
    assert response.status_code == 200 and response.mimetype == "application/zip", response.text[:300]
    assert list(tmp_path.iterdir()) == [], "the stale folder is swept and the new one removed"
