"""One error tree: every failure a user can meet is a LedgerError with a hint."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger reports to a person.

    ``message`` says what is wrong, ``hint`` what to do about it.
    """

    exit_code = 1
    #: Shown when the raiser gives no more specific hint.
    default_hint = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message


class InvalidInput(LedgerError):
    """The input is malformed or out of range."""

    default_hint = 'correct the value and run the command again; `--help` shows what it expects'


class NotFound(LedgerError):
    """A named record, person, key or file does not exist."""

    default_hint = '`ledger people list` and the `list` command of each area show the ids that exist'


class RecordErased(NotFound):
    """The record's keys were destroyed: its content no longer exists."""


class AlreadyExists(LedgerError):
    """Something that must be unique is already there (e.g. a ledger)."""


class NotPermitted(LedgerError):
    """The acting identity's roles do not allow this."""

    default_hint = 'run it as someone whose roles allow it (`ledger people list` shows roles)'


class KeyMaterialMissing(NotPermitted):
    """A record's key wraps are gone although no signed erasure destroyed them."""

    default_hint = "the key store does not match the log: run `ledger verify` and restore key_wraps from backup"


class RuleViolation(LedgerError):
    """A policy rule forbids this step now."""

    default_hint = 'the policy step this depends on is missing or already done: the `list` and `show` commands of that area say what is outstanding'


class AuthenticationFailed(LedgerError):
    """A key could not be unlocked (wrong passphrase, damaged key file)."""

    default_hint = 'check the passphrase (LEDGER_PASSPHRASE when scripted) and the key folder (--keys)'


class ConfigurationError(LedgerError):
    """The ledger's location or settings are unusable."""

    default_hint = 'check --home, --db and --keys (or LEDGER_HOME, LEDGER_DB, LEDGER_KEYS)'


class VerificationFailed(LedgerError):
    """Stored bytes do not verify: tampering, corruption or a forged entry."""

    default_hint = 'run `ledger verify --trust trust.json` for a full report'


class StorageError(LedgerError):
    """The database refused or failed an operation."""

    default_hint = 'check that the database is reachable and not locked by another program'
