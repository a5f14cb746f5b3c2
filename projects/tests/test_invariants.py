"""Invariant 5 for the figures projects keeps beside the ledger: milestone amounts and the pool advance (I2)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escrow.invariants import ledger_violations
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.models import Milestone, Project
from projects.tests.factories import tranche_project
from projects.tests.steps import forfeit, fresh, full_cycle, pay_deposit, report

pytestmark = pytest.mark.django_db(transaction=True)


def _released_and_forfeited(demo):
    """Milestone 1 released; milestone 2 paid in above its deposit, not met, forfeited (D to the platform,
    the rest refunded: R8, I3)."""
    p = tranche_project(demo, tranches=[("1000000.00", "100000.00"), ("2000000.00", "200000.00")],
                         budget="1000000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1, m2 = p.milestones.order_by("seq")
    full_cycle(demo, m1, "100000.00")
    pay_deposit(demo, m2, "250000.00")
    report(demo, m2)
    ms.milestone_review_not_met(milestone=fresh(m2), actor=demo.reviewer, reason="样机未达到指标")
    forfeit(demo, m2)
    return p, fresh(m1), fresh(m2)


def test_real_flows_keep_milestone_rows_and_advance_with_the_ledger(demo, ledger_ok):
    p, m1, m2 = _released_and_forfeited(demo)
    assert (m1.state, m2.state) == (M.RELEASED, M.FORFEITED)
    assert (m2.paid_in, m2.forfeited_amount, m2.refunded_amount) == (
        Decimal("250000.00"), Decimal("200000.00"), Decimal("50000.00"))
    assert ledger_violations() == []
    ms.project_terminate(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason="企业决定终止",
                         repaid_amount="600000.00")
    assert ledger_violations() == []  # terminated: the advance is repaid or written off, nothing left


def test_a_milestone_row_that_drifts_from_the_ledger_is_reported(demo):
    _p, m1, m2 = _released_and_forfeited(demo)
    Milestone.objects.filter(pk=m2.pk).update(refunded_amount=Decimal("0.00"))  # as if the refund were lost
    problems = ledger_violations()
    assert len(problems) == 1 and f"milestone {m2.pk}" in problems[0] and "refunded 0.00" in problems[0]
    assert "the account holds 0.00" in problems[0]

    Milestone.objects.filter(pk=m2.pk).update(refunded_amount=Decimal("50000.00"))
    Milestone.objects.filter(pk=m1.pk).update(paid_in=Decimal("900000.00"), released_amount=Decimal("900000.00"))
    problems = ledger_violations()
    assert problems == [f"invariant 5: milestone {m1.pk} (custody:{m1.project_id}:1) paid_in 900000.00 != "
                        f"received postings 1000000.00"]
    with pytest.raises(CommandError, match="1 ledger invariant violation"):
        call_command("verify_ledger")


def test_an_active_project_without_its_advance_is_reported_i2(demo):
    p, _m1, _m2 = _released_and_forfeited(demo)
    ms.project_terminate(project=Project.objects.get(pk=p.pk), actor=demo.reviewer, reason="企业决定终止",
                         repaid_amount="1000000.00")
    Project.objects.filter(pk=p.pk).update(state="active")  # a row put back by hand, the ledger not
    assert ledger_violations() == [f"invariant 5 (I2): project {p.pk} is active, pool:advanced:{p.pk} should hold "
                                   f"1000000.00 but holds 0.00"]


def test_a_reversed_receipt_is_consistent_once_the_row_is_corrected(demo, ledger_ok):
    """A mistaken deposit is corrected by a reversing entry (both stay in the journal); with the milestone row
    corrected too, the check passes — neither the mistake nor its reversal counts as money received."""
    from escrow.models import JournalEntry, MoneyOperation
    from escrow.services import reverse_entry

    p = tranche_project(demo, tranches=[("1000000.00", "100000.00")], budget="1000000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "100000.00")
    entry = JournalEntry.objects.get(operation=MoneyOperation.objects.get(purpose=ms.P_DEPOSIT))
    reverse_entry(entry=entry, actor=demo.custodian, memo="冲正误记的到账")
    problems = ledger_violations()  # the row still says 100,000.00 paid in: reported
    assert problems and all(f"milestone {m.pk} " in line for line in problems)
    Milestone.objects.filter(pk=m.pk).update(paid_in=Decimal("0.00"))
    assert ledger_violations() == []
