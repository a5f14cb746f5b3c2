"""post_entry and money operations on any database (SQLite in the quick run)."""
from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest

from core.exceptions import ConflictError, PermissionDeniedError
from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.exceptions import InsufficientFunds, LedgerError
from escrow.models import Account, JournalEntry, MoneyOperation, Posting
from escrow.services import operation_confirm, operation_execute, operation_request, post_entry
from escrow.services.operations import register_completion_hook

from .factories import balance, deposit, request_release

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_path")]

A = codes.custody(1, 1)
B = codes.custody(1, 2)


def _fund(demo, amount="1000.00"):
    return deposit(demo, project=1, seq=1, amount=amount)


def test_post_entry_unbalanced_is_refused_invariant_1(demo, ledger_ok):
    before = Posting.objects.count()
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:unbalanced",
                   lines=[(codes.POOL_FUNDING, Decimal("-10.00")), (codes.POOL_AVAILABLE, Decimal("9.99"))])
    assert err.value.code == "unbalanced_entry" and err.value.rule == "invariant 1"
    assert Posting.objects.count() == before
    assert not JournalEntry.objects.filter(idempotency_key="t:unbalanced").exists()


@pytest.mark.parametrize("amount", [Decimal("10.001"), "0.005", Decimal("NaN")])
def test_post_entry_more_than_two_decimals_is_refused_i4(demo, ledger_ok, amount):
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:places", lines=[(codes.POOL_FUNDING, f"-{amount}"),
                                                               (codes.POOL_AVAILABLE, amount)])
    assert err.value.code == "invalid_amount"
    assert not JournalEntry.objects.filter(idempotency_key="t:places").exists()


def test_post_entry_float_is_refused_i4(demo, ledger_ok):
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:float", lines=[(codes.POOL_FUNDING, -0.1), (codes.POOL_AVAILABLE, 0.1)])
    assert err.value.rule == "I4"


def test_post_entry_single_account_is_refused(demo, ledger_ok):
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:one", lines=[(A, Decimal("5.00")), (A, Decimal("-5.00"))])
    assert err.value.code == "invalid_entry"


def test_post_entry_unknown_account_is_refused(demo, ledger_ok):
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:unknown", lines=[("cash", Decimal("-5.00")), (A, Decimal("5.00"))])
    assert err.value.code == "unknown_account"
    assert not Account.objects.filter(code="cash").exists()


def test_post_entry_replay_returns_first_entry_and_changes_nothing(demo, ledger_ok):
    lines = [(codes.POOL_FUNDING, Decimal("-250.00")), (codes.POOL_AVAILABLE, Decimal("250.00"))]
    first = post_entry(memo="注资", idempotency_key="t:replay", lines=lines)
    postings, avail = Posting.objects.count(), balance(codes.POOL_AVAILABLE)
    again = post_entry(memo="注资", idempotency_key="t:replay", lines=list(reversed(lines)))
    assert again.pk == first.pk
    assert Posting.objects.count() == postings
    assert balance(codes.POOL_AVAILABLE) == avail


def test_post_entry_same_key_other_lines_is_refused(demo, ledger_ok):
    post_entry(memo="注资", idempotency_key="t:reuse",
               lines=[(codes.POOL_FUNDING, Decimal("-1.00")), (codes.POOL_AVAILABLE, Decimal("1.00"))])
    with pytest.raises(LedgerError) as err:
        post_entry(memo="注资", idempotency_key="t:reuse",
                   lines=[(codes.POOL_FUNDING, Decimal("-2.00")), (codes.POOL_AVAILABLE, Decimal("2.00"))])
    assert err.value.code == "idempotency_key_reused"


def test_post_entry_keeps_balances_on_account_rows(demo, ledger_ok):
    _fund(demo, "300.00")
    post_entry(memo="转", idempotency_key="t:move", lines=[(A, Decimal("-120.50")), (B, Decimal("120.50"))])
    assert balance(A) == Decimal("179.50")
    assert balance(B) == Decimal("120.50")
    acc = Account.objects.get(code=B)
    assert acc.kind == "custody" and acc.project_ref == 1


def test_post_entry_custody_below_zero_is_refused_invariant_2(demo, ledger_ok):
    _fund(demo, "100.00")
    with pytest.raises(InsufficientFunds) as err:
        post_entry(memo="超额", idempotency_key="t:over", lines=[(A, Decimal("-100.01")), (B, Decimal("100.01"))])
    assert err.value.rule == "invariant 2" and "托管账户·项目 1·里程碑 1余额不足" in err.value.detail  # in words
    assert balance(A) == Decimal("100.00")
    assert not Account.objects.filter(code=B).exclude(balance=0).exists()


def test_operation_request_unbalanced_lines_refused_before_any_row(demo, ledger_ok):
    with pytest.raises(LedgerError):
        operation_request(kind=OperationKind.DEPOSIT, amount=Decimal("5.00"), memo="x", idempotency_key="t:bad",
                          lines=[(A, Decimal("5.00")), (codes.ext_enterprise(demo.ent1.pk), Decimal("-4.00"))],
                          ordered_by=demo.custodian)
    assert not MoneyOperation.objects.filter(idempotency_key="t:bad").exists()


def test_release_ordered_by_reviewer_is_refused_separation_of_duties(demo, ledger_ok):
    _fund(demo)
    with pytest.raises(PermissionDeniedError):
        request_release(demo, project=1, seq=1, amount="10.00", by=demo.reviewer)
    assert not MoneyOperation.objects.filter(kind=OperationKind.RELEASE).exists()


def test_operation_request_same_key_other_amount_is_conflict(demo, ledger_ok, django_capture_on_commit_callbacks):
    _fund(demo)
    with django_capture_on_commit_callbacks(execute=True):
        first = request_release(demo, project=1, seq=1, amount="10.00", key="t:k")
    assert request_release(demo, project=1, seq=1, amount="10.00", key="t:k").pk == first.pk
    with pytest.raises(ConflictError) as err:
        request_release(demo, project=1, seq=1, amount="11.00", key="t:k")
    assert err.value.code == "idempotency_key_reused"


def test_release_dispatched_on_commit_executes_once(demo, ledger_ok, django_capture_on_commit_callbacks):
    _fund(demo, "500.00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        op = request_release(demo, project=1, seq=1, amount="500.00")
    assert len(callbacks) == 1
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.DONE and op.entry_id
    assert balance(A) == 0 and balance(codes.ext_platform(demo.plat1.pk)) == Decimal("500.00")
    entries = JournalEntry.objects.count()
    operation_execute(operation_id=op.pk)  # a second delivery
    assert JournalEntry.objects.count() == entries


def test_release_above_threshold_waits_for_second_operator(demo, ledger_ok, django_capture_on_commit_callbacks):
    _fund(demo, "2000000.00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        op = request_release(demo, project=1, seq=1, amount="1500000.00")
    assert callbacks == []
    assert MoneyOperation.objects.get(pk=op.pk).state == OperationState.AWAITING_CONFIRMATION
    assert operation_execute(operation_id=op.pk).state == OperationState.AWAITING_CONFIRMATION
    with pytest.raises(PermissionDeniedError) as err:
        operation_confirm(operation=op, actor=demo.custodian)
    assert err.value.code == "maker_checker"
    with pytest.raises(PermissionDeniedError):
        operation_confirm(operation=op, actor=demo.reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        operation_confirm(operation=op, actor=demo.custodian2)
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.DONE and op.confirmed_by == demo.custodian2
    assert balance(A) == Decimal("500000.00")
    with pytest.raises(ConflictError):
        operation_confirm(operation=op, actor=demo.custodian2)


def test_failed_operation_leaves_nothing_behind_and_names_rule(demo, ledger_ok, django_capture_on_commit_callbacks):
    _fund(demo, "50.00")
    postings = Posting.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        op = request_release(demo, project=1, seq=1, amount="60.00")
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.FAILED
    assert "托管账户·项目 1·里程碑 1余额不足：余额 ¥50.00，需 ¥60.00" in op.failure_reason
    assert op.entry_id is None and Posting.objects.count() == postings and balance(A) == Decimal("50.00")


def test_completion_hook_refusal_rolls_back_postings(demo, ledger_ok, django_capture_on_commit_callbacks, monkeypatch):
    from core.exceptions import DomainError
    from escrow.services import operations

    calls = []
    # The hook registry is process-wide: this test's hooks leave with it (it runs once per ledger path).
    monkeypatch.setitem(operations._done_hooks, "test_hook_refuses", [])
    monkeypatch.setitem(operations._failed_hooks, "test_hook_refuses", [])

    def refuse(op):
        calls.append(op.pk)
        raise DomainError("里程碑状态已变化", code="stale", rule="R7")

    register_completion_hook("test_hook_refuses", on_done=refuse, on_failed=lambda op: calls.append(-op.pk))
    _fund(demo, "80.00")
    postings = Posting.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        op = operation_request(kind=OperationKind.RELEASE, amount=Decimal("80.00"), memo="x",
                               lines=[(A, Decimal("-80.00")), (codes.ext_platform(demo.plat1.pk), Decimal("80.00"))],
                               idempotency_key="t:hook", ordered_by=demo.custodian, purpose="test_hook_refuses")
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.FAILED and "里程碑状态已变化" in op.failure_reason
    assert calls == [op.pk, -op.pk]
    assert Posting.objects.count() == postings and balance(A) == Decimal("80.00")


@pytest.mark.parametrize("code", ["custody:abc:1", "ext:enterprise:", "pool:advanced:x", "ext:enterprise:999999"])
def test_post_entry_malformed_or_unknown_account_refused(demo, ledger_ok, code):
    with pytest.raises(LedgerError) as err:
        post_entry(memo="x", idempotency_key="t:bad-code", lines=[(code, Decimal("-5.00")), (A, Decimal("5.00"))])
    assert err.value.code == "unknown_account"
    assert not Account.objects.filter(code=code).exists()


def test_reverse_entry_posts_opposite_entry_once(demo, ledger_ok):
    from escrow.services import reverse_entry

    wrong = post_entry(memo="误记", idempotency_key="t:wrong",
                       lines=[(codes.POOL_AVAILABLE, Decimal("-70.00")), (codes.pool_advanced(4), Decimal("70.00"))])
    fix = reverse_entry(entry=wrong, actor=demo.poolmanager, memo="冲正误记")
    assert fix.reverses == wrong
    assert reverse_entry(entry=wrong, actor=demo.poolmanager, memo="冲正误记").pk == fix.pk
    assert balance(codes.pool_advanced(4)) == 0 and balance(codes.POOL_AVAILABLE) == Decimal("100000000.00")
    assert Posting.objects.filter(entry=wrong).count() == 2  # the mistake stays in the journal


def test_sweep_picks_stuck_requested_and_executing_never_awaiting(demo, ledger_ok):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from escrow.services.operations import operations_stuck

    _fund(demo, "3000000.00")
    with time_machine.travel(timezone.now() - timedelta(minutes=20), tick=False), \
            mock.patch("escrow.services.operations._send"):
        lost = request_release(demo, project=1, seq=1, amount="10.00", key="t:lost")
        waiting = request_release(demo, project=1, seq=1, amount="2000000.00", key="t:waiting")
        half = request_release(demo, project=1, seq=1, amount="20.00", key="t:half")
        MoneyOperation.objects.filter(pk=half.pk).update(state=OperationState.EXECUTING)
    with mock.patch("escrow.services.operations._send"):
        fresh = request_release(demo, project=1, seq=1, amount="30.00", key="t:fresh")
    stuck = set(operations_stuck(older_than=timedelta(minutes=5)))
    assert stuck == {lost.pk, half.pk}
    assert waiting.pk not in stuck and fresh.pk not in stuck


def test_invariants_compare_sums_at_the_fen_sqlite_float_sums(demo, ledger_ok):
    """-0.04 + 0.01 + 0.03 is not 0 in binary floating point (SQLite's SUM); the invariants check at the fen."""
    deposit(demo, project=2, seq=1, amount="0.04")
    post_entry(memo="罚没", idempotency_key="t:fen", lines=[(codes.custody(2, 1), Decimal("-0.04")),
                                                           (codes.ext_platform(demo.plat1.pk), Decimal("0.01")),
                                                           (codes.ext_enterprise(demo.ent1.pk), Decimal("0.03"))])
    from escrow.invariants import ledger_violations

    assert ledger_violations() == []
