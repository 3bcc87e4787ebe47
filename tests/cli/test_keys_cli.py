"""``ledger keys list|rotate|revoke`` through the CLI."""

from __future__ import annotations

import csv
import io
import re

from tests.cli.conftest import NEW_PASSPHRASE, LedgerCli
from tests.conftest import PASSPHRASE

ROTATED = re.compile(r"(?P<who>[\w-]+) now signs with key (?P<key>k[0-9a-f]{20})")


def active_key(cli: LedgerCli, owner: str) -> str:
    keys = [k for k in cli.rows("keys", "list") if k["owner"] == owner and k["status"] == "active"]
    assert len(keys) == 1, keys
    return str(keys[0]["key_id"])


def add_pupil(cli: LedgerCli) -> str:
    result = cli.run("people", "add-subject", "--kind", "pupil", "--name", "Pip Pupil", "--id", "sb-pip", actor="dsl")
    assert result.exit_code == 0, result.output
    return "sb-pip"


def assert_refused(cli: LedgerCli, args: tuple[str, ...], error: str, hint: str | None = None,
                   **kwargs: str | None) -> None:
    """Exit 1, exactly ``Error: …`` (and ``Hint: …``) on stderr, nothing written."""
    before = cli.snapshot()
    result = cli.run(*args, **kwargs)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {error}"
    if hint is not None:
        assert lines[1:] == [f"Hint: {hint}"]
    assert cli.snapshot() == before


# -- list --------------------------------------------------------------------


def test_keys_list_in_every_format_agrees(shared_cli: LedgerCli) -> None:
    as_json = shared_cli.rows("keys", "list")
    assert [k["owner"] for k in as_json] == [
        "admin", "auditor", "dsl", "head", "investigator", "poster", "slt", "teacher"
    ]
    assert set(as_json[0]) == {"key_id", "owner", "registered_at_entry", "status", "revoked_at_entry", "reset_by"}
    assert as_json[0]["registered_at_entry"] == 6
    assert all(k["reset_by"] == "" for k in as_json)
    assert all(k["status"] == "active" and k["revoked_at_entry"] is None for k in as_json)
    assert all(re.fullmatch(r"k[0-9a-f]{20}", str(k["key_id"])) for k in as_json)
    as_csv = shared_cli.run("keys", "list", "--format", "csv")
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows == [
        {k: ("" if v is None else str(v)) for k, v in key.items()} for key in as_json
    ]
    table = shared_cli.run("keys", "list").stdout.splitlines()
    assert table[0].split() == ["key_id", "owner", "registered_at_entry", "status", "revoked_at_entry", "reset_by"]
    assert table[2].split() == [str(as_json[0]["key_id"]), "admin", "6", "active"]


def test_keys_list_needs_no_identity_and_no_passphrase(shared_cli: LedgerCli) -> None:
    result = shared_cli.run("keys", "list", passphrase=None)
    assert result.exit_code == 0
    assert result.stderr == ""


# -- rotate ------------------------------------------------------------------


def test_after_rotation_only_the_new_passphrase_unlocks_and_reading_still_works(ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(ledger_cli)
    old_key = active_key(ledger_cli, "head")
    result = ledger_cli.run("keys", "rotate", actor="head", new_passphrase=NEW_PASSPHRASE)
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    match = ROTATED.fullmatch(first)
    assert match is not None and match["who"] == "head"
    new_key = match["key"]
    assert second == f"  key file: {ledger_cli.home / 'keys' / 'head' / (new_key + '.json')}"
    keys = {k["key_id"]: k for k in ledger_cli.rows("keys", "list")}
    assert keys[old_key]["status"] == "revoked"
    assert keys[new_key]["status"] == "active"
    assert_refused(ledger_cli, ("people", "show", pupil, "--reason", "old passphrase"),
                   "wrong passphrase for head",
                   "check the passphrase (LEDGER_PASSPHRASE when scripted) and try again", actor="head")
    shown = ledger_cli.run("people", "show", pupil, "--reason", "new passphrase", "--format", "json",
                           actor="head", passphrase=NEW_PASSPHRASE)
    assert shown.exit_code == 0, shown.output
    assert '"name": "Pip Pupil"' in shown.stdout


def test_rotating_with_keep_old_leaves_the_old_key_active(sqlite_ledger_cli: LedgerCli) -> None:
    old_key = active_key(sqlite_ledger_cli, "teacher")
    result = sqlite_ledger_cli.run("keys", "rotate", "--keep-old", actor="teacher", new_passphrase=NEW_PASSPHRASE)
    assert result.exit_code == 0, result.output
    statuses = sorted((str(k["key_id"]) == old_key, k["status"]) for k in sqlite_ledger_cli.rows("keys", "list")
                      if k["owner"] == "teacher")
    assert statuses == [(False, "active"), (True, "active")]
    # the newest active key is the one that unlocks
    report = sqlite_ledger_cli.run("people", "add-subject", "--kind", "pupil", "--name", "X", actor="teacher",
                            passphrase=NEW_PASSPHRASE)
    assert report.stderr.startswith("Error: teacher may not record an entry of this kind (subject: registered)")


def test_a_member_of_staff_may_not_rotate_someone_elses_key(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("keys", "rotate", "--for", "head"),
                   "teacher may not make a key for head: only its owner rotates a key",
                   "if head lost their key: `ledger keys reset propose --for head --reason …`, "
                   "then a second person approves it",
                   actor="teacher", new_passphrase=NEW_PASSPHRASE)


def test_not_even_the_it_manager_rotates_someone_elses_key(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("keys", "rotate", "--for", "head", "--keep-old"),
                   "admin may not make a key for head: only its owner rotates a key",
                   actor="admin", new_passphrase=NEW_PASSPHRASE)


def test_a_reset_for_nobody_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("keys", "reset", "propose", "--for", "ghost", "--reason", "x"),
                   "no member of staff 'ghost'", "`ledger people list` shows them", actor="admin",
                   new_passphrase=NEW_PASSPHRASE)


def test_a_new_key_needs_a_long_enough_passphrase(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("keys", "rotate",), "passphrase is too short",
                   "use at least 8 characters (a few words is better)", actor="head", new_passphrase="tiny")


def test_rotating_without_a_new_passphrase_or_a_terminal_fails_and_writes_nothing(shared_cli: LedgerCli) -> None:
    before = shared_cli.snapshot()
    result = shared_cli.run("keys", "rotate", actor="head")
    assert result.exit_code == 1
    assert result.stderr.endswith("Aborted!\n")
    assert shared_cli.snapshot() == before


def test_rotating_with_a_wrong_passphrase_is_refused(shared_cli: LedgerCli) -> None:
    assert_refused(shared_cli, ("keys", "rotate",), "wrong passphrase for head", actor="head",
                   passphrase="not my passphrase", new_passphrase=NEW_PASSPHRASE)


def test_a_reset_needs_a_second_person_and_keeps_the_reader_keys(ledger_cli: LedgerCli) -> None:
    pupil = add_pupil(ledger_cli)
    proposed = ledger_cli.run("keys", "reset", "propose", "--for", "dsl", "--reason", "forgot passphrase",
                              actor="admin", new_passphrase=NEW_PASSPHRASE)
    assert proposed.exit_code == 0, proposed.output
    reset_id = re.search(r"reset (rs-[0-9a-f]{8}) proposed", proposed.stdout)[1]  # type: ignore[index]
    assert [r["reset_id"] for r in ledger_cli.rows("keys", "reset", "list")] == [reset_id]
    # the proposer may not approve it, nor may its subject
    assert_refused(ledger_cli, ("keys", "reset", "approve", reset_id, "--for", "dsl"),
                   "admin proposed this reset and may not approve it too: a second person must", actor="admin")
    assert_refused(ledger_cli, ("keys", "reset", "approve", reset_id, "--for", "dsl"),
                   "dsl may not record an entry of this kind (staff member: key reset approved)", actor="dsl")
    approved = ledger_cli.run("keys", "reset", "approve", reset_id, "--for", "dsl", actor="head")
    assert approved.exit_code == 0, approved.output
    keys = [k for k in ledger_cli.rows("keys", "list") if k["owner"] == "dsl"]
    assert [k["status"] for k in keys] == ["revoked", "active"] and keys[1]["reset_by"] == "admin+head"
    shown = ledger_cli.run("people", "show", pupil, "--reason", "after the reset", "--format", "json",
                           actor="dsl", passphrase=NEW_PASSPHRASE)
    assert shown.exit_code == 0 and '"name": "Pip Pupil"' in shown.stdout
    assert "Notice: your key" in shown.stderr and "proposed by admin and approved by head" in shown.stderr
    rotated = ledger_cli.run("keys", "rotate", actor="dsl", passphrase=NEW_PASSPHRASE, new_passphrase=PASSPHRASE)
    assert rotated.exit_code == 0, rotated.output
    quiet = ledger_cli.run("people", "show", pupil, "--reason", "own key again", actor="dsl")
    assert quiet.exit_code == 0 and "Notice" not in quiet.stderr


# -- revoke ------------------------------------------------------------------


def test_a_revoked_keys_owner_is_told_to_get_a_new_key(ledger_cli: LedgerCli) -> None:
    key_id = active_key(ledger_cli, "teacher")
    result = ledger_cli.run("keys", "revoke", key_id, "--for", "teacher", "--reason", "laptop lost", actor="admin")
    assert (result.exit_code, result.stdout) == (0, f"key {key_id} of teacher revoked\n")
    revoked = next(k for k in ledger_cli.rows("keys", "list") if k["key_id"] == key_id)
    assert revoked["status"] == "revoked"
    assert isinstance(revoked["revoked_at_entry"], int)
    assert_refused(ledger_cli, ("people", "leave", "head", "--on", "2026-07-31"),
                   "teacher has no active key", "ask the IT manager to propose a key reset for them", actor="teacher")
    # a reset by two people gives them a new key; the new passphrase works
    proposed = ledger_cli.run("keys", "reset", "propose", "--for", "teacher", "--reason", "laptop lost",
                              actor="admin", new_passphrase=NEW_PASSPHRASE)
    reset_id = re.search(r"reset (rs-[0-9a-f]{8}) proposed", proposed.stdout)[1]  # type: ignore[index]
    assert ledger_cli.run("keys", "reset", "approve", reset_id, "--for", "teacher", actor="head").exit_code == 0
    refused = ledger_cli.run("people", "leave", "head", "--on", "2026-07-31", actor="teacher",
                             passphrase=NEW_PASSPHRASE).stderr.splitlines()
    assert refused[0].startswith("Notice: your key ") and "set by a key reset proposed by admin" in refused[0]
    assert refused[1] == "Error: teacher may not record an entry of this kind (staff member: employment ended)"


def test_anyone_may_revoke_their_own_key(sqlite_ledger_cli: LedgerCli) -> None:
    key_id = active_key(sqlite_ledger_cli, "poster")
    result = sqlite_ledger_cli.run("keys", "revoke", key_id, "--for", "poster", "--reason", "phone stolen", actor="poster")
    assert (result.exit_code, result.stdout) == (0, f"key {key_id} of poster revoked\n")
    assert next(k for k in sqlite_ledger_cli.rows("keys", "list") if k["key_id"] == key_id)["status"] == "revoked"


def test_a_member_of_staff_may_not_revoke_someone_elses_key(shared_cli: LedgerCli) -> None:
    key_id = active_key(shared_cli, "head")
    assert_refused(shared_cli, ("keys", "revoke", key_id, "--for", "head", "--reason", "mischief"),
                   "teacher may not record an entry of this kind (staff member: key revoked)", "only these roles may: admin, headteacher", actor="teacher")


def test_revoking_a_key_that_is_not_theirs_is_refused(shared_cli: LedgerCli) -> None:
    key_id = active_key(shared_cli, "head")
    assert_refused(shared_cli, ("keys", "revoke", key_id, "--for", "teacher", "--reason", "typo"),
                   f"{key_id} is not an active key of teacher", actor="admin")


def test_revoking_with_a_wrong_passphrase_is_refused(shared_cli: LedgerCli) -> None:
    key_id = active_key(shared_cli, "teacher")
    assert_refused(shared_cli, ("keys", "revoke", key_id, "--for", "teacher", "--reason", "lost"),
                   "wrong passphrase for admin", actor="admin", passphrase=PASSPHRASE + "x")


def test_revoking_as_an_unknown_actor_is_refused(shared_cli: LedgerCli) -> None:
    key_id = active_key(shared_cli, "teacher")
    assert_refused(shared_cli, ("keys", "revoke", key_id, "--for", "teacher", "--reason", "lost"),
                   "unknown actor 'root'", actor="root")


def test_revoke_needs_an_owner_and_a_reason(shared_cli: LedgerCli) -> None:
    before = shared_cli.snapshot()
    for args, missing in ((("keys", "revoke", "k00", "--for", "teacher"), "--reason"),
                          (("keys", "revoke", "k00", "--reason", "lost"), "--for")):
        result = shared_cli.run(*args, actor="admin")
        assert result.exit_code == 2
        assert f"Error: Missing option '{missing}'." in result.stderr
    result = shared_cli.run("keys", "revoke", actor="admin")
    assert result.exit_code == 2
    assert "Error: Missing argument 'KEY_ID'." in result.stderr
    assert shared_cli.snapshot() == before
