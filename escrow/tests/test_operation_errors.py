"""An unexpected error while executing an operation: recorded, retried a bounded number of times, then a
person is told (the money does not move until it succeeds)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Notification
from escrow.choices import OperationState
from escrow.models import MoneyOperation, Posting
from escrow.services import operation_execute, operation_redispatch
from escrow.services.operations import operations_stuck, register_completion_hook

from .factories import balance, deposit, request_release

pytestmark = pytest.mark.django_db

BROKEN = {"on": True}


def _crashing_hook(op):
    if BROKEN["on"]:
        raise KeyError("milestone")  # a bug, not a domain refusal


register_completion_hook("escrow_test_crash", on_done=_crashing_hook)


def _order(demo, amount="40.00"):
    from escrow import accounts as codes
    from escrow.choices import OperationKind
    from escrow.services import operation_request

    amount = Decimal(amount)
    with mock.patch("escrow.services.operations._send"):  # no worker: the test delivers it
        return operation_request(
            kind=OperationKind.RELEASE, amount=amount, memo="拨付平台（钩子出错）",
            lines=[(codes.custody(1, 1), -amount), (codes.ext_platform(demo.plat1.pk), amount)],
            idempotency_key="t:crash", ordered_by=demo.custodian, purpose="escrow_test_crash",
            context={"project": 1, "milestone": 101})


def test_hook_error_is_recorded_bounded_and_reported_to_custodians(demo, ledger_ok, settings, client):
    from escrow import accounts as codes

    settings.ANXINBAO_OPERATION_MAX_ATTEMPTS = 3
    BROKEN["on"] = True
    deposit(demo, project=1, seq=1, amount="100.00")
    postings = Posting.objects.count()
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        op = _order(demo)  # dispatched half an hour ago
    for attempt in (1, 2, 3):
        with pytest.raises(KeyError):
            operation_execute(operation_id=op.pk)
        op = MoneyOperation.objects.get(pk=op.pk)
        # Nothing posted, still executing, the error on the row: no money moved on a half-run hook.
        assert (op.state, op.attempts, op.execution_errors) == (OperationState.EXECUTING, 1, attempt)
        assert f"第 {attempt} 次执行出错" in op.failure_reason and "KeyError" in op.failure_reason
        assert Posting.objects.count() == postings and balance(codes.custody(1, 1)) == Decimal("100.00")
        # Until the last attempt the sweep sends it again; after it, it is left for a person.
        assert (op.pk in operations_stuck(older_than=timedelta(minutes=5))) == (attempt < 3)

    errors = AuditEvent.objects.filter(object_id=str(op.pk), action="execution_error")
    assert errors.count() == 3
    alerts = Notification.objects.filter(verb="operation_stuck")
    assert {n.user.username for n in alerts} == {"custodian", "custodian2"}  # once each, at the last attempt
    assert f"#{op.pk}" in alerts.first().text

    # The desk shows why it is stuck and that the sweep has stopped.
    client.force_login(demo.custodian)
    page = client.get(reverse("escrow:desk")).content.decode()
    assert "KeyError" in page and "定时巡检不再自动重发" in page

    # Fixed: a custodian redispatches it from the desk and it executes once.
    BROKEN["on"] = False
    with mock.patch("escrow.services.operations._send"):  # the test delivers it itself
        operation_redispatch(operation=op, actor=demo.custodian)
    op = operation_execute(operation_id=op.pk)
    assert op.state == OperationState.DONE and op.execution_errors == 3
    assert op.failure_reason == ""  # the errors stay in the audit trail, not on a done operation
    from escrow.api.serializers import OperationSerializer

    assert OperationSerializer(op).data["execution_errors"] == 3
    assert balance(codes.custody(1, 1)) == Decimal("60.00")
    assert Notification.objects.filter(verb="operation_stuck").count() == 2  # no new alert


def test_connection_error_is_left_to_celery_retry_not_counted_as_a_bug(demo, ledger_ok):
    from django.db import OperationalError

    deposit(demo, project=1, seq=1, amount="100.00")
    op = request_release(demo, project=1, seq=1, amount="10.00", key="t:conn")
    with mock.patch("escrow.services.operations._complete", side_effect=OperationalError("server closed")), \
            pytest.raises(OperationalError):
        operation_execute(operation_id=op.pk)
    op = MoneyOperation.objects.get(pk=op.pk)
    assert op.state == OperationState.EXECUTING and op.failure_reason == ""
    assert not AuditEvent.objects.filter(object_id=str(op.pk), action="execution_error").exists()
    assert operation_execute(operation_id=op.pk).state == OperationState.DONE
    assert MoneyOperation.objects.get(pk=op.pk).execution_errors == 0


@pytest.mark.django_db(transaction=True)
def test_error_record_commits_on_its_own_as_in_a_worker(demo, ledger_ok):
    """A worker calls operation_execute with no transaction around it: the error record is committed by its
    own transaction (the row lock it takes needs one), while the failed posting is rolled back."""
    BROKEN["on"] = True
    deposit(demo, project=1, seq=1, amount="100.00")
    op = _order(demo)
    with pytest.raises(KeyError):
        operation_execute(operation_id=op.pk)
    op = MoneyOperation.objects.get(pk=op.pk)
    assert (op.state, op.execution_errors) == (OperationState.EXECUTING, 1) and "KeyError" in op.failure_reason
    assert AuditEvent.objects.filter(object_id=str(op.pk), action="execution_error").count() == 1
    assert not Posting.objects.filter(entry__operation=op).exists()
