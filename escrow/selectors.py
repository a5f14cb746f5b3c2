"""Reads of the escrow app. Pages, API and reports all read figures from here."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from core.money import ZERO

from . import accounts as codes
from .choices import AccountKind
from .models import Account, MoneyOperation


@dataclass(frozen=True)
class PoolSummary:
    funding: Decimal
    available: Decimal
    advanced: Decimal
    losses: Decimal

    @property
    def utilisation(self) -> Decimal:
        """Share of the pool's funding that is advanced or lost, 0–1 (a ratio, not money)."""
        if not self.funding:
            return ZERO
        return ((self.advanced + self.losses) / self.funding).quantize(Decimal("0.0001"))


def account_balance(code: str) -> Decimal:
    return Account.objects.filter(code=code).values_list("balance", flat=True).first() or ZERO


def pool_summary() -> PoolSummary:
    rows = dict(Account.objects.filter(kind__in=[AccountKind.POOL_FUNDING, AccountKind.POOL_AVAILABLE,
                                                 AccountKind.POOL_LOSSES])
                .values_list("code", "balance"))
    advanced = (Account.objects.filter(kind=AccountKind.POOL_ADVANCED)
                .aggregate(s=Sum("balance"))["s"] or ZERO)
    return PoolSummary(funding=-(rows.get(codes.POOL_FUNDING) or ZERO),
                       available=rows.get(codes.POOL_AVAILABLE) or ZERO,
                       advanced=advanced,
                       losses=rows.get(codes.POOL_LOSSES) or ZERO)


def operations_list():
    return MoneyOperation.objects.select_related("ordered_by", "executed_by", "confirmed_by").order_by("-pk")
