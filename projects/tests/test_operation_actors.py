"""Who ordered, who executed, who confirmed (issue 3, item 4): recorded on the operation and on its entry."""
from __future__ import annotations

from decimal import Decimal

import pytest

from escrow.models import MoneyOperation
from escrow.services import operation_confirm
from projects import milestones as ms
from projects.tests.factories import tranche_project
from projects.tests.steps import fresh, pay_balance, pay_deposit, report

pytestmark = pytest.mark.django_db(transaction=True)  # the worker executes on commit, as in production


def _releasable(demo, amount: str):
    deposit = str((Decimal(amount) / 10).quantize(Decimal("0.01")))  # D = 10 % of T (R5)
    p = tranche_project(demo, tranches=[(amount, deposit)], budget=amount)
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, m.deposit_amount)
    report(demo, m)
    ms.milestone_review_met(milestone=fresh(m), actor=demo.reviewer, reason="达到约定目标")
    pay_balance(demo, m)
    return m


def test_release_below_threshold_is_executed_by_the_ordering_custodian(demo, ledger_ok):
    m = _releasable(demo, "1000000.00")
    _m, op = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    op = MoneyOperation.objects.select_related("entry").get(pk=op.pk)
    assert op.state == "done"
    assert (op.ordered_by, op.executed_by, op.confirmed_by) == (demo.custodian, demo.custodian, None)
    assert op.entry.actor == demo.custodian  # the posting says on whose order the money moved


def test_release_above_threshold_is_executed_on_the_second_operators_confirmation(demo, ledger_ok):
    m = _releasable(demo, "1500000.00")
    _m, op = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    assert op.state == "awaiting_confirmation"
    operation_confirm(operation=op, actor=demo.custodian2)
    op = MoneyOperation.objects.select_related("entry").get(pk=op.pk)
    assert op.state == "done"
    assert (op.ordered_by, op.executed_by, op.confirmed_by) == (demo.custodian, demo.custodian2, demo.custodian2)
    assert op.entry.actor == demo.custodian2
