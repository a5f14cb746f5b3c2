"""Property test of the grant (R11, I4, I5) through the database and the real yearly computation.

Random enterprises, projects, audited inputs and paid claims are stored; ``grant_compute``
runs for the year; every enterprise's figure is checked against an independent Decimal
computation: 30 % × max(audited input − claims paid, 0) per project, summed, rounded half-up
at the fen once, at most 3,000,000.00 per enterprise and year.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.tests.factories import OrganizationFactory
from subsidies.models import GrantComputation
from subsidies.services import audit_save, claim_create, grant_compute, policy_create

from .factories import make_project, with_opinion

RATE, CAP = Decimal("0.30"), Decimal("3000000.00")
YEAR = 2025
FEN = Decimal("0.01")

# Cents: mostly small (half-fen cases of 30 % × a few fen) or large (over the cap), sometimes anything.
cents = st.one_of(st.integers(0, 100), st.integers(0, 2_000_000_000),
                  st.integers(900_000_000, 1_100_000_000)).map(lambda n: Decimal(n) / 100)
project_st = st.fixed_dictionaries({
    "input": cents,
    "claims": st.lists(cents, max_size=2),  # amounts the insurer paid in the year
})
enterprise_st = st.lists(project_st, min_size=1, max_size=3)


def expected_grant(projects: list[dict]) -> tuple[Decimal, Decimal]:
    """(uncapped, granted) computed independently of the services."""
    exact = sum((RATE * max(p["input"] - sum(p["claims"], Decimal(0)), Decimal(0)) for p in projects), Decimal(0))
    uncapped = exact.quantize(FEN, rounding=ROUND_HALF_UP)
    return uncapped, min(uncapped, CAP)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(enterprises=st.lists(enterprise_st, min_size=1, max_size=3))
def test_property_grant_compute_per_enterprise_within_cap_and_exact_r11_i4(demo, enterprises):
    assert (demo.scheme.grant_rate, demo.scheme.grant_cap) == (RATE, CAP)
    with transaction.atomic():  # each example starts from the same database
        orgs = [demo.ent1, demo.ent2] + [OrganizationFactory(kind="enterprise")
                                         for _ in range(max(0, len(enterprises) - 2))]
        for org, projects in zip(orgs, enterprises, strict=False):
            for spec in projects:
                project = make_project(demo, org)
                with_opinion(audit_save(actor=demo.auditor, project=project, year=YEAR, audited_input=spec["input"],
                           reason="审计确认的实际投入"))
                if spec["claims"]:
                    policy = policy_create(actor=demo.reviewer, project=project, insurer=demo.insurer, type="rd_loss",
                                           premium=Decimal("10000.00"), cover=Decimal("50000000.00"),
                                           start_date=date(YEAR, 1, 1), end_date=date(YEAR, 12, 31))
                    for paid in spec["claims"]:
                        claim_create(actor=demo.reviewer, policy=policy, assessed_loss=paid, paid_amount=paid,
                                     paid_on=date(YEAR, 11, 1))
        grant_compute(year=YEAR, actor=demo.reviewer)
        figures = {g.enterprise_id: g for g in GrantComputation.objects.filter(year=YEAR)}
        assert set(figures) == {org.pk for org in orgs[:len(enterprises)]}
        for org, projects in zip(orgs, enterprises, strict=False):
            fig = figures[org.pk]
            uncapped, granted = expected_grant(projects)
            assert Decimal("0.00") <= fig.amount <= CAP
            assert fig.amount == granted and fig.uncapped_amount == uncapped
            if uncapped < CAP:
                assert fig.amount == uncapped and not fig.capped
            else:
                assert fig.amount == CAP and fig.capped == (uncapped > CAP)
        transaction.set_rollback(True)
