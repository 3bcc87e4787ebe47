"""Who holds which key and role, and who may read what: replayed from signed entries only.

The :class:`Registry` is rebuilt header by header from the log. The same
code judges every entry on the write side (the mapper refuses what it would
reject, before anything is stored), in the sealer, in ``verify`` and in the
bundle builder, so all of them agree on who was allowed to sign what, and when.

What it decides, from signed headers alone:

- which keys belong to whom: a key is registered on its owner's own record,
  the first one signed by the new key itself, later ones by the owner, or by a
  **reset** that two different people sign (one proposes, another approves,
  neither of them the owner); revoked keys and leavers sign nothing more;
- who holds which role: grants follow the grant table in force, never to
  oneself, never two roles that may not go together; the first Headteacher is
  granted by the admin only while nobody has ever held the role; a role whose
  members are all gone comes back only with the offline recovery key's approval;
- which public keys may read: each reader role's key epochs and the offline
  recovery key are published by signed entries; a role whose member left or was
  removed must get a new key before anything new is wrapped to it;
- which permission table is in force (adopted at ``init``, changed only by a
  proposal from one person and an approval by a Headteacher who is someone else).

The write side keeps the replayed state in one row (``registry_state``) whose
digest is signed into every checkpoint: a row changed outside the ledger no
longer matches, and ``verify`` compares each checkpoint's digest with its own
replay.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger import canonical, crypto
from ledger.domain.base import record_id
from ledger.identity import key_id_of
from ledger.roles import CUSTODIAN, RECOVERY, ROLES, Permissions, event_name, table_digest

HEX32 = 64
#: The time zone of a federation in England, unless its settings say another.
DEFAULT_TIMEZONE = "Europe/London"


def staff_aggregate(staff_id: str) -> str:
    """The aggregate id of a member of staff's record."""
    return str(record_id("staff", staff_id))


def role_aggregate(role: str) -> str:
    """The aggregate id of a reader role's key record."""
    return str(record_id("reader-role", role))


@dataclass
class KeyFact:
    """A registered signing key (with its X25519 reading half)."""

    key_id: str
    owner: str
    public_key: str
    agreement_key: str
    registered_leaf: int
    revoked_leaf: int | None = None
    #: ``{"proposed_by", "approved_by", "leaf"}`` for a key set by a reset.
    reset: dict[str, Any] | None = None

    @property
    def public(self) -> bytes:
        """The Ed25519 public key."""
        return bytes.fromhex(self.public_key)

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_leaf is None


@dataclass
class StaffFact:
    """A member of staff as the registry knows them."""

    staff_id: str
    aggregate: str
    roles: list[str]
    active: bool = True
    keyed: bool = False
    #: Registered as never signing in (a keyless covered person): a first key only by a two-person reset.
    paper_only: bool = False


@dataclass
class RoleEpoch:
    """One generation of a reader role's X25519 key."""

    epoch: int
    public_key: str
    leaf: int
    by: str


class Denied(str):
    """A refusal about who may act (the rest are rule violations)."""


class NotAWriter(Denied):
    """The signer's roles may not write this event type under the table in force."""


def _hex_key(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != HEX32:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def _valid_settings(claims: Any) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(claims.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        return f"{claims.get('timezone')!r} is not a time zone"
    schools = claims.get("schools")
    if not isinstance(schools, list) or not all(isinstance(s, str) and s.strip() for s in schools):
        return "schools must be a list of names"
    return None


def _valid_table(table: Any) -> bool:
    if not isinstance(table, dict) or not isinstance(table.get("version"), int):
        return False
    return all(isinstance(table.get(k), dict) for k in ("writers", "readers", "grants", "exclusive"))


@dataclass
class Registry:
    """The replayed registry. ``bootstrap`` is the first admin (trust file / init)."""

    bootstrap: tuple[str, str, bytes] | None = None
    #: The recovery key's X25519 key before its publication is replayed (init, verify's trust file).
    recovery_hint: bytes | None = None
    staff: dict[str, StaffFact] = field(default_factory=dict)
    keys: dict[str, KeyFact] = field(default_factory=dict)
    resets: dict[str, dict[str, Any]] = field(default_factory=dict)
    role_keys: dict[str, list[RoleEpoch]] = field(default_factory=dict)
    recovery: dict[str, Any] | None = None
    recoveries: dict[str, int] = field(default_factory=dict)
    table: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    ever_held: set[str] = field(default_factory=set)
    rotation_due: set[str] = field(default_factory=set)
    settings: dict[str, Any] = field(default_factory=dict)
    _digest: str | None = field(default=None, repr=False)
    _permissions: Permissions | None = field(default=None, repr=False)

    # -- state --------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the registry decides from, as plain data (the digest covers it)."""
        return {
            # the paper-only flag is added only when set, so a ledger without such people keeps its digests
            "staff": {k: [v.aggregate, sorted(v.roles), v.active, v.keyed] + ([True] if v.paper_only else [])
                      for k, v in sorted(self.staff.items())},
            "keys": {k: asdict(v) for k, v in sorted(self.keys.items())},
            "resets": dict(sorted(self.resets.items())),
            "role_keys": {r: [asdict(e) for e in es] for r, es in sorted(self.role_keys.items())},
            "recovery": self.recovery,
            "recoveries": dict(sorted(self.recoveries.items())),
            "table": self.table,
            "proposal": self.proposal,
            "ever_held": sorted(self.ever_held),
            "rotation_due": sorted(self.rotation_due),
            "settings": self.settings,
        }

    def dumps(self) -> bytes:
        """The canonical bytes of the state (stored in ``registry_state``)."""
        return canonical.dumps(self.state())

    def digest(self) -> str:
        """Domain-separated SHA-256 of the state (signed into checkpoints)."""
        if self._digest is None:
            self._digest = digest_of(self.dumps())
        return self._digest

    @classmethod
    def loads(cls, data: bytes, bootstrap: tuple[str, str, bytes] | None = None) -> Registry:
        """Rebuild a registry from :meth:`dumps` bytes."""
        raw = json.loads(data.decode("utf-8"))
        reg = cls(bootstrap=bootstrap)
        reg.staff = {k: StaffFact(k, v[0], list(v[1]), bool(v[2]), bool(v[3]), len(v) > 4 and bool(v[4]))
                     for k, v in raw["staff"].items()}
        reg.keys = {k: KeyFact(**v) for k, v in raw["keys"].items()}
        reg.resets = dict(raw["resets"])
        reg.role_keys = {r: [RoleEpoch(**e) for e in es] for r, es in raw["role_keys"].items()}
        reg.recovery = raw["recovery"]
        reg.recoveries = {k: int(v) for k, v in raw["recoveries"].items()}
        reg.table = raw["table"]
        reg.proposal = raw["proposal"]
        reg.ever_held = set(raw["ever_held"])
        reg.rotation_due = set(raw["rotation_due"])
        reg.settings = dict(raw.get("settings") or {})
        return reg

    def copy(self) -> Registry:
        """An independent copy (a unit works on one and keeps it only if it commits)."""
        return copy.deepcopy(self)

    # -- questions ------------------------------------------------------------------------

    @property
    def permissions(self) -> Permissions | None:
        """The permission table in force, if one was adopted."""
        if self.table is None:
            return None
        if self._permissions is None or self._permissions.table is not self.table:
            self._permissions = Permissions(self.table)
        return self._permissions

    def roles_of(self, actor: str) -> frozenset[str]:
        """Roles ``actor`` holds now (the recovery key holds the pseudo-role ``recovery``)."""
        if actor == RECOVERY:
            return frozenset({RECOVERY})
        fact = self.staff.get(actor)
        if fact is not None:
            return frozenset(fact.roles)
        if self.bootstrap is not None and actor == self.bootstrap[0]:
            return frozenset({"admin"})
        return frozenset()

    @property
    def timezone(self) -> str:
        """The federation's time zone (IANA name) as its signed settings say."""
        return str(self.settings.get("timezone") or DEFAULT_TIMEZONE)

    @property
    def schools(self) -> list[str]:
        """The federation's schools, as its signed settings say."""
        return list(self.settings.get("schools") or [])

    def current_key(self, actor: str) -> KeyFact | None:
        """The actor's newest active key."""
        active = [k for k in self.keys.values() if k.owner == actor and k.active]
        return max(active, key=lambda k: k.registered_leaf) if active else None

    def keys_of(self, actor: str) -> list[KeyFact]:
        """Every key ever registered to ``actor``, oldest first."""
        return sorted((k for k in self.keys.values() if k.owner == actor), key=lambda k: k.registered_leaf)

    def epochs(self, role: str) -> list[RoleEpoch]:
        """Every key epoch of reader role ``role``, oldest first."""
        return list(self.role_keys.get(role, []))

    def current_epoch(self, role: str) -> RoleEpoch | None:
        """The key new records of ``role``'s classes are wrapped to."""
        epochs = self.role_keys.get(role)
        return epochs[-1] if epochs else None

    def members(self, role: str) -> list[str]:
        """Active members of ``role``."""
        return sorted(s.staff_id for s in self.staff.values() if s.active and role in s.roles)

    #: The signer name the offline recovery key acts under.
    recovery_actor = RECOVERY

    def recovery_signing_public(self) -> bytes | None:
        """The offline recovery key's Ed25519 public key, once published."""
        return bytes.fromhex(self.recovery["signing_key"]) if self.recovery else None

    def recovery_public(self) -> bytes | None:
        """The offline recovery key's X25519 public key (the hint until it is published)."""
        return bytes.fromhex(self.recovery["agreement_key"]) if self.recovery else self.recovery_hint

    def staff_of_aggregate(self, aggregate: str) -> StaffFact | None:
        """The member of staff whose record ``aggregate`` is."""
        for fact in self.staff.values():
            if fact.aggregate == aggregate:
                return fact
        return None

    # -- judging an entry --------------------------------------------------------------------

    def signing_key(self, header: dict[str, Any]) -> tuple[bytes | None, str | None]:
        """(public key that must have signed ``header``, problem) before any rule is applied."""
        actor, key_id = str(header.get("actor")), str(header.get("actor_key"))
        if actor == RECOVERY:
            if self.recovery is None or key_id != self.recovery["key_id"]:
                return None, Denied(f"signed as the recovery key by unknown key {key_id}")
            return bytes.fromhex(self.recovery["signing_key"]), None
        fact = self.keys.get(key_id)
        if fact is None:
            claims = header.get("claims") or {}
            name = event_name(str(header.get("topic")))
            first = self.staff.get(actor)
            if (name == "StaffMember.KeyRegistered" and claims.get("key_id") == key_id
                    and _hex_key(claims.get("public_key")) and first is not None and not first.keyed):
                return bytes.fromhex(claims["public_key"]), None  # a first key signs its own registration
            if self.bootstrap is not None and (actor, key_id) == self.bootstrap[:2]:
                staff = self.staff.get(actor)
                if staff is None or not staff.keyed:
                    return self.bootstrap[2], None
            return None, Denied(f"signed by unregistered key {key_id}")
        if fact.owner != actor:
            return None, Denied(f"key {key_id} belongs to {fact.owner}, not to {actor}")
        if fact.revoked_leaf is not None:
            return None, Denied(f"signed by key {key_id}, revoked at entry {fact.revoked_leaf}")
        return fact.public, None

    def check(self, header: dict[str, Any], leaf: int) -> str | None:
        """Why ``header`` may not be appended at ``leaf`` now, or None when it may.

        Signatures are the caller's (see :meth:`signing_key`); this judges the
        signer's standing, the permission table in force and the registry rules.
        """
        try:
            return self._check(header, leaf)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return f"malformed registry claims ({type(exc).__name__}: {exc})"

    def _check(self, header: dict[str, Any], leaf: int) -> str | None:
        _, problem = self.signing_key(header)
        if problem:
            return problem
        actor = str(header["actor"])
        name = event_name(str(header["topic"]))
        claims = header.get("claims") or {}
        staff = self.staff.get(actor)
        if staff is not None and not staff.active:
            return Denied(f"signed by {actor} after they left")
        if actor != RECOVERY and staff is None and not self._is_bootstrap(actor):
            return Denied(f"{actor} is not a registered member of staff")
        perms = self.permissions
        if perms is None:
            if name == "PermissionTable.Proposed" and self._is_bootstrap(actor):
                return self._check_table(claims)
            if name == "PermissionTable.Adopted" and self._is_bootstrap(actor) and self.proposal is not None:
                same = claims.get("digest") == self.proposal["digest"]
                return self._check_table(claims) if same else "adopts a table nobody proposed"
            return "no permission table is in force yet: the ledger must first adopt one"
        held = self.roles_of(actor)
        is_self = staff is not None and staff.aggregate == header["aggregate"]
        if not perms.may_write(held, name, is_self):
            shown = ", ".join(sorted(held)) or "none"
            return NotAWriter(f"{actor} (roles: {shown}) may not write {name}")
        rule = getattr(self, "_rule_" + name.replace(".", "_"), None)
        return rule(header, claims, actor, held, leaf) if rule else None

    def admit(self, header: dict[str, Any], leaf: int) -> str | None:
        """:meth:`check`, then :meth:`apply` when it passes."""
        problem = self.check(header, leaf)
        if problem is None:
            self.apply(header, leaf)
        return problem

    def _is_bootstrap(self, actor: str) -> bool:
        if self.bootstrap is None or actor != self.bootstrap[0]:
            return False
        staff = self.staff.get(actor)
        return staff is None or not staff.keyed

    def _record_staff(self, header: dict[str, Any], claimed: Any) -> str | None:
        """Problem unless the entry is on the record of the member of staff it names."""
        fact = self.staff.get(str(claimed))
        if fact is None:
            return f"names {claimed}, who is not a registered member of staff"
        if fact.aggregate != header["aggregate"]:
            return Denied(f"names {claimed} but is written on another record")
        return None

    def _may_grant(self, actor: str, held: frozenset[str], role: str, target: str) -> str | None:
        perms = self.permissions
        assert perms is not None
        if role not in ROLES:
            return f"unknown role {role}"
        if target == actor and not self._is_bootstrap(actor):
            return Denied(f"{actor} may not grant a role to themselves")
        if set(held) & set(perms.granters_of(role)):
            return None
        if role == "headteacher" and "admin" in held and "headteacher" not in self.ever_held:
            return None  # the federation's set-up: the first Headteacher
        if self._is_bootstrap(actor) and target == actor and role in ("admin", "staff"):
            return None
        if f"{role}:{target}" in self.recoveries and "admin" in held:
            return None
        allowed = ", ".join(perms.granters_of(role)) or "nobody"
        return Denied(f"{actor} (roles: {', '.join(sorted(held))}) may not grant {role}: only {allowed} may")

    def _conflict(self, roles: set[str], role: str) -> str | None:
        perms = self.permissions
        assert perms is not None
        bad = perms.conflicts(roles - {role}, role)
        return f"{role} may not be held together with {', '.join(bad)}" if bad else None

    def _fresh_key(self, claims: dict[str, Any]) -> str | None:
        key_id = claims.get("key_id")
        if not _hex_key(claims.get("public_key")) or not _hex_key(claims.get("agreement_key")):
            return "key claims are not 32-byte hex keys"
        if key_id != key_id_of(bytes.fromhex(claims["public_key"])):
            return f"key id {key_id} does not match its public key"
        if key_id in self.keys or any(r["key_id"] == key_id for r in self.resets.values()):
            return f"key {key_id} is already known"
        return None

    # -- rules per event type (called by _check with the signer's standing checked) ----------------

    def _check_table(self, claims: dict[str, Any]) -> str | None:
        table = claims.get("table")
        if not isinstance(table, dict) or not _valid_table(table):
            return "the permission table is malformed"
        if claims.get("digest") != table_digest(table):
            return "the permission table does not match its digest"
        if self.table is not None and table["version"] <= self.table["version"]:
            return f"table version {table['version']} is not newer than {self.table['version']} in force"
        return None

    def _rule_PermissionTable_Proposed(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        return self._check_table(claims)

    def _rule_PermissionTable_Adopted(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        if self.proposal is None or claims.get("digest") != self.proposal["digest"]:
            return "adopts a permission table nobody proposed"
        if "headteacher" not in held:
            return Denied("only a Headteacher approves a new permission table")
        if actor == self.proposal["by"]:
            return Denied("the permission table was proposed and approved by the same person")
        return self._check_table(claims)

    def _rule_RecoveryKey_Published(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        if self.recovery is not None:
            return "the recovery key was already published"
        if not (_hex_key(claims.get("agreement_key")) and _hex_key(claims.get("signing_key"))):
            return "recovery key claims are not 32-byte hex keys"
        if claims.get("key_id") != key_id_of(bytes.fromhex(claims["signing_key"])):
            return "recovery key id does not match its signing key"
        return None

    def _rule_RecoveryKey_RoleRecoveryApproved(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        role, target = claims.get("role"), claims.get("staff_id")
        if role not in ROLES:
            return f"unknown role {role}"
        fact = self.staff.get(str(target))
        if fact is None or not fact.active:
            return f"{target} is not a current member of staff"
        return None

    def _rule_ReaderRole_KeyCreated(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        return self._rule_ReaderRole_KeyRotated(header, claims, actor, held, leaf)

    def _rule_ReaderRole_KeyRotated(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        role = claims.get("role")
        perms = self.permissions
        assert perms is not None
        if not any(role in perms.readers_of(c) for c in perms.table["readers"]):
            return f"{role} is not a reader role"
        if header["aggregate"] != role_aggregate(str(role)):
            return f"a key of {role} is published on another record"
        if claims.get("epoch") != len(self.role_keys.get(role, [])) + 1:
            return f"epoch {claims.get('epoch')} of {role} is out of sequence"
        if not _hex_key(claims.get("public_key")):
            return "the role key is not a 32-byte hex key"
        if role in held or "headteacher" in held:
            return None
        if "admin" in held and (role == "admin" or (role == "headteacher" and "headteacher" not in self.role_keys)):
            return None  # the admin's own role key; the first Headteacher key, made at set-up
        return Denied(f"{actor} may not publish a {role} key: only a member of {role} or a Headteacher may")

    def _rule_Settings_Configured(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        if self.settings:
            return "the federation's settings were already made: change them instead"
        return _valid_settings(claims)

    def _rule_Settings_Changed(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        return _valid_settings(claims)

    def _reads(self, held: Any, record_class: str) -> bool:
        perms = self.permissions
        return perms is not None and bool(set(held) & set(perms.readers_of(record_class)))

    def _rule_Erasure_Recorded(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        for name in ("records", "keys_destroyed"):
            value = claims.get(name)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                return "an erasure names its records and keys as lists of ids"
        erased = str(claims.get("erased_class") or "")
        if str(claims.get("basis", "")).startswith("rule:") or self._reads(held, erased):
            return None
        return Denied(f"{actor} may not erase a {erased} record on a ground of their own: only those who may "
                      "read it may (retention rules erase it when they fall due)")

    def _rule_RetentionRule_Set(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        target = str(claims.get("target_class") or "")
        if self._reads(held, target):
            return None
        return Denied(f"{actor} may not set how long {target} records are kept: only those who may read them may")

    def _rule_RetentionRule_Changed(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        if header["aggregate"] != str(record_id("retention-rule", str(claims.get("target_class")))):
            return Denied(f"changes the rule of {claims.get('target_class')} on another class's record")
        return self._rule_RetentionRule_Set(header, claims, actor, held, leaf)

    def _rule_StaffMember_Registered(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        staff_id = str(claims.get("staff_id"))
        if header["aggregate"] != staff_aggregate(staff_id):
            return f"registers {staff_id} on another record"
        if staff_id in self.staff:
            return f"{staff_id} is already registered"
        roles = claims.get("roles")
        if not isinstance(roles, list) or not roles:
            return "a member of staff needs at least one role"
        for role in roles:
            problem = self._may_grant(actor, held, str(role), staff_id) or self._conflict(set(roles), str(role))
            if problem:
                return problem
        return None

    def _rule_StaffMember_KeyRegistered(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("owner")) or self._fresh_key(claims)
        if problem:
            return problem
        owner = self.staff[str(claims["owner"])]
        if actor != owner.staff_id:
            return Denied(f"{actor} may not register a key for {owner.staff_id}: that needs a two-person reset")
        if not owner.keyed and header["actor_key"] != claims["key_id"]:
            return "a first key must sign its own registration"
        if not owner.keyed and owner.paper_only:
            return Denied(f"{owner.staff_id} was registered as never signing in: their first key needs a "
                          "two-person reset")
        return None

    def _rule_StaffMember_KeyResetProposed(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("owner")) or self._fresh_key(claims)
        if problem:
            return problem
        if actor == claims["owner"]:
            return "nobody proposes a reset of their own key: rotate it instead"
        if not isinstance(claims.get("reset_id"), str) or claims["reset_id"] in self.resets:
            return "the reset id is missing or already used"
        return None

    def _rule_StaffMember_KeyResetApproved(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        proposal = self.resets.get(str(claims.get("reset_id")))
        if proposal is None or proposal.get("approved_leaf") is not None:
            return f"approves reset {claims.get('reset_id')}, which is not pending"
        if proposal["owner"] != claims.get("owner") or proposal["key_id"] != claims.get("key_id"):
            return "the approval does not match the proposed reset"
        problem = self._record_staff(header, claims.get("owner"))
        if problem:
            return problem
        if actor == proposal["owner"]:
            return Denied("nobody approves a reset of their own key")
        if actor == proposal["proposed_by"]:
            return Denied(f"{actor} proposed this reset and may not approve it too: a second person must")
        signer = self.keys.get(str(header["actor_key"]))
        if signer is not None and signer.reset and signer.reset["proposed_by"] == proposal["proposed_by"]:
            return Denied(f"{actor} approves with a key {proposal['proposed_by']} set by a reset, and "
                          f"{proposal['proposed_by']} proposed this reset too: {actor} rotates to a key only they "
                          "know first")
        return None

    def _rule_StaffMember_KeyRevoked(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("owner"))
        if problem:
            return problem
        fact = self.keys.get(str(claims.get("key_id")))
        if fact is None or fact.owner != claims["owner"]:
            return f"{claims.get('key_id')} is not a key of {claims['owner']}"
        if not fact.active:
            return f"{fact.key_id} is already revoked"
        return None

    def _rule_StaffMember_RoleGranted(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("staff_id"))
        if problem:
            return problem
        target = self.staff[str(claims["staff_id"])]
        role = str(claims.get("role"))
        if not target.active:
            return f"{target.staff_id} has left"
        if role in target.roles:
            return f"{target.staff_id} already holds {role}"
        return self._may_grant(actor, held, role, target.staff_id) or self._conflict(set(target.roles) | {role}, role)

    def _holder_of(self, header: Any, claims: Any) -> str | None:
        """Problem unless the entry names, on their own record, someone who holds its role."""
        problem = self._record_staff(header, claims.get("staff_id"))
        if problem:
            return problem
        role = str(claims.get("role"))
        if role not in self.staff[str(claims["staff_id"])].roles:
            return f"{claims['staff_id']} does not hold {role}"
        return None

    def _manages(self, held: Any, role: str, members_too: bool = False) -> bool:
        """Whether ``held`` may take away (or, with ``members_too``, restore keys of) ``role``."""
        perms = self.permissions
        assert perms is not None
        return "headteacher" in held or bool(set(held) & set(perms.granters_of(role))) or (members_too and role in held)

    def _rule_StaffMember_RoleRemoved(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._holder_of(header, claims)
        if problem or self._manages(held, str(claims["role"])):
            return problem
        return Denied(f"{actor} may not remove {claims['role']}: only those who may grant it, or a Headteacher")

    def _rule_StaffMember_RoleKeysRestored(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._holder_of(header, claims)
        if problem or self._manages(held, str(claims["role"]), members_too=True):
            return problem
        return Denied(f"{actor} may not restore {claims['role']} keys: only its members, its granters or a Headteacher")

    def _rule_StaffMember_EmploymentEnded(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("staff_id"))
        if problem:
            return problem
        leaver = self.staff[str(claims["staff_id"])]
        for role in self.replaced_when_gone(leaver.roles):
            if not self._may_rotate(held, role):
                return (f"{actor} may not record that {leaver.staff_id} left: the {role} reader key must be "
                        f"replaced, and only a member of {role} or a Headteacher may make that key")
        return None

    def replaced_when_gone(self, roles: Any) -> list[str]:
        """The reader roles whose key must be replaced when someone holding ``roles`` loses them.

        Each reader role they held; and, for a Headteacher, every reader role,
        since the Headteacher role keeps every other role's key in custody. The
        Headteacher's comes first: the others' new keys go into its new custody.
        """
        lost = set(self.role_keys) if CUSTODIAN in roles else set(roles)
        return sorted(lost & set(self.role_keys), key=lambda role: (role != CUSTODIAN, role))

    @staticmethod
    def _may_rotate(held: Any, role: str) -> bool:
        """Whether someone holding ``held`` may make ``role``'s next key (so may read what it reads)."""
        return role in held or "headteacher" in held or (role == "admin" and "admin" in held)

    # -- entries outside the registry whose claims decide who reads, or what verify accepts -----------

    def _case_readers(self, header: Any, held: Any, actor: str) -> tuple[set[str], str | None]:
        """(reader roles of the case's class, problem unless ``actor`` is one of them or a Headteacher)."""
        perms = self.permissions
        assert perms is not None
        record_class = str(header.get("record_class"))
        readers = set(perms.readers_of(record_class))
        if not set(held) & (readers | {"headteacher"}):
            return readers, Denied(f"{actor} may not assign investigators to {record_class} records: "
                                   "only those who read them may")
        return readers, None

    def _rule_StaffMember_WorkerTypeRecorded(self, header: Any, claims: Any, actor: str, held: Any,
                                             leaf: int) -> str | None:
        problem = self._record_staff(header, claims.get("staff_id"))
        if problem is None and claims.get("signs_in") is False and self.staff[str(claims["staff_id"])].keyed:
            return f"says {claims['staff_id']} does not sign in, but they hold a signing key"
        return problem

    def _rule_PolicyAcknowledgement_AssistedRecorded(self, header: Any, claims: Any, actor: str, held: Any,
                                                     leaf: int) -> str | None:
        person = self.staff.get(str(claims.get("staff_id")))
        if person is None:
            return f"acknowledges for {claims.get('staff_id')}, who is not a registered member of staff"
        if person.staff_id == actor or claims.get("entered_by") != actor:
            return Denied(f"{actor} entered an assisted acknowledgement that is not theirs to enter")
        if person.keyed:
            return Denied(f"{person.staff_id} signs in with their own key: they acknowledge for themselves")
        return None

    def _rule_MonitoringAuthorisation_Granted(self, header: Any, claims: Any, actor: str, held: Any,
                                              leaf: int) -> str | None:
        if claims.get("person") == actor or claims.get("authorised_by") != actor:
            return Denied(f"{actor} may not authorise a review of their own use of the systems")
        return None

    def _rule_Incident_InvestigatorAssigned(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        if "record_class" not in header:
            return None  # the write side asks again once the record's class is in the header
        readers, problem = self._case_readers(header, held, actor)
        if problem:
            return problem
        who = self.staff.get(str(claims.get("investigator")))
        if who is None or not who.active:
            return f"{claims.get('investigator')} is not a current member of staff"
        if not set(who.roles) & (readers | {"investigator"}):
            return (f"{who.staff_id} holds none of the roles that may investigate "
                    f"{header.get('record_class')} records")
        return None

    def _rule_Incident_InvestigatorUnassigned(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        return self._case_readers(header, held, actor)[1] if "record_class" in header else None

    def _rule_SchoolDirectory_StaffAdmitted(self, header: Any, claims: Any, actor: str, held: Any, leaf: int) -> str | None:
        """A directory's data keys are wrapped to whom it admits: only a current member of staff."""
        who = self.staff.get(str(claims.get("staff_id")))
        if who is None or not who.active:
            return f"{claims.get('staff_id')} is not a current member of staff"
        return None

    # -- applying an entry ---------------------------------------------------------------

    def apply(self, header: dict[str, Any], leaf: int) -> bool:
        """Take in one admitted header's registry change; True if the state changed."""
        name = event_name(str(header["topic"]))
        claims = header.get("claims") or {}
        actor = str(header["actor"])
        change = getattr(self, "_apply_" + name.replace(".", "_"), None)
        if change is None:
            return False
        change(claims, actor, leaf)
        self._digest = None
        return True

    def _apply_PermissionTable_Proposed(self, claims: Any, actor: str, leaf: int) -> None:
        self.proposal = {"digest": claims["digest"], "table": claims["table"], "by": actor, "leaf": leaf}

    def _apply_PermissionTable_Adopted(self, claims: Any, actor: str, leaf: int) -> None:
        self.table = claims["table"]
        self.proposal = None

    def _apply_RecoveryKey_Published(self, claims: Any, actor: str, leaf: int) -> None:
        self.recovery = {k: claims[k] for k in ("agreement_key", "signing_key", "key_id")} | {"leaf": leaf}

    def _apply_RecoveryKey_RoleRecoveryApproved(self, claims: Any, actor: str, leaf: int) -> None:
        self.recoveries[f"{claims['role']}:{claims['staff_id']}"] = leaf

    def _apply_ReaderRole_KeyCreated(self, claims: Any, actor: str, leaf: int) -> None:
        self._apply_ReaderRole_KeyRotated(claims, actor, leaf)

    def _apply_ReaderRole_KeyRotated(self, claims: Any, actor: str, leaf: int) -> None:
        role = str(claims["role"])
        self.role_keys.setdefault(role, []).append(RoleEpoch(int(claims["epoch"]), claims["public_key"], leaf, actor))
        self.rotation_due.discard(role)

    def _apply_Settings_Configured(self, claims: Any, actor: str, leaf: int) -> None:
        self.settings = {"timezone": str(claims["timezone"]), "schools": list(claims.get("schools") or [])}

    def _apply_Settings_Changed(self, claims: Any, actor: str, leaf: int) -> None:
        self._apply_Settings_Configured(claims, actor, leaf)

    def _apply_StaffMember_Registered(self, claims: Any, actor: str, leaf: int) -> None:
        staff_id = str(claims["staff_id"])
        roles = sorted(set(claims["roles"]))
        self.staff[staff_id] = StaffFact(staff_id, staff_aggregate(staff_id), roles)
        for role in roles:
            self._granted(role, staff_id)

    def _apply_StaffMember_KeyRegistered(self, claims: Any, actor: str, leaf: int) -> None:
        owner = str(claims["owner"])
        self.keys[claims["key_id"]] = KeyFact(claims["key_id"], owner, claims["public_key"], claims["agreement_key"], leaf)
        self.staff[owner].keyed = True

    def _apply_StaffMember_KeyResetProposed(self, claims: Any, actor: str, leaf: int) -> None:
        self.resets[claims["reset_id"]] = {
            "owner": claims["owner"], "key_id": claims["key_id"], "public_key": claims["public_key"],
            "agreement_key": claims["agreement_key"], "proposed_by": actor, "leaf": leaf, "approved_leaf": None,
        }

    def _apply_StaffMember_KeyResetApproved(self, claims: Any, actor: str, leaf: int) -> None:
        proposal = self.resets[claims["reset_id"]]
        proposal["approved_leaf"] = leaf
        owner = str(proposal["owner"])
        self.keys[proposal["key_id"]] = KeyFact(
            proposal["key_id"], owner, proposal["public_key"], proposal["agreement_key"], leaf,
            reset={"proposed_by": proposal["proposed_by"], "approved_by": actor, "leaf": leaf},
        )
        self.staff[owner].keyed = True
        self.staff[owner].paper_only = False

    def _apply_StaffMember_WorkerTypeRecorded(self, claims: Any, actor: str, leaf: int) -> None:
        self.staff[str(claims["staff_id"])].paper_only = claims.get("signs_in") is False

    def _apply_StaffMember_KeyRevoked(self, claims: Any, actor: str, leaf: int) -> None:
        self.keys[claims["key_id"]].revoked_leaf = leaf

    def _apply_StaffMember_RoleGranted(self, claims: Any, actor: str, leaf: int) -> None:
        self._granted(str(claims["role"]), str(claims["staff_id"]))

    def _granted(self, role: str, staff_id: str) -> None:
        fact = self.staff[staff_id]
        fact.roles = sorted(set(fact.roles) | {role})
        self.ever_held.add(role)
        self.recoveries.pop(f"{role}:{staff_id}", None)

    def _apply_StaffMember_RoleRemoved(self, claims: Any, actor: str, leaf: int) -> None:
        role = str(claims["role"])
        fact = self.staff[str(claims["staff_id"])]
        fact.roles = [r for r in fact.roles if r != role]
        self.rotation_due.update(self.replaced_when_gone([role]))

    def _apply_StaffMember_EmploymentEnded(self, claims: Any, actor: str, leaf: int) -> None:
        fact = self.staff[str(claims["staff_id"])]
        fact.active = False
        self.rotation_due.update(self.replaced_when_gone(fact.roles))


def role_change(header: dict[str, Any]) -> tuple[str, str, list[str]] | None:
    """What a header changes in who holds which role: (staff id, change, roles).

    ``change`` is ``registered`` (their roles), ``granted`` or ``removed`` (one
    role) or ``left``. For read models that show the roles someone held at the
    time; they index entries ``verify`` has judged.
    """
    name = event_name(str(header.get("topic")))
    claims = header.get("claims") or {}
    if name == "StaffMember.Registered":
        return str(claims["staff_id"]), "registered", sorted(claims["roles"])
    if name == "StaffMember.RoleGranted":
        return str(claims["staff_id"]), "granted", [str(claims["role"])]
    if name == "StaffMember.RoleRemoved":
        return str(claims["staff_id"]), "removed", [str(claims["role"])]
    if name == "StaffMember.EmploymentEnded":
        return str(claims["staff_id"]), "left", []
    return None


def digest_of(state_bytes: bytes) -> str:
    """The registry digest of stored state bytes."""
    return crypto.tagged_hash("registry/v1", state_bytes).hex()


def is_registry_event(topic: str) -> bool:
    """Whether entries of ``topic`` can change the registry."""
    return hasattr(Registry, "_apply_" + event_name(topic).replace(".", "_"))


def parse_uuid(value: str) -> uuid.UUID:
    """A UUID from its string form (helper for callers holding header aggregates)."""
    return uuid.UUID(value)
