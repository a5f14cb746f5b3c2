"""The five ledger invariants of workflow.md, checked from the database."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db.models import Q, Sum

from core.money import ZERO, money

HALF_FEN = Decimal("0.005")

# Checks other apps add for the figures they keep beside the ledger (invariant 5: every balance shown
# anywhere equals the postings). escrow does not import those apps; they register here in ready().
_registered_checks: list[Callable[[], list[str]]] = []


def register_invariant_check(check: Callable[[], list[str]]) -> None:
    if check not in _registered_checks:
        _registered_checks.append(check)


def ledger_violations() -> list[str]:
    from escrow import accounts as codes
    from escrow.choices import NON_NEGATIVE_KINDS, AccountKind, OperationKind, OperationState
    from escrow.models import Account, JournalEntry, MoneyOperation, Posting

    problems: list[str] = []
    # 1. Every entry balances; the sum of all postings is zero.
    # Sums are compared at the fen: SQLite adds decimals as binary floats (PostgreSQL is exact).
    unbalanced = (Posting.objects.values("entry_id").annotate(s=Sum("amount"))
                  .filter(Q(s__gte=HALF_FEN) | Q(s__lte=-HALF_FEN)))
    for row in unbalanced:
        problems.append(f"invariant 1: entry {row['entry_id']} sums to {money(row['s'])}")
    total = money(Posting.objects.aggregate(s=Sum("amount"))["s"] or ZERO)
    if total != 0:
        problems.append(f"invariant 1: all postings sum to {total}")
    for entry in JournalEntry.objects.filter(postings__isnull=True):
        problems.append(f"invariant 1: entry {entry.pk} has no postings")
    # 2. No custody:* and no pool:available (nor pool:advanced:*) balance is negative.
    for acc in Account.objects.filter(kind__in=list(NON_NEGATIVE_KINDS), balance__lt=0):
        problems.append(f"invariant 2: {acc.code} balance {acc.balance}")
    # 3. A milestone is released or forfeited at most once.
    settled = (MoneyOperation.objects.filter(kind__in=[OperationKind.RELEASE, OperationKind.FORFEIT],
                                             state=OperationState.DONE)
               .values_list("pk", "context"))
    seen: dict = {}
    for pk, ctx in settled:
        m = ctx.get("milestone") if isinstance(ctx, dict) else None
        if m is None:
            continue
        if m in seen:
            problems.append(f"invariant 3: milestone {m} settled more than once (operations {seen[m]} and {pk})")
        seen[m] = pk
    # An operation is done exactly when it has its entry.
    for pk in MoneyOperation.objects.filter(state=OperationState.DONE, entry__isnull=True).values_list("pk", flat=True):
        problems.append(f"invariant 3: operation {pk} is done without a journal entry")
    for pk in (MoneyOperation.objects.exclude(state=OperationState.DONE).filter(entry__isnull=False)
               .values_list("pk", flat=True)):
        problems.append(f"invariant 3: operation {pk} has a journal entry but is not done")
    # 4. −funding = available + Σ advanced + losses.
    bal = {a.code: a.balance for a in Account.objects.filter(code__in=[codes.POOL_FUNDING, codes.POOL_AVAILABLE,
                                                                      codes.POOL_LOSSES])}
    advanced = money(Account.objects.filter(kind=AccountKind.POOL_ADVANCED).aggregate(s=Sum("balance"))["s"] or ZERO)
    lhs = -bal.get(codes.POOL_FUNDING, ZERO)
    rhs = bal.get(codes.POOL_AVAILABLE, ZERO) + advanced + bal.get(codes.POOL_LOSSES, ZERO)
    if lhs != rhs:
        problems.append(f"invariant 4: -funding {lhs} != available+advanced+losses {rhs}")
    # 5. Every stored balance equals the sum of its postings.
    sums = {pk: money(s) for pk, s in
            Posting.objects.values_list("account_id").annotate(s=Sum("amount")).values_list("account_id", "s")}
    for acc in Account.objects.all():
        if acc.balance != sums.get(acc.pk, ZERO):
            problems.append(f"invariant 5: {acc.code} balance {acc.balance} != postings {sums.get(acc.pk, ZERO)}")
    for check in _registered_checks:
        problems.extend(check())
    return problems


def assert_ledger_invariants() -> None:
    problems = ledger_violations()
    assert not problems, "ledger invariants violated:\n" + "\n".join(problems)
