"""Attacks on the desk's door that its own tests do not mount."""

from __future__ import annotations

from commands.web.sessions import Throttle
from tests.web.conftest import Site


def test_a_guesser_cannot_clear_the_sign_in_throttle_with_made_up_ids(site: Site) -> None:
    """Someone guessing the DSL's passphrase is made to wait after five wrong guesses; they then
    try to sign in once as each of many made-up ids (cheap: no key to unlock), so that the throttle's
    bounded table forgets the DSL's count, and guess again."""
    site.desk.throttle = Throttle(site.clock, size=50)  # the desk's table, made small so the test is quick
    guesser = site.visitor()
    for _ in range(6):
        guesser.post("/sign-in", {"actor_id": "dsl", "passphrase": "a wrong guess"})
    assert guesser.post("/sign-in", {"actor_id": "dsl", "passphrase": "another"}).status_code == 429
    for n in range(51):
        guesser.post("/sign-in", {"actor_id": f"nobody-{n}", "passphrase": "x"})
    assert guesser.post("/sign-in", {"actor_id": "dsl", "passphrase": "yet another"}).status_code == 429
