"""Checks that higher apps add to acceptance 受理 (R12) without projects importing them.

``subsidies`` registers, from ``SubsidiesConfig.ready``, that an insured project is not accepted
without its policy document. ``project_submit`` and ``project_accept`` run every registered check on
the locked project; a check refuses by raising a ``DomainError`` naming its rule.
"""
from __future__ import annotations

from collections.abc import Callable

_checks: list[Callable] = []


def register_acceptance_check(fn: Callable) -> Callable:
    """Add ``fn(project)`` to the checks run before a project is accepted (idempotent)."""
    if fn not in _checks:
        _checks.append(fn)
    return fn


def run_acceptance_checks(project) -> None:
    for fn in list(_checks):
        fn(project)
