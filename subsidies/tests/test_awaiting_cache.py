"""The auditor's list of projects awaiting their annual audit reads the year's ledger figures once per journal
state: a page read again does not add up the year's postings again, and a new release is seen at once."""
from __future__ import annotations

from decimal import Decimal

import pytest

from subsidies.selectors import projects_awaiting_audit

from .factories import at, make_project, release


def _platform_sums(queries) -> list[str]:
    return [q["sql"] for q in queries if "ext:platform" in q["sql"] and "SUM" in q["sql"].upper()]


@pytest.mark.django_db
def test_awaiting_audit_reuses_the_years_figures_until_the_journal_changes(demo, ledger_ok):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = make_project(demo, demo.ent1, title="第一个待审计项目")
    release(first, 1, "1000000.00", on=at(2025, 5, 1))
    assert [(p.pk, amount) for p, amount in projects_awaiting_audit(demo.auditor, 2025)] == [
        (first.pk, Decimal("1000000.00"))]
    with CaptureQueriesContext(connection) as again:
        assert [p.pk for p, _a in projects_awaiting_audit(demo.auditor, 2025)] == [first.pk]
    assert _platform_sums(again.captured_queries) == []  # read from the cache, not the postings

    second = make_project(demo, demo.ent1, title="第二个待审计项目")
    release(second, 1, "2000000.00", on=at(2025, 6, 1))
    with CaptureQueriesContext(connection) as after:
        rows = projects_awaiting_audit(demo.auditor, 2025)
    assert len(_platform_sums(after.captured_queries)) == 1  # a new entry: the figures are read afresh
    assert [(p.pk, amount) for p, amount in rows] == [(first.pk, Decimal("1000000.00")),
                                                       (second.pk, Decimal("2000000.00"))]
    assert [p.pk for p, _a in projects_awaiting_audit(demo.auditor, 2025, limit=1)] == [first.pk]
