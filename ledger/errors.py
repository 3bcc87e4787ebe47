"""One error tree: every failure a user can meet is a LedgerError with a hint."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger reports to a person.

    ``message`` says what is wrong, ``hint`` what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InvalidInput(LedgerError):
    """The input is malformed or out of range."""


class NotFound(LedgerError):
    """A named record, person, key or file does not exist."""


class RecordErased(NotFound):
    """The record's keys were destroyed: its content no longer exists."""


class AlreadyExists(LedgerError):
    """Something that must be unique is already there (e.g. a ledger)."""


class NotPermitted(LedgerError):
    """The acting identity's roles do not allow this."""


class RuleViolation(LedgerError):
    """A policy rule forbids this step now."""


class AuthenticationFailed(LedgerError):
    """A key could not be unlocked (wrong passphrase, damaged key file)."""


class ConfigurationError(LedgerError):
    """The ledger's location or settings are unusable."""


class VerificationFailed(LedgerError):
    """Stored bytes do not verify: tampering, corruption or a forged entry."""


class StorageError(LedgerError):
    """The database refused or failed an operation."""
