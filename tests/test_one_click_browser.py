"""In real Chromium: a double-click on 提交申报 or on 生成 makes one proposal and one report with one number.

A double-click in Chromium usually aborts the first submission before it is sent, so each test also sends the
rendered form twice at the same moment (what a double-click on a slow connection, or a resend, does): the
server must act once and answer both with the first result.
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from tests.test_journey_browser import fill_milestone  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEND_TWICE = """async ([form, button, together]) => {
  const f = document.querySelector(form), b = document.querySelector(button);
  const send = () => fetch(f.action || location.href, {method: "POST", body: new FormData(f, b), credentials: "same-origin"})
    .then(r => r.url + " " + r.status);
  if (together) return Promise.all([send(), send()]);
  return [await send(), await send()];
}"""


def send_twice(page, form: str, button: str) -> list[str]:
    """The rendered form sent twice with its one token; returns where each answer led (URL and status).

    On PostgreSQL both at the same moment; the SQLite test server shares one in-memory connection between its
    threads, so there the two go one after the other (a resend).
    """
    from django.db import connection

    return page.evaluate(SEND_TWICE, [form, button, connection.vendor == "postgresql"])


def test_double_click_on_submit_makes_one_proposal(demo, live_server, page):
    from core.tests.factories import scheme_in_force
    from projects.models import Project
    from projects.tests.factories import PDF_BYTES

    page.set_default_timeout(20000)
    scheme_in_force()
    login(page, live_server.url, "enterprise")
    page.goto(f"{live_server.url}/projects/new/")
    page.select_option("#id_platform", label=demo.plat1.name)
    page.select_option("#id_mode", "project_cooperation")
    page.fill("#id_title", "双击测试项目")
    page.fill("#id_total_amount", "3500000.00")
    page.fill("#id_equipment_amount", "500000.00")
    page.fill("#id_budget", "1000000.00")
    page.fill("#id_start_date", "2025-06-01")
    page.fill("#id_end_date", "2027-05-31")
    page.fill("#id_ip_terms", "阶段成果归企业")
    page.fill("#id_profit_sharing", "按销售额 3% 分成")
    page.click("#add-milestone")
    fill_milestone(page, 0, "样机设计", "样机一台", "1000000.00", "100000.00", "2025-06-01", "2026-03-31")
    fill_milestone(page, 1, "小批量试产", "试产 50 台", "2000000.00", "200000.00", "2026-04-01", "2027-03-31")
    for kind in ("plan", "agreement"):  # R12: filed with the proposal
        page.set_input_files(f"#id_{kind}", files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF_BYTES}])
    first, second = send_twice(page, "#project-form", "#submit-proposal")
    assert first == second and "/projects/new/" not in first and first.endswith(" 200")  # both: the one proposal
    assert Project.objects.filter(title="双击测试项目").count() == 1
    with page.expect_navigation(url=lambda u: "/projects/new/" not in u):
        page.dblclick("#submit-proposal")  # the same rendered form, double-clicked: still one
    page.wait_for_selector("#project-state")
    assert Project.objects.filter(title="双击测试项目").count() == 1


def test_double_click_on_generate_makes_one_report_and_one_number(demo, live_server, page):
    from django.utils import timezone

    from reports.models import Report

    page.set_default_timeout(60000)
    login(page, live_server.url, "auditor")
    page.goto(f"{live_server.url}/reports/")
    page.select_option("#id_kind", "annual_audit")
    page.fill("#id_year", str(timezone.localdate().year))
    first, second = send_twice(page, "main form[method=post]", "main form[method=post] button[type=submit]")
    assert first == second and first.endswith("/ 200")  # both answers lead to the one report
    assert first.split()[0].rstrip("/").split("/")[-1].isdigit()
    page.dblclick("form button:has-text('生成')")
    # the second click may abort the first click's navigation: wait for where the page ends up, not for one load
    page.wait_for_url(lambda u: u.rstrip("/").split("/")[-1].isdigit())
    report = Report.objects.get()  # one report, one official number
    assert report.number.startswith("萧科安审") and report.state == "done"
