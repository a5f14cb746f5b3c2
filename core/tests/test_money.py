"""Amounts typed by people (parse_money): accepted as written, never rounded (I4)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.exceptions import DomainError
from core.money import MAX_AMOUNT, format_cny, money, parse_money


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
    assert err.value.fields == {"repaid_amount": ["最多两位小数"]} and err.value.rule == "I4"


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


@pytest.mark.parametrize("typed, expected", [
    ("300万", "3000000.00"), ("1.5万", "15000.00"), ("¥120万元", "1200000.00"), ("3,000万", "30000000.00"),
    ("0.0001万", "1.00"), ("３００万", "3000000.00"), (" 300 万 ", "3000000.00"), ("3,000,000元", "3000000.00"),
    ("¥3,000,000.00", "3000000.00"),
])
def test_parse_money_reads_wan_and_yuan_as_people_write_them(typed, expected):
    assert parse_money(typed) == Decimal(expected)


@pytest.mark.parametrize("typed", ["万", "万300", "3万5千", "3亿", "300万万", "1e3万", "300 元万", "30,0万"])
def test_parse_money_refuses_wan_where_it_would_be_ambiguous(typed):
    with pytest.raises(DomainError) as err:
        parse_money(typed)
    assert err.value.code == "invalid_amount"


def test_parse_money_refuses_a_wan_amount_finer_than_the_fen_i4_and_above_the_cap():
    with pytest.raises(DomainError) as err:
        parse_money("1.0000001万")  # 10,000.001: a tenth of a fen
    assert err.value.rule == "I4" and "1.0000001万" in err.value.detail
    with pytest.raises(DomainError) as err:
        parse_money("100000000万")  # 1,000,000,000,000: thirteen digits
    assert err.value.fields == {"amount": ["超过上限"]}


@given(st.decimals(min_value=0, max_value=Decimal("99999999.9999"), places=4))
def test_parse_money_wan_is_ten_thousand_times_the_number(number):
    assert parse_money(f"{number}万") == parse_money(str(number * 10000)) == (number * 10000).quantize(Decimal("0.01"))


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2))
def test_parse_money_reads_back_every_amount_as_the_app_prints_it(amount):
    printed = format_cny(amount)  # "¥1,234,567.89"
    assert parse_money(printed) == amount == parse_money(f"{printed}元") == parse_money(f"{amount:,}")
