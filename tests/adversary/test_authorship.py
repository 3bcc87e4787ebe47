"""Nobody signs as someone else: keys belong to their owners, resets need two people.

Attacks 1, 2 and 8 of the trust-model issue, mounted through the library and
the database as an attacker would.
"""

from __future__ import annotations

import pytest

from commands.services import incidents, people, retention
from ledger import identity
from ledger.domain.people import StaffMember, staff_record_id
from ledger.errors import AuthenticationFailed, NotPermitted, RuleViolation
from ledger.keystore import KeyRing
from ledger.store import Actor
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import audit, findings
from tests.conftest import PASSPHRASE, Federation, refused

KEY_REGISTERED = "ledger.domain.people:StaffMember.KeyRegistered"


def forged_key_claims(pair: identity.KeyPair, owner: str) -> dict[str, str]:
    return {"owner": owner, "key_id": pair.key_id, "public_key": pair.public.public_key.hex(),
            "agreement_key": pair.public.agreement_key.hex()}


def test_staff_cannot_register_a_key_for_the_headteacher_on_their_own_record(federation: Federation) -> None:
    fed = federation
    mine = identity.generate("head")
    with pytest.raises(NotPermitted, match="names head but is written on another record"):
        with fed.ledger.unit(fed["teacher"], write=True) as work:
            record = work.get(StaffMember, staff_record_id("teacher"), redacted=True)
            record.trigger_event(StaffMember.KeyRegistered, **forged_key_claims(mine, "head"))
            work.save(record)
    refused(fed, NotPermitted, lambda: _register_on(fed, "teacher", "head", mine))


def _register_on(fed: Federation, actor: str, record_of: str, pair: identity.KeyPair) -> None:
    with fed.ledger.unit(fed[actor], write=True) as work:
        record = work.get(StaffMember, staff_record_id(record_of), redacted=True)
        record.trigger_event(StaffMember.KeyRegistered, **forged_key_claims(pair, "head"))
        work.save(record)


def test_staff_cannot_register_a_key_on_the_headteachers_record(federation: Federation) -> None:
    refused(federation, NotPermitted, lambda: _register_on(federation, "teacher", "head", identity.generate("head")),
            match="teacher may not record an entry of this kind \\(staff member: key registered\\)")


def test_a_forged_key_registration_written_into_the_database_is_never_sealed(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    mine = identity.generate("head")
    own = staff_record_id("teacher")
    row = attacker.insert(attacker.forge(fed["teacher"].pair, own, KEY_REGISTERED, forged_key_claims(mine, "head")))
    # the next honest write goes ahead and leaves the foreign row outside the tree
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "After The Forgery")
    assert f"row {row} was never sealed" in findings(fed)
    with pytest.raises(AuthenticationFailed):
        fed.ledger.unlock("head", "whatever the attacker chose")


def test_the_it_manager_sealing_a_forged_key_registration_is_named_by_verify(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    mine = identity.generate("head")
    attacker.insert(attacker.forge(fed["teacher"].pair, staff_record_id("teacher"), KEY_REGISTERED,
                                   forged_key_claims(mine, "head")))
    attacker.seal_everything()
    text = findings(fed)
    assert "StaffMember.KeyRegistered|names head but is written on another record" in text


def test_a_key_nobody_registered_cannot_write_through_the_library(federation: Federation) -> None:
    fed = federation
    mine = identity.generate("head")
    forged = Actor("head", mine, frozenset({"headteacher"}), str(staff_record_id("head")), KeyRing.for_pair(mine))
    refused(fed, NotPermitted, lambda: retention.erase(fed.ledger, forged, "head", "recorded-in-error", "mischief"),
            match=f"signed by unregistered key {mine.key_id}")


def test_the_it_manager_cannot_make_a_key_for_the_headteacher(federation: Federation) -> None:
    refused(federation, NotPermitted,
            lambda: _register_on(federation, "admin", "head", identity.generate("head")),
            match="admin may not record an entry of this kind \\(staff member: key registered\\)")


def test_a_reset_proposed_by_the_it_manager_cannot_be_approved_by_them(federation: Federation) -> None:
    fed = federation
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], "head", PASSPHRASE, "lost laptop")
    refused(fed, NotPermitted, lambda: people.approve_key_reset(fed.ledger, fed["admin"], "head", proposal.reset_id),
            match="admin proposed this reset and may not approve it too")
    refused(fed, NotPermitted, lambda: people.approve_key_reset(fed.ledger, fed["head"], "head", proposal.reset_id),
            match="nobody approves a reset of their own key")
    assert fed.ledger.unlock("head", PASSPHRASE).pair.key_id == fed["head"].pair.key_id


def test_a_reset_by_two_people_works_and_every_entry_it_signs_says_so(federation: Federation) -> None:
    fed = federation
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], "dsl", "the dsl's new passphrase", "forgot it")
    people.approve_key_reset(fed.ledger, fed["head"], "dsl", proposal.reset_id)
    dsl = fed.ledger.unlock("dsl", "the dsl's new passphrase")
    assert dsl.notices and "proposed by admin and approved by head" in dsl.notices[0]
    with pytest.raises(AuthenticationFailed, match="set by a key reset proposed by admin"):
        fed.ledger.unlock("dsl", PASSPHRASE)
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Chat", "Seen"))
    incidents.triage(fed.ledger, dsl, inc, "safeguarding")
    from commands.services import readside
    rows = readside.timeline(fed.ledger, fed["head"], "oversight", incident=inc).rows
    triaged = next(r for r in rows if r["event"] == "Incident.Triaged")
    assert triaged["signed_with"] == "a reset key (proposed by admin, approved by head)"
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["signed_with"] == ""
    shown = incidents.show(fed.ledger, fed["head"], inc, "oversight")["timeline"]
    assert [line["signed_with"] for line in shown if line["event"] == "Triaged"] == [triaged["signed_with"]]
    assert audit(fed).ok


def test_a_bundle_says_which_entries_a_reset_key_signed(federation: Federation, tmp_path: object) -> None:
    from pathlib import Path

    from commands.services import export

    fed = federation
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], "dsl", "the dsl's new passphrase", "forgot it")
    people.approve_key_reset(fed.ledger, fed["head"], "dsl", proposal.reset_id)
    dsl = fed.ledger.unlock("dsl", "the dsl's new passphrase")
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Chat", "Seen"))
    incidents.triage(fed.ledger, dsl, inc, "safeguarding")
    out = Path(str(tmp_path)) / "case.zip"
    export.export(fed.ledger, fed["head"], export.ExportRequest("tribunal", out, incident=inc))
    report = export.verify_bundle(out)
    assert report.ok, report.lines()
    assert any("Incident.Triaged by dsl) was signed with a key set by a reset (proposed by admin, approved by head)"
               in note for note in report.notes), report.notes


def test_a_revoked_key_cannot_write_through_the_library(federation: Federation) -> None:
    fed = federation
    teacher = fed["teacher"]
    people.revoke_key(fed.ledger, fed["admin"], "teacher", teacher.pair.key_id, "laptop lost")
    refused(fed, NotPermitted, lambda: incidents.report(fed.ledger, teacher, incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Chat", "Seen")), match="revoked at entry")


def test_a_leaver_cannot_write_through_the_library(federation: Federation) -> None:
    fed = federation
    teacher = fed["teacher"]
    people.end_employment(fed.ledger, fed["head"], "teacher", "2026-07-31")
    refused(fed, NotPermitted, lambda: incidents.report(fed.ledger, teacher, incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Chat", "Seen")))
    with pytest.raises(RuleViolation, match="has left"):
        fed.ledger.unlock("teacher", PASSPHRASE)
