"""``ledger people …`` through the CLI: exact exit codes, output, and nothing written on failure."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.cli.conftest import NEW_PASSPHRASE, LedgerCli

def add_pupil(cli: LedgerCli, name: str = "Pip Pupil", subject_id: str = "sb-pip") -> str:
    result = cli.run("people", "add-subject", "--kind", "pupil", "--name", name, "--dob", "2016-04-12",
                     "--id", subject_id, actor="dsl")
    assert result.exit_code == 0, result.output
    return subject_id


def assert_refused(cli: LedgerCli, args: tuple[str, ...], error: str, hint: str | None = None, **kwargs: str | None) -> None:
    """The command exits 1 with exactly ``Error: …`` (and ``Hint: …``) on stderr and writes nothing."""
    before = cli.snapshot()
    result = cli.run(*args, **kwargs)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {error}"
    if hint is not None:
        assert lines[1:] == [f"Hint: {hint}"]
    assert cli.snapshot() == before


# -- add-staff ---------------------------------------------------------------


def test_admin_adds_a_member_of_staff_with_a_key_file(ledger_cli: LedgerCli) -> None:
    result = ledger_cli.run("people", "add-staff", "--name", "Nia New", "--id", "nia", "--role", "staff",
                            "--role", "auditor", "--email", "nia@school.example", actor="admin",
                            new_passphrase=NEW_PASSPHRASE)
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    key_id = re.fullmatch(r"nia registered with key (k[0-9a-f]{20})", first)
    assert key_id is not None
    assert second == f"  key file: {ledger_cli.home / 'keys' / 'nia' / (key_id[1] + '.json')}"
    assert {"id": "nia", "kind": "staff", "roles": "auditor,staff", "active": True} in ledger_cli.rows("people", "list")
    shown = ledger_cli.run("people", "show", "nia", "--reason", "induction", "--format", "json",
                           actor="nia", passphrase=NEW_PASSPHRASE)
    assert shown.exit_code == 1  # staff details are for admin/headteacher/slt only
    shown = ledger_cli.run("people", "show", "nia", "--reason", "induction", "--format", "json", actor="admin")
    assert json.loads(shown.stdout) == [{"id": "nia", "name": "Nia New", "email": "nia@school.example"}]


def test_a_dsl_may_not_add_staff(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Nia New", "--role", "staff"),
                   "dsl may not record an entry of this kind (staff member: registered)", "only these roles may: admin, headteacher",
                   actor="dsl", new_passphrase=NEW_PASSPHRASE)


@pytest.mark.parametrize("role", ["dsl", "slt", "investigator", "poster", "headteacher", "admin"])
def test_the_it_manager_may_not_register_someone_with_a_role_only_others_grant(shared_cli: LedgerCli, role: str) -> None:
    granters = {"dsl": "dsl, headteacher", "investigator": "dsl, headteacher"}.get(role, "headteacher")
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Nia New", "--role", role),
                   f"admin (roles: admin) may not grant {role}: only {granters} may",
                   actor="admin", new_passphrase=NEW_PASSPHRASE)


def test_an_unknown_actor_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Nia New", "--role", "staff"),
                   "unknown actor 'ghost'",
                   "act as a registered member of staff (--as ID or LEDGER_ACTOR); `ledger people list` shows them",
                   actor="ghost", new_passphrase=NEW_PASSPHRASE)


def test_a_subject_id_cannot_be_used_as_an_actor(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "X"),
                   "unknown actor 'sb-pip'", actor="sb-pip")


def test_a_wrong_passphrase_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Nia New", "--role", "staff"),
                   "wrong passphrase for admin",
                   "check the passphrase (LEDGER_PASSPHRASE when scripted) and try again",
                   actor="admin", passphrase="not the passphrase", new_passphrase=NEW_PASSPHRASE)


def test_no_identity_to_act_as_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "X"),
                   "no identity to act as", "give --as ID (or set LEDGER_ACTOR); `ledger people list` shows ids")


def test_the_actor_can_come_from_the_environment(sqlite_ledger_cli: LedgerCli) -> None:
    result = sqlite_ledger_cli.run("people", "add-subject", "--kind", "parent", "--name", "Pat Parent", "--id", "sb-pat",
                            LEDGER_ACTOR="dsl")
    assert (result.exit_code, result.stdout) == (0, "sb-pat\n")


def test_a_missing_passphrase_without_a_terminal_fails_and_writes_nothing(shared_cli: LedgerCli) -> None:
    before = shared_cli.snapshot()
    result = shared_cli.run("people", "add-subject", "--kind", "pupil", "--name", "X", actor="dsl", passphrase=None)
    assert result.exit_code == 1
    assert result.stderr.endswith("Aborted!\n")
    assert shared_cli.snapshot() == before


def test_the_new_persons_passphrase_is_asked_for_twice_when_not_given(sqlite_ledger_cli: LedgerCli) -> None:
    result = sqlite_ledger_cli.run("people", "add-staff", "--name", "Nia New", "--id", "nia", "--role", "staff",
                            actor="admin", stdin=f"{NEW_PASSPHRASE}\n{NEW_PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation: " in result.stderr
    assert sqlite_ledger_cli.run("people", "add-subject", "--kind", "pupil", "--name", "X", actor="nia",
                          passphrase=NEW_PASSPHRASE).exit_code == 1  # staff may not register subjects
    before = sqlite_ledger_cli.snapshot()
    result = sqlite_ledger_cli.run("people", "add-staff", "--name", "Ona Other", "--role", "staff", actor="admin")
    assert result.exit_code == 1
    assert result.stderr.endswith("Aborted!\n")
    assert sqlite_ledger_cli.snapshot() == before


def test_a_staff_id_cannot_be_reused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Another Head", "--id", "head", "--role", "staff"),
                   "staff id head is already taken", "choose another --id",
                   actor="admin", new_passphrase=NEW_PASSPHRASE)


def test_a_new_persons_passphrase_must_be_long_enough(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-staff", "--name", "Nia New", "--role", "staff"),
                   "passphrase is too short", "use at least 8 characters (a few words is better)",
                   actor="admin", new_passphrase="short")


@pytest.mark.parametrize(
    "args, message",
    [
        (("people", "add-staff", "--name", "Nia New"), "Error: Missing option '--role'."),
        (("people", "add-staff", "--role", "staff"), "Error: Missing option '--name'."),
        (("people", "add-staff", "--name", "N", "--role", "janitor"), "Error: Invalid value for '--role'"),
        (("people", "add-subject", "--kind", "alien", "--name", "X"), "Error: Invalid value for '--kind'"),
        (("people", "show", "head"), "Error: Missing option '--reason'."),
        (("people", "leave", "teacher"), "Error: Missing option '--on'."),
        (("people", "grant-role", "teacher", "king"), "'king' is not one of 'staff', 'headteacher'"),
        (("people", "fire", "teacher"), "Error: No such command 'fire'."),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(shared_cli: LedgerCli, args: tuple[str, ...], message: str) -> None:
    before = shared_cli.snapshot()
    result = shared_cli.run(*args, actor="admin", new_passphrase=NEW_PASSPHRASE)
    assert result.exit_code == 2
    assert message in result.stderr
    assert shared_cli.snapshot() == before


# -- roles: the reader key re-wrap -------------------------------------------


def test_nobody_grants_a_role_to_themselves(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "dsl", "investigator"),
                   "dsl may not grant a role to themselves", actor="dsl")
    assert_refused(shared_cli, ("people", "grant-role", "head", "admin"),
                   "head may not grant a role to themselves", actor="head")


def test_the_it_manager_never_becomes_a_reader_of_safeguarding_records(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "admin", "dsl"),
                   "dsl may not be held together with admin", actor="head")
    assert_refused(shared_cli, ("people", "grant-role", "admin", "investigator"),
                   "investigator may not be held together with admin", actor="dsl")


def test_a_second_dsl_added_by_the_current_dsl_can_read_subjects(ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(ledger_cli)
    added = ledger_cli.run("people", "add-staff", "--name", "Dee Two", "--id", "dsl2", "--role", "staff",
                           actor="admin", new_passphrase=NEW_PASSPHRASE)
    assert added.exit_code == 0, added.output
    cannot = ledger_cli.run("people", "show", pupil, "--reason", "before", actor="dsl2", passphrase=NEW_PASSPHRASE)
    assert cannot.exit_code == 1
    granted = ledger_cli.run("people", "grant-role", "dsl2", "dsl", actor="dsl")
    assert (granted.exit_code, granted.stdout) == (0, "dsl2 now has the role dsl\n")
    shown = ledger_cli.run("people", "show", pupil, "--reason", "case review", actor="dsl2", passphrase=NEW_PASSPHRASE)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        "field          value",
        "-------------  ----------",
        "id             sb-pip",
        "date_of_birth  2016-04-12",
        "name           Pip Pupil",
    ]


def test_granting_a_reader_role_you_do_not_hold_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "teacher", "headteacher"),
                   "dsl (roles: dsl, staff) may not grant headteacher: only headteacher may", actor="dsl")


def test_a_member_of_staff_may_not_grant_roles(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "teacher", "poster"),
                   "teacher may not record an entry of this kind (staff member: role granted)", actor="teacher")


def test_granting_a_role_already_held_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "dsl", "dsl"), "dsl already has the role dsl", actor="dsl")


def test_granting_a_role_to_nobody_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "grant-role", "ghost", "staff"), "no member of staff 'ghost'",
                   "`ledger people list` shows them", actor="head")


def test_removing_a_role_takes_its_reader_key_away(ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(ledger_cli)
    assert ledger_cli.run("people", "show", pupil, "--reason", "before", actor="slt").exit_code == 0
    removed = ledger_cli.run("people", "remove-role", "slt", "slt", actor="head")
    assert (removed.exit_code, removed.stdout) == (0, "slt no longer has the role slt\n")
    assert {"id": "slt", "kind": "staff", "roles": "staff", "active": True} in ledger_cli.rows("people", "list")
    assert_refused(ledger_cli, ("people", "show", pupil, "--reason", "after"),
                   f"slt may not read the details of {pupil}", "only roles allowed to read this record class can",
                   actor="slt")


def test_only_those_who_may_grant_a_role_remove_it(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "remove-role", "poster", "poster"),
                   "dsl may not remove poster: only those who may grant it, or a Headteacher", actor="dsl")
    assert_refused(shared_cli, ("people", "remove-role", "poster", "poster"),
                   "teacher may not record an entry of this kind (staff member: role removed)", "only these roles may: admin, dsl, headteacher",
                   actor="teacher")


def test_removing_a_role_not_held_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "remove-role", "teacher", "dsl"), "teacher does not have the role dsl",
                   actor="head")


# -- subjects ----------------------------------------------------------------


def test_the_dsl_registers_a_pupil_and_gets_only_the_id_back(sqlite_ledger_cli: LedgerCli) -> None:
    result = sqlite_ledger_cli.run("people", "add-subject", "--kind", "pupil", "--name", "Robin Reader", actor="dsl")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"sb-[0-9a-f]{8}\n", result.stdout)
    subject_id = result.stdout.strip()
    assert {"id": subject_id, "kind": "pupil", "roles": "", "active": True} in sqlite_ledger_cli.rows("people", "list")


def test_a_member_of_staff_may_not_register_subjects(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "Robin Reader"),
                   "teacher may not record an entry of this kind (subject: registered)", actor="teacher")


def test_a_bad_date_of_birth_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "X", "--dob", "12/04/2016"),
                   "date of birth '12/04/2016' is not a date", "write it as YYYY-MM-DD", actor="dsl")


def test_a_subject_id_cannot_be_reused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "X", "--id", "sb-pip"),
                   "subject id sb-pip is already taken", "choose another --id", actor="dsl")


def test_an_unusable_id_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "add-subject", "--kind", "pupil", "--name", "X", "--id", "sb/../x"),
                   "id 'sb/../x' is not usable", "use up to 40 letters, digits, '-', '_' or '.'", actor="dsl")


# -- list and show -----------------------------------------------------------


def test_people_list_in_every_format_agrees(shared_cli: LedgerCli) -> None:
    as_json = shared_cli.rows("people", "list")
    assert as_json[0] == {"id": "sb-pip", "kind": "pupil", "roles": "", "active": True}
    assert [r["id"] for r in as_json[1:]] == ["admin", "auditor", "dsl", "head", "investigator", "poster", "slt", "teacher"]
    as_csv = shared_cli.run("people", "list", "--format", "csv")
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["id"], r["kind"], r["roles"], r["active"]) for r in rows] == [
        (r["id"], r["kind"], r["roles"], str(r["active"])) for r in as_json
    ]
    table = shared_cli.run("people", "list").stdout.splitlines()
    assert table[0].split() == ["id", "kind", "roles", "active"]
    assert table[2].split() == ["sb-pip", "pupil", "yes"]
    assert ["head", "staff", "headteacher,staff", "yes"] in [line.split() for line in table]


def test_people_list_shows_no_names(shared_cli: LedgerCli) -> None:
    for fmt in ("table", "json", "csv"):
        output = shared_cli.run("people", "list", "--format", fmt).stdout
        assert "sb-pip" in output and "head" in output
        assert "Pip" not in output and "Person" not in output and "2016" not in output


def test_showing_a_person_records_the_read_in_the_access_log(sqlite_ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(sqlite_ledger_cli)
    before = sqlite_ledger_cli.snapshot()[0]["policyledger_events"]
    shown = sqlite_ledger_cli.run("people", "show", pupil, "--reason", "safeguarding review", "--format", "json", actor="head")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == [{"id": "sb-pip", "date_of_birth": "2016-04-12", "name": "Pip Pupil"}]
    assert sqlite_ledger_cli.snapshot()[0]["policyledger_events"] == before + 1


@pytest.mark.parametrize("reader", ["teacher", "admin", "poster", "auditor"])
def test_roles_that_may_not_read_a_pupil_are_refused_and_nothing_is_logged(shared_cli: LedgerCli, reader: str) -> None:
    pupil = "sb-pip"
    assert_refused(shared_cli, ("people", "show", pupil, "--reason", "curious"),
                   f"{reader} may not read the details of {pupil}", "only roles allowed to read this record class can",
                   actor=reader)


def test_showing_someone_unknown_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "show", "ghost", "--reason", "x"), "no person 'ghost'",
                   "no one has that id, and no one you may see has that name: check the spelling, or search with "
                   "`ledger people find` (readers) or `ledger people pick` (staff), then give the id", actor="head")


def test_a_blank_reason_is_refused(shared_cli: LedgerCli) -> None:
    pupil = "sb-pip"
    before = shared_cli.snapshot()
    result = shared_cli.run("people", "show", pupil, "--reason", "  ", actor="head")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: reason ")
    assert shared_cli.snapshot() == before


# -- leavers -----------------------------------------------------------------


def test_a_leaver_can_no_longer_act(sqlite_ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(sqlite_ledger_cli)
    left = sqlite_ledger_cli.run("people", "leave", "slt", "--on", "2026-07-31", actor="head")
    assert (left.exit_code, left.stdout) == (0, "slt left on 2026-07-31\n")
    assert {"id": "slt", "kind": "staff", "roles": "slt,staff", "active": False} in sqlite_ledger_cli.rows("people", "list")
    assert_refused(sqlite_ledger_cli, ("people", "show", pupil, "--reason", "after leaving"),
                   "slt has left: their identity can no longer act", actor="slt")
    assert_refused(sqlite_ledger_cli, ("people", "leave", "slt", "--on", "2026-08-01"), "slt already left on 2026-07-31",
                   actor="head")


def test_a_leaving_date_must_be_a_date(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "leave", "teacher", "--on", "2026-13-01"),
                   "end date '2026-13-01' is not a date", "write it as YYYY-MM-DD", actor="head")


def test_a_member_of_staff_may_not_record_someone_leaving(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("people", "leave", "head", "--on", "2026-07-31"),
                   "teacher may not record an entry of this kind (staff member: employment ended)", actor="teacher")
