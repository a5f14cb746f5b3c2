"""In real Chromium: a report requested from the project page shows its progress bar, which polls (htmx)
until the file is ready, then offers the download."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_progress_bar_polls_until_done_then_downloads(live_server, page, demo, monkeypatch, ledger_ok):
    from reports import tasks
    from reports.models import Report
    from reports.services import report_render

    from .factories import make_project

    project = make_project(enterprise=demo.ent1, platform=demo.plat1, created_by=demo.enterprise,
                           scheme=demo.scheme, seq=11, actor=demo.custodian)
    # Hold the task back, as a busy worker would: the page must show the queued report and poll.
    monkeypatch.setattr(tasks.render_report, "delay", lambda report_id: None)
    base = live_server.url
    login(page, base, "enterprise")
    page.goto(f"{base}/projects/{project.pk}/")
    page.locator('#documents form:has(input[value="custody_statement"]) button').click()
    page.wait_for_url(lambda u: "/reports/" in u and u.rstrip("/").split("/")[-1].isdigit())
    bar = page.locator("#report-progress")
    assert bar.get_attribute("data-state") == "queued"
    report = Report.objects.get()
    Report.objects.filter(pk=report.pk).update(state="running", progress=40)
    page.wait_for_selector('#report-progress[data-state="running"] [aria-valuenow="40"]', timeout=5000)
    report_render(report_id=report.pk)   # the worker renders it
    page.wait_for_selector('#report-progress[data-state="done"]', timeout=5000)
    with page.expect_download() as download:
        page.locator("#report-progress a.btn").click()
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
