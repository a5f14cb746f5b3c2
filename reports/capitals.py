"""Amounts in Chinese capitals (大写金额), as written on payment documents.

The rules followed (中国人民银行《支付结算办法》附件《正确填写票据和结算凭证的基本规定》):
- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside a group of four, 万 and 亿 between groups;
- a run of zeros inside the number is written as one 零; zeros at the end of the
  integer part are not written; a zero group writes no 万;
- an amount that ends at 元 or 角 is closed with 整; one that ends at 分 is not;
- when 角 is zero and 分 is not, 零 is written between 元 and 分 (壹元零伍分).
"""
from __future__ import annotations

from decimal import Decimal

from core.money import money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
GROUP_UNITS = ["", "万", "亿", "万"]  # the fourth group (万亿) adds 亿 when the third is empty
MAX = Decimal("10000000000000000")  # 10^16 yuan: beyond the MoneyField's 18 digits


def _group(value: int) -> str:
    """Four digits (1–9999) with 零 for inner zero runs; trailing zeros omitted."""
    out = []
    zero_pending = False
    for pos in range(3, -1, -1):
        digit = value // 10 ** pos % 10
        if digit == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(DIGITS[digit] + UNITS[pos])
    return "".join(out)


def _integer(value: int) -> str:
    if value == 0:
        return ""
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    out = []
    need_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            if out:
                need_zero = True
            if idx == 2 and out:  # 壹万亿: the 亿 of an empty third group is still written
                out.append("亿")
            continue
        if out and (need_zero or g < 1000):
            out.append("零")
        need_zero = False
        out.append(_group(g) + GROUP_UNITS[idx])
    return "".join(out)


def amount_in_capitals(value: Decimal | int | str, *, prefix: str = "人民币") -> str:
    """``Decimal("2100000.00")`` → ``人民币贰佰壹拾万元整``."""
    amount = money(value)
    sign = ""
    if amount < 0:
        sign, amount = "负", -amount
    if amount >= MAX:
        raise ValueError("amount too large for capitals")
    fen_total = int(amount * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if fen_total == 0:
        return f"{prefix}零元整"
    parts = []
    if yuan:
        parts.append(_integer(yuan) + "元")
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    elif fen and yuan:
        parts.append("零")
    if fen:
        parts.append(DIGITS[fen] + "分")
    else:
        parts.append("整")
    return prefix + sign + "".join(parts)
