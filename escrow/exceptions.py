from core.exceptions import DomainError


class LedgerError(DomainError):
    default_code = "ledger_error"


class InsufficientFunds(LedgerError):
    """Posting would take a custody or pool account below zero (invariant 2)."""

    default_code = "insufficient_funds"
