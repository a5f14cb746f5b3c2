"""An account's statement with its running balance, and the reconciliation of the bank's statements."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum
from django.utils.translation import pgettext

from core.money import ZERO, money

from ..choices import OperationKind, OperationState
from ..models import Account, BankStatement, BankStatementLine, MoneyOperation, Posting


# -- account statements -------------------------------------------------------
@dataclass(frozen=True)
class StatementRow:
    entry_id: int
    at: datetime
    memo: str
    amount: Decimal
    balance: Decimal
    operation_id: int | None
    operation_kind: str
    counterparts: str


@dataclass(frozen=True)
class Statement:
    account: Account
    start: date | None
    end: date | None
    opening: Decimal
    rows: list[StatementRow]
    closing: Decimal


def account_statement(account: Account, *, start: date | None = None, end: date | None = None) -> Statement:
    """The account's postings in [start, end] with the running balance, from the postings themselves."""
    postings = Posting.objects.filter(account=account)
    opening = ZERO
    if start is not None:
        opening = money(postings.filter(entry__created_at__date__lt=start).aggregate(s=Sum("amount"))["s"] or ZERO)
        postings = postings.filter(entry__created_at__date__gte=start)
    if end is not None:
        postings = postings.filter(entry__created_at__date__lte=end)
    postings = (postings.select_related("entry", "entry__operation")
                .prefetch_related(Prefetch("entry__postings", queryset=Posting.objects.select_related("account")))
                .order_by("entry_id", "pk"))
    running = opening
    rows = []
    for p in postings:
        running += p.amount
        op = getattr(p.entry, "operation", None)
        others = pgettext("标点", "、").join(q.account.code for q in p.entry.postings.all() if q.account_id != account.pk)
        rows.append(StatementRow(entry_id=p.entry_id, at=p.entry.created_at, memo=p.entry.memo, amount=p.amount,
                                 balance=running, operation_id=op.pk if op else None,
                                 operation_kind=op.get_kind_display() if op else "", counterparts=others))
    return Statement(account=account, start=start, end=end, opening=opening, rows=rows, closing=running)


# -- reconciliation -----------------------------------------------------------
CUSTODY_IN = (OperationKind.DEPOSIT, OperationKind.BALANCE)
CUSTODY_OUT = (OperationKind.RELEASE, OperationKind.FORFEIT, OperationKind.REFUND)


def custody_operations() -> QuerySet[MoneyOperation]:
    """Operations that move money through the Anxinbao account (done ones are expected on the statement)."""
    return MoneyOperation.objects.filter(kind__in=[*CUSTODY_IN, *CUSTODY_OUT], state=OperationState.DONE)


def reconciliation(statement: BankStatement) -> dict:
    lines = list(statement.lines.select_related("operation").order_by("line_no"))
    matched = [ln for ln in lines if ln.operation_id]
    unmatched_lines = [ln for ln in lines if not ln.operation_id]
    ops = custody_operations().select_related("ordered_by").order_by("finished_at", "pk")
    if statement.period_start:
        ops = ops.filter(finished_at__date__gte=statement.period_start)
    if statement.period_end:
        ops = ops.filter(finished_at__date__lte=statement.period_end)
    unmatched_ops = list(ops.exclude(pk__in=BankStatementLine.objects.filter(operation__isnull=False)
                                     .values("operation_id")))
    return {"statement": statement, "matched": matched, "unmatched_lines": unmatched_lines,
            "unmatched_operations": unmatched_ops}


def statements_list() -> QuerySet[BankStatement]:
    return BankStatement.objects.select_related("uploaded_by").order_by("-uploaded_at", "-pk")
