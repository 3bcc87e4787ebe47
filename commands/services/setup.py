"""Creating a ledger: keys, first admin, trust file, recovery key."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

from commands.services.rolekeys import create_role_key
from ledger import checkpoint, config as configuration, crypto, files, identity, keystore, localtime, roles
from ledger.clock import Clock, iso
from ledger.config import Config
from ledger.domain.base import new_short_id, require_text
from ledger.domain.keys import PermissionTable, RecoveryKey, Settings, settings_id
from ledger.domain.people import StaffMember
from ledger.errors import AlreadyExists
from ledger.registry import DEFAULT_TIMEZONE
from ledger.roles import RECOVERY
from ledger.schema import ledger_meta
from ledger.store import Actor, Ledger


@dataclass(frozen=True)
class Created:
    """What ``init`` made and where it put it."""

    ledger_id: str
    origin: str
    admin_id: str
    trust_file: Path
    recovery_file: Path
    database: str


def _write_private(path: Path, document: dict[str, object]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")


def init_ledger(
    config: Config,
    admin_name: str,
    passphrase: str,
    recovery_passphrase: str,
    admin_id: str | None = None,
    origin: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    schools: tuple[str, ...] = (),
    clock: Clock | None = None,
) -> Created:
    """Create a new ledger; refuses when one already exists there.

    ``timezone`` (IANA name) is the zone every date and time people type or
    read is in; ``schools`` the federation's schools. Both are signed settings.
    ``clock`` is the clock the first entries take their time from (as for
    :class:`~ledger.store.Ledger`).
    """
    admin_name = require_text("admin name", admin_name, 200)
    timezone, schools = check_settings(timezone, schools)
    identity.check_passphrase(passphrase)
    identity.check_passphrase(recovery_passphrase)
    if config.ledger_key_path.exists() or config.trust_path.exists():
        raise AlreadyExists(
            f"a ledger already exists in {config.home}",
            "use that ledger, or choose another --home for a new one",
        )
    created_home = not config.home.exists()
    config.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config.home.chmod(0o700)
    config.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ledger = Ledger(config, clock)
    try:
        if ledger.is_initialised():
            raise AlreadyExists(
                f"the database {config.db_url.split('@')[-1]} already holds a ledger",
                "use that ledger, or give another --db for a new one",
            )
        return _create(ledger, config, admin_name, passphrase, recovery_passphrase, admin_id, origin,
                       timezone, schools)
    except BaseException:
        if created_home:
            shutil.rmtree(config.home, ignore_errors=True)
        raise
    finally:
        ledger.close()


def _create(
    ledger: Ledger,
    config: Config,
    admin_name: str,
    passphrase: str,
    recovery_passphrase: str,
    admin_id: str | None,
    origin: str | None,
    timezone: str,
    schools: tuple[str, ...],
) -> Created:
    ledger_id = uuid.uuid4().hex
    origin = origin or f"policy-ledger.local/{ledger_id[:12]}"
    admin_id = admin_id or new_short_id("st")
    ledger_key = crypto.new_signing_key()
    recovery = identity.generate(RECOVERY)
    admin = identity.generate(admin_id)
    ledger_public = crypto.signing_public_key(ledger_key)
    table = roles.current_table()

    ledger.create_tables()
    with ledger.engine.begin() as conn:
        conn.execute(
            insert(ledger_meta),
            [
                {"name": "ledger_id", "value": ledger_id},
                {"name": "origin", "value": origin},
                {"name": "ledger_public_key", "value": ledger_public.hex()},
                {"name": "first_admin", "value": admin_id},
                {"name": "first_admin_key", "value": admin.key_id},
                {"name": "created_at", "value": iso(ledger.now())},
            ],
        )
    written: list[Path] = []
    try:
        _write_private(config.ledger_key_path, {"origin": origin, "private_key": ledger_key.hex()})
        written.append(config.ledger_key_path)
        written.append(config.host_checkpoint_path)  # the first write keeps its checkpoint beside the key
        trust = {
            "ledger_id": ledger_id,
            "origin": origin,
            "ledger_key": checkpoint.verifier_key(origin, ledger_public),
            "ledger_public_key": ledger_public.hex(),
            "first_admin": admin_id,
            "first_admin_key": admin.key_id,
            "first_admin_public_key": admin.public.public_key.hex(),
            "recovery_key": {
                "key_id": recovery.key_id,
                "agreement_key": recovery.public.agreement_key.hex(),
                "signing_key": recovery.public.public_key.hex(),
            },
            "permission_table": {"version": table["version"], "digest": roles.table_digest(table)},
            "created_at": iso(ledger.now()),
        }
        config.trust_path.write_text(json.dumps(trust, indent=2) + "\n", encoding="utf-8")
        written.append(config.trust_path)
        written.append(identity.save(config.keys_dir, admin, passphrase))
        actor = Actor(admin_id, admin, frozenset({"admin"}), str(StaffMember.create_id(admin_id)),
                      keystore.KeyRing.for_pair(admin))
        bootstrap = (admin_id, admin.key_id, admin.public.public_key)
        with ledger.unit(actor, write=True, bootstrap=bootstrap) as work:
            work.registry.recovery_hint = recovery.public.agreement_key
            permissions = PermissionTable.propose(table, "the table every ledger starts with")
            permissions.adopt()
            work.save(permissions)
            work.save(RecoveryKey.publish(recovery.public.agreement_key, recovery.public.public_key, recovery.key_id))
            work.save(Settings.configure(timezone, list(schools)))
            create_role_key(work, "admin", "the IT manager's role, at set-up")
            member = StaffMember.register(admin_id, ["admin"], {"name": admin_name})
            member.register_key(admin.key_id, admin.public.public_key, admin.public.agreement_key)
            work.save(member)
            keystore.seal_role_key(work.conn, "admin", 1, admin_id, work.ctx.role_privates["admin"],
                                   admin.public.agreement_key)
        recovery_file = config.home / "RECOVERY-KEY.json"
        _write_private(
            recovery_file,
            {
                "what": "policy-ledger offline recovery key: move this file off the machine",
                "ledger_id": ledger_id,
                "key_id": recovery.key_id,
                "public_key": recovery.public.agreement_key.hex(),
                "signing_public_key": recovery.public.public_key.hex(),
                "locked": crypto.lock_with_passphrase(
                    recovery_passphrase, recovery.signing_key + recovery.agreement_private, ledger_id.encode()),
            },
        )
        configuration.save(config)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        with ledger.engine.begin() as conn:
            conn.execute(delete(ledger_meta))
        raise
    return Created(ledger_id, origin, admin_id, config.trust_path, recovery_file, config.db_url)


def check_settings(timezone: str, schools: tuple[str, ...] | list[str]) -> tuple[str, tuple[str, ...]]:
    """A known IANA time zone and distinct, non-empty school names; InvalidInput otherwise."""
    from ledger.errors import InvalidInput

    localtime.zone_named(timezone)
    names = tuple(require_text("school", s, 120) for s in schools)
    if len(set(n.casefold() for n in names)) != len(names):
        raise InvalidInput("a school is named twice")
    return timezone, names


def change_settings(ledger: Ledger, actor: Actor, timezone: str | None, schools: tuple[str, ...] | None,
                    reason: str) -> dict[str, Any]:
    """Change the time zone or the schools (a signed entry by the IT manager or a Headteacher)."""
    registry = ledger.registry()
    timezone, names = check_settings(timezone or registry.timezone,
                                     tuple(schools) if schools is not None else tuple(registry.schools))
    with ledger.unit(actor, write=True) as work:
        settings = work.get(Settings, settings_id(), "settings", redacted=True)
        settings.change(timezone, list(names), reason)
        work.save(settings)
    return {"timezone": timezone, "schools": list(names)}


@dataclass(frozen=True)
class RecoveryKeyFile:
    """The unlocked offline recovery key: it reads everything and signs role recoveries."""

    pair: identity.KeyPair
    keyring: keystore.KeyRing


def load_recovery_key(path: Path, passphrase: str) -> RecoveryKeyFile:
    """Unlock the offline recovery key file (for disaster recovery)."""
    from ledger.errors import AuthenticationFailed, NotFound

    try:
        document = files.read_json(path, "recovery key file", "give the path of RECOVERY-KEY.json")
    except NotFound:
        raise NotFound(f"no recovery key at {path}", "give the path of RECOVERY-KEY.json") from None
    try:
        secret = crypto.unlock_with_passphrase(passphrase, document["locked"], str(document["ledger_id"]).encode())
    except (crypto.CryptoError, KeyError, TypeError):
        raise AuthenticationFailed("wrong recovery passphrase, or not a recovery key file") from None
    pair = identity.KeyPair(RECOVERY, str(document["key_id"]), secret[:32], secret[32:])
    return RecoveryKeyFile(pair, keystore.KeyRing.for_recovery(pair.agreement_private))
