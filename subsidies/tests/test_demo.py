from io import StringIO

import pytest

from demo import people as demo_data
from subsidies import demo as subsidies_demo
from subsidies.models import AnnualAudit, GrantComputation, InsurancePolicy, PremiumSubsidy

from .factories import at, make_project, release

pytestmark = pytest.mark.django_db


def _orgs(demo):
    return {key: getattr(demo, key) for key, *_ in demo_data.ORGANIZATIONS}


def test_demo_without_projects_creates_nothing(demo):
    subsidies_demo.seed(orgs=_orgs(demo), scheme=demo.scheme, stdout=StringIO())
    assert not InsurancePolicy.objects.exists() and not GrantComputation.objects.exists()


def test_demo_seed_is_idempotent(demo, ledger_ok):
    p = make_project(demo, amounts=("3000000.00",))
    release(p, 1, "3000000.00", on=at(2025, 9, 1))
    make_project(demo, demo.ent2)
    for _ in range(2):
        subsidies_demo.seed(orgs=_orgs(demo), scheme=demo.scheme, stdout=StringIO())
    assert InsurancePolicy.objects.count() == 2
    assert AnnualAudit.objects.get().audited_input == 3000000
    v1, v2 = GrantComputation.objects.order_by("version")
    assert (v1.amount, v1.state, v1.paid_amount) == (600000, "paid", 600000)  # 30 % × (3,000,000 − 1,000,000)
    # I10: a claim for 2025 paid on 2026-01-15, after the grant: 30 % × (3,000,000 − 1,500,000) = 450,000
    assert (v2.amount, v2.state, v2.recovery, v2.recovery_outstanding) == (450000, "approved", 150000, 150000)
    s = PremiumSubsidy.objects.get(enterprise=demo.ent1)
    assert s.amount == 150000  # worked example 4
    assert PremiumSubsidy.objects.count() == 2
