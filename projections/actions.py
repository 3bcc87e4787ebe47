"""Actions and referrals on incidents: who owns what, due when, done or not.

Built from the clear headers of the incident action entries (kind, owner, due
date, day done, cancellation) and the incident's school: no key is needed, so
the inbox, the registers and the governors' report read it directly. What an
action says (its details) stays in the encrypted body.
"""

from __future__ import annotations

from typing import Any

import json

from sqlalchemy import Column, Connection, Index, String, Table, delete, insert, select, update

from projections.base import Entry, Projection, metadata
from projections.records import records

actions = Table(
    "proj_actions",
    metadata,
    Column("action_id", String(40), primary_key=True),
    Column("incident", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_on", String(10), nullable=True),
    Column("taken_on", String(10), nullable=True),
    Column("recorded_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_proj_actions_owner", "owner", "status"),
    Index("ix_proj_actions_incident", "incident"),
    Index("ix_proj_actions_kind", "kind", "taken_on"),
)

PLANNED, RECORDED, DONE, CANCELLED = (
    "Incident.ActionPlanned", "Incident.ActionRecorded", "Incident.ActionDone", "Incident.ActionCancelled",
)


class ActionsProjection(Projection):
    """One row per action on an incident, with its current status."""

    name = "actions"
    description = "every action and referral on an incident: kind, owner, due, status"
    tables = (actions,)

    def __init__(self) -> None:
        self._new: dict[str, dict[str, Any]] = {}
        self._changes: dict[str, dict[str, Any]] = {}

    def begin(self, conn: Connection, batch: list[Entry]) -> None:
        self._new, self._changes = {}, {}

    def process(self, conn: Connection, entry: Entry) -> None:
        name, claims = entry.event_type, entry.claims
        action_id = str(claims.get("action_id") or "")
        if name not in (PLANNED, RECORDED, DONE, CANCELLED) or not action_id:
            return
        if name in (PLANNED, RECORDED):
            self._new[action_id] = {
                "action_id": action_id, "incident": entry.aggregate, "kind": str(claims.get("action")),
                "owner": str(claims.get("owner") or entry.header["actor"]),
                "status": "open" if name == PLANNED else "done",
                "due_on": claims.get("due_on"), "taken_on": claims.get("taken_on"),
                "recorded_at": entry.recorded_at, "updated_at": entry.recorded_at,
            }
            return
        change: dict[str, Any] = {"status": "done" if name == DONE else "cancelled", "updated_at": entry.recorded_at}
        if name == DONE:
            change["taken_on"] = claims.get("taken_on")
        if action_id in self._new:
            self._new[action_id].update(change)
        else:
            self._changes.setdefault(action_id, {}).update(change)

    def end(self, conn: Connection) -> None:
        if self._new:
            conn.execute(insert(actions), list(self._new.values()))
        for action_id, change in self._changes.items():
            conn.execute(update(actions).where(actions.c.action_id == action_id).values(**change))
        self._new, self._changes = {}, {}

    def erase(self, conn: Connection, record_ids: list[str], erasure: Entry) -> None:
        """An erased incident takes its actions with it."""
        self.end(conn)
        conn.execute(delete(actions).where(actions.c.incident.in_(record_ids)))


def action_rows(conn: Connection, owner: str | None = None, status: str | None = None,
                incidents: list[str] | None = None) -> list[dict[str, Any]]:
    """Actions joined with their incident's short id, category and school (clear facts)."""
    query = select(actions, records.c.alias, records.c.category, records.c.claims).select_from(
        actions.outerjoin(records, records.c.aggregate == actions.c.incident))
    if owner is not None:
        query = query.where(actions.c.owner == owner)
    if status is not None:
        query = query.where(actions.c.status == status)
    if incidents is not None:
        query = query.where(actions.c.incident.in_(incidents))
    rows = []
    for row in conn.execute(query.order_by(actions.c.due_on, actions.c.recorded_at, actions.c.action_id)):
        data = dict(row._mapping)
        claims = json.loads(data.pop("claims")) if data.get("claims") else {}
        data["school"] = claims.get("school")
        rows.append(data)
    return rows

