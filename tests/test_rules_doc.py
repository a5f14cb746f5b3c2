"""docs/rules.md maps every rule id of the domain to its code and tests: it cannot fall behind silently.

Fails when a rule id (R1–R20, I1–I18) has no row, when a named test file or test function does not
exist, or when a named ``module.py:function`` does not define that function.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
IDS = [f"R{n}" for n in range(1, 21)] + [f"I{n}" for n in range(1, 19)]
TEST_REF = re.compile(r"`([\w/]+\.py)::(\w+)`")
CODE_REF = re.compile(r"`([\w/]+\.py):([\w.]+)`")


def _rows() -> list[list[str]]:
    rows = []
    for line in RULES.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith("| id ") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        rows.append(cells)
    return rows


def _defines(path: Path, name: str) -> bool:
    text = path.read_text(encoding="utf-8")
    return re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", text, re.MULTILINE) is not None


def test_every_rule_id_has_a_row_with_code_and_tests():
    rows = _rows()
    first = {row[0].split()[0] for row in rows}
    assert not [i for i in IDS if i not in first], "rule ids without a row in docs/rules.md"
    for row in rows:
        assert len(row) == 4, f"row {row[0]} must have 4 cells: id, rule, enforced in, tests"
        assert row[1] and row[2], f"row {row[0]} must state the rule and where it is enforced (or why not)"
        assert TEST_REF.search(row[3]) or row[3].lower().startswith("no test"), f"row {row[0]} names no test"


def test_named_tests_exist():
    missing = []
    for row in _rows():
        for path, name in TEST_REF.findall(row[3]):
            file = ROOT / path
            if not file.is_file() or not _defines(file, name):
                missing.append(f"{row[0]}: {path}::{name}")
    assert not missing, "docs/rules.md names tests that do not exist:\n" + "\n".join(missing)


def test_named_code_exists():
    missing = []
    for row in _rows():
        for path, dotted in CODE_REF.findall(row[2]):
            file = ROOT / path
            if not file.is_file() or not all(_defines(file, part) for part in dotted.split(".")):
                missing.append(f"{row[0]}: {path}:{dotted}")
    assert not missing, "docs/rules.md names code that does not exist:\n" + "\n".join(missing)
