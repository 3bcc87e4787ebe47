"""A reporter's own reports: what happened to them, without reading them.

A member of staff who reported a safeguarding concern usually may not read
it back. They may still see its status, from the signed clear headers only:
its id, category, when it was reported, whether it was triaged and to which
role, and whether it is closed. Nothing anyone wrote is shown, so no reason
is asked and nothing is recorded.
"""

from __future__ import annotations

import uuid
from typing import Any

from commands.services.readside import ensure_current
from ledger import localtime
from ledger.domain.incidents import categories as codes
from ledger.domain.incidents import Incident
from ledger.store import Actor, Ledger
from projections.records import record_rows


def reported_by(ledger: Ledger, actor: Actor) -> list[dict[str, Any]]:
    """The incidents ``actor`` reported, oldest first, with their status (clear facts only)."""
    ensure_current(ledger)
    rows = []
    with ledger.unit(actor) as work:
        zone = work.zone
        for record in record_rows(work.conn, kinds=("Incident",)):
            if record["claims"].get("reporter") != actor.actor_id:
                continue
            incident = work.get(Incident, uuid.UUID(record["aggregate"]), "incident", redacted=True)
            category = codes.CATEGORIES.get(incident.category)
            rows.append({
                "id": incident.inc_id,
                "category": incident.category,
                "title": category.title if category else incident.category,
                "reported": localtime.today(incident.created_on, zone),
                "status": incident.status,
                "escalated_to": incident.escalated_to or "",
                "last_change": localtime.today(str(record["updated_at"]), zone),
            })
    return rows
