"""The ledger under real concurrency on PostgreSQL (issue 3, "Done when").

Threads each use their own database connection and close it at the end.
"""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from core.models import AuditEvent
from escrow import accounts as codes
from escrow.choices import OperationState
from escrow.models import JournalEntry, MoneyOperation, Posting
from escrow.services import operation_execute, post_entry
from escrow.tasks import execute_operation, sweep_operations

from .factories import balance, deposit, request_release

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("ledger_path")]

no_dispatch = mock.patch("escrow.services.operations._send")  # the broker "loses" the message


def run_threads(n: int, target) -> list:
    """Run ``target(i)`` in n threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_eight_threads_execute_same_release_exactly_one_posting_set_invariant_3(demo, ledger_ok):
    deposit(demo, project=7, seq=1, amount="300000.00")
    with no_dispatch:
        op = request_release(demo, project=7, seq=1, amount="300000.00")
    entries = JournalEntry.objects.count()

    results = run_threads(8, lambda i: operation_execute(operation_id=op.pk).state)

    assert results == [OperationState.DONE] * 8, results
    assert JournalEntry.objects.count() == entries + 1
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.DONE and op.attempts == 1
    assert Posting.objects.filter(entry=op.entry).count() == 2
    assert balance(codes.custody(7, 1)) == 0
    assert balance(codes.ext_platform(demo.plat1.pk)) == Decimal("300000.00")
    assert AuditEvent.objects.filter(object_id=str(op.pk), action="finish").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_releases_overdrawing_custody_one_done_other_failed_invariant_2(demo, ledger_ok):
    deposit(demo, project=8, seq=1, amount="100.00")
    with no_dispatch:
        first = request_release(demo, project=8, seq=1, amount="60.00", key="t:race:a")
        second = request_release(demo, project=8, seq=1, amount="60.00", key="t:race:b")
    postings = Posting.objects.count()

    run_threads(2, lambda i: operation_execute(operation_id=(first.pk, second.pk)[i]))

    ops = list(MoneyOperation.objects.filter(pk__in=[first.pk, second.pk]))
    states = sorted(o.state for o in ops)
    assert states == [OperationState.DONE, OperationState.FAILED]
    failed = next(o for o in ops if o.state == OperationState.FAILED)
    assert "托管账户·项目 8·里程碑 1余额不足" in failed.failure_reason  # the account in words
    assert failed.entry_id is None
    assert not JournalEntry.objects.filter(idempotency_key=f"op:{failed.idempotency_key}").exists()
    assert Posting.objects.count() == postings + 2
    assert balance(codes.custody(8, 1)) == Decimal("40.00")


@pytest.mark.django_db(transaction=True)
def test_accounts_locked_in_opposite_orders_do_not_deadlock(demo, ledger_ok):
    x, y = codes.custody(9, 1), codes.custody(9, 2)
    deposit(demo, project=9, seq=1, amount="1000.00")
    deposit(demo, project=9, seq=2, amount="1000.00")
    rounds = 25

    def shuffle(i):
        for r in range(rounds):
            # thread 0 moves x → y (lines listed x first), thread 1 moves y → x (y first)
            src, dst = (x, y) if i == 0 else (y, x)
            with transaction.atomic():
                post_entry(memo="对调", idempotency_key=f"t:swap:{i}:{r}",
                           lines=[(src, Decimal("-1.00")), (dst, Decimal("1.00"))])
        return "ok"

    results = run_threads(2, shuffle)
    assert results == ["ok", "ok"], results
    assert balance(x) == Decimal("1000.00") and balance(y) == Decimal("1000.00")
    assert JournalEntry.objects.filter(idempotency_key__startswith="t:swap:").count() == 2 * rounds


@pytest.mark.django_db
@pytest.mark.parametrize("sql", ["UPDATE escrow_posting SET amount = amount + 1",
                                 "DELETE FROM escrow_posting",
                                 "UPDATE escrow_journalentry SET memo = 'changed'",
                                 "DELETE FROM escrow_journalentry"])
def test_raw_sql_update_or_delete_of_ledger_rows_fails(demo, ledger_ok, sql):
    deposit(demo, project=10, seq=1, amount="10.00")
    count = Posting.objects.count()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
    assert Posting.objects.count() == count


@pytest.mark.django_db
def test_raw_sql_unbalanced_posting_fails_at_commit_invariant_1(demo, ledger_ok):
    entry = deposit(demo, project=11, seq=1, amount="10.00").entry
    account_id = entry.postings.first().account_id
    with pytest.raises(IntegrityError, match="invariant 1"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO escrow_posting (entry_id, account_id, amount) VALUES (%s, %s, 5)",
                    [entry.pk, account_id])
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does with the deferred trigger


@pytest.mark.django_db
def test_raw_sql_negative_custody_balance_fails_invariant_2(demo, ledger_ok):
    deposit(demo, project=12, seq=1, amount="10.00")
    with pytest.raises(IntegrityError, match="account_balance_not_negative"), transaction.atomic(), \
            connection.cursor() as cur:
        cur.execute("UPDATE escrow_account SET balance = -1 WHERE code = %s", [codes.custody(12, 1)])


@pytest.mark.django_db(transaction=True)
def test_redelivered_task_after_commit_changes_nothing(demo, ledger_ok):
    """A worker that dies after its commit but before the ack: the broker redelivers the message."""
    deposit(demo, project=13, seq=1, amount="500.00")
    with no_dispatch:
        op = request_release(demo, project=13, seq=1, amount="500.00")
    assert execute_operation.apply(args=[op.pk]).get() == OperationState.DONE
    snapshot = (JournalEntry.objects.count(), Posting.objects.count(), AuditEvent.objects.count(),
                balance(codes.custody(13, 1)), balance(codes.ext_platform(demo.plat1.pk)))
    finished_at = MoneyOperation.objects.get(pk=op.pk).finished_at

    assert execute_operation.apply(args=[op.pk]).get() == OperationState.DONE  # redelivery
    operation_execute(operation_id=op.pk)  # and the sweep's copy

    assert (JournalEntry.objects.count(), Posting.objects.count(), AuditEvent.objects.count(),
            balance(codes.custody(13, 1)), balance(codes.ext_platform(demo.plat1.pk))) == snapshot
    assert MoneyOperation.objects.get(pk=op.pk).finished_at == finished_at


@pytest.mark.django_db(transaction=True)
def test_worker_died_mid_execution_is_finished_by_redelivery(demo, ledger_ok):
    """Died after marking the operation executing, before posting: the next delivery completes it once."""
    deposit(demo, project=14, seq=1, amount="70.00")
    with no_dispatch:
        op = request_release(demo, project=14, seq=1, amount="70.00")
    with mock.patch("escrow.services.operations._complete", side_effect=SystemExit("worker killed")), \
            pytest.raises(SystemExit):
        operation_execute(operation_id=op.pk)
    assert MoneyOperation.objects.get(pk=op.pk).state == OperationState.EXECUTING
    assert execute_operation.apply(args=[op.pk]).get() == OperationState.DONE
    assert balance(codes.custody(14, 1)) == 0
    assert JournalEntry.objects.filter(idempotency_key=f"op:{op.idempotency_key}").count() == 1


@pytest.mark.django_db(transaction=True)
def test_lost_message_is_executed_by_sweep(demo, ledger_ok):
    deposit(demo, project=15, seq=1, amount="900.00")
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False), no_dispatch as send:
        op = request_release(demo, project=15, seq=1, amount="900.00")
    assert send.call_count == 1  # dispatched on commit, but the broker never delivered it
    fresh = None
    with no_dispatch:
        fresh = request_release(demo, project=16, seq=1, amount="1.00", key="t:fresh")  # not stuck yet
    assert MoneyOperation.objects.get(pk=op.pk).state == OperationState.REQUESTED

    assert sweep_operations.apply().get() == 1

    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.DONE
    assert op.dispatched_at > timezone.now() - timedelta(minutes=1)
    assert balance(codes.custody(15, 1)) == 0
    assert MoneyOperation.objects.get(pk=fresh.pk).state == OperationState.REQUESTED
    assert sweep_operations.apply().get() == 0  # nothing else stuck; the fresh one is not due yet


@pytest.mark.django_db(transaction=True)
def test_eight_threads_post_same_entry_key_one_entry(demo, ledger_ok):
    """Twins with one idempotency key: the lock queue lets the first post; the others get its entry back."""
    lines = [(codes.POOL_AVAILABLE, Decimal("-500.00")), (codes.pool_advanced(17), Decimal("500.00"))]
    results = run_threads(8, lambda i: post_entry(memo="垫付", idempotency_key="t:twin", lines=lines).pk)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert balance(codes.pool_advanced(17)) == Decimal("500.00")
    assert balance(codes.POOL_AVAILABLE) == Decimal("99999500.00")
