"""Attacks on the schools' directories of names (docs/threat-model.md, "Names").

A teacher picks a pupil of their own school by name without reading the
pupil's record. The names are in encrypted bodies whose keys are wrapped to
the reader roles, the recovery key and the school's own staff: a database
user without keys reads no name, a teacher of one school none of another's,
and a leaver none from the current database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert, inspect, select

from commands.services import directory, people, retention, school_directory, setup
from ledger import identity, keystore
from ledger.domain.directory import SchoolDirectory, directory_record_id
from ledger.errors import NotPermitted, VerificationFailed
from ledger.keystore import KeyRing
from ledger.schema import key_wraps
from tests.adversary.conftest import findings
from tests.conftest import PASSPHRASE, Federation, refused

SENTINEL = "Quintessa Zyxwarbleton"


@pytest.fixture
def schools(federation: Federation) -> Iterator[Federation]:
    """Oak Primary (teacher ``tia``, pupil with the sentinel name) and Elm High (teacher ``bea``)."""
    fed = federation
    setup.change_settings(fed.ledger, fed["admin"], None, ("Oak Primary", "Elm High"), "two schools")
    people.add_staff(fed.ledger, fed["admin"], "Tia Teacher", ["staff"], PASSPHRASE, "tia", school="Oak Primary")
    people.add_staff(fed.ledger, fed["admin"], "Bea Teacher", ["staff"], PASSPHRASE, "bea", school="Elm High")
    people.add_subject(fed.ledger, fed["dsl"], "pupil", SENTINEL, "2015-01-02", "Oak Primary", "sb-q",
                       year_group="Year 4")
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Eli Elm", "2012-01-02", "Elm High", "sb-eli")
    fed.actors["tia"] = fed.ledger.unlock("tia", PASSPHRASE)
    fed.actors["bea"] = fed.ledger.unlock("bea", PASSPHRASE)
    yield fed


def _every_value(fed: Federation) -> Iterator[bytes]:
    """Every cell of every table, as bytes: what a database user reads without keys."""
    with fed.ledger.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'):
                for value in row:
                    yield bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()


def _keys_of(fed: Federation, school: str) -> list[str]:
    with fed.ledger.engine.connect() as conn:
        return keystore.keys_of_record(conn, str(directory_record_id(school)))


def _opens(fed: Federation, ring: KeyRing, key_id: str) -> bool:
    with fed.ledger.engine.connect() as conn:
        try:
            ring.data_key(conn, key_id)
        except NotPermitted:
            return False
    return True


def test_a_database_user_without_keys_reads_no_name(schools: Federation) -> None:
    assert directory.pick_pupils(schools.ledger, schools["tia"], "quint")[0]["name"] == SENTINEL
    needle = SENTINEL.split()[1].encode()
    values = list(_every_value(schools))
    assert any(b"Oak Primary" in v for v in values)  # the scan reads clear settings, so would see a clear name
    assert not [v for v in values if needle in v]


def test_a_stranger_with_the_database_and_a_key_of_their_own_opens_no_directory(schools: Federation) -> None:
    stranger = KeyRing.for_pair(identity.generate("stranger"))
    for school in ("Oak Primary", "Elm High"):
        assert _keys_of(schools, school)
        assert not any(_opens(schools, stranger, k) for k in _keys_of(schools, school))


def test_a_teacher_of_one_school_cannot_find_pupils_of_another(schools: Federation) -> None:
    fed = schools
    refused(fed, NotPermitted, lambda: directory.pick_pupils(fed.ledger, fed["tia"], "eli", "Elm High"),
            "tia does not pick pupils of Elm High")
    assert [p["id"] for p in directory.pick_pupils(fed.ledger, fed["tia"], "eli")] == []
    # through the library, with the database: the other school's keys do not open for her
    assert not any(_opens(fed, fed["tia"].keyring, k) for k in _keys_of(fed, "Elm High"))
    with fed.ledger.unit(fed["tia"]) as work:
        elm = school_directory.load(work, "Elm High")
    assert elm is not None and elm.pupils == {} and elm.withheld >= 1


def test_a_teacher_cannot_admit_themselves_to_another_schools_directory(schools: Federation) -> None:
    fed = schools

    def admit_myself() -> None:
        with fed.ledger.unit(fed["tia"], write=True) as work:
            elm = work.get(SchoolDirectory, directory_record_id("Elm High"), redacted=True)
            elm.admit("tia")
            work.save(elm)

    refused(fed, NotPermitted, admit_myself, "tia may not record an entry of this kind \\(school directory: staff admitted\\)")


def test_a_teacher_cannot_read_a_pupils_record_they_picked(schools: Federation) -> None:
    fed = schools
    assert [p["id"] for p in directory.pick_pupils(fed.ledger, fed["tia"], "quint")] == ["sb-q"]
    refused(fed, NotPermitted, lambda: people.read_details(fed.ledger, fed["tia"], "sb-q", "curious"),
            "tia may not read the details of sb-q")


def test_a_leaver_opens_nothing_of_the_directory_from_the_current_database(schools: Federation) -> None:
    fed = schools
    key_id = fed.ledger.registry().current_key("tia").key_id  # type: ignore[union-attr]
    pair = identity.load(fed.ledger.config.keys_dir, "tia", key_id, PASSPHRASE)
    assert any(_opens(fed, KeyRing.for_pair(pair), k) for k in _keys_of(fed, "Oak Primary"))
    people.end_employment(fed.ledger, fed["head"], "tia", "2026-07-31")
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Newt Later", None, "Oak Primary", "sb-newt")
    leaver = KeyRing.for_pair(pair)  # her key file and passphrase, a fresh ring: no cached keys
    assert not any(_opens(fed, leaver, k) for k in _keys_of(fed, "Oak Primary"))
    with fed.ledger.unit() as work:
        work.ctx.keyring = leaver
        oak = school_directory.load(work, "Oak Primary")
    assert oak is not None and oak.pupils == {} and "tia" not in oak.staff
    assert findings(fed) == ""


def test_verify_names_a_leavers_wrap_put_back_into_the_database(schools: Federation) -> None:
    fed = schools
    with fed.ledger.engine.connect() as conn:
        saved = [dict(r._mapping) for r in conn.execute(
            select(key_wraps).where(key_wraps.c.recipient == "actor:tia"))]
    assert saved
    people.end_employment(fed.ledger, fed["head"], "tia", "2026-07-31")
    with fed.ledger.engine.begin() as conn:  # a database administrator restores her rows from a backup
        conn.execute(insert(key_wraps), saved)
    assert "wrapped to actor:tia, who may not read directory records: a leak" in findings(fed)


def test_a_wrap_relabelled_for_another_teacher_opens_nothing_and_verify_names_it(schools: Federation) -> None:
    fed = schools
    with fed.ledger.engine.connect() as conn:
        first = conn.execute(select(key_wraps).where(key_wraps.c.recipient == "actor:tia")).first()
    assert first is not None
    row = dict(first._mapping)
    row["recipient"] = "actor:bea"
    with fed.ledger.engine.begin() as conn:
        conn.execute(insert(key_wraps).values(**row))
    assert not _opens(fed, KeyRing.for_pair(fed["bea"].pair), row["key_id"])
    assert "wrapped to actor:bea, who may not read directory records: a leak" in findings(fed)


def test_an_erased_pupil_is_no_longer_found_or_picked_by_name(schools: Federation) -> None:
    fed = schools
    people.add_subject(fed.ledger, fed["dsl"], "pupil", "Quintessa Other", None, "Oak Primary", "sb-q2")
    retention.erase(fed.ledger, fed["head"], "sb-q", "data-subject-request", "the family asked")
    assert [p["id"] for p in directory.pick_pupils(fed.ledger, fed["tia"], "quint")] == ["sb-q2"]
    assert [p["id"] for p in directory.find(fed.ledger, fed["dsl"], "quint")] == ["sb-q2"]
    assert directory.labels(fed.ledger, fed["dsl"], ["sb-q"]) == {"sb-q": "sb-q"}
    with fed.ledger.unit(fed["dsl"]) as work:  # the Headteacher who erased it also unlisted it
        oak = school_directory.load(work, "Oak Primary")
    assert oak is not None and "sb-q" not in oak.pupils and "sb-q2" in oak.pupils
    assert findings(fed) == ""


def test_a_teacher_who_writes_an_unsealed_directory_entry_changes_nothing(schools: Federation) -> None:
    """Teacher tia (Oak) appends to Elm's directory, signed with her own key, an entry admitting
    herself (or pointing a name at another child). Only the ledger seals: the directory is refused,
    so no Elm name reaches her and the DSL's next write there shares no key with her."""
    from eventsourcing.utils import get_topic

    from tests.adversary.attacker import Attacker

    fed = schools
    attack = Attacker(fed)
    tia = fed["tia"].pair  # her own key, as her key file gives it
    record = directory_record_id("Elm High")
    attack.insert(attack.forge(tia, record, get_topic(SchoolDirectory.StaffAdmitted), {"staff_id": "tia"},
                               record_class="directory", body={"staff_id": "tia"}))
    refused(fed, VerificationFailed, lambda: people.add_subject(
        fed.ledger, fed["dsl"], "pupil", "Nova Newcomer", "2016-01-02", "Elm High", "sb-nova"),
        match="never sealed")
    refused(fed, VerificationFailed, lambda: directory.pick_pupils(fed.ledger, fed["bea"], "eli"),
            match="never sealed")
    assert "SchoolDirectory.StaffAdmitted|row" in findings(fed) and "never sealed" in findings(fed)
