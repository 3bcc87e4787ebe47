"""Desk sessions and the sign-in throttle, on a clock the test moves (no I/O)."""

from __future__ import annotations

from typing import Any

from commands.web.sessions import SessionStore, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _actor(actor_id: str = "dsl") -> Any:
    class Stand:
        pass

    stand = Stand()
    stand.actor_id = actor_id  # type: ignore[attr-defined]
    return stand


def test_a_session_lives_while_used_and_ends_once_idle_too_long() -> None:
    clock = Clock()
    store = SessionStore(clock, idle_minutes=15)
    session = store.open(_actor())
    for _ in range(5):
        clock.now += 14 * 60
        assert store.get(session.token) is session
    clock.now += 15 * 60 + 1
    assert store.get(session.token) is None and len(store) == 0


def test_tokens_are_long_random_and_distinct_from_the_csrf_token() -> None:
    store = SessionStore(Clock())
    first, second = store.open(_actor()), store.open(_actor())
    assert first.token != second.token and first.csrf != first.token and len(first.token) >= 40


def test_sweeping_drops_only_idle_sessions_and_clear_drops_all() -> None:
    clock = Clock()
    store = SessionStore(clock, idle_minutes=1)
    old = store.open(_actor("old"))
    clock.now += 50
    fresh = store.open(_actor("fresh"))
    clock.now += 20
    assert store.sweep() == 1 and store.get(old.token) is None and store.get(fresh.token) is fresh
    store.clear()
    assert len(store) == 0


def test_reasons_are_remembered_per_record_and_messages_shown_once() -> None:
    session = SessionStore(Clock()).open(_actor())
    session.remember_reason("incident:inc-1", "strategy meeting")
    assert session.reason_for("incident:inc-1") == "strategy meeting" and session.reason_for("incident:inc-2") is None
    session.say("done")
    assert session.take_messages() == ["done"] and session.take_messages() == []


def test_the_throttle_waits_longer_after_each_wrong_passphrase_up_to_its_cap() -> None:
    clock = Clock()
    throttle = Throttle(clock, free=2, base=30, cap=100)
    for _ in range(2):
        throttle.failed("Teacher")
    assert throttle.wait("teacher") == 30  # ids are compared without case
    throttle.failed("teacher")
    assert throttle.wait("teacher") == 60
    for _ in range(5):
        throttle.failed("teacher")
    assert throttle.wait("teacher") == 100
    clock.now += 100
    assert throttle.wait("teacher") == 0
    assert throttle.wait("someone-else") == 0
    throttle.succeeded("teacher")
    assert throttle.wait("teacher") == 0


def test_the_throttle_table_stays_bounded() -> None:
    throttle = Throttle(Clock(), size=100)
    for n in range(1000):
        throttle.failed(f"made-up-{n}")
    assert len(throttle._failures) == 100
