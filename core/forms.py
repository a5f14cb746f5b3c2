"""Form fields shared by the apps' forms."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.money import parse_money_text

# What an amount field accepts, said beside it (the parser reads all of these; 万 is ten thousand).
MONEY_HELP = _("可填 3,000,000、¥3,000,000.00 或 300万（元，最多两位小数）")


class MoneyFormField(forms.CharField):
    """An amount typed into a page ("3,000,000", "¥3000000", "300万", full-width digits), read by
    ``core.money.parse_money``; its help text says what it accepts.

    "1e5", "1_000", digits of other scripts and more than MAX_INTEGER_DIGITS integer digits are refused with the
    parser's message; ``min_value`` keeps the DecimalField's meaning.
    """

    def __init__(self, *, min_value: Decimal | int | None = None, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        kwargs.setdefault("help_text", MONEY_HELP)
        super().__init__(**kwargs)
        if min_value is not None:
            self.validators.append(validators.MinValueValidator(Decimal(min_value)))

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_money_text(text)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail, code=exc.code) from exc

    def prepare_value(self, value):
        return format(value, "f") if isinstance(value, Decimal) else value
