"""Shared pieces of the adversary suite: the attacker and what verify says afterwards."""

from __future__ import annotations

import pytest

from ledger.trust import Trust
from ledger.verify import Report, verify
from tests.adversary.attacker import Attacker
from tests.conftest import Federation


@pytest.fixture
def attacker(federation: Federation) -> Attacker:
    """An attacker with the database of a fresh federation (both backends)."""
    return Attacker(federation)


def audit(fed: Federation) -> Report:
    """What an auditor's ``ledger verify --trust`` finds."""
    with fed.ledger.engine.connect() as conn:
        return verify(conn, fed.ledger.app.events_table, Trust.load(fed.ledger.config.trust_path))


def findings(fed: Federation) -> str:
    """Every finding of an audit, one per line: ``leaf|event type|problem``."""
    return "\n".join(f"{f.leaf}|{f.event_type}|{f.problem}" for f in audit(fed).findings)
