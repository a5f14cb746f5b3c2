"""Amounts typed by people (parse_money): accepted as written, never rounded (I4)."""
from decimal import Decimal

import pytest

from core.exceptions import DomainError
from core.money import money, parse_money


@pytest.mark.parametrize("typed, expected", [
    ("1,200,000.00", "1200000.00"), ("¥1200000", "1200000.00"), (" 12.5 ", "12.50"), ("￥3，000.1", "3000.10"),
    (Decimal("7.25"), "7.25"), (15, "15.00"), ("-3.00", "-3.00"),
])
def test_parse_money_accepts_what_people_type(typed, expected):
    assert parse_money(typed) == Decimal(expected) and str(parse_money(typed)) == expected


@pytest.mark.parametrize("typed", ["100000.005", Decimal("0.001"), "1,000.999"])
def test_parse_money_refuses_a_third_decimal_instead_of_rounding_i4(typed):
    assert money(Decimal(str(typed).replace(",", ""))) != Decimal(str(typed).replace(",", ""))  # money() would round
    with pytest.raises(DomainError) as err:
        parse_money(typed, field="repaid_amount")
    assert (err.value.code, err.value.rule) == ("invalid_amount", "I4")
    assert err.value.fields == {"repaid_amount": ["最多两位小数"]} and "I4" in err.value.detail


@pytest.mark.parametrize("typed", ["", None, "abc", "1.2.3", "NaN", "Infinity", "¥", "1e30", "1E3",
                                   # separators not in thousands groups are not read as some other amount
                                   "12,34", "1,000,00", "1.000,00", "600.000,00", ",100", "1,0000.00",
                                   Decimal("NaN"), "1_000", "١٠٠٠", "²"])
def test_parse_money_refuses_what_is_not_an_amount(typed):
    with pytest.raises(DomainError) as err:
        parse_money(typed)
    assert err.value.code == "invalid_amount" and err.value.fields == {"amount": ["格式不正确"]}


@pytest.mark.parametrize("typed", ["12345678901234567.00", Decimal("1E+17"), "1000000000000.00", "1,000,000,000,000"])
def test_parse_money_refuses_more_than_twelve_integer_digits(typed):
    """At most 999,999,999,999.99 (MAX_AMOUNT): ten thousand of them still fit an account balance's column."""
    with pytest.raises(DomainError) as err:
        parse_money(typed)
    assert err.value.code == "invalid_amount" and err.value.fields == {"amount": ["超过上限"]}
    assert parse_money("999,999,999,999.99") == Decimal("999999999999.99")


def test_parse_money_refuses_float():
    with pytest.raises(TypeError):
        parse_money(0.1)
