"""A sentinel name and sentence written through the CLI never appear in clear in storage.

Every free-text field the CLI offers gets a value containing the sentinel
tokens. Afterwards the raw bytes of the SQLite database, its WAL and journal
(read while a connection still holds the WAL open, and again after every
connection closed), every file of the ledger's home folder, and every column
of every PostgreSQL table are searched for the tokens in UTF-8, UTF-16-LE,
JSON escapes, hex and base64. The same values must come back through
``people show`` / ``incidents show`` for a role allowed to read them, so the
test fails if the data was simply never written.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, text

from tests.cli.conftest import clean_env, invoke
from tests.conftest import PASSPHRASE, RECOVERY_PASSPHRASE

NAME = "Zoë Quaxworth-Ñandú"
SENTENCE = "Zoë Quaxworth whispered the marmalade password behind the bike shed"
#: ASCII tokens in every sentinel value, searched case-insensitively.
TOKENS = ("quaxworth", "marmalade")
#: Non-ASCII parts of the name, searched as UTF-8, UTF-16-LE and JSON escapes.
ACCENTED = ("Zoë", "Ñandú")


def needles() -> list[tuple[str, bytes]]:
    """Every encoding of the sentinel that would betray it in clear."""
    found: list[tuple[str, bytes]] = []
    for token in TOKENS:
        found.append((f"{token} (ascii/utf-8)", token.encode()))
        found.append((f"{token} (utf-16-le)", token.encode("utf-16-le")))
        capital = token.capitalize().encode()
        found.append((f"{token} (hex)", token.encode().hex().encode()))
        found.append((f"{token} (hex, capitalised)", capital.hex().encode()))
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + capital)
            found.append((f"{token} (base64+{shift})", encoded[4 if shift else 0 : -4]))
    for word in ACCENTED:
        found.append((f"{word} (utf-8)", word.lower().encode()))
        found.append((f"{word} (utf-16-le)", word.lower().encode("utf-16-le")))
        found.append((f"{word} (json escape)", json.dumps(word).strip('"').lower().encode()))
    return found


NEEDLES = needles()


def leaks(where: str, data: bytes) -> list[str]:
    """Which encodings of the sentinel occur in ``data`` (case-insensitive for ASCII)."""
    lowered = data.lower()
    return [f"{where}: {what}" for what, needle in NEEDLES if needle in lowered or needle in data]


class CliFederation:
    """A ledger created and filled through the CLI only."""

    def __init__(self, home: Path, db: str | None) -> None:
        self.home = home
        self.db = db

    def run(self, *args: str, actor: str | None = None, new_passphrase: str | None = None) -> Result:
        env = clean_env(
            LEDGER_HOME=str(self.home), LEDGER_PASSPHRASE=PASSPHRASE, LEDGER_NEW_PASSPHRASE=new_passphrase,
            LEDGER_RECOVERY_PASSPHRASE=RECOVERY_PASSPHRASE,
        )
        result = invoke((["--as", actor] if actor else []) + list(args), env)
        assert result.exit_code == 0, (args, result.output)
        return result


def fill(fed: CliFederation, tmp_path: Path, after_init: Callable[[], None] | None = None) -> dict[str, str]:
    """Write the sentinel through every free-text field; returns the ids made."""
    fed.run(*(["--db", fed.db] if fed.db else []), "init", "--admin-name", f"{NAME} (IT)", "--admin-id", "it-manager")
    if after_init is not None:
        after_init()
    cast = {"head": ["headteacher", "staff"], "dsl": ["dsl", "staff"], "teacher": ["staff"],
            "poster": ["poster", "staff"]}
    for staff_id, roles in cast.items():
        fed.run("people", "add-staff", "--name", f"{NAME} {staff_id}", "--id", staff_id,
                *[a for r in roles for a in ("--role", r)], "--email", f"quaxworth.{staff_id}@school.example",
                "--school", "Quaxworth Primary", "--job-title", "Marmalade coordinator",
                actor="it-manager" if staff_id == "head" else "head", new_passphrase=PASSPHRASE)
    pupil = fed.run("people", "add-subject", "--kind", "pupil", "--name", NAME, "--dob", "2016-04-12",
                    "--school", "Quaxworth Primary", actor="dsl").stdout.strip()
    fed.run("people", "show", pupil, "--reason", f"checking {NAME}'s record: {SENTENCE}", actor="dsl")
    key = next(k["key_id"] for k in json.loads(fed.run("keys", "list", "--format", "json").stdout)
               if k["owner"] == "teacher")
    fed.run("keys", "revoke", key, "--for", "teacher", "--reason", f"{SENTENCE} (laptop lost)", actor="it-manager")
    proposed = fed.run("keys", "reset", "propose", "--for", "teacher", "--reason", f"{SENTENCE} (new laptop)",
                       actor="it-manager", new_passphrase=PASSPHRASE).stdout
    reset_id = proposed.split()[1]
    fed.run("keys", "reset", "approve", reset_id, "--for", "teacher", actor="head")
    ids = {"pupil": pupil, "head": "head"}
    ids.update(_other_workflows(fed, tmp_path, pupil))
    return ids


def _other_workflows(fed: CliFederation, tmp_path: Path, pupil: str) -> dict[str, str]:
    """Free text of the incident, approval and monitoring workflows."""
    evidence = tmp_path / "quaxworth-chat.txt"
    evidence.write_text(f"chat log: {SENTENCE}\n", encoding="utf-8")
    incident = fed.run(
        "incidents", "report", "--category", "child-on-child", "--occurred-at", "2026-03-02T12:30",
        "--source", "told", "--source-detail", f"told by {NAME}", "--summary", f"{NAME}: image shared",
        "--facts", SENTENCE, "--opinion", f"I think {NAME} is upset", "--child-words", SENTENCE,
        "--immediate-action", f"Took {NAME} to the office", "--person", f"{pupil}:victim",
        "--evidence", str(evidence), "--method", f"screenshot by {NAME}", "--device", "Quaxworth's phone",
        actor="teacher",
    ).stdout.strip()
    fed.run("incidents", "note", incident, "--text", f"DSL note: {SENTENCE}", actor="dsl")
    fed.run("incidents", "triage", incident, "--rationale", f"{NAME} at risk: {SENTENCE}", actor="dsl")
    fed.run("incidents", "action", incident, "parents-informed", "--details", f"Phoned {NAME}'s mother", actor="dsl")
    fed.run("incidents", "outcome", incident, "--finding", "upheld", "--summary", f"{NAME}: {SENTENCE}", actor="dsl")
    fed.run("incidents", "close", incident, "--summary", f"Closed; {NAME} supported", actor="dsl")
    fed.run("incidents", "reopen", incident, "--reason", f"{NAME}'s parent appealed", actor="dsl")
    fed.run("hold", "add", "--record", incident, "--reason", f"{NAME} tribunal claim", actor="head")
    post = fed.run("approvals", "post", "propose", "--text", f"Well done {NAME}! {SENTENCE}", "--child", pupil,
                   actor="poster").stdout.strip()
    fed.run("approvals", "post", "reject", post, "--reason", f"{NAME} can be identified", actor="head")
    fed.run("policy", "publish", "2026-09", "--text", f"Policy text mentioning {SENTENCE}",
            "--approved-on", "2026-06-01", "--effective-on", "2026-09-01", "--notified-on", "2026-06-02",
            "--approved-by", f"Board chaired by {NAME}", actor="head")
    alerts = tmp_path / "quaxworth-alerts.csv"
    alerts.write_text(
        "time,source_system,source_record_id,device,user,category,severity,rule,action,detail\n"
        f"2026-03-01T08:55:12Z,smoothwall,quaxworth-1,quaxworth-laptop,zoe.quaxworth,"
        f"bullying,high,marmalade rule,flagged,\"{SENTENCE}\"\n",
        encoding="utf-8",
    )
    fed.run("monitoring", "import", str(alerts), actor="it-manager")
    return {"incident": incident, "post": post}


def assert_readable_by_allowed_roles(fed: CliFederation, ids: dict[str, str]) -> None:
    """The sentinel was really written: allowed roles read it back."""
    shown = fed.run("people", "show", ids["pupil"], "--reason", "privacy test", "--format", "json", actor="dsl")
    assert json.loads(shown.stdout)[0]["name"] == NAME
    shown = fed.run("people", "show", "head", "--reason", "privacy test", "--format", "json", actor="it-manager")
    assert json.loads(shown.stdout)[0]["email"] == "quaxworth.head@school.example"
    shown = fed.run("incidents", "show", ids["incident"], "--reason", "privacy test", "--format", "json", actor="dsl")
    assert SENTENCE in json.dumps(json.loads(shown.stdout), ensure_ascii=False)
    shown = fed.run("approvals", "show", ids["post"], "--reason", "privacy test", actor="head")
    assert f"Well done {NAME}!" in shown.stdout
    alert = json.loads(fed.run("monitoring", "alerts", "list", "--format", "json", actor="dsl").stdout)[0]["id"]
    shown = fed.run("monitoring", "alerts", "show", alert, "--reason", "privacy test", "--format", "json", actor="dsl")
    assert SENTENCE in json.dumps(json.loads(shown.stdout), ensure_ascii=False)


def home_files(home: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(home.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(home)), path.read_bytes()


def open_reader(database: Path) -> sqlite3.Connection:
    """A connection that has read the database, so it holds the WAL open."""
    connection = sqlite3.connect(database)
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return connection


def test_the_sentinel_appears_nowhere_in_the_sqlite_files(tmp_path: Path) -> None:
    fed = CliFederation(tmp_path / "home", None)
    readers: list[sqlite3.Connection] = []
    try:
        # while our reader is open, closing the CLI's connections cannot checkpoint and delete the WAL
        ids = fill(fed, tmp_path, after_init=lambda: readers.append(open_reader(fed.home / "ledger.db")))
        wal = fed.home / "ledger.db-wal"
        assert wal.exists() and wal.stat().st_size > 0, "the WAL should still hold pages while a reader is open"
        # the scan sees what is in clear: the pseudonymous ids in the signed headers
        everything = b"".join(data for _, data in home_files(fed.home))
        assert ids["pupil"].encode() in everything and ids["incident"].encode() in everything
        assert [leak for name, data in home_files(fed.home) for leak in leaks(name, data)] == []
    finally:
        for reader in readers:
            reader.close()
    assert not (fed.home / "ledger.db-wal").exists()
    assert [leak for name, data in home_files(fed.home) for leak in leaks(name, data)] == []
    assert_readable_by_allowed_roles(fed, ids)


def test_the_sentinel_appears_nowhere_in_the_postgresql_tables(tmp_path: Path, pg_database: str) -> None:
    fed = CliFederation(tmp_path / "home", pg_database)
    ids = fill(fed, tmp_path)
    engine = create_engine(pg_database)
    found: list[str] = []
    scanned = 0
    try:
        with engine.connect() as conn:
            columns = conn.execute(text(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, ordinal_position"
            )).all()
            for schema, table, column, data_type in columns:
                expression = f'"{column}"' if data_type == "bytea" else f'"{column}"::text'
                for (value,) in conn.execute(text(f'SELECT {expression} FROM "{schema}"."{table}"')):
                    if value is None:
                        continue
                    data = bytes(value) if data_type == "bytea" else str(value).encode()
                    scanned += len(data)
                    found += leaks(f"{table}.{column}", data)
    finally:
        engine.dispose()
    assert {c[1] for c in columns} >= {"policyledger_events", "key_wraps", "actors"}
    assert scanned > 10_000
    assert found == []
    assert [leak for name, data in home_files(fed.home) for leak in leaks(name, data)] == []
    assert_readable_by_allowed_roles(fed, ids)
