"""Fixtures for the desk: one federation per module and backend, a desk over it, visitors.

A :class:`Visitor` is one browser: its own cookies, signing in through the
sign-in form and sending every form with the CSRF token the desk gave it.
The desk's clock is a :class:`Clock` the tests move.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from commands.services import people, policy
from commands.web.app import create_app
from commands.web.desk import Desk, Settings
from ledger import config as configuration
from ledger.domain.policy import one_month_after
from tests.conftest import PASSPHRASE, Federation, local_today, module_federation

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')
REASON_RECORD = re.compile(r'name="record" value="([^"]+)"')


@dataclass
class Clock:
    """A monotonic clock the tests move by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@dataclass
class Site:
    """A desk over a federation, with the pupil ``sb-pip``."""

    fed: Federation
    app: Flask
    clock: Clock
    pupil: str = "sb-pip"

    @property
    def desk(self) -> Desk:
        found: Desk = self.app.extensions["desk"]
        return found

    def visitor(self, actor_id: str | None = None, base_url: str = "http://localhost") -> Visitor:
        """A new browser, signed in as ``actor_id`` when given."""
        visitor = Visitor(self.app, base_url)
        if actor_id:
            response = visitor.sign_in(actor_id)
            assert response.status_code == 303, response.text
        return visitor


@dataclass
class Visitor:
    """One browser on the desk."""

    app: Flask
    base_url: str = "http://localhost"

    def __post_init__(self) -> None:
        self.client = self.app.test_client()
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, base_url=self.base_url, **kwargs)
        found = TOKEN.search(response.text) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> TestResponse:
        form = dict(data or {})
        if csrf:
            if not self.token:
                self.get("/sign-in")
            form.setdefault("csrf", self.token)
        response = self.client.post(path, data=form, base_url=self.base_url, **kwargs)
        found = TOKEN.search(response.text) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, actor_id: str, passphrase: str = PASSPHRASE) -> TestResponse:
        self.get("/sign-in")
        response = self.post("/sign-in", {"actor_id": actor_id, "passphrase": passphrase})
        if response.status_code == 303:
            self.get("/mine")
        return response

    def read(self, path: str, reason: str = "case review") -> TestResponse:
        """GET a page, giving a reason first when it asks for one."""
        response = self.get(path)
        asked = REASON_RECORD.search(response.text)
        if asked:
            response = self.post("/reason", {"record": asked.group(1), "next": path, "reason": reason})
            assert response.status_code == 303, response.text
            response = self.get(path)
        return response


def text_of(response: TestResponse) -> str:
    """The page's visible text, on one line."""
    body = response.text.split("<main>", 1)[-1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip())


def publish_policy(fed: Federation) -> str:
    """A policy version in force since a fortnight ago, notified six weeks before."""
    today = dt.date.fromisoformat(local_today())
    notified = today - dt.timedelta(days=60)
    policy.publish_version(fed.ledger, fed["head"], "2026.1", (notified - dt.timedelta(days=7)).isoformat(),
                           one_month_after(notified).isoformat(), "Board of Directors",
                           text="Social Media, Mobile Phone and Smart Technology Policy", notified_on=notified.isoformat())
    return "2026.1"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A desk over a fresh federation, per test module and backend."""
    for fed in module_federation(request, tmp_path_factory, "desk"):
        people.add_subject(fed.ledger, fed["dsl"], "pupil", "Pip Pupil", "2016-04-12", "Oak Primary", "sb-pip")
        publish_policy(fed)
        clock = Clock()
        config = configuration.resolve({}, home=str(fed.home))
        app = create_app(config, Settings(clock=clock))
        app.testing = True
        yield Site(fed, app, clock)
        app.extensions["desk"].stop()
