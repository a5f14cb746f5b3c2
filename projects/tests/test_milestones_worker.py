"""A real Celery worker on Redis moves milestones: deposit, balance, release and forfeiture hooks run in the worker."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from escrow import accounts as codes
from escrow.selectors import account_balance
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.tests.factories import tranche_project
from projects.tests.steps import bank_ref, fresh, report

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_state(m, state, worker, timeout: float = 25):
    deadline = time.monotonic() + timeout
    while fresh(m).state != state:
        assert time.monotonic() < deadline, (fresh(m).state, worker.log()[-3000:])
        time.sleep(0.1)
    return fresh(m)


def test_worker_moves_milestone_from_deposit_to_release_and_next_opens(demo, ledger_ok, celery_worker_process):
    w = celery_worker_process
    p = tranche_project(demo, tranches=[("900000.00", "90000.00"), ("900000.00", "90000.00")], budget="900000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    op = ms.milestone_confirm_deposit(milestone=m1, actor=demo.custodian, amount=Decimal("90000.00"),
                                      bank_ref=bank_ref())
    assert op.state == "requested" and fresh(m1).state == M.DEPOSIT_DUE  # the worker has not run yet
    wait_state(m1, M.IN_PROGRESS, w)
    report(demo, m1)
    ms.milestone_review_met(milestone=fresh(m1), actor=demo.reviewer, reason="ok")
    ms.milestone_confirm_balance(milestone=fresh(m1), actor=demo.custodian, amount=Decimal("810000.00"),
                                 bank_ref=bank_ref())
    wait_state(m1, M.RELEASABLE, w)
    ms.milestone_release(milestone=fresh(m1), actor=demo.custodian)
    m1 = wait_state(m1, M.RELEASED, w)
    assert m1.released_amount == Decimal("900000.00") and account_balance(codes.custody(p.pk, 1)) == 0
    assert fresh(m2).state == M.DEPOSIT_DUE
    assert "escrow.execute_operation" in w.log()
