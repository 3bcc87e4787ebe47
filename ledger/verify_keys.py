"""``verify``'s checks of the rows that are not entries: key wraps, role key copies, evidence files.

None of these rows is signed, so each is judged against what the signed log
says it must be, with the registry replayed up to the moment that matters:

- every data key an entry names (and every import batch key) is wrapped to
  exactly the readers its record class had when the key was first used: the
  current key of each reader role and the recovery key, plus, allowed, later
  generations of those roles and the investigators assigned to the case; a
  batch-wrapped key only under its batch key. A wrap missing is a record lost
  (unless a signed erasure destroyed it); a wrap to anyone else is a leak.
- every copy of a reader role's key is held by a member, the recovery key or
  the Headteacher role's custody, sealed to that holder's registered key, and
  every member holds every generation.
- every stored evidence file is the one its signed ``EvidenceAdded`` entry
  took in (the hash of its stored bytes is a signed claim), and no file a
  signed entry names is missing unless the record was erased.

Findings name the record, the key or the table row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from ledger.registry import Registry
from ledger.roles import RECOVERY, event_name
from ledger.schema import attachments, key_wraps, role_members
from ledger.spill import Spill

if TYPE_CHECKING:
    from ledger.verify import Finding

CHUNK = 500
CUSTODY = "role:headteacher"


@dataclass
class _Pending:
    key_id: str
    leaf: int
    aggregate: str
    record_class: str
    required: dict[str, str]
    batch: bool = False


@dataclass
class KeyAudit:
    """Collects what the log says about key material while ``verify`` streams, then checks the rows."""

    conn: Connection
    registry: Registry
    add: Callable[[Finding], None]
    #: key id -> (the leaf that first used it, its record): on disk, it grows with the records.
    seen: Spill = field(default_factory=Spill)
    erasures: dict[str, int] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    batch_keys: set[str] = field(default_factory=set)
    missing: list[tuple[_Pending, list[str]]] = field(default_factory=list)
    extras: list[tuple[_Pending, str, str]] = field(default_factory=list)
    assigned: dict[str, set[str]] = field(default_factory=dict)
    evidence: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    destroyed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    keys_checked: int = 0
    #: Resumed at a saved checkpoint: only the evidence files new entries name are checked.
    partial: bool = False
    #: Bumped by ``verify`` each time the registry takes in an entry (what a key needs may change).
    generation: int = 0
    _readers: dict[str, tuple[tuple[int, int], dict[str, str]]] = field(default_factory=dict)

    def see(self, header: dict[str, Any], leaf: int, record_class: str | None = None) -> None:
        """Take in one entry (called in log order, before the registry takes it in).

        ``record_class`` is the class of the entry's record (that of its first entry):
        a key is judged by who may read the record, whatever a later header says.
        """
        name = event_name(str(header["topic"]))
        claims = header.get("claims") or {}
        aggregate = str(header["aggregate"])
        record_class = record_class or str(header["record_class"])
        key_id = str(header["data_key"])
        known = self.seen.get(key_id.encode())
        owner = known[1] if known is not None else None
        if owner is None:
            self.seen.put(key_id.encode(), (leaf, aggregate))
            self.pending.append(_Pending(key_id, leaf, aggregate, record_class, self._required(record_class, leaf)))
        elif owner != aggregate:
            self.add(_finding(f"data key {key_id} of record {owner} is also used by record {aggregate}: a key "
                              "belongs to one record (data_keys rows moved?), and erasing either would destroy "
                              "both", leaf, aggregate))
        if name == "ImportBatch.Imported" and claims.get("alert_key_id"):
            batch_key = str(claims["alert_key_id"])
            self.batch_keys.add(batch_key)
            if self.seen.get(batch_key.encode()) is None:
                self.seen.put(batch_key.encode(), (leaf, aggregate))
                self.pending.append(_Pending(batch_key, leaf, aggregate, "monitoring",
                                             self._required("monitoring", leaf), batch=True))
        elif name == "Incident.InvestigatorAssigned":
            self.assigned.setdefault(aggregate, set()).add(str(claims.get("investigator")))
        elif name == "Incident.InvestigatorUnassigned":
            self.assigned.setdefault(aggregate, set()).discard(str(claims.get("investigator")))
        elif name == "SchoolDirectory.StaffAdmitted":
            self.assigned.setdefault(aggregate, set()).add(str(claims.get("staff_id")))
        elif name == "SchoolDirectory.StaffWithdrawn":
            self.assigned.setdefault(aggregate, set()).discard(str(claims.get("staff_id")))
        elif name == "Incident.EvidenceAdded" and claims.get("attachment_id"):
            stored = claims.get("stored_sha256")
            self.evidence[str(claims["attachment_id"])] = (aggregate, str(stored) if stored else None, leaf)
        elif name == "Incident.EvidenceRemoved" and claims.get("attachment_id"):
            self.removed.add(str(claims["attachment_id"]))
        elif name == "Erasure.Recorded":
            destroyed, records = claims.get("keys_destroyed"), claims.get("records")
            if isinstance(destroyed, list) and isinstance(records, list):  # the registry names any other shape
                self.destroyed.update(str(k) for k in destroyed)
                self.erasures.update({str(r): leaf for r in records if str(r) not in self.erasures})

    def _required(self, record_class: str, leaf: int) -> dict[str, str]:
        """Recipient -> public key (hex) a key of ``record_class`` needed at ``leaf`` (the same for every
        leaf until the registry next changes). Shared between keys: never changed once made."""
        cached = self._readers.get(record_class)
        now = (self.generation, id(self.registry))
        if cached is not None and cached[0] == now:
            return cached[1]
        required = self._readers_now(record_class)
        self._readers[record_class] = (now, required)
        return required

    def _readers_now(self, record_class: str) -> dict[str, str]:
        required: dict[str, str] = {}
        recovery = self.registry.recovery_public()
        if recovery is not None:
            required[RECOVERY] = recovery.hex()
        perms = self.registry.permissions
        for role in perms.readers_of(record_class) if perms else ():
            if role in self.registry.rotation_due:
                continue  # a leaver still holds its key: it must not be wrapped to it
            epoch = self.registry.current_epoch(role)
            if epoch is not None:
                required[f"role:{role}"] = epoch.public_key
        return required

    def check_batch(self) -> None:
        """Check the wraps of the keys first seen since the last call."""
        pending, self.pending = self.pending, []
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start:start + CHUNK]
            wraps: dict[str, dict[str, str]] = {p.key_id: {} for p in chunk}
            rows = self.conn.execute(
                select(key_wraps.c.key_id, key_wraps.c.recipient, key_wraps.c.recipient_key)
                .where(key_wraps.c.key_id.in_([p.key_id for p in chunk]))
            ).all()  # fetched at once: row by row was a sizeable part of verify's main process
            for key_id, recipient, recipient_key in rows:
                wraps[str(key_id)][str(recipient)] = str(recipient_key)
            for item in chunk:
                self._judge(item, wraps[item.key_id])

    def _judge(self, item: _Pending, have: dict[str, str]) -> None:
        self.keys_checked += 1
        parents = [r for r in have if r.startswith("parent:")]
        if parents and not item.batch:
            parent = parents[0].partition(":")[2]
            if len(have) != 1 or parent not in self.batch_keys or have[parents[0]] != parent:
                self.add(_finding(f"data key {item.key_id} of record {item.aggregate} is wrapped under "
                                  f"{', '.join(sorted(have))}, not under one import batch key", item.leaf, item.aggregate))
            return
        lost = sorted(r for r, key in item.required.items() if have.get(r) != key)
        if lost:
            self.missing.append((item, lost))
        for recipient, key in sorted(have.items()):
            if item.required.get(recipient) != key:
                self.extras.append((item, recipient, key))

    def finish(self, erased_records: set[str]) -> None:
        """Resolve what needed the whole log, then check role key copies and evidence files."""
        self.check_batch()
        for item, lost in self.missing:
            if item.aggregate in erased_records or item.key_id in self.destroyed:
                continue
            self.add(_finding(
                f"data key {item.key_id} has lost its wraps for {', '.join(lost)}: those readers can no longer "
                "open the record, and no signed erasure destroyed it (key_wraps rows deleted or replaced?)",
                item.leaf, item.aggregate))
        for item, recipient, key in self.extras:
            problem = self._extra(item, recipient, key)
            if problem:
                self.add(_finding(f"data key {item.key_id} is {problem}", item.leaf, item.aggregate))
        self._erased_keys(erased_records)
        self._erasures_destroyed_their_keys()
        self._role_copies()
        self._evidence(erased_records)

    def close(self) -> None:
        """Remove the on-disk map of keys."""
        self.seen.close()

    def _extra(self, item: _Pending, recipient: str, key: str) -> str | None:
        kind, _, name = recipient.partition(":")
        perms = self.registry.permissions
        if kind == "role" and perms is not None and name in perms.readers_of(item.record_class):
            if key in {e.public_key for e in self.registry.epochs(name)}:
                return None
            return f"wrapped to a {name} key the log never published ({key[:16]}…): a key was substituted"
        if kind == "actor" and name in self.assigned.get(item.aggregate, set()):
            if key in {k.agreement_key for k in self.registry.keys_of(name)}:
                return None
            return f"wrapped for {name} to a key that is not theirs ({key[:16]}…)"
        if recipient == RECOVERY:
            return f"wrapped to a recovery key the log never published ({key[:16]}…): a key was substituted"
        return f"wrapped to {recipient}, who may not read {item.record_class} records: a leak"

    def _erased_keys(self, erased_records: set[str]) -> None:
        keys = sorted(self.destroyed)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            left = {str(k) for (k,) in self.conn.execute(
                select(key_wraps.c.key_id).where(key_wraps.c.key_id.in_(chunk)).distinct())}
            for key_id in sorted(left):
                self.add(_finding(f"data key {key_id} was destroyed by a signed erasure but is still wrapped"))

    def _erasures_destroyed_their_keys(self) -> None:
        """An erasure that names a record destroyed every key the record had by then: one that did not
        would let anyone with the database destroy the rest later, unnoticed, as "erased"."""
        if not self.erasures:
            return
        for key, (first_leaf, aggregate) in self.seen.items():
            key_id = key.decode()
            erased_at = self.erasures.get(aggregate)
            if (erased_at is not None and key_id not in self.destroyed and key_id not in self.batch_keys
                    and first_leaf < erased_at):
                self.add(_finding(f"the erasure at entry {erased_at} names record {aggregate} but does not destroy "
                                  f"its data key {key_id}", erased_at, aggregate))

    def _role_copies(self) -> None:
        registry = self.registry
        rows = self.conn.execute(
            select(role_members.c.role, role_members.c.epoch, role_members.c.holder, role_members.c.sealed_to)
        ).all()
        held: dict[tuple[str, int], dict[str, str]] = {}
        for role, epoch, holder, sealed_to in rows:
            held.setdefault((str(role), int(epoch)), {})[str(holder)] = str(sealed_to)
        recovery = registry.recovery_public()
        head_keys = {e.public_key for e in registry.epochs("headteacher")}
        for role, epochs in sorted(registry.role_keys.items()):
            members = registry.members(role)
            for epoch in epochs:
                copies = held.pop((role, epoch.epoch), {})
                where = f"role_members: the {role} key (generation {epoch.epoch})"
                if recovery is not None and copies.get(RECOVERY) != recovery.hex():
                    self.add(_finding(f"{where} is not sealed to the recovery key: the role could not be recovered"))
                for member in members:
                    current = registry.current_key(member)
                    if current is not None and copies.get(member) != current.agreement_key:
                        self.add(_finding(f"{where} is missing for {member}, who holds the role: they cannot read "
                                          f"{role} records (a Headteacher can grant the role again)"))
                for holder, sealed_to in sorted(copies.items()):
                    if holder == RECOVERY or holder in members:
                        continue
                    if holder == CUSTODY and role != "headteacher" and sealed_to in head_keys:
                        continue
                    self.add(_finding(f"{where} has a copy for {holder}, who is not a member: a leak"))
        for (role, epoch_no), copies in sorted(held.items()):
            self.add(_finding(f"role_members holds copies of a {role} key (generation {epoch_no}) that the log "
                              f"never published, for {', '.join(sorted(copies))}"))

    def _evidence(self, erased_records: set[str]) -> None:
        stored: set[str] = set()
        query = select(attachments.c.attachment_id, attachments.c.record_id, attachments.c.ciphertext)
        if self.partial:
            query = query.where(attachments.c.attachment_id.in_(sorted(self.evidence)))
        rows = self.conn.execute(query)
        for attachment_id, record_id, ciphertext in rows:
            stored.add(str(attachment_id))
            claim = self.evidence.get(str(attachment_id))
            if claim is None:
                self.add(_finding(f"stored evidence file {attachment_id} is named by no signed entry", None, str(record_id)))
                continue
            aggregate, digest, leaf = claim
            if aggregate != str(record_id):
                self.add(_finding(f"evidence file {attachment_id} is stored under another record", leaf, aggregate))
            elif digest is not None and hashlib.sha256(bytes(ciphertext)).hexdigest() != digest:
                self.add(_finding(f"evidence file {attachment_id} does not match the hash its entry signed: "
                                  "the stored file was altered", leaf, aggregate))
        for attachment_id, (aggregate, _, leaf) in sorted(self.evidence.items()):
            if attachment_id not in stored and aggregate not in erased_records and attachment_id not in self.removed:
                self.add(_finding(f"evidence file {attachment_id} is missing from the store", leaf, aggregate))


def _finding(problem: str, leaf: int | None = None, aggregate: str | None = None) -> Any:
    from ledger.verify import Finding

    return Finding(problem, leaf, aggregate)
