"""Serializer fields of the API that read what people and programs send."""
from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from core.exceptions import DomainError
from core.money import MAX_INTEGER_DIGITS, parse_money_text


class MoneyField(serializers.DecimalField):
    """An amount sent as a string ("1200000.00", "1,200,000.00", "¥1200000"), read by ``core.money.parse_money``.

    A JSON number, "1e5", "1_000" or digits of another script are refused naming the field; a third decimal names
    I4. The schema shows a decimal string of at most MAX_INTEGER_DIGITS integer digits and two decimals.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MAX_INTEGER_DIGITS + 2)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        try:
            amount = parse_money_text(data, field=self.field_name or "amount")
        except DomainError as exc:
            # the rule travels as the error's code (the words carry none): the API's body names it as "rule"
            raise serializers.ValidationError(exc.detail, code=f"rule:{exc.rule}" if exc.rule else exc.code) from exc
        return amount
