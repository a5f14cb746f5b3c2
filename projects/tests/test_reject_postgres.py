"""Maker–checker rejection on PostgreSQL: rejected → ordered again → confirmed → exactly one release; and a
rejection racing a confirmation (real threads, through the API) has one winner and a 4xx, never a 500."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from escrow import accounts as codes
from escrow.invariants import ledger_violations
from escrow.models import JournalEntry, MoneyOperation
from escrow.selectors import account_balance
from escrow.services import operation_confirm, operation_reject
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.milestones.common import pending_operation
from projects.tests.steps import fresh, race, releasable_milestone

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AMOUNT = "1500000.00"  # above the 1,000,000.00 threshold: a second operator confirms


def releasable(demo):
    m = releasable_milestone(demo, AMOUNT, deposit="150000.00")
    assert m.state == M.RELEASABLE
    return m.project, m


def test_rejected_release_is_ordered_again_and_confirmed_exactly_one_release(demo, ledger_ok):
    p, m = releasable(demo)
    entries = JournalEntry.objects.count()
    _m, first = ms.milestone_release(milestone=m, actor=demo.custodian)
    assert first.state == "awaiting_confirmation"
    operation_reject(operation=first, actor=demo.custodian2, reason="收款账户待核实")
    assert fresh(m).state == M.RELEASABLE and JournalEntry.objects.count() == entries
    assert ledger_violations() == []
    assert not pending_operation(fresh(m), [ms.P_RELEASE])  # nothing in flight: the panel offers it again

    _m, second = ms.milestone_release(milestone=fresh(m), actor=demo.custodian)
    assert second.pk != first.pk and second.idempotency_key.endswith(":release:2")
    operation_confirm(operation=second, actor=demo.custodian2)
    m = fresh(m)
    assert m.state == M.RELEASED and m.released_amount == m.amount
    assert JournalEntry.objects.count() == entries + 1  # exactly one release
    assert account_balance(codes.custody(p.pk, 1)) == 0
    assert [o.state for o in MoneyOperation.objects.filter(purpose=ms.P_RELEASE).order_by("pk")] == ["failed", "done"]
    assert AuditEvent.objects.filter(action="reject", object_id=str(first.pk)).count() == 1
    assert ledger_violations() == []


def _api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.mark.parametrize("rounds", range(3))
def test_reject_racing_confirm_one_winner_the_other_4xx(demo, ledger_ok, rounds):
    from core.choices import Role
    from core.tests.factories import make_user

    checker_b = make_user(f"custodian-b{rounds}", demo.custodian2.organization, Role.CUSTODIAN)
    _p, m = releasable(demo)
    _m, op = ms.milestone_release(milestone=m, actor=demo.custodian)
    entries = JournalEntry.objects.count()
    outcomes = race(
        lambda: _api(demo.custodian2).post(f"/api/v1/operations/{op.pk}/confirm/", {}, format="json"),
        lambda: _api(checker_b).post(f"/api/v1/operations/{op.pk}/reject/", {"reason": "同时驳回"},
                                     format="json"),
    )
    assert [kind for kind, _r in outcomes] == ["ok", "ok"], outcomes  # both answered: no exception escaped
    results = [r for _kind, r in outcomes]
    codes_ = sorted(r.status_code for r in results)
    assert codes_[0] == 200 and 400 <= codes_[1] < 500, [(r.status_code, r.content) for r in results]
    loser = next(r for r in results if r.status_code != 200)
    assert loser.status_code == 409 and loser.json()["code"] == "transition_not_allowed"
    op = MoneyOperation.objects.get(pk=op.pk)
    m = fresh(m)
    if op.state == "failed":  # the rejection won: nothing moved, the milestone may be ordered again
        assert m.state == M.RELEASABLE and JournalEntry.objects.count() == entries
        assert op.rejected_by is not None and op.confirmed_by is None
    else:  # the confirmation won: released once
        assert op.state == "done" and m.state == M.RELEASED and JournalEntry.objects.count() == entries + 1
        assert op.rejected_by is None
    assert ledger_violations() == []
