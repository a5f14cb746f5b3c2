"""The escrow helpers build what they name: a deposit executed into custody, a release order left waiting."""
from __future__ import annotations

from decimal import Decimal

from escrow import accounts as codes
from escrow.choices import OperationState

from .factories import balance, deposit, request_release


def test_a_deposit_is_executed_into_custody(demo, ledger_ok):
    op = deposit(demo, project=1, seq=1, amount="150000.00")
    assert op.state == OperationState.DONE
    assert balance(codes.custody(1, 1)) == Decimal("150000.00")


def test_a_release_order_waits_for_a_worker(demo, ledger_ok):
    deposit(demo, project=1, seq=1, amount="150000.00")
    op = request_release(demo, project=1, seq=1, amount="150000.00")
    assert op.state == OperationState.REQUESTED
    assert balance(codes.custody(1, 1)) == Decimal("150000.00")
