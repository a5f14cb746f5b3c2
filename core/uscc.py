"""统一社会信用代码 (Unified Social Credit Code) check per GB 32100-2015.

Written by hand because python-stdnum's ``cn.uscc`` rejects valid codes that
begin with N, Y or A (see docs/decisions.md).
"""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def complete(first17: str) -> str:
    """The 18-character code: the first 17 characters and their check character."""
    return first17 + check_character(first17)


def is_valid(code: str) -> bool:
    code = normalise(code)
    if len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_character(code[:17]) == code[17]
