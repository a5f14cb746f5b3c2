"""Concurrent approvals on PostgreSQL: notice numbers stay consecutive, the pool advance posts once each (I2)."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from escrow.invariants import assert_ledger_invariants
from escrow.selectors import pool_summary
from projects import services
from projects.choices import ProjectState
from projects.models import NoticeCounter, Project
from projects.tests.factories import project_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_concurrent_approvals_get_eight_consecutive_notice_numbers(demo):
    projects = [project_at(demo, "reviewed", title=f"并发立项{i}") for i in range(8)]
    before = pool_summary()
    barrier = threading.Barrier(len(projects))
    errors: list[BaseException] = []

    def approve(project: Project) -> None:
        try:
            barrier.wait(timeout=30)
            services.project_approve(project=project, actor=demo.reviewer, reason="专家评审通过")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(p,)) for p in projects]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    approved = list(Project.objects.filter(pk__in=[p.pk for p in projects]))
    assert {p.state for p in approved} == {ProjectState.APPROVED}
    seqs = sorted(p.notice_seq for p in approved)
    assert seqs == list(range(1, 9))
    assert len({p.notice_number for p in approved}) == 8
    year = approved[0].notice_year
    assert NoticeCounter.objects.get(year=year).last == 8
    after = pool_summary()
    assert after.advanced - before.advanced == sum(p.budget for p in approved) == Decimal("16000000.00")
    assert before.available - after.available == Decimal("16000000.00")
    assert_ledger_invariants()
