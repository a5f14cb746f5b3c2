"""Reads of the escrow app. Pages, API and reports all read figures from here.

Scoping (who may see what): oversight roles (reviewer, auditor, custodian,
pool manager, finance) see the whole ledger; enterprise and platform staff
see only their organisation's own accounts, the custody (and, for the
platform, pool-advance) accounts of their projects, the entries touching
those accounts and the operations of their projects; everybody else sees
nothing. Another organisation's object is simply not found (404).

The reads live by subject in the modules of this package (``pool``, ``scoping``, ``statements``, ``flows``);
import them from here.
"""
from __future__ import annotations

from .flows import (
    RECEIPT_KINDS,
    Flows,
    custody_accounts,
    custody_flows,
    custody_project_ids,
    ledger_mark,
    platform_receipts,
    pool_moves,
    project_postings,
)
from .pool import (
    CLOSE_AFTER,
    POOL_KINDS,
    PoolPoint,
    PoolSummary,
    account_balance,
    pool_days,
    pool_history,
    pool_recent,
    pool_summary,
    pool_tranches,
)
from .review import Evidence, Move, moves, operation_evidence, operation_summary, register_operation_evidence
from .scoping import (
    PartyProjects,
    account_names,
    accounts_visible_to,
    can_see_pool,
    desk_queues,
    entries_visible_to,
    operations_list,
    operations_visible_to,
    register_party_projects,
)
from .statements import (
    CUSTODY_IN,
    CUSTODY_OUT,
    Statement,
    StatementRow,
    account_statement,
    custody_operations,
    reconciliation,
    statements_list,
)

__all__ = [
    "Evidence",
    "Move",
    "moves",
    "operation_evidence",
    "operation_summary",
    "register_operation_evidence",
    "CLOSE_AFTER",
    "CUSTODY_IN",
    "CUSTODY_OUT",
    "Flows",
    "POOL_KINDS",
    "PartyProjects",
    "PoolPoint",
    "PoolSummary",
    "RECEIPT_KINDS",
    "Statement",
    "StatementRow",
    "account_balance",
    "account_names",
    "account_statement",
    "accounts_visible_to",
    "can_see_pool",
    "custody_accounts",
    "custody_flows",
    "custody_operations",
    "custody_project_ids",
    "ledger_mark",
    "desk_queues",
    "entries_visible_to",
    "operations_list",
    "operations_visible_to",
    "platform_receipts",
    "pool_days",
    "pool_history",
    "pool_moves",
    "pool_recent",
    "pool_summary",
    "pool_tranches",
    "project_postings",
    "reconciliation",
    "register_party_projects",
    "statements_list",
]
