"""The auditor's year at a glance is cached under the journal's last entry: a new entry is seen at once."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from dashboards.selectors import year_at_a_glance
from escrow import accounts as codes
from escrow.services.ledger import post_entry
from projects.tests.factories import make_project


def _refunds(year: int) -> Decimal:
    return dict((str(label), v) for label, v in year_at_a_glance(year)["rows"])["退还企业"]


@pytest.mark.django_db
def test_year_at_a_glance_sees_an_entry_posted_after_it_was_cached(demo, ledger_ok, django_assert_max_num_queries):
    year = timezone.localdate().year
    project = make_project(demo)
    before = _refunds(year)
    with django_assert_max_num_queries(3):  # cached: the journal's mark and the two subsidy totals
        assert _refunds(year) == before
    custody, ext = codes.custody(project.pk, 1), codes.ext_enterprise(project.enterprise_id)
    post_entry(memo="保证金到账", idempotency_key="t:year:in",
               lines=[(ext, Decimal("-500.00")), (custody, Decimal("500.00"))])
    post_entry(memo="退还企业", idempotency_key="t:year:out",
               lines=[(custody, Decimal("-200.00")), (ext, Decimal("200.00"))])
    assert _refunds(year) == before + Decimal("200.00")
