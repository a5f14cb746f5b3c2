"""Lost tasks and dead workers: the sweep sends the report again; the task renders it once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from reports.models import Report
from reports.services import reports_stuck
from reports.tasks import sweep_reports


def _report(demo, project, **fields):
    return Report.objects.create(kind="custody_statement", params={"project": project.pk}, requested_by=demo.auditor,
                                 organization=demo.auditor.organization, **fields)


@pytest.mark.django_db
def test_sweep_resends_lost_and_dead_reports_and_leaves_live_ones(projects, demo,
                                                                 django_capture_on_commit_callbacks):
    now = timezone.now()
    lost = _report(demo, projects[0], dispatched_at=now - timedelta(minutes=30))
    fresh = _report(demo, projects[0], dispatched_at=now - timedelta(minutes=1))
    Report.objects.filter(pk=fresh.pk).update(state="queued")
    dead = _report(demo, projects[1], dispatched_at=now - timedelta(hours=2))
    Report.objects.filter(pk=dead.pk).update(state="running", started_at=now - timedelta(hours=2), attempts=1)
    live = _report(demo, projects[1], dispatched_at=now - timedelta(minutes=20))
    Report.objects.filter(pk=live.pk).update(state="running", started_at=now - timedelta(minutes=5), attempts=1)
    assert sorted(reports_stuck()) == sorted([lost.pk, dead.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_reports.apply().get() == 2
    states = dict(Report.objects.values_list("pk", "state"))
    assert states[lost.pk] == "done" and states[dead.pk] == "done"
    assert states[fresh.pk] == "queued" and states[live.pk] == "running"
    assert Report.objects.get(pk=dead.pk).attempts == 2      # taken over from the dead worker
    assert reports_stuck() == []
