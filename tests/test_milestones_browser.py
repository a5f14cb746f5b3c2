"""In real Chromium: receipt, confirmation, report, met, release by one custodian, confirmation by a second,
and the timeline shows the released milestone."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(page, seq: int):
    return page.locator(f"#m{seq} + tr.milestone-detail")


def checker_confirms(page, base: str, url: str) -> None:
    """The second custodian operator opens milestone 1's order awaiting confirmation, reads it, confirms it."""
    login(page, base, "custodian2")
    page.goto(url)
    row(page, 1).locator("[data-action=review_operation]").click()
    page.locator("#operation-review").wait_for()
    page.locator("[data-action=confirm_operation]").click()
    page.wait_for_selector(".msg-success")


def test_milestone_release_with_second_custodian_in_chromium(live_server, page, demo, tmp_path, ledger_ok):
    from projects import milestones as ms
    from projects.models import Milestone
    from projects.tests.factories import PDF_BYTES as PDF
    from projects.tests.factories import tranche_project

    project = tranche_project(demo, tranches=[("1500000.00", "150000.00"), ("1500000.00", "150000.00")],
                               budget="1500000.00", title="智能视觉检测样机研发")
    ms.project_open_escrow(project=project, actor=demo.reviewer)
    receipt = tmp_path / "bank-receipt.pdf"
    receipt.write_bytes(PDF)
    report_pdf = tmp_path / "test-report.pdf"
    report_pdf.write_bytes(PDF)
    base = live_server.url
    url = f"{base}/projects/{project.pk}/"  # the project page, which includes the milestone panel

    login(page, base, "enterprise")
    page.goto(url)
    assert f"AXB-{project.pk}-1" in row(page, 1).inner_text()  # payment instructions with the reference
    row(page, 1).locator("input[type=file][name=file]").set_input_files(str(receipt))
    row(page, 1).locator("[data-action=upload_receipt]").click()
    page.wait_for_selector(".msg-success")
    assert "bank-receipt.pdf" in row(page, 1).inner_text()

    login(page, base, "custodian")
    page.goto(url)
    row(page, 1).locator("input[name=amount]").fill("1500000.00")  # the whole tranche (R7)
    row(page, 1).locator("input[name=bank_ref]").fill("HZRCB20250401001")
    row(page, 1).locator("[data-action=confirm_deposit]").click()
    page.wait_for_selector("#action-confirm")  # the page says what it will do first
    page.locator("#action-confirm [data-action=confirm]").click()
    page.wait_for_selector(".msg-success")
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "in_progress"

    login(page, base, "platform")
    page.goto(url)
    detail = row(page, 1)
    detail.locator("textarea[name=description]").fill("样机通过测试")
    detail.locator("input[name=target_0]").fill("检测精度 99.2%")
    detail.locator("input[name=target_1]").fill("第三方测试报告已出具")
    detail.locator("input[name=files]").set_input_files(str(report_pdf))
    detail.locator("[data-action=report_completion]").click()
    page.wait_for_selector(".msg-success")
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "reported"

    login(page, base, "reviewer")
    page.goto(url)
    row(page, 1).locator("input[name=reason]").fill("达到约定目标")
    row(page, 1).locator("[data-action=review_met]").click()
    page.wait_for_selector(".msg-success")
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "releasable"

    login(page, base, "custodian")
    page.goto(url)
    row(page, 1).locator("[data-action=release]").click()
    page.wait_for_selector("#action-confirm")
    page.locator("#action-confirm [data-action=confirm]").click()
    page.wait_for_selector(".msg-success")
    assert row(page, 1).locator(".op .state-awaiting_confirmation").count() == 1
    assert row(page, 1).locator("[data-action=review_operation]").count() == 0  # not for the maker

    checker_confirms(page, base, url)
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "released"
    assert page.locator("#m2 [data-state]").get_attribute("data-state") == "deposit_due"
    svg_row = page.locator("#milestone-timeline g.tl-row[data-seq='1']")
    assert svg_row.get_attribute("data-state") == "released"
    assert svg_row.locator("rect.tl-released").count() == 1
    assert "拨付 ¥1,500,000.00" in svg_row.inner_html()
    assert Milestone.objects.get(project=project, seq=1).released_amount == 1500000
