"""A real Celery worker on Redis executes a money operation end to end."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from escrow import accounts as codes
from escrow.choices import OperationState
from escrow.models import JournalEntry, MoneyOperation
from escrow.tasks import execute_operation

from .factories import balance, deposit, request_release

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def wait_for_state(pk: int, states, timeout: float = 20) -> MoneyOperation:
    deadline = time.monotonic() + timeout
    while True:
        op = MoneyOperation.objects.get(pk=pk)
        if op.state in states or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_worker_executes_release_dispatched_on_commit_and_ignores_redelivery(demo, ledger_ok, celery_worker_process):
    deposit(demo, project=21, seq=1, amount="250000.00")
    op = request_release(demo, project=21, seq=1, amount="250000.00")  # dispatched to Redis on commit

    op = wait_for_state(op.pk, {OperationState.DONE, OperationState.FAILED})
    assert op.state == OperationState.DONE, (op.state, op.failure_reason, celery_worker_process.log()[-3000:])
    assert balance(codes.custody(21, 1)) == 0
    assert balance(codes.ext_platform(demo.plat1.pk)) == Decimal("250000.00")

    entries = JournalEntry.objects.count()
    # The same message delivered again (a worker died before its ack): nothing changes.
    assert execute_operation.delay(op.pk).get(timeout=15) == OperationState.DONE
    assert JournalEntry.objects.count() == entries
    assert MoneyOperation.objects.get(pk=op.pk).attempts == 1
    assert celery_worker_process.log().count("escrow.execute_operation") >= 2  # really ran in the worker
