"""The risk pool (R3, R6, I1, I2): tranches and top-ups by the pool manager."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core.money import money
from core.permissions import require

from .. import accounts as codes
from .. import permissions as perms
from ..choices import OperationKind
from ..models import PoolTranche
from .operations import operation_request

# Lets another app react when a top-up lands (register_completion_hook), e.g. waitlisted projects may now fit.
POOL_TOP_UP_PURPOSE = "pool_top_up"


def top_up_lines(amount: Decimal) -> list[tuple[str, Decimal]]:
    """A tranche or top-up's movement: the government's side pays into the pool's available balance."""
    return [(codes.POOL_FUNDING, -amount), (codes.POOL_AVAILABLE, amount)]


@transaction.atomic
def pool_top_up(*, amount: Decimal, decided_on: date, actor, idempotency_key: str,
                decision_ref: str = "", note: str = "") -> PoolTranche:
    """Record a tranche or top-up: pool:funding → pool:available."""
    require(perms.can_top_up(actor))
    existing = PoolTranche.objects.filter(operation__idempotency_key=idempotency_key).first()
    if existing:
        return existing
    amount = money(amount)
    op = operation_request(
        kind=OperationKind.TOP_UP, amount=amount, memo=_("风险池注资 %(ref)s") % {"ref": decision_ref},
        lines=top_up_lines(amount), idempotency_key=idempotency_key, ordered_by=actor, executed_by=actor,
        purpose=POOL_TOP_UP_PURPOSE, inline=True,
    )
    return PoolTranche.objects.create(amount=amount, decided_on=decided_on, decision_ref=decision_ref,
                                      note=note, operation=op, created_by=actor)
