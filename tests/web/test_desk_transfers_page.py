"""The desk's page of leavers' files: every transfer by pupil, linked from the inbox (reading only;
sending and recording a receipt are done at the command line)."""

from __future__ import annotations

from commands.services import people, transfer
from tests.conftest import local_today
from tests.web.conftest import Site, text_of


def test_the_dsl_reads_every_leavers_file_on_the_desk_and_the_inbox_links_to_it(site: Site) -> None:
    pupil = people.add_subject(site.fed.ledger, site.fed["dsl"], "pupil", "Ria Desk")
    left = transfer.leave(site.fed.ledger, site.fed["dsl"], pupil, local_today(), "Elm Academy")
    dsl = site.visitor("dsl")
    assert f'href="/transfers#{left.transfer_id}"' in dsl.get("/inbox").text
    shown = dsl.get("/transfers")
    assert shown.status_code == 200
    assert f'id="{left.transfer_id}"' in shown.text
    assert f"Ria Desk ({pupil})" in text_of(shown) and left.due_by in text_of(shown)
    assert "ledger transfer" in text_of(shown), "the page says what is done at the command line"
    assert site.visitor("teacher").get("/transfers").status_code == 403
