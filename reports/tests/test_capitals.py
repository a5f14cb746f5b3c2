from decimal import Decimal

import pytest

from reports.capitals import amount_in_capitals


@pytest.mark.parametrize(("amount", "expected"), [
    ("2100000.00", "人民币贰佰壹拾万元整"),          # R11 worked example 3
    ("3000000.00", "人民币叁佰万元整"),
    ("0.00", "人民币零元整"),
    ("1.00", "人民币壹元整"),
    ("10.00", "人民币壹拾元整"),
    ("15.00", "人民币壹拾伍元整"),
    ("100.00", "人民币壹佰元整"),
    ("105.00", "人民币壹佰零伍元整"),
    ("1005.00", "人民币壹仟零伍元整"),
    ("1050.00", "人民币壹仟零伍拾元整"),
    ("10005.00", "人民币壹万零伍元整"),
    ("100500.00", "人民币壹拾万零伍佰元整"),
    ("105000.00", "人民币壹拾万伍仟元整"),
    ("1200000.00", "人民币壹佰贰拾万元整"),
    ("119999.99", "人民币壹拾壹万玖仟玖佰玖拾玖元玖角玖分"),
    ("120000.00", "人民币壹拾贰万元整"),
    ("100000000.00", "人民币壹亿元整"),            # I1: 1亿元
    ("100010000.00", "人民币壹亿零壹万元整"),
    ("100000001.00", "人民币壹亿零壹元整"),
    ("1000000001.00", "人民币壹拾亿零壹元整"),
    ("1000000000000.00", "人民币壹万亿元整"),
    ("1000000010000.00", "人民币壹万亿零壹万元整"),
    ("123450000000.00", "人民币壹仟贰佰叁拾肆亿伍仟万元整"),
    ("0.50", "人民币伍角整"),
    ("0.05", "人民币伍分"),
    ("0.55", "人民币伍角伍分"),
    ("1.05", "人民币壹元零伍分"),
    ("1.50", "人民币壹元伍角整"),
    ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
    ("107000.53", "人民币壹拾万柒仟元伍角叁分"),
    ("6007.14", "人民币陆仟零柒元壹角肆分"),
    ("-35.00", "人民币负叁拾伍元整"),
])
def test_amount_in_capitals_follows_the_zero_jiao_fen_and_zheng_rules(amount, expected):
    assert amount_in_capitals(Decimal(amount)) == expected


def test_amount_in_capitals_rounds_half_up_at_the_fen_I4():
    assert amount_in_capitals("0.005") == "人民币壹分"


def test_amount_in_capitals_refuses_floats_I4():
    with pytest.raises(TypeError):
        amount_in_capitals(1.5)


def test_amount_in_capitals_without_prefix():
    assert amount_in_capitals("500000", prefix="") == "伍拾万元整"
