"""While a report renders, the reports page shows its progress live (htmx polling) and 生成 waits for it."""
from __future__ import annotations

import pytest
from django.urls import reverse

from reports.models import Report

pytestmark = pytest.mark.django_db


def test_generate_waits_while_the_users_report_renders_and_comes_back_when_it_is_done(client, demo):
    report = Report.objects.create(kind="annual_audit", params={"year": 2025}, requested_by=demo.reviewer,
                                   state="running", progress=40)
    client.force_login(demo.reviewer)
    html = client.get(reverse("reports:index")).content.decode()
    assert '<button type="submit" disabled aria-describedby="generate-wait">生成</button>' in html
    poll = f'hx-get="{reverse("reports:progress", args=[report.pk])}?index=1" hx-trigger="every 1s"'
    assert poll in html and 'aria-valuenow="40"' in html
    # Polled while running: no button swapped in yet.
    fragment = client.get(reverse("reports:progress", args=[report.pk]) + "?index=1").content.decode()
    assert 'id="generate-report"' not in fragment and "hx-trigger" in fragment
    Report.objects.filter(pk=report.pk).update(state="done", progress=100)
    fragment = client.get(reverse("reports:progress", args=[report.pk]) + "?index=1").content.decode()
    assert "hx-trigger" not in fragment  # polling stops
    assert '<span id="generate-report" hx-swap-oob="true"><button type="submit">生成</button></span>' in fragment
    # The detail page polls the same fragment and has no button to bring back.
    fragment = client.get(reverse("reports:progress", args=[report.pk])).content.decode()
    assert 'id="generate-report"' not in fragment
    html = client.get(reverse("reports:index")).content.decode()
    assert '<button type="submit">生成</button>' in html and "disabled" not in html.split('id="generate-report"')[1][:80]


def test_another_users_running_report_does_not_hold_the_button(client, demo):
    Report.objects.create(kind="annual_audit", params={"year": 2025}, requested_by=demo.auditor, state="queued")
    client.force_login(demo.reviewer)
    html = client.get(reverse("reports:index")).content.decode()
    assert 'id="generate-report"><button type="submit">生成</button>' in html
