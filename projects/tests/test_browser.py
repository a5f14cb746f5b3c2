"""Real Chromium: a proposal from filing to approval (issue 4), with worked example 2 shown in the form."""
from __future__ import annotations

import os
import re

import pytest

from core.tests.factories import scheme_in_force
from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from projects.models import ExpertAssignment, Project
from projects.tests.factories import PDF_BYTES

# Playwright's sync API runs an event loop in this thread; the ORM calls below are ordinary sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The users of this scheme browse in Chinese (the page follows Accept-Language).
    return {**browser_context_args, "locale": "zh-CN"}


def fill_row(page, i: int, title: str, amount: str, deposit: str, start: str, due: str) -> None:
    page.fill(f"#id_ms-{i}-title", title)
    page.fill(f"#id_ms-{i}-deliverables", f"{title}报告")
    page.fill(f"#id_ms-{i}-amount", amount)
    page.fill(f"#id_ms-{i}-deposit_amount", deposit)
    page.fill(f"#id_ms-{i}-start_date", start)
    page.fill(f"#id_ms-{i}-due_date", due)


def test_proposal_from_filing_to_notice_number_in_chromium(demo, live_server, page, ledger_ok):
    page.set_default_timeout(15000)
    scheme_in_force()  # I16
    # 1. The enterprise files a proposal with 3 milestones (rows added without a reload).
    login(page, live_server.url, "enterprise")
    page.goto(f"{live_server.url}/projects/new/")
    page.select_option("#id_platform", label=demo.plat1.name)
    page.select_option("#id_mode", "project_cooperation")
    page.fill("#id_title", "浏览器测试：智能产线视觉检测")
    # Worked example 1: total 5,000,000 with equipment 2,500,000 → eligible base 2,500,000, refused under R2.
    page.fill("#id_total_amount", "5000000.00")
    page.fill("#id_equipment_amount", "2500000.00")
    page.fill("#id_budget", "1200000.00")
    page.fill("#id_start_date", "2025-06-01")
    page.fill("#id_end_date", "2027-05-31")
    page.fill("#id_ip_terms", "阶段成果归企业，基础算法归平台")  # R4: required
    page.fill("#id_profit_sharing", "产业化后按销售额 3% 分成五年")
    page.click("#add-milestone")
    page.click("#add-milestone")
    page.click("#add-milestone")
    assert page.locator("#ms-rows .milestone-row").count() == 4
    page.locator("#ms-rows .milestone-row").nth(3).locator("[data-formset-remove]").click()
    assert page.locator("#ms-rows .milestone-row:visible").count() == 3
    # Worked example 2: tranche 1 = 1,200,000, deposit 119,999.99 → refused under R5.
    fill_row(page, 0, "方案设计", "1200000.00", "119999.99", "2025-06-01", "2026-01-31")
    fill_row(page, 1, "中试", "1800000.00", "180000.00", "2026-02-01", "2026-09-30")
    fill_row(page, 2, "量产验证", "2000000.00", "200000.00", "2026-10-01", "2027-05-31")
    for kind, name in (("plan", "合作方案.pdf"), ("agreement", "合作协议.pdf")):  # R12: filed with the proposal
        page.set_input_files(f"#id_{kind}", files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    with page.expect_navigation():  # the form is posted and re-rendered with its errors
        page.click("#submit-proposal")
    total_error = page.locator(".field-total_amount .errorlist")
    assert "不含企业设备购置费的合作经费为 ¥2,500,000.00" in total_error.inner_text()
    assert "约定保证金" in page.locator("#ms-rows .milestone-row").nth(0).inner_text()  # every rule broken, at once
    page.fill("#id_total_amount", "6000000.00")
    page.fill("#id_equipment_amount", "1000000.00")
    with page.expect_navigation():  # count() does not wait: be on the re-rendered form before counting
        page.click("#submit-proposal")
    assert page.locator(".field-total_amount .errorlist").count() == 0
    row_error = page.locator("#ms-rows .milestone-row").nth(0).locator(".errorlist")
    assert "里程碑 1 的约定保证金 ¥119,999.99 低于阶段经费 ¥1,200,000.00 的 10%（¥120,000.00）" in row_error.inner_text()
    page.fill("#id_ms-0-deposit_amount", "120000.00")
    page.click("#submit-proposal")
    page.wait_for_selector("#project-state")
    assert page.inner_text("#project-state") == "已提交"
    project = Project.objects.get(title="浏览器测试：智能产线视觉检测")
    assert list(project.milestones.values_list("seq", "deposit_amount")) == [
        (1, 120000), (2, 180000), (3, 200000)]
    # The draft kept the files of the first post (the rules were refused at submission, not the files).
    assert sorted(project.attachments.values_list("kind", flat=True)) == ["agreement", "plan"]
    for name in ("合作方案.pdf", "合作协议.pdf"):
        page.wait_for_selector(f"#attachments a:has-text('{name}')")

    # 2. The platform signs (揭榜).
    login(page, live_server.url, "platform")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("#action-platform_sign button")
    page.wait_for_selector("#project-state:has-text('已揭榜')")

    # 3. The reviewer accepts (受理) and draws the experts.
    login(page, live_server.url, "reviewer")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.click("#action-accept button")
    page.wait_for_selector("#project-state:has-text('已受理')")
    page.click("#action-start_review button")
    page.wait_for_selector("#project-state:has-text('专家评审中')")
    experts = list(ExpertAssignment.objects.filter(project=project).values_list("expert__username", flat=True))
    assert len(experts) == 3

    # 4. Three experts score (R13).
    for username, score in zip(experts, ("82", "88", "91")):
        login(page, live_server.url, username)
        page.goto(f"{live_server.url}/projects/reviews/")
        page.click("#my-reviews a.btn")
        page.fill("#id_feasibility", score)
        page.fill("#id_terms", score)
        page.fill("#id_cost", score)
        page.fill("#id_opinion", "技术路线可行，经费测算合理")
        page.click("#review-form button[type=submit]")
        page.wait_for_selector("#my-reviews")

    # 5. The reviewer sees the mean and approves; the page shows the notice number.
    login(page, live_server.url, "reviewer")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    assert "87.00" in page.inner_text("#mean-score")
    page.fill("#reason-approve", "专家评审通过，予以立项")
    page.click("#action-approve button")
    page.wait_for_selector("#notice-number")
    assert re.search(r"萧科安〔\d{4}〕\d+号", page.inner_text("#notice-number"))
    assert page.inner_text("#project-state") == "已立项"
