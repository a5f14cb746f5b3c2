"""The year's new figures go to PostgreSQL as one INSERT of one JSON parameter (``core.bulk``), and what is
stored is exactly what the objects held: amounts to the fen, the trace, the time to the microsecond."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.bulk import bulk_insert
from core.models import SchemeVersion
from subsidies.models import GrantComputation
from subsidies.services import grant_compute

from .factories import at, make_project, release, with_opinion

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_bulk_insert_stores_each_value_exactly_and_sets_the_keys(demo):
    when = datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=ZoneInfo("Asia/Shanghai"))
    scheme = SchemeVersion.current()
    objs = [GrantComputation(enterprise=org, year=2025, amount=Decimal(amount), uncapped_amount=Decimal("3000000.01"),
                             capped=True, trace={"rule": "R11", "名称": "研发", "n": [1, "2.50"]}, trace_digest="d",
                             scheme=scheme, computed_at=when, recovery=Decimal("0.01"))
            for org, amount in ((demo.ent1, "3000000.00"), (demo.ent2, "0.07"))]
    with CaptureQueriesContext(connection) as ctx:
        bulk_insert(GrantComputation, objs, key="enterprise")
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "jsonb_populate_recordset" in inserts[0]
    for obj in objs:
        row = GrantComputation.objects.get(pk=obj.pk)
        assert (row.enterprise_id, row.amount, row.uncapped_amount, row.capped, row.trace, row.computed_at,
                row.recovery, row.recovered, row.state, row.version, row.netted_from) == (
            obj.enterprise_id, obj.amount, Decimal("3000000.01"), True, obj.trace, when, Decimal("0.01"),
            Decimal("0.00"), "computed", 1, [])


@pytest.mark.django_db
def test_grant_compute_inserts_the_years_figures_in_one_statement(demo, ledger_ok):
    from subsidies.services import audit_save

    for org in (demo.ent1, demo.ent2):
        p = make_project(demo, org, title=f"资助测算项目{org.pk}")
        release(p, 1, "1000000.00", on=at(2025, 5, 1))
        with_opinion(audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("1000000.00")))
    with CaptureQueriesContext(connection) as ctx:
        result = grant_compute(year=2025)
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "subsidies_grantcomputation"')]
    assert len(inserts) == 1 and "jsonb_populate_recordset" in inserts[0]
    stored = {g.enterprise_id: g for g in GrantComputation.objects.filter(year=2025)}
    assert {o.pk for o in result.created} == {g.pk for g in stored.values()}
    assert {e: g.amount for e, g in stored.items()} == {demo.ent1.pk: Decimal("300000.00"),
                                                        demo.ent2.pk: Decimal("300000.00")}
    assert grant_compute(year=2025).created == []  # the same figures again: nothing new
