"""Money is CNY with two decimals (I4): Decimal, half-up at the fen, never float."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

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


_TYPED_AMOUNT = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$", re.ASCII)
# Twelve integer digits (999,999,999,999.99 CNY): far above any amount of the scheme, and ten thousand of the
# largest amounts still fit an account balance (MoneyField: 18 digits, 16 before the point) without overflow.
MAX_INTEGER_DIGITS = 12
MAX_AMOUNT = Decimal("999999999999.99")
# A Chinese input method in full-width mode types ０-９, ．and ，: read as the ASCII characters they show.
# No other script's digits (Arabic-Indic "١٠٠", superscripts) are read as an amount.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
# "300万" is 3,000,000: 万 (ten thousand) after the number, as people write amounts, and 元 (yuan) at the end.
# Only these: 亿, 千 or a 万 in the middle ("3万5千") are not read, so what is accepted means one amount.
WAN = Decimal(10000)


def parse_money(value: Decimal | int | str | None, *, field: str = "amount") -> Decimal:
    """An amount a person typed or sent: "1,200,000.00", "¥1200000", " 12.5 ", "300万", "120万元" → Decimal
    with two places (万 multiplies by 10,000, a trailing 元 is the unit).

    Unlike ``money`` it never changes what was typed: a third decimal (I4), thousands separators not in
    groups of three ("12,34", "1.000,00"), exponents, underscores, digits of other scripts than ASCII (full-width
    digits excepted) and amounts beyond MAX_INTEGER_DIGITS integer digits are refused, naming ``field`` for the
    form, rather than read as some other amount. Amounts from outside (forms, the API) come as text: see
    ``parse_money_text``.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    wan = False
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else str(value)
    elif isinstance(value, int):
        text = str(value)
    else:
        text = str(value or "").strip().translate(_FULL_WIDTH).removeprefix("¥").removeprefix("￥").strip()
        text = text.removesuffix("元").rstrip()
        wan = text.endswith("万")
        text = text.removesuffix("万").rstrip()
    shown = f"{text[:40]}万" if wan else text[:40]
    if not _TYPED_AMOUNT.match(text):
        raise _amount_error(_("金额格式不正确：%(v)s") % {"v": str(value or "")[:40] or "—"}, field, _("格式不正确"))
    amount = Decimal(text.replace(",", "")) * (WAN if wan else 1)
    if len(format(amount, "f").lstrip("+-").split(".")[0].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise _amount_error(_("金额超过上限 %(max)s：%(v)s") % {"max": f"{MAX_AMOUNT:,}", "v": shown}, field,
                            _("超过上限"))
    if not has_at_most_two_places(amount):
        raise _amount_error(_("金额最多两位小数（精确到分）：%(v)s") % {"v": shown}, field,
                            _("最多两位小数"), rule="I4")
    return amount.quantize(FEN)


def parse_money_text(value, *, field: str = "amount") -> Decimal:
    """An amount as a person or a program sent it: text only. A JSON number (already a float or an int by the time
    it is read) or any other type is refused naming ``field``, so "1e5", 1e5 and 100000 cannot mean the same."""
    if not isinstance(value, str):
        raise _amount_error(_("金额须以文本填写，例如 \"1200000.00\""), field, _("须为文本，例如 \"1200000.00\""))
    return parse_money(value, field=field)


def _amount_error(detail: str, field: str, short: str, rule: str | None = None):
    from .exceptions import DomainError

    return DomainError(detail, code="invalid_amount", rule=rule, fields={field: [short]})


def format_amount(value: Decimal | None) -> str:
    """1,200,000.00: the amount at the fen (half-up) with thousands groups, for text that says the unit."""
    if value is None:
        return "—"
    return f"{money(value):,.2f}"


def format_cny(value: Decimal | None) -> str:
    """¥1,200,000.00: how every page, document and message prints money."""
    if value is None:
        return "—"
    return f"¥{format_amount(value)}"


def format_percent(rate: Decimal | str | None) -> str:
    """A scheme ratio as a percentage, exactly: 0.3000 → 30%, 0.0750 → 7.5%."""
    if rate is None or rate == "":
        return "—"
    text = f"{Decimal(rate) * 100:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


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
