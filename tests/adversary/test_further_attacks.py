"""Attacks found after the trust model was built, each mounted the way its adversary would.

Who can read: the record class and the key a new entry is written under, and
who an assigned case is shared with, must come from signed entries, not from
rows anyone with the database file can edit. Who may act: leaving, key resets
and permission tables need the people the rules name. Time: an offset is not
a way to move a time back. Verify: a damaged row is a finding, never a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, select, update

from commands.services import export, incidents, integrity, monitoring, people, permissions, readside, retention
from ledger import bundle, envelope, keystore, roles
from ledger.clock import SystemClock, iso
from ledger.domain.incidents import Incident, incident_record_id
from ledger.domain.keys import PermissionTable
from ledger.domain.monitoring import alert_id_for, alert_record_id
from ledger.domain.people import StaffMember, staff_record_id, subject_record_id
from ledger.domain.retention import Erasure, hold_record_id
from ledger.errors import NotPermitted, RuleViolation, VerificationFailed
from ledger.identity import KeyPair
from ledger.schema import checkpoints, data_keys, key_wraps, merkle_leaves, merkle_nodes, registry_state
from projections.access_log import access
from projections.entries import aliases, entries
from projections.records import records
from tests.adversary.attacker import Attacker
from tests.adversary.conftest import audit, findings
from tests.conftest import PASSPHRASE, Federation, refused
from tests.data.generate_alerts import alerts, write

SUBJECT = "ledger.domain.people:Subject.Registered"


# -- helpers -------------------------------------------------------------------------------


def allegation(fed: Federation, who: str = "slt") -> str:
    """A new allegation against a member of staff (readable by the Headteacher alone)."""
    return incidents.report(fed.ledger, fed[who], incidents.IncidentReport(
        "personal-social-media", "2026-01-05T10:00", "Comment online", "Seen by a parent",
        people=("teacher:alleged",), against_staff=True))


def safeguarding_case(fed: Federation) -> str:
    """A safeguarding incident, triaged by the DSL (readable by the DSL and the Headteacher)."""
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Chat", "Seen"))
    incidents.triage(fed.ledger, fed["dsl"], inc, "safeguarding")
    return inc


def newest_key(fed: Federation, inc: str) -> str:
    """The data key of the newest entry of an incident, as its signed header names it."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        state = conn.execute(select(table.c.state).where(table.c.originator_id == incident_record_id(inc))
                             .order_by(table.c.originator_version.desc()).limit(1)).scalar_one()
    return str(envelope.parse(bytes(state)).header["data_key"])


def can_open(fed: Federation, who: str, key_id: str) -> bool:
    """Whether ``who``'s own keys open data key ``key_id``."""
    with fed.ledger.engine.connect() as conn:
        try:
            fed.reunlock(who).keyring.data_key(conn, key_id)
        except NotPermitted:
            return False
    return True


def rewrite_header(state: bytes, change: dict[str, Any]) -> bytes:
    """The stored bytes of an entry with its clear header changed (signature and body kept)."""
    entry = envelope.parse(state)
    header = dict(entry.header, **change)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return envelope.MAGIC + struct.pack(">I", len(raw)) + raw + entry.signature + entry.body


def rewrite_claims(fed: Federation, inc: str, event: str, claims: dict[str, Any]) -> None:
    """Rewrite, in the database, the clear claims of an incident's sealed ``event`` entry."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        row = conn.execute(select(table.c.id, table.c.state).where(
            table.c.originator_id == incident_record_id(inc), table.c.topic.endswith(event))).one()
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row.id).values(
            state=rewrite_header(bytes(row.state), {"claims": claims})))


def forge_wrapped(attacker: Attacker, pair: KeyPair, aggregate: uuid.UUID, topic: str, claims: dict[str, Any],
                  record_class: str, recorded_at: str, body: dict[str, Any] | None = None) -> envelope.Envelope:
    """An entry (the record's next version) under a data key wrapped, as the ledger would, to the
    readers of its class: they open it like any other."""
    fed = attacker.fed
    with fed.ledger.engine.begin() as conn:
        key_id, key = keystore.new_data_key(conn, attacker.registry(), str(aggregate), record_class, recorded_at)
    header = {
        "ledger": fed.ledger.meta()["ledger_id"], "aggregate": str(aggregate),
        "version": attacker.last_version(aggregate) + 1, "topic": topic,
        "class_version": 1, "recorded_at": recorded_at, "occurred_at": None, "actor": pair.actor_id,
        "actor_key": pair.key_id, "record_class": record_class, "subjects": [], "claims": claims, "lifted": [],
    }
    return envelope.seal(header, body or {}, key_id, key, pair.signing_key)


# -- who reads what is written later -----------------------------------------------------------


def test_staff_cannot_widen_who_reads_an_allegation_by_changing_its_record_class(federation: Federation) -> None:
    """A member of SLT with the database file relabels an allegation (Headteacher only) as an
    ordinary incident (which SLT reads): the Headteacher's later notes would be wrapped to SLT."""
    fed = federation
    inc = allegation(fed)
    record = str(incident_record_id(inc))
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.record_id == record).values(record_class="incident"))
    incidents.triage(fed.ledger, fed["head"], inc, "a serious allegation")
    incidents.add_note(fed.ledger, fed["head"], inc, "fact", "What only the Headteacher may read")
    assert not can_open(fed, "slt", newest_key(fed, inc))


def test_an_entry_sealed_under_another_record_class_is_named_by_verify(
    federation: Federation, attacker: Attacker
) -> None:
    """The IT manager seals an entry on an allegation whose header calls the record an incident
    (so its key is judged by who reads incidents)."""
    fed = federation
    inc = allegation(fed)
    aggregate = incident_record_id(inc)
    attacker.insert(attacker.forge(fed["admin"].pair, aggregate, "ledger.domain.incidents:Incident.EvidenceAdded",
                                   {}, record_class="incident"))
    attacker.seal_everything()
    assert "Incident.EvidenceAdded|its record class is incident, but its record began as allegation" in findings(fed)


def test_staff_cannot_share_a_later_case_note_by_editing_a_sealed_assignment(federation: Federation) -> None:
    """A teacher with the database file rewrites the investigator a sealed assignment names to
    themselves (restoring it afterwards): the next note the DSL writes would be wrapped to them."""
    fed = federation
    inc = safeguarding_case(fed)
    incidents.assign(fed.ledger, fed["dsl"], inc, "investigator", "look into it")
    rewrite_claims(fed, inc, "InvestigatorAssigned", {"investigator": "teacher"})
    refused(fed, VerificationFailed,
            lambda: incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "What the teacher may not read"),
            match="Incident.InvestigatorAssigned .* was altered")


@pytest.mark.xfail(strict=True, reason=(
    "an entry's clear header names its subjects and its record class, and an allegation's clear claims say "
    "against_staff, the actions (lado-referral) and the finding; proposed fix: allegation (and safeguarding) "
    "headers carry subjects as a blind index keyed by a reader-role secret, and those claims move into the body"))
def test_staff_with_the_database_file_cannot_learn_of_an_allegation_against_them(federation: Federation) -> None:
    """The teacher an allegation is about reads the clear headers in the database file (which the
    default install lets every user read): no header may name them on an allegation record."""
    fed = federation
    allegation(fed)
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        headers = [envelope.parse(bytes(state)).header for (state,) in conn.execute(select(table.c.state))]
    about_me = [h for h in headers if h["record_class"] == "allegation" and "teacher" in json.dumps(h)]
    assert not about_me, about_me[0]


def test_staff_cannot_share_a_later_case_note_by_appending_an_assignment_signed_with_their_own_key(
    federation: Federation, attacker: Attacker
) -> None:
    """A teacher with the database file appends to a safeguarding case an assignment of
    themselves, signed with their own (registered) key, never sealed: its signature is good, so
    the DSL's next note would be wrapped to the teacher."""
    fed = federation
    inc = safeguarding_case(fed)
    attacker.insert(forge_wrapped(attacker, fed["teacher"].pair, incident_record_id(inc),
                                  "ledger.domain.incidents:Incident.InvestigatorAssigned", {"investigator": "teacher"},
                                  "safeguarding", iso(SystemClock().now()), body={"remit": "helping"}))
    refused(fed, VerificationFailed,
            lambda: incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "What the teacher may not read"),
            match="never sealed into the log")


def test_staff_cannot_release_a_legal_hold_with_an_entry_signed_with_their_own_key(
    federation: Federation, attacker: Attacker
) -> None:
    """A member of staff with the database file appends a release of a legal hold, signed with
    their own key, never sealed: the holds list, and the retention sweep, would treat the record
    as free to erase."""
    fed = federation
    inc = safeguarding_case(fed)
    retention.place_hold(fed.ledger, fed["dsl"], inc, "police investigation")
    hold = hold_record_id(str(incident_record_id(inc)))
    attacker.insert(forge_wrapped(attacker, fed["teacher"].pair, hold, "ledger.domain.retention:LegalHold.Released",
                                  {}, "retention", iso(SystemClock().now()), body={"reason": "no longer needed"}))
    with pytest.raises(VerificationFailed, match="never sealed"):
        retention.list_holds(fed.ledger)
    with fed.ledger.unit(fed["head"]) as work:
        with pytest.raises(VerificationFailed, match="never sealed"):
            retention.is_held(work, str(incident_record_id(inc)))


def test_a_dsl_cannot_assign_themselves_to_an_allegation_they_may_not_read(federation: Federation) -> None:
    """Through the library the DSL appends an assignment (of themselves) to an allegation against
    staff: every later entry the Headteacher writes would be wrapped to them."""
    fed = federation
    inc = allegation(fed)
    incidents.triage(fed.ledger, fed["head"], inc, "a serious allegation")

    def assign(who: str, investigator: str) -> None:
        with fed.ledger.unit(fed[who], write=True) as work:
            record = work.get(Incident, incident_record_id(inc), redacted=True)
            record.trigger_event(Incident.InvestigatorAssigned, investigator=investigator, remit="curious")
            work.save(record)

    refused(fed, NotPermitted, lambda: assign("dsl", "dsl"), match="may not assign investigators to allegation records")
    refused(fed, NotPermitted, lambda: assign("dsl", "investigator"), match="may not assign investigators")
    refused(fed, RuleViolation, lambda: assign("head", "teacher"), match="teacher holds none of the roles")
    incidents.add_note(fed.ledger, fed["head"], inc, "fact", "What only the Headteacher may read")
    assert not can_open(fed, "dsl", newest_key(fed, inc))


def test_a_dsl_cannot_unassign_an_investigator_from_an_allegation_they_may_not_read(federation: Federation) -> None:
    fed = federation
    inc = allegation(fed, "teacher")
    incidents.triage(fed.ledger, fed["head"], inc, "a serious allegation")
    incidents.assign(fed.ledger, fed["head"], inc, "investigator", "look into it")

    def unassign() -> None:
        with fed.ledger.unit(fed["dsl"], write=True) as work:
            record = work.get(Incident, incident_record_id(inc), redacted=True)
            record.trigger_event(Incident.InvestigatorUnassigned, investigator="investigator", reason="mischief")
            work.save(record)

    refused(fed, NotPermitted, unassign, match="may not assign investigators to allegation records")


def _import_alert(fed: Federation, tmp_path: Path, seed: int) -> str:
    path = tmp_path / f"alerts-{seed}.csv"
    write(path, alerts(1, seed))
    monitoring.import_alerts(fed.ledger, fed["admin"], path)
    return alert_id_for("smoothwall", f"SM-{seed}-0000000")


def _alert_key(fed: Federation, alert: str) -> str:
    with fed.ledger.engine.connect() as conn:
        return str(conn.execute(select(data_keys.c.key_id).where(
            data_keys.c.record_id == str(alert_record_id(alert)))).scalar_one())


def test_staff_cannot_make_the_headteacher_write_an_allegation_under_an_alert_key(
    federation: Federation, tmp_path: Path
) -> None:
    """A DSL with the database file files a monitoring alert's data key (wrapped under an import
    batch key the DSL can open) under an allegation, as its newest key: the Headteacher's next
    note would reuse it."""
    fed = federation
    alert = _import_alert(fed, tmp_path, 7)
    inc = allegation(fed)
    key_id = _alert_key(fed, alert)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.key_id == key_id).values(
            record_id=str(incident_record_id(inc)), created_at="9999-12-31"))
    incidents.triage(fed.ledger, fed["head"], inc, "a serious allegation")
    incidents.add_note(fed.ledger, fed["head"], inc, "fact", "What only the Headteacher may read")
    assert newest_key(fed, inc) != key_id
    assert not can_open(fed, "dsl", newest_key(fed, inc))


@pytest.mark.parametrize("how", ["a forged dismissal", "a lowered severity"])
def test_staff_cannot_hide_a_monitoring_alert_from_the_dsl(federation: Federation, tmp_path: Path, how: str) -> None:
    """A member of staff with the database file writes a dismissal of a monitoring alert (signed
    with their own key, never sealed), or rewrites its sealed severity: the DSL's list of alerts
    not yet dealt with would no longer show it as it was recorded."""
    fed = federation
    alert = _import_alert(fed, tmp_path, 11)
    assert [a["id"] for a in monitoring.list_alerts(fed.ledger, unlinked=True, reader=fed["dsl"])] == [alert]
    aggregate = alert_record_id(alert)
    table = fed.ledger.app.events_table
    if how == "a forged dismissal":
        attacker = Attacker(fed)
        attacker.insert(attacker.forge(fed["teacher"].pair, aggregate, "ledger.domain.monitoring:Alert.Dismissed",
                                       {"reason": "false positive"}, record_class="monitoring"))
    else:
        with fed.ledger.engine.connect() as conn:
            row = conn.execute(select(table.c.id, table.c.state).where(table.c.originator_id == aggregate)).one()
        header = envelope.parse(bytes(row.state)).header
        with fed.ledger.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == row.id).values(state=rewrite_header(
                bytes(row.state), {"claims": dict(header["claims"], severity="low")})))
    with pytest.raises(VerificationFailed, match=f"of record {aggregate} fails its checks"):
        monitoring.list_alerts(fed.ledger, unlinked=True, reader=fed["dsl"])


def test_a_data_key_moved_to_another_record_is_named_by_verify(federation: Federation, tmp_path: Path) -> None:
    """Someone with the database files one alert's key under another alert: the second alert's
    later entries are written under it, and erasing the first alert would destroy them too."""
    fed = federation
    first, second = _import_alert(fed, tmp_path, 8), _import_alert(fed, tmp_path, 9)
    moved = _alert_key(fed, first)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.key_id == moved).values(
            record_id=str(alert_record_id(second)), created_at="9999-12-31"))
    inc = safeguarding_case(fed)
    monitoring.link_alert(fed.ledger, fed["dsl"], second, inc, "the same chat")
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(data_keys).where(data_keys.c.key_id == moved).values(
            record_id=str(alert_record_id(first))))
    assert f"data key {moved} of record {alert_record_id(first)} is also used by record" in findings(fed)


@pytest.mark.parametrize("goes", ["leaves", "loses the role"])
def test_a_headteacher_who_leaves_cannot_read_later_records_through_the_keys_in_their_custody(
    sqlite_federation: Federation, tmp_path: Path, goes: str
) -> None:
    """The Headteacher role keeps every other role's key in custody: a Headteacher who leaves (or
    stops being Headteacher) with an old copy of the database still holds the DSL's key, which new
    safeguarding records use."""
    fed = sqlite_federation
    people.add_staff(fed.ledger, fed["head"], "Deputy Head", ["staff", "headteacher"], PASSPHRASE, "head2")
    db = Path(str(fed.ledger.config.sqlite_path))
    with fed.ledger.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db, tmp_path / "old.db")
    leaver = fed["head"]
    if goes == "leaves":
        people.end_employment(fed.ledger, fed.reunlock("head2"), "head", "2026-07-31")
    else:
        people.remove_role(fed.ledger, fed.reunlock("head2"), "head", "headteacher")
    inc = safeguarding_case(fed)
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with old.connect() as conn:
            held = leaver.keyring.role_keys(conn, None, "dsl")
    finally:
        old.dispose()
    with fed.ledger.engine.connect() as conn:
        wrapped_to = conn.execute(select(key_wraps.c.recipient_key).where(
            key_wraps.c.key_id == newest_key(fed, inc), key_wraps.c.recipient == "role:dsl")).scalar_one()
    assert held, "the leaver held the dsl key in custody in the old copy"
    assert wrapped_to not in held
    assert audit(fed).ok, findings(fed)


# -- what a reader is shown ---------------------------------------------------------------------


def _two_reports(fed: Federation) -> tuple[str, str]:
    first = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-05T10:00", "Pupil A was hit", "Seen in the playground"))
    second = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-06T10:00", "Nothing happened", "A misunderstanding"))
    readside.timeline(fed.ledger, fed["dsl"], "catch up", incident=first)
    return first, second


def test_staff_cannot_make_the_timeline_of_one_incident_show_another(federation: Federation) -> None:
    """A member of staff with the database file swaps two incidents' short ids in the read models:
    the DSL asks for the chronology of one and reads the other's, under the first one's id."""
    fed = federation
    first, second = _two_reports(fed)
    one, two = str(incident_record_id(first)), str(incident_record_id(second))
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(aliases).where(aliases.c.alias == first).values(aggregate=two))
        conn.execute(update(aliases).where(aliases.c.alias == second).values(aggregate=one))
        conn.execute(update(records).where(records.c.aggregate == one).values(alias=second))
        conn.execute(update(records).where(records.c.aggregate == two).values(alias=first))
    rows = readside.timeline(fed.ledger, fed["dsl"], "review", incident=first).rows
    assert rows and all(row["ref"].startswith(second) for row in rows), [r["ref"] for r in rows]
    assert all(f"the read model calls this record {first}, but its signed id is {second}" in row["read_model"]
               for row in rows), [r["read_model"] for r in rows]


def test_staff_cannot_change_the_role_the_timeline_shows_for_an_author(federation: Federation) -> None:
    """A member of staff with the database file makes a teacher's report read as the Headteacher's."""
    fed = federation
    first, _ = _two_reports(fed)
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(entries).where(entries.c.aggregate == str(incident_record_id(first)))
                     .values(actor_roles="headteacher"))
    row = readside.timeline(fed.ledger, fed["dsl"], "review", incident=first).rows[0]
    assert row["role"] == "staff", row
    assert "the read model differs from the log in actor_roles" in row["read_model"], row


def _register_ids(fed: Federation, who: str, name: str = "incidents") -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in readside.register(fed.ledger, fed.reunlock(who), name, status="all")}


def test_staff_cannot_hide_an_incident_from_the_register_by_deleting_its_read_model_row(federation: Federation) -> None:
    """A teacher with the database file deletes (or marks erased) the record-index row of a
    safeguarding case: the DSL's incidents register would no longer list it at all."""
    fed = federation
    hidden, erased = safeguarding_case(fed), safeguarding_case(fed)
    assert {hidden, erased} <= set(_register_ids(fed, "dsl"))
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(records).where(records.c.alias == hidden))
        conn.execute(update(records).where(records.c.alias == erased).values(erased_at="2026-01-06T00:00:00+00:00"))
    shown = _register_ids(fed, "dsl")
    assert hidden in shown and erased in shown, sorted(shown)
    assert all("the read model lacks this record" in shown[i]["read_model"] for i in (hidden, erased))


def test_staff_cannot_show_an_allegation_to_slt_by_relabelling_it_in_the_read_model(federation: Federation) -> None:
    """A teacher with the database file relabels an allegation as an ordinary incident in the
    record index: SLT (who read incidents) would see it, its category and status, in the register."""
    fed = federation
    inc = allegation(fed, "teacher")
    assert inc in _register_ids(fed, "head") and inc not in _register_ids(fed, "slt")
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(records).where(records.c.alias == inc).values(record_class="incident"))
    assert inc not in _register_ids(fed, "slt")
    assert "the read model lacks this record or says otherwise" in _register_ids(fed, "head")[inc]["read_model"]


def test_staff_cannot_make_the_access_register_blame_someone_else(federation: Federation) -> None:
    """A member of staff with the database file rewrites the access index so that a read of a
    safeguarding case by the DSL reads as the Headteacher's, at another time."""
    fed = federation
    inc = safeguarding_case(fed)
    readside.timeline(fed.ledger, fed["dsl"], "a look for myself", incident=inc)
    readside.register(fed.ledger, fed["head"], "access", reason="audit")  # the index is up to date
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(access).where(access.c.reader == "dsl").values(
            reader="head", recorded_at="2026-01-01T09:00:00+00:00"))
    rows = [r for r in readside.register(fed.ledger, fed["head"], "access", reason="audit")
            if r["why"] == "a look for myself"]
    assert rows and all(r["reader"] == "dsl" and r["read_model"] for r in rows), rows


def test_staff_cannot_change_what_the_register_says_by_editing_a_sealed_entry(federation: Federation) -> None:
    """A teacher with the database file rewrites the category a sealed triage names: the register
    and `incidents list` replay clear headers, and would show the forged category."""
    fed = federation
    inc = safeguarding_case(fed)
    rewrite_claims(fed, inc, "Triaged", {"category": "bullying", "escalated_to": "slt",
                                         "previous_category": "child-on-child"})
    with pytest.raises(VerificationFailed, match="Incident.Triaged .* was altered"):
        _register_ids(fed, "dsl")
    with pytest.raises(VerificationFailed, match="Incident.Triaged .* was altered"):
        incidents.list_incidents(fed.ledger, fed["dsl"])


# -- who may act ---------------------------------------------------------------------------------


def _end(fed: Federation, who: str, leaver: str) -> None:
    with fed.ledger.unit(fed[who], write=True) as work:
        member = work.get(StaffMember, staff_record_id(leaver), redacted=True)
        member.end_employment("2026-07-31")
        work.save(member)


@pytest.mark.parametrize("leaver", ["head", "dsl", "slt"])
def test_the_it_manager_cannot_record_alone_that_a_reader_left(federation: Federation, leaver: str) -> None:
    """Through the library the IT manager records that the Headteacher (or the DSL) left, then
    deletes their copies of the role keys: they are locked out and verify would say nothing."""
    refused(federation, RuleViolation, lambda: _end(federation, "admin", leaver),
            match=f"may not record that {leaver} left")
    _end(federation, "admin", "teacher")  # someone who reads nothing may be recorded as gone by the IT manager


def test_a_reset_is_not_approved_with_a_key_the_proposer_set_by_a_reset(federation: Federation) -> None:
    """The IT manager runs a (genuine, approved) reset of a second admin's key on their own machine
    and keeps it, then proposes a reset of the Headteacher's key and approves it as that admin."""
    fed = federation
    people.add_staff(fed.ledger, fed["head"], "Second Admin", ["admin", "staff"], PASSPHRASE, "admin2")
    kept = "a passphrase the IT manager typed"
    proposal = people.propose_key_reset(fed.ledger, fed["admin"], "admin2", kept, "lost laptop")
    people.approve_key_reset(fed.ledger, fed["head"], "admin2", proposal.reset_id)
    admin2 = fed.ledger.unlock("admin2", kept)
    taken = people.propose_key_reset(fed.ledger, fed["admin"], "head", kept, "lost laptop")
    refused(fed, NotPermitted, lambda: people.approve_key_reset(fed.ledger, admin2, "head", taken.reset_id),
            match="a key admin set by a reset")
    people.rotate_key(fed.ledger, admin2, "admin2's own new passphrase")  # now a key only its owner knows
    people.approve_key_reset(fed.ledger, fed.ledger.unlock("admin2", "admin2's own new passphrase"), "head",
                             taken.reset_id)


def _table_giving_admin_allegations() -> dict[str, Any]:
    table = roles.current_table()
    table["version"] = roles.TABLE_VERSION + 1
    table["readers"] = dict(table["readers"], allegation=["admin", "headteacher"])
    table["exclusive"] = {}
    return table


def test_a_headteacher_adopting_version_n_gets_the_table_this_software_shows(federation: Federation) -> None:
    """The IT manager proposes (through the library) a table that lets the admin read allegations,
    and asks the Headteacher to run `ledger permissions adopt N`, which names only a version."""
    fed = federation
    table = _table_giving_admin_allegations()
    with fed.ledger.unit(fed["admin"], write=True) as work:
        work.save(PermissionTable.propose(table, "upgrade to 0.2"))
    refused(fed, RuleViolation, lambda: permissions.adopt(fed.ledger, fed["head"], int(table["version"])),
            match="not the table this software")
    assert fed.ledger.registry().table["version"] == roles.TABLE_VERSION  # type: ignore[index]
    permissions.adopt(fed.ledger, fed["head"], int(table["version"]), digest=roles.table_digest(table))
    assert fed.ledger.registry().table["version"] == roles.TABLE_VERSION + 1  # type: ignore[index]


def _table_with_readers(record_class: str, readers: list[str]) -> dict[str, Any]:
    table = roles.current_table()
    table["version"] = roles.TABLE_VERSION + 1
    table["readers"] = dict(table["readers"], **{record_class: readers})
    return table


def _access_readers_seen(fed: Federation, who: str) -> set[str]:
    """Whose reads ``who`` sees in the access register."""
    return {str(r["reader"]) for r in readside.register(fed.ledger, fed.reunlock(who), "access", reason="audit")}


def test_registers_follow_the_permission_table_adopted_by_signed_entries(
    federation: Federation, attacker: Attacker
) -> None:
    """Who sees the whole access register is the table in force, not this software's own table:
    a teacher with the database file who writes (unsealed) an adoption of a table letting staff
    read the access log sees nothing more; a table the IT manager proposes and the Headteacher
    adopts, which stops the DSL reading it, is followed at once."""
    fed = federation
    inc = safeguarding_case(fed)
    readside.timeline(fed.ledger, fed["head"], "review", incident=inc)
    assert "head" in _access_readers_seen(fed, "dsl")
    assert _access_readers_seen(fed, "teacher") <= {"teacher"}

    forged = _table_with_readers("access_log", ["admin", "dsl", "headteacher", "staff"])
    attacker.insert(attacker.forge(fed["teacher"].pair, uuid.uuid4(), "ledger.domain.keys:PermissionTable.Adopted",
                                   {"table": forged, "digest": roles.table_digest(forged)}))
    assert _access_readers_seen(fed, "teacher") <= {"teacher"}

    adopted = _table_with_readers("access_log", ["admin", "headteacher"])
    with fed.ledger.unit(fed["admin"], write=True) as work:
        work.save(PermissionTable.propose(adopted, "the access log is for the IT manager and the Headteacher"))
    permissions.adopt(fed.ledger, fed["head"], int(adopted["version"]), digest=roles.table_digest(adopted))
    assert _access_readers_seen(fed, "dsl") <= {"dsl"}
    assert {"head", "dsl"} <= _access_readers_seen(fed, "head")


def _roll_back_to(fed: Federation, attacker: Attacker, size: int, state: bytes, everything: bool) -> None:
    """Put the database back to the checkpoint of ``size``: its checkpoints (and, with ``everything``,
    the entries, leaves and tree nodes after it) deleted, and that moment's registry row restored."""
    events = attacker.events
    with fed.ledger.engine.begin() as conn:
        conn.execute(delete(checkpoints).where(checkpoints.c.size > size))
        conn.execute(update(registry_state).values(state=state))
        if not everything:
            return
        last = conn.execute(select(merkle_leaves.c.notification_id).where(merkle_leaves.c.leaf_index == size - 1)
                            ).scalar_one()
        conn.execute(delete(merkle_leaves).where(merkle_leaves.c.leaf_index >= size))
        for level in range(size.bit_length() + 8):
            conn.execute(delete(merkle_nodes).where(merkle_nodes.c.level == level,
                                                    (merkle_nodes.c.idx + 1) * (1 << level) > size))
        conn.execute(delete(events).where(events.c.id > last))


def _leave_and_roll_back(fed: Federation, attacker: Attacker, everything: bool) -> None:
    with fed.ledger.engine.connect() as conn:
        size = int(conn.execute(select(func.max(checkpoints.c.size))).scalar_one())
        state = bytes(conn.execute(select(registry_state.c.state)).scalar_one())
    people.end_employment(fed.ledger, fed["head"], "teacher", "2026-07-31")
    _roll_back_to(fed, attacker, size, state, everything)


def _report_as_the_leaver(fed: Federation) -> None:
    fresh = type(fed.ledger)(fed.ledger.config)
    try:
        incidents.report(fresh, fed["teacher"], incidents.IncidentReport(
            "child-on-child", "2026-08-01T10:00", "After leaving", "Written by a leaver"))
    finally:
        fresh.close()


def test_a_leaver_cannot_write_again_by_deleting_the_checkpoints_since_they_left(
    federation: Federation, attacker: Attacker
) -> None:
    """A leaver with the database file (no keys) deletes the checkpoints signed since they left and
    puts back the registry row of the last one before: it matches that (genuine) checkpoint."""
    fed = federation
    _leave_and_roll_back(fed, attacker, everything=False)
    refused(fed, VerificationFailed, lambda: _report_as_the_leaver(fed), match="checkpoints were deleted")


def test_a_dba_cannot_roll_the_log_back_to_an_earlier_checkpoint(federation: Federation, attacker: Attacker) -> None:
    """The same leaver (or a database administrator) deletes everything after that checkpoint:
    the entries recording that they left are gone, and verify, without a saved checkpoint, has
    nothing to compare with."""
    fed = federation
    _leave_and_roll_back(fed, attacker, everything=True)
    refused(fed, VerificationFailed, lambda: _report_as_the_leaver(fed), match="the database was rolled back")
    report = integrity.verify_ledger(fed.ledger, fed.ledger.config.trust_path, None, projections=False)
    assert any("the newest checkpoint this host signed covers" in f.problem for f in report.findings), report.findings


# -- time ------------------------------------------------------------------------------------------


def test_an_entry_back_dated_with_a_time_zone_offset_is_named(federation: Federation, attacker: Attacker) -> None:
    """The IT manager seals an entry whose time reads, as text, like now, but whose offset puts it
    23 hours back (past the 24-hour LATE flag), and signs the checkpoint the same way."""
    fed = federation
    ahead = SystemClock().now() + dt.timedelta(seconds=5)
    sly = ahead.replace(tzinfo=None).isoformat(timespec="microseconds") + "+23:00"
    entry = forge_wrapped(attacker, fed["admin"].pair, subject_record_id("sb-sly"), SUBJECT,
                          {"subject_id": "sb-sly", "kind": "pupil"}, "subject", sly)
    attacker.insert(entry)
    attacker.seal_everything(time=sly)
    real = iso(dt.datetime.fromisoformat(sly))
    text = findings(fed)
    assert f"Subject.Registered|recorded at {sly}, which is {real} in UTC" in text, text


# -- verify names damage, never crashes ------------------------------------------------------------


def _nested(state: bytes) -> bytes:
    """The entry with its claims nested a hundred thousand lists deep."""
    marked = rewrite_header(state, {"claims": "@@"})
    length = struct.unpack(">I", marked[4:8])[0]
    header = marked[8:8 + length].replace(b'"@@"', b"[" * 100_000 + b"]" * 100_000)
    return envelope.MAGIC + struct.pack(">I", len(header)) + header + marked[8 + length:]


DAMAGE = {
    "version as text": lambda state: rewrite_header(state, {"version": "two"}),
    "version as a list": lambda state: rewrite_header(state, {"version": [2]}),
    "claims as a list, key unknown": lambda state: rewrite_header(state, {"claims": ["x"], "actor_key": "k0"}),
    "claims nested too deep": _nested,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_dba_cannot_stop_verify_by_damaging_a_sealed_header(
    federation: Federation, attacker: Attacker, damage: str
) -> None:
    """A database administrator (no keys) rewrites a sealed header: verify must name that entry
    and go on to every other check, not stop with an unexpected error (which names nothing)."""
    fed = federation
    row = attacker.rows()[-1]
    with fed.ledger.engine.begin() as conn:
        conn.execute(update(attacker.events).where(attacker.events.c.id == row.id).values(
            state=DAMAGE[damage](bytes(row.state))))
    report = audit(fed)
    assert any("stored entry is unreadable" in f.problem for f in report.findings), report.findings


def test_an_erasure_entry_with_malformed_claims_is_refused(federation: Federation) -> None:
    """Through the library the IT manager records an erasure whose claims are not lists of ids:
    `verify` would stop with a TypeError on it."""
    fed = federation

    def erase(records: Any) -> None:
        with fed.ledger.unit(fed["admin"], write=True) as work:
            work.save(Erasure._create(Erasure.Recorded, id=uuid.uuid4(), records=records, erased_class="subject",
                                      basis="ground:recorded-in-error", keys_destroyed=[], entries=0,
                                      reason="mischief", record_class="erasure", subjects=[]))

    refused(fed, RuleViolation, lambda: erase(7), match="an erasure names its records and keys as lists of ids")
    refused(fed, RuleViolation, lambda: erase([["nested"]]), match="an erasure names its records")
    assert audit(fed).ok


def test_an_erasure_that_destroyed_nothing_does_not_cover_a_later_silent_deletion(federation: Federation) -> None:
    """A Headteacher (who may erase an allegation) records, through the library, an erasure naming
    it but destroying none of its keys (the allegation stays readable); later anyone with the
    database deletes its key wraps and bodies, and verify counted that as the signed erasure."""
    fed = federation
    inc = allegation(fed)
    record = str(incident_record_id(inc))
    with fed.ledger.unit(fed["head"], write=True) as work:
        work.save(Erasure._create(Erasure.Recorded, id=uuid.uuid4(), records=[record], erased_class="allegation",
                                  basis="ground:recorded-in-error", keys_destroyed=[], entries=0,
                                  reason="tidying", record_class="erasure", subjects=[]))
    table = fed.ledger.app.events_table
    with fed.ledger.engine.begin() as conn:
        keys = keystore.keys_of_record(conn, record)
        conn.execute(delete(key_wraps).where(key_wraps.c.key_id.in_(keys)))
        for row in conn.execute(select(table.c.id, table.c.state).where(
                table.c.originator_id == incident_record_id(inc))).all():
            conn.execute(update(table).where(table.c.id == row.id).values(
                state=envelope.parse(bytes(row.state)).without_body().to_bytes()))
    assert f"names record {record} but does not destroy its data key {keys[0]}" in findings(fed)


# -- evidence bundles ---------------------------------------------------------------------------------


def _bundle(fed: Federation, tmp_path: Path) -> dict[str, bytes]:
    """A fresh bundle of a safeguarding case with a note, as its files."""
    inc = safeguarding_case(fed)
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "Family called.")
    path = tmp_path / "case.zip"
    export.export(fed.ledger, fed["dsl"], export.ExportRequest("referral", path, incident=inc))
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _pack(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return path


def test_a_recipient_cannot_crash_the_bundle_verifier_with_a_deeply_nested_file(
    federation: Federation, tmp_path: Path
) -> None:
    """The recipient replaces a JSON file of the bundle with one nested a hundred thousand deep:
    the checker must report a failed check, not stop with a RecursionError."""
    files = _bundle(federation, tmp_path)
    for name in ("trust.json", "entries/index.json"):
        changed = dict(files, **{name: b"[" * 100_000 + b"]" * 100_000})
        report = export.verify_bundle(_pack(changed, tmp_path / "deep.zip"))
        assert not report.ok and any(name in p for c in report.checks for p in c.problems), report.lines()


#: What the forger changes in the readable files: (file, the honest bytes, the forged ones).
FORGERIES = {
    "a note's words": [("timeline.html", b"Family called.", b"Nobody called"),
                       ("timeline.csv", b"Family called.", b"Nobody called")],
    "a report's facts": [("timeline.html", b"<dd>Seen</dd>", b"<dd>Not seen</dd>"),
                         ("timeline.csv", b"facts: Seen", b"facts: Not seen")],
    "who recorded it": [("timeline.html", b"teacher (staff)", b"dsl (staff)"),
                        ("timeline.csv", b",teacher,staff,", b",dsl,staff,")],
    "a row left out": [("timeline.csv", b"fact noted: Family called.", b"")],
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forger_holding_the_ledger_key_cannot_change_the_readable_timeline(
    federation: Federation, tmp_path: Path, forgery: str
) -> None:
    """Whoever holds the ledger key (the IT manager) rewrites what the readable timeline says and
    signs SHA256SUMS again: every entry still verifies, and the reader reads the timeline."""
    fed = federation
    files = _bundle(fed, tmp_path)
    for name, honest, forged in FORGERIES[forgery]:
        assert honest in files[name], (name, honest)
        if forgery == "a row left out":
            files[name] = b"\n".join(line for line in files[name].split(b"\n") if honest not in line)
        else:
            files[name] = files[name].replace(honest, forged)
    resealed = bundle.seal({k: v for k, v in files.items() if k not in (bundle.SUMS, bundle.SIGNATURE)},
                           fed.ledger.ledger_signing_key())
    report = export.verify_bundle(_pack(resealed, tmp_path / "lying.zip"), fed.ledger.config.trust_path)
    assert not report.ok
    assert any("timeline" in p for c in report.checks for p in c.problems), report.lines()
