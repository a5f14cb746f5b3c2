"""`manage.py verify_ledger`: exit 0 on a sound ledger, non-zero naming the culprit otherwise."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import execute_from_command_line

from escrow import accounts as codes
from escrow.models import Account

from .factories import deposit

pytestmark = pytest.mark.django_db


def _run(capsys) -> tuple[int, str]:
    try:
        execute_from_command_line(["manage.py", "verify_ledger"])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out + out.err


def test_verify_ledger_sound_ledger_exits_zero(demo, capsys):
    # No ledger_ok: the command is the invariant check here, and it closes the database connection when it ends.
    deposit(demo, project=3, seq=1, amount="120000.00")
    code, output = _run(capsys)
    assert code == 0, output
    assert "ledger OK" in output


def test_verify_ledger_tampered_balance_exits_non_zero_naming_account(demo, capsys):
    deposit(demo, project=3, seq=1, amount="120000.00")
    # Tampering behind the entry point's back (invariant 5; on PostgreSQL also invariant 4 for pool rows).
    Account.objects.filter(code=codes.custody(3, 1)).update(balance=Decimal("119000.00"))
    code, output = _run(capsys)
    assert code == 1
    assert "invariant 5" in output and "custody:3:1" in output


def test_verify_ledger_pool_identity_broken_names_invariant_4(demo, capsys):
    Account.objects.filter(code=codes.POOL_AVAILABLE).update(balance=Decimal("1.00"))
    code, output = _run(capsys)
    assert code == 1
    assert "invariant 4" in output and "pool:available" in output
