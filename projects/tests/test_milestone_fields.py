"""The workflow reads its own fields (who decided, when work started, when it fell overdue), never the audit log."""
from __future__ import annotations

import importlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from core.exceptions import PermissionDeniedError
from core.models import AuditEvent
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.milestones import review
from projects.milestones.timeline import build_timeline
from projects.models import Milestone
from projects.tests.steps import fresh, met_by_a_custodian_reviewer

pytestmark = pytest.mark.django_db(transaction=True)  # a deposit's money operation runs on commit


def test_renaming_the_audit_action_of_a_decision_leaves_separation_of_duties_on(demo, ledger_ok, monkeypatch):
    """Separation of duties once found the decider by the audit action "review_met": a renamed action string
    switched it off silently. The decider is now the milestone's ``decided_by``."""
    written = review.audit

    def renamed(actor, milestone, action, *args, **kwargs):
        return written(actor, milestone, "found_met" if action == "review_met" else action, *args, **kwargs)

    monkeypatch.setattr(review, "audit", renamed)
    m = met_by_a_custodian_reviewer(demo)
    assert not AuditEvent.objects.filter(action="review_met").exists()
    assert m.decided_by == demo.reviewer and m.state == M.RELEASABLE
    with pytest.raises(PermissionDeniedError) as exc:
        ms.milestone_release(milestone=m, actor=demo.reviewer)
    assert exc.value.code == "separation_of_duties" and fresh(m).state == M.RELEASABLE
    assert fresh(m).started_at is not None  # the deposit's confirmation started the work


def test_the_migration_fills_the_new_fields_from_the_audit_rows_written_before(demo, ledger_ok):
    m = met_by_a_custodian_reviewer(demo)
    started = m.started_at
    Milestone.objects.filter(pk=m.pk).update(decided_by=None, started_at=None)
    migration = importlib.import_module("projects.migrations.0006_milestone_decided_by_started_overdue")
    migration.backfill(apps, None)
    m = fresh(m)
    assert m.decided_by == demo.reviewer
    assert m.started_at is not None and abs((m.started_at - started).total_seconds()) < 5


def test_the_timeline_takes_its_dates_from_the_milestone():
    tz = timezone.get_current_timezone()
    m = Milestone(pk=1, seq=1, title="联调", state=M.OVERDUE, amount=Decimal("100.00"),
                  deposit_amount=Decimal("10.00"), paid_in=Decimal("10.00"), start_date=date(2026, 1, 1),
                  due_date=date(2026, 6, 30), started_at=datetime(2026, 1, 5, 10, tzinfo=tz),
                  overdue_at=datetime(2026, 7, 1, 1, tzinfo=tz))
    row = build_timeline([m], today=date(2026, 7, 10))["rows"][0]
    marks = {mk["kind"]: mk["date"] for mk in row.markers}
    assert marks == {"paid": "2026-01-05", "overdue": "2026-07-01"}
    assert row.actual is not None and row.actual_class == "overdue"
