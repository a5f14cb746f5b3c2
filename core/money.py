"""Money is CNY with two decimals (I4): Decimal, half-up at the fen, never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext as _

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """Round half-up to the fen. Refuses floats: they cannot carry money exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def has_at_most_two_places(value: Decimal) -> bool:
    return Decimal(value) == Decimal(value).quantize(FEN)


def parse_money(value: Decimal | int | str | None, *, field: str = "amount") -> Decimal:
    """An amount a person typed or sent: "1,200,000.00", "¥1200000", " 12.5 " → Decimal with two places.

    Unlike ``money`` it never rounds: an amount of a bank transfer with a third decimal is a typing
    mistake, refused under I4 rather than silently changed. The error names ``field`` for the form.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    text = str(value if value is not None else "").strip().replace(",", "").replace("，", "")
    text = text.removeprefix("¥").removeprefix("￥").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise _amount_error(_("金额格式不正确：%(v)s") % {"v": str(value or "")[:40] or "—"}, field, _("格式不正确"))
    if not has_at_most_two_places(amount):
        raise _amount_error(_("I4：金额最多两位小数（精确到分）：%(v)s") % {"v": text[:40]}, field,
                            _("最多两位小数"), rule="I4")
    return amount.quantize(FEN)


def _amount_error(detail: str, field: str, short: str, rule: str | None = None):
    from .exceptions import DomainError

    return DomainError(detail, code="invalid_amount", rule=rule, fields={field: [short]})


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
