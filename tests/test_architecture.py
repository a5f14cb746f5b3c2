"""Dependency direction: escrow (the ledger) imports none of the apps built on it."""
from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ABOVE_ESCROW = {"projects", "subsidies", "reports", "dashboards"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_escrow_code_imports_no_app_above_it():
    root = Path(settings.BASE_DIR) / "escrow"
    offenders = {str(p.relative_to(root)): sorted(_imports(p) & ABOVE_ESCROW)
                 for p in root.rglob("*.py") if "tests" not in p.parts and _imports(p) & ABOVE_ESCROW}
    assert offenders == {}, f"escrow must not import these apps (register a hook instead): {offenders}"
