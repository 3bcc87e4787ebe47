"""Incidents under the policy, split by what each part decides.

- ``categories``: the kinds of incident the policy names, who owns each, the
  findings, actions and parts a person can play;
- ``rules``: what several steps share (people linked, dates, optional text);
- ``incident``: the ``Incident`` aggregate, from report to close.
"""

from ledger.domain.incidents.incident import Incident, incident_record_id
from ledger.domain.incidents.rules import Person

__all__ = ["Incident", "Person", "incident_record_id"]
