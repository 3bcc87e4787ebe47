"""Roles come from the grant table in force: never to oneself, judged by verify too (attack 7)."""

from __future__ import annotations

import pytest

from commands.services import people
from ledger import roles
from ledger.domain.keys import PermissionTable, permission_table_id
from ledger.domain.people import staff_record_id
from ledger.errors import NotPermitted
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import audit, findings
from tests.conftest import Federation, refused

GRANTED = "ledger.domain.people:StaffMember.RoleGranted"


@pytest.mark.parametrize("who, role", [
    ("admin", "dsl"), ("dsl", "investigator"), ("dsl", "auditor"), ("slt", "poster"), ("head", "admin"),
])
def test_nobody_grants_themselves_a_role(federation: Federation, who: str, role: str) -> None:
    refused(federation, NotPermitted, lambda: people.grant_role(federation.ledger, federation[who], who, role),
            match="may not grant|may not record an entry of this kind \\(staff member: role granted\\)")


@pytest.mark.parametrize("granter, role", [("admin", "dsl"), ("admin", "investigator"), ("slt", "dsl"),
                                           ("dsl", "headteacher"), ("admin", "admin")])
def test_a_role_is_granted_only_by_those_the_grant_table_names(federation: Federation, granter: str, role: str) -> None:
    refused(federation, NotPermitted,
            lambda: people.grant_role(federation.ledger, federation[granter], "teacher", role), match="may not")


def test_a_self_grant_sealed_by_the_it_manager_is_named_by_verify(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    entry = attacker.forge(fed["admin"].pair, staff_record_id("admin"), GRANTED, {"staff_id": "admin", "role": "dsl"},
                           record_class="staff")
    attacker.insert(entry)
    attacker.seal_everything()
    assert "StaffMember.RoleGranted|admin may not grant a role to themselves" in findings(fed)


def test_a_grant_by_someone_the_table_does_not_name_is_named_by_verify(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    entry = attacker.forge(fed["admin"].pair, staff_record_id("teacher"), GRANTED,
                           {"staff_id": "teacher", "role": "dsl"}, record_class="staff")
    attacker.insert(entry)
    attacker.seal_everything()
    assert "admin (roles: admin) may not grant dsl: only dsl, headteacher may" in findings(fed)


def _table_giving_admin_safeguarding() -> dict[str, object]:
    table = roles.current_table()
    table["version"] = roles.TABLE_VERSION + 1
    table["readers"] = dict(table["readers"], safeguarding=["admin", "dsl", "headteacher"])
    return table


def test_the_it_manager_cannot_adopt_a_permission_table_alone(federation: Federation) -> None:
    fed = federation
    table = _table_giving_admin_safeguarding()
    with fed.ledger.unit(fed["admin"], write=True) as work:
        work.save(PermissionTable.propose(table, "IT wants to read everything"))

    def adopt_as(who: str) -> None:
        with fed.ledger.unit(fed[who], write=True) as work:
            proposal = work.get(PermissionTable, permission_table_id(int(table["version"])), redacted=True)  # type: ignore[arg-type]
            proposal.adopt()
            work.save(proposal)

    refused(fed, NotPermitted, lambda: adopt_as("admin"), match="only a Headteacher approves a new permission table")
    assert fed.ledger.registry().table["version"] == roles.TABLE_VERSION  # type: ignore[index]
    adopt_as("head")
    assert fed.ledger.registry().table["version"] == roles.TABLE_VERSION + 1  # type: ignore[index]
    assert audit(fed).ok


def test_verify_judges_each_entry_by_the_table_in_force_when_it_was_written(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    table = roles.current_table()
    table["version"] = roles.TABLE_VERSION + 1
    table["writers"] = dict(table["writers"], **{"Subject.Registered": ["admin", "dsl", "headteacher", "slt", "staff"]})
    subject = "ledger.domain.people:Subject.Registered"
    from ledger.domain.people import subject_record_id

    early = attacker.forge(fed["teacher"].pair, subject_record_id("sb-early"), subject,
                           {"subject_id": "sb-early", "kind": "pupil"}, version=1, record_class="subject")
    attacker.insert(early)
    attacker.seal_everything()
    with fed.ledger.unit(fed["admin"], write=True) as work:
        work.save(PermissionTable.propose(table, "staff may register pupils"))
    with fed.ledger.unit(fed["head"], write=True) as work:
        proposal = work.get(PermissionTable, permission_table_id(int(table["version"])), redacted=True)  # type: ignore[arg-type]
        proposal.adopt()
        work.save(proposal)
    people.add_subject(fed.ledger, fed.reunlock("teacher"), "pupil", "Registered Under The New Table")
    text = findings(fed)
    assert "Subject.Registered|teacher (roles: staff) may not write Subject.Registered" in text
    assert text.count("may not write") == 1, text
