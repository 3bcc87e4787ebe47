"""Who can read comes only from signed entries (attacks 4, 5 and 8 of the trust-model issue)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, update

from commands.services import incidents, people, readside
from commands.services.setup import load_recovery_key
from ledger import crypto, keystore
from ledger.domain.incidents import incident_record_id
from ledger.errors import NotPermitted, RuleViolation, VerificationFailed
from ledger.registry import Registry, RoleEpoch
from ledger.schema import data_keys, key_wraps, role_members
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import audit, findings
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE, Federation, refused


def allegation(fed: Federation, who: str = "slt") -> str:
    """A new allegation against a member of staff (readable by the Headteacher alone)."""
    return incidents.report(fed.ledger, fed[who], incidents.IncidentReport(
        "personal-social-media", "2026-01-05T10:00", "Comment online", "Seen by a parent",
        people=("teacher:alleged",), against_staff=True))


def record_keys(fed: Federation, inc: str) -> list[str]:
    with fed.ledger.engine.connect() as conn:
        return keystore.keys_of_record(conn, str(incident_record_id(inc)))


def wrapped_to(fed: Federation, key_id: str) -> dict[str, str]:
    with fed.ledger.engine.connect() as conn:
        return {r: k for r, k in conn.execute(select(key_wraps.c.recipient, key_wraps.c.recipient_key)
                                              .where(key_wraps.c.key_id == key_id))}


@pytest.mark.parametrize("swapped", ["a role key", "the recovery key"])
def test_replacing_a_role_key_in_the_registry_row_stops_every_write(federation: Federation, swapped: str) -> None:
    """A member of staff with the database file puts their own public key in place of the
    Headteacher role's (or the recovery key's): every new record would be wrapped to them."""
    fed = federation
    mine = crypto.new_agreement_key()
    with fed.ledger.engine.begin() as conn:
        from ledger.schema import registry_state

        registry = Registry.loads(bytes(conn.execute(select(registry_state.c.state)).scalar_one()))
        public = crypto.agreement_public_key(mine).hex()
        if swapped == "a role key":
            registry.role_keys["headteacher"].append(RoleEpoch(9, public, 0, "teacher"))
        else:
            assert registry.recovery is not None
            registry.recovery["agreement_key"] = public
        conn.execute(update(registry_state).values(state=registry.dumps()))
    fresh = type(fed.ledger)(fed.ledger.config)
    try:
        refused(fed, VerificationFailed, lambda: allegation(Federation(fresh, fed.home, fed.actors)),
                match="does not match the latest signed checkpoint")
    finally:
        fresh.close()


def test_a_role_key_substituted_by_the_it_manager_is_named_by_verify(
    federation: Federation, attacker: Attacker
) -> None:
    fed = federation
    mine = crypto.new_agreement_key()
    attacker.rewrite_registry(lambda r: r.role_keys["headteacher"].append(
        RoleEpoch(len(r.role_keys["headteacher"]) + 1, crypto.agreement_public_key(mine).hex(), 0, "head")))
    fresh = type(fed.ledger)(fed.ledger.config)
    try:
        inc = allegation(Federation(fresh, fed.home, fed.actors))
    finally:
        fresh.close()
    key_id = record_keys(fed, inc)[-1]
    assert wrapped_to(fed, key_id)["role:headteacher"] == crypto.agreement_public_key(mine).hex()
    text = findings(fed)
    assert "its registry digest does not match the keys and roles replayed from the log" in text
    assert f"data key {key_id} is wrapped to a headteacher key the log never published" in text


def test_a_substituted_recovery_key_is_named_by_verify(federation: Federation, attacker: Attacker) -> None:
    fed = federation
    mine = crypto.new_agreement_key()

    def swap(registry: Registry) -> None:
        assert registry.recovery is not None
        registry.recovery["agreement_key"] = crypto.agreement_public_key(mine).hex()

    attacker.rewrite_registry(swap)
    fresh = type(fed.ledger)(fed.ledger.config)
    try:
        inc = allegation(Federation(fresh, fed.home, fed.actors))
    finally:
        fresh.close()
    assert f"data key {record_keys(fed, inc)[-1]} is wrapped to a recovery key the log never published" in findings(fed)


def test_deleting_key_wraps_is_named_and_never_shown_as_an_erasure(federation: Federation) -> None:
    fed = federation
    inc = allegation(fed)
    keys = record_keys(fed, inc)
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(keys)))
    rows = readside.timeline(fed.ledger, fed["head"], "review", incident=inc).rows
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["status"] == "unverified" and "no wraps left although no erasure" in reported["what"]
    assert f"data key {keys[0]} has lost its wraps for recovery, role:headteacher" in findings(fed)


def test_keys_marked_destroyed_without_a_signed_erasure_are_not_shown_as_erased(federation: Federation) -> None:
    fed = federation
    inc = allegation(fed)
    keys = record_keys(fed, inc)
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(keys)))
        conn.execute(update(data_keys).where(data_keys.c.key_id.in_(keys)).values(destroyed_at="2026-01-01"))
    rows = readside.timeline(fed.ledger, fed["head"], "review", incident=inc).rows
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["status"] == "unverified" and "no signed erasure covers the record" in reported["what"]
    assert "has lost its wraps" in findings(fed)


def test_deleting_a_members_copy_of_a_role_key_is_named(federation: Federation) -> None:
    fed = federation
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(role_members).where(role_members.c.role == "dsl", role_members.c.holder == "dsl"))
    assert "role_members: the dsl key (generation 1) is missing for dsl, who holds the role" in findings(fed)


def test_a_copy_of_a_role_key_for_a_non_member_is_named(federation: Federation) -> None:
    fed = federation
    dsl_key = fed["dsl"].keyring.role_keys(fed.ledger.engine.connect(), None, "dsl")
    private = next(iter(dsl_key.values()))
    with fed.ledger.engine.begin() as conn:
        keystore.seal_role_key(conn, "dsl", 1, "teacher", private,
                               bytes.fromhex(fed.ledger.registry().current_key("teacher").agreement_key))  # type: ignore[union-attr]
    assert "role_members: the dsl key (generation 1) has a copy for teacher, who is not a member: a leak" in findings(fed)


def test_a_leaver_with_an_old_copy_cannot_read_what_was_written_after(sqlite_federation: Federation,
                                                                     tmp_path: Path) -> None:
    fed = sqlite_federation
    db = Path(str(fed.ledger.config.sqlite_path))
    with fed.ledger.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db, tmp_path / "old.db")
    leaver = fed["slt"]
    people.end_employment(fed.ledger, fed["head"], "slt", "2026-07-31")
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "staff-phone-use", "2026-08-01T10:00", "Phone in class", "Seen"))  # an incident record: SLT reads these
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with old.connect() as conn:
            held = leaver.keyring.role_keys(conn, None, "slt")
        assert held, "the leaver held the slt key in the old copy"
        with fed.ledger.engine.connect() as conn:
            wraps = conn.execute(select(key_wraps.c.recipient_key, key_wraps.c.wrapped).where(
                key_wraps.c.key_id == record_keys(fed, inc)[0], key_wraps.c.recipient == "role:slt")).all()
        assert wraps and all(key not in held for key, _ in wraps)
    finally:
        old.dispose()
    assert audit(fed).ok


def test_the_last_headteacher_role_comes_back_only_with_the_recovery_key(federation: Federation) -> None:
    fed = federation
    people.add_staff(fed.ledger, fed["admin"], "Next Head", ["staff"], PASSPHRASE, "head2")
    refused(fed, RuleViolation, lambda: people.end_employment(fed.ledger, fed["admin"], "head", "2026-07-31"),
            match="only a member of headteacher or a Headteacher may make that key")
    refused(fed, NotPermitted, lambda: people.grant_role(fed.ledger, fed["admin"], "head2", "headteacher"),
            match="may not grant headteacher")
    recovery = load_recovery_key(fed.home / "RECOVERY-KEY.json", RECOVERY_PASSPHRASE)
    people.recover_role(fed.ledger, fed["admin"], recovery, "headteacher", "head2", "the Headteacher left suddenly")
    head2 = fed.ledger.unlock("head2", PASSPHRASE)
    people.end_employment(fed.ledger, head2, "head", "2026-07-31")
    inc = allegation(fed)
    assert incidents.show(fed.ledger, head2, inc, "new head reviews")["summary"] == "Comment online"
    assert audit(fed).ok, findings(fed)
    refused(fed, NotPermitted, lambda: people.recover_role(fed.ledger, fed["admin"], recovery, "headteacher",
                                                            "admin", "the IT manager as Headteacher"))
