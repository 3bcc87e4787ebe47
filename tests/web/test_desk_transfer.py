"""The web desk's inbox shares the CLI's: a leaver's file due, for the DSL only."""

from __future__ import annotations

from commands.services import people, transfer
from tests.conftest import local_today
from tests.web.conftest import Site, text_of


def test_the_desk_inbox_shows_the_dsl_a_leavers_file_due_and_no_one_else(site: Site) -> None:
    pupil = people.add_subject(site.fed.ledger, site.fed["dsl"], "pupil", "Lee Leaver")
    left = transfer.leave(site.fed.ledger, site.fed["dsl"], pupil, local_today(), "Elm Academy")
    shown = text_of(site.visitor("dsl").get("/inbox"))
    assert f"child protection file of {pupil} (left {local_today()}): due by {left.due_by}" in shown
    assert "Elm Academy" not in shown, "where the child went stays in the encrypted body"
    assert left.transfer_id not in site.visitor("teacher").get("/inbox").text
