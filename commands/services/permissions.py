"""The permission table in force, and changing it with two people.

Which roles may write, read and grant what is a signed, versioned entry. A
new version (this software's table, when it differs) is proposed by the IT
manager and takes effect only when a Headteacher, someone else, adopts it.
"""

from __future__ import annotations

from typing import Any

from ledger import roles
from ledger.domain.base import require_text
from ledger.domain.keys import PermissionTable, permission_table_id
from ledger.errors import NotFound, RuleViolation
from ledger.store import Actor, Ledger


def status(ledger: Ledger) -> dict[str, Any]:
    """The table in force, any proposal waiting, and whether this software's table differs."""
    registry = ledger.registry()
    in_force = registry.table or {}
    code = roles.current_table()
    proposal = registry.proposal
    return {
        "in_force": {"version": in_force.get("version"), "digest": roles.table_digest(in_force) if in_force else ""},
        "proposed": ({"version": proposal["table"]["version"], "digest": proposal["digest"], "by": proposal["by"]}
                     if proposal else None),
        "this_software": {"version": code["version"], "digest": roles.table_digest(code)},
        "differs": bool(in_force) and roles.table_digest(in_force) != roles.table_digest(code),
    }


def rows(ledger: Ledger) -> list[dict[str, Any]]:
    """The table in force as rows: each event type and who may write it."""
    registry = ledger.registry()
    table = registry.table or {}
    return [{"event": event, "writers": ", ".join(writers)} for event, writers in sorted(table.get("writers", {}).items())]


def propose(ledger: Ledger, actor: Actor, reason: str) -> int:
    """Propose this software's table as the next version; returns its version."""
    reason = require_text("reason", reason, 2000)
    table = roles.current_table()
    registry = ledger.registry()
    if registry.table and roles.table_digest(registry.table) == roles.table_digest(table):
        raise RuleViolation("this software's permission table is already in force", "nothing to propose")
    with ledger.unit(actor, write=True) as work:
        work.save(PermissionTable.propose(table, reason))
    return int(table["version"])


def adopt(ledger: Ledger, actor: Actor, version: int, digest: str | None = None) -> None:
    """Adopt a proposed table (a Headteacher who did not propose it).

    A version number alone adopts only the table this software shows
    (`ledger permissions status`); any other table is adopted only by naming its
    digest, so the second person approves the table they were shown, not
    whatever the proposer put under that number.
    """
    with ledger.unit(actor, write=True) as work:
        record_id = permission_table_id(version)
        if not work.exists(record_id):
            raise NotFound(f"no permission table version {version} was proposed", "`ledger permissions status`")
        table = work.get(PermissionTable, record_id, "permission table", redacted=True)
        ours = roles.table_digest(roles.current_table())
        if digest is None and table.digest != ours:
            raise RuleViolation(
                f"permission table version {version} (digest {table.digest[:16]}…) is not the table this software "
                f"shows (digest {ours[:16]}…)",
                "compare `ledger permissions status` with the proposer; adopt another table only by giving its "
                "full digest (--digest)",
            )
        if digest is not None and table.digest != digest:
            raise RuleViolation(f"permission table version {version} has digest {table.digest}, not {digest}",
                                "nothing was adopted: check the digest you were shown")
        table.adopt()
        work.save(table)
