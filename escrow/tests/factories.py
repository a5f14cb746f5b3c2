"""Helpers for money tests: real operations through the real services (nothing mocked)."""
from __future__ import annotations

from decimal import Decimal

from django.db import connection

from escrow import accounts as codes
from escrow.choices import OperationKind
from escrow.models import Account, MoneyOperation
from escrow.services import operation_request


def balance(code: str) -> Decimal:
    return Account.objects.filter(code=code).values_list("balance", flat=True).first() or Decimal("0.00")


def deposit(demo, *, project: int, seq: int, amount: str | Decimal, key: str | None = None) -> MoneyOperation:
    """Money received into custody:P:k from the enterprise, executed in the caller's transaction."""
    amount = Decimal(amount)
    return operation_request(
        kind=OperationKind.DEPOSIT, amount=amount, memo=f"保证金到账 {project}-{seq}",
        lines=[(codes.ext_enterprise(demo.ent1.pk), -amount), (codes.custody(project, seq), amount)],
        idempotency_key=key or f"test:deposit:{project}:{seq}:{amount}", ordered_by=demo.custodian,
        purpose="escrow_test_deposit", context={"project": project}, inline=True)


def request_release(demo, *, project: int, seq: int, amount: str | Decimal, key: str | None = None,
                    by=None, milestone: int | None = None) -> MoneyOperation:
    """A release order (custody:P:k → ext:platform:X) left for a worker to execute."""
    amount = Decimal(amount)
    return operation_request(
        kind=OperationKind.RELEASE, amount=amount, memo=f"拨付平台 {project}-{seq}",
        lines=[(codes.custody(project, seq), -amount), (codes.ext_platform(demo.plat1.pk), amount)],
        idempotency_key=key or f"test:release:{project}:{seq}", ordered_by=by or demo.custodian,
        purpose="escrow_test_release", context={"project": project, "milestone": milestone or project * 100 + seq})


def tamper(sql: str, params=()) -> None:
    """Change rows behind the application's back, as a database superuser can: on PostgreSQL with every
    trigger switched off for the statement (session_replication_role), on SQLite directly."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
