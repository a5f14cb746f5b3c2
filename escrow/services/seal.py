"""Sealing the ledger into its hash chain, and checking both chains (docs/trail.md).

Posting never waits for this: entries are written unsealed by ``ledger.post_entry``; ``ledger_seal`` (beat,
every minute; ``verify_ledger``; before the annual audit report) chains the committed ones in id order.
"""
from __future__ import annotations

from collections import defaultdict

from core import chain
from core.chain import TRAIL, Chain


def _postings(entry_ids: list[int]) -> dict[int, dict]:
    """An entry's postings as [account code, amount] pairs in account-code order."""
    from ..models import Posting

    lines: dict[int, list] = defaultdict(list)
    for entry_id, code, amount in (Posting.objects.filter(entry_id__in=entry_ids).order_by()
                                   .values_list("entry_id", "account__code", "amount")):
        lines[entry_id].append([code, chain.canonical_value(amount)])
    return {entry_id: {"postings": sorted(lines.get(entry_id, []))} for entry_id in entry_ids}


LEDGER = Chain(name="ledger", label="escrow.JournalEntry",
               fields=("id", "memo", "idempotency_key", "actor_id", "created_at", "reverses_id"),
               extra=_postings)

CHAINS = (LEDGER, TRAIL)


def ledger_seal() -> int:
    """Seal the committed, unsealed journal entries; returns how many were sealed."""
    return chain.seal(LEDGER)


def chains_seal() -> dict[str, int]:
    """Seal the ledger and the audit trail (what ``verify_ledger`` and the annual audit report do first)."""
    return {c.name: chain.seal(c) for c in CHAINS}


def chain_violations() -> list[str]:
    """The first broken row of each chain, recomputing every hash from the rows' content."""
    return [problem for c in CHAINS for problem in chain.verify(c)]


def chain_heads() -> list[tuple[str, int, str]]:
    """(chain name, seq, hash) of each chain's last sealed row."""
    return [(c.name, *chain.head(c)) for c in CHAINS]
