"""``ledger approvals …`` through the CLI: exit codes, output, nothing written on refusal."""

from __future__ import annotations

import json

import hashlib
import re
from pathlib import Path

from commands.services import people
from tests.cli.conftest import LedgerCli
from tests.conftest import Federation, local_today

SENTINEL = "Bartholomew Okonkwo-Lindqvist"
TODAY = local_today()


def made_id(output: str, prefix: str) -> str:
    match = re.fullmatch(rf"({prefix}-[0-9a-f]{{8}})\n", output)
    assert match, output
    return match.group(1)


def test_a_post_goes_from_proposal_to_removal_through_the_cli(
    federation: Federation, ledger_cli: LedgerCli, tmp_path: Path
) -> None:
    child = people.add_subject(federation.ledger, federation["dsl"], "pupil", "A Pupil")
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"photo bytes")
    result = ledger_cli.run("approvals", "post", "propose", "--text", "Sports day!", "--child", child,
                            "--image", str(image), actor="teacher")
    assert result.exit_code == 0, result.output
    post = made_id(result.stdout, "post")

    before = ledger_cli.snapshot()
    result = ledger_cli.run("approvals", "post", "publish", post, actor="poster")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: post {post} cannot be published: missing parental permission for {child}; check that nothing "
        "identifies a child; the Headteacher's approval to go live\n"
        "Hint: `ledger approvals list` shows what blocks each post\n"
    )
    assert ledger_cli.snapshot() == before

    steps = [
        (("post", "permission", post, "--child", child, "--given-on", TODAY), "teacher",
         f"permission granted for {child} on {post}\n"),
        (("post", "check-identifying", post, "--note", "certificates blank"), "poster",
         f"{post}: nothing identifies a child\n"),
        (("post", "approve", post, "--reason", "celebrates achievement"), "head", f"{post} approved\n"),
        (("post", "publish", post, "--link", "https://example.org/1"), "poster", f"{post} published\n"),
        (("post", "remove", post, "--reason", "parent asked"), "poster", f"{post} removed\n"),
    ]
    for args, actor, expected in steps:
        result = ledger_cli.run("approvals", *args, actor=actor)
        assert (result.exit_code, result.stdout) == (0, expected), result.output
    rows = ledger_cli.rows("--as", "head", "approvals", "list")
    assert rows == [{
        "id": post, "kind": "post", "school": None, "requested_by": "Person teacher (teacher)", "status": "removed",
        "subjects": [f"A Pupil ({child})"],
        "covered": [child], "decided_on": TODAY, "valid_until": None, "published_on": TODAY, "removed_on": TODAY,
        "photos_deleted_on": None, "blocked_by": "", "conditions": "",
    }]
    assert hashlib.sha256(b"photo bytes").hexdigest() not in str(rows)


def test_devices_and_permissions_through_the_cli(ledger_cli: LedgerCli) -> None:
    result = ledger_cli.run("approvals", "device", "request", "--device", "my phone", "--purpose", "trip",
                            "--from", TODAY, "--until", TODAY, actor="teacher")
    device = made_id(result.stdout, "dev")
    result = ledger_cli.run("approvals", "device", "approve", device, "--reason", "ok", "--until", TODAY, actor="head")
    assert (result.exit_code, result.stdout) == (0, f"{device} approved\n")
    result = ledger_cli.run("approvals", "device", "confirm-deleted", device, "--uploaded-on", TODAY, "--photos", "5",
                            actor="teacher")
    assert (result.exit_code, result.stdout) == (0, f"deletion of 5 photo(s) confirmed for {device}\n")

    result = ledger_cli.run("approvals", "permission", "request", "speak", "--details", "Q&A", actor="teacher")
    speak = made_id(result.stdout, "perm")
    result = ledger_cli.run("approvals", "permission", "approve", speak, "--reason", "ok", actor="head")
    assert result.exit_code == 1 and "missing training (or the Headteacher waives it)" in result.stderr
    result = ledger_cli.run("approvals", "permission", "training", speak, "--completed-on", TODAY, "--course",
                            "Federation training", actor="teacher")
    assert (result.exit_code, result.stdout) == (0, f"training recorded on {speak}\n")
    result = ledger_cli.run("approvals", "permission", "approve", speak, "--reason", "trained", actor="head")
    assert (result.exit_code, result.stdout) == (0, f"{speak} approved\n")
    result = ledger_cli.run("approvals", "permission", "revoke", speak, "--reason", "left the role", actor="head")
    assert (result.exit_code, result.stdout) == (0, f"decision on {speak} revoked\n")

    result = ledger_cli.run("approvals", "device", "approve", speak, "--reason", "ok", actor="head")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {speak} is a permission request, not a device request\n"
        f"Hint: use `ledger approvals permission …` for {speak}\n",
    )
    statuses = {r["id"]: (r["kind"], r["status"]) for r in ledger_cli.rows("--as", "teacher", "approvals", "list")}
    assert statuses == {device: ("device", "approved"), speak: ("speak", "revoked")}
    pending = ledger_cli.rows("--as", "head", "approvals", "list", "--pending")
    assert [(r["id"], r["blocked_by"]) for r in pending] == [(speak, "Headteacher's decision")]


def test_usage_errors_exit_2(ledger_cli: LedgerCli) -> None:
    before = ledger_cli.snapshot()
    for args in (
        ("approvals", "post", "approve", "post-12345678"),
        ("approvals", "post", "approve", "post-12345678", "--reason", "x", "--until", TODAY),
        ("approvals", "permission", "request", "gossip", "--details", "x"),
        ("approvals", "device", "confirm-deleted", "dev-12345678", "--uploaded-on", TODAY, "--photos", "-1"),
        ("approvals", "show", "post-12345678"),
    ):
        result = ledger_cli.run(*args, actor="head")
        assert result.exit_code == 2, (args, result.output)
    assert ledger_cli.snapshot() == before


def test_show_needs_a_reader_role_and_no_name_reaches_the_database_in_clear(
    sqlite_federation: Federation, sqlite_ledger_cli: LedgerCli
) -> None:
    child = people.add_subject(sqlite_federation.ledger, sqlite_federation["dsl"], "pupil", "A Pupil")
    result = sqlite_ledger_cli.run("approvals", "post", "propose", "--text", f"Well done {SENTINEL}!",
                                   "--child", child, actor="teacher")
    post = made_id(result.stdout, "post")
    result = sqlite_ledger_cli.run("approvals", "post", "reject", post, "--reason", f"{SENTINEL} is named",
                                   actor="head")
    assert result.exit_code == 0, result.output
    result = sqlite_ledger_cli.run("approvals", "show", post, "--reason", "my own post", actor="teacher")
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: teacher may not see post {post}")
    listing = sqlite_ledger_cli.run("approvals", "list", "--format", "json", actor="head").stdout
    assert SENTINEL not in listing
    result = sqlite_ledger_cli.run("approvals", "show", post, "--reason", "reviewing the rejection", actor="slt")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{post} (post): rejected"
    assert lines[1].endswith(f"teacher proposed post {post} on facebook (0 image(s), children {child}): "
                             f"Well done {SENTINEL}!")
    assert lines[2].endswith(f"Headteacher rejected on {TODAY}: {SENTINEL} is named")
    as_json = sqlite_ledger_cli.run("approvals", "show", post, "--reason", "export to the case notes",
                                    "--format", "json", actor="slt")
    shown = json.loads(as_json.stdout)
    assert (shown["id"], shown["status"]) == (post, "rejected")
    assert shown["history"][-1].endswith(f"{SENTINEL} is named")
    stored = b"".join(p.read_bytes() for p in sqlite_ledger_cli.home.glob("ledger.db*"))
    assert SENTINEL.encode() not in stored
