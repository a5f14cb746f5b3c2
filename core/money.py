"""Money is CNY with two decimals (I4): Decimal, half-up at the fen, never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """Round half-up to the fen. Refuses floats: they cannot carry money exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def has_at_most_two_places(value: Decimal) -> bool:
    return Decimal(value) == Decimal(value).quantize(FEN)


def format_cny(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"¥{money(value):,.2f}"


class MoneyField(models.DecimalField):
    """Decimal(18,2): up to 9,999,999,999,999,999.99 CNY."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs
