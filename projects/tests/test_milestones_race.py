"""Release and forfeiture racing on one milestone (PostgreSQL, real threads): one wins, the other 409."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import AuditEvent
from escrow import accounts as codes
from escrow.models import JournalEntry, MoneyOperation, Posting
from escrow.selectors import account_balance
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.tests.factories import tranche_project
from projects.tests.steps import fresh, pay_deposit, race, releasable_milestone, report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _releasable(demo, amount="800000.00"):
    m = releasable_milestone(demo, amount)
    assert m.state == M.RELEASABLE
    return m.project, m


def _snapshot():
    return (JournalEntry.objects.count(), Posting.objects.count(), MoneyOperation.objects.count())


@pytest.mark.parametrize("rounds", range(3))
def test_release_racing_late_not_met_and_forfeit_one_wins_other_409(demo, ledger_ok, rounds):
    p, m = _releasable(demo)
    before = _snapshot()

    def late_not_met_then_forfeit():
        ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason="迟到的未达标认定")
        return ms.milestone_forfeit(milestone=fresh(m), actor=demo.custodian2)

    results = race(lambda: ms.milestone_release(milestone=m, actor=demo.custodian), late_not_met_then_forfeit)
    kinds = sorted(r[0] for r in results)
    assert kinds == ["error", "ok"], results
    err = next(r[1] for r in results if r[0] == "error")
    assert err.status_code == 409
    m = fresh(m)
    assert m.state == M.RELEASED and m.forfeited_amount == 0 and m.refunded_amount == 0
    assert _snapshot() == (before[0] + 1, before[1] + 2, before[2] + 1)  # one release entry, nothing else
    assert account_balance(codes.custody(p.pk, 1)) == 0
    assert not AuditEvent.objects.filter(action__in=["review_not_met", "order_forfeit", "forfeit"]).exists()


def test_forfeit_racing_release_on_failed_milestone_one_wins_other_409(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("800000.00", "80000.00")], budget="800000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "500000.00")
    report(demo, m)
    ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason="未达标")
    before = _snapshot()
    results = race(lambda: ms.milestone_forfeit(milestone=fresh(m), actor=demo.custodian),
                    lambda: ms.milestone_release(milestone=fresh(m), actor=demo.custodian2))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    assert next(r[1] for r in results if r[0] == "error").status_code == 409
    m = fresh(m)
    assert (m.state, m.forfeited_amount, m.refunded_amount, m.released_amount) == \
        (M.FORFEITED, Decimal("80000.00"), Decimal("420000.00"), Decimal("0.00"))
    assert _snapshot() == (before[0] + 1, before[1] + 3, before[2] + 1)


def test_two_custodians_releasing_at_once_one_operation_other_409(demo, ledger_ok):
    p, m = _releasable(demo)
    before = _snapshot()
    results = race(lambda: ms.milestone_release(milestone=fresh(m), actor=demo.custodian),
                    lambda: ms.milestone_release(milestone=fresh(m), actor=demo.custodian2))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    assert next(r[1] for r in results if r[0] == "error").status_code == 409
    assert _snapshot() == (before[0] + 1, before[1] + 2, before[2] + 1)
    assert fresh(m).released_amount == Decimal("800000.00")


def _breached(demo, deposit="300000.00"):
    """I15: milestone 1 met, its balance overdue and the breach declared; milestone 2 planned."""
    from datetime import timedelta

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("1800000.00", "180000.00")],
                         budget="1200000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    pay_deposit(demo, m1, deposit)
    report(demo, m1)
    ms.milestone_review_met(milestone=fresh(m1), actor=demo.reviewer, reason="达标")
    ms.milestones_mark_balance_overdue(today=fresh(m1).balance_due_date + timedelta(days=1))
    return p, fresh(m1), fresh(m2)


@pytest.mark.parametrize("rounds", range(3))
def test_i15_two_custodians_racing_a_breach_forfeit_exactly_one_effect(demo, ledger_ok, rounds):
    from projects.choices import ProjectState
    from projects.models import Project

    p, m1, m2 = _breached(demo)
    ms.milestone_declare_breach(milestone=m1, actor=demo.reviewer, reason="尾款逾期未缴", repaid_amount="1000000.00")
    before = _snapshot()
    results = race(lambda: ms.milestone_forfeit(milestone=fresh(m1), actor=demo.custodian),
                    lambda: ms.milestone_forfeit(milestone=fresh(m1), actor=demo.custodian2))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    assert next(r[1] for r in results if r[0] == "error").status_code == 409
    # one forfeiture (custody → platform D, enterprise the rest), one repayment, one write-off: nothing twice
    assert _snapshot() == (before[0] + 3, before[1] + 3 + 2 + 2, before[2] + 3)
    m1 = fresh(m1)
    assert (m1.state, m1.forfeited_amount, m1.refunded_amount) == (M.FORFEITED, Decimal("120000.00"),
                                                                   Decimal("180000.00"))
    assert fresh(m2).state == M.CANCELLED
    assert Project.objects.get(pk=p.pk).state == ProjectState.TERMINATED
    assert account_balance(codes.custody(p.pk, 1)) == 0 and account_balance(codes.pool_advanced(p.pk)) == 0
    assert AuditEvent.objects.filter(action="terminate", object_id=str(p.pk)).count() == 1


def test_i15_breach_racing_the_late_balance_one_wins_other_409(demo, ledger_ok):
    from escrow.models import MoneyOperation

    p, m1, _m2 = _breached(demo)
    results = race(lambda: ms.milestone_declare_breach(milestone=fresh(m1), actor=demo.reviewer, reason="违约"),
                    lambda: ms.milestone_confirm_balance(milestone=fresh(m1), actor=demo.custodian,
                                                         amount="900000.00", bank_ref="LATE-1"))
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    assert next(r[1] for r in results if r[0] == "error").status_code == 409
    m1 = fresh(m1)
    balance_ops = MoneyOperation.objects.filter(purpose=ms.P_BALANCE, context__milestone=m1.pk).count()
    if m1.state == M.BREACHED:
        assert balance_ops == 0 and m1.paid_in == Decimal("300000.00")
    else:
        assert m1.state == M.RELEASABLE and balance_ops == 1 and m1.paid_in == Decimal("1200000.00")
        assert m1.breached_at is None
