"""A real worker (Redis, PostgreSQL): POST answers 202 at once, the worker renders in parts,
GET shows the progress climbing, then the download."""
from __future__ import annotations

import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setenv("ANXINBAO_REPORTS_CHUNK_SIZE", "1")   # read by the worker process at start


def test_worker_renders_annual_audit_with_progress(small_chunks, projects, demo, celery_worker_process):
    from reports.models import Report

    client = APIClient()
    client.force_authenticate(demo.auditor)
    resp = client.post("/api/v1/reports/", {"kind": "annual_audit", "params": {"year": timezone.localdate().year}},
                       format="json")
    assert resp.status_code == 202 and resp.json()["state"] == "queued"
    rid = resp.json()["id"]
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/reports/{rid}/").json()
        seen.append((body["state"], body["progress"]))
        if body["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert seen[-1] == ("done", 100), (seen[-5:], celery_worker_process.log()[-3000:])
    running = [p for state, p in seen if state == "running"]
    assert running and running == sorted(running) and len(set(running)) >= 2, seen
    report = Report.objects.get(pk=rid)
    assert report.pages >= 4 and report.attempts == 1
    download = client.get(body["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content)[:5] == b"%PDF-"
