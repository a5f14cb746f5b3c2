"""In real Chromium, the two custodian operators (maker–checker): the maker orders a release and confirms its
summary; the checker reads the evidence and rejects it with a reason; the maker orders again; the checker
confirms; the milestone is released once."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from tests.test_milestones_browser import checker_confirms, row  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "伺服电机样机联合研发"


def order_release(page, url: str, demo) -> None:
    """The maker: 拨付 → the confirmation page (payee, amount, account in words, evidence) → 确认执行."""
    page.goto(url)
    row(page, 1).locator("[data-action=release]").click()
    summary = page.locator("#action-confirm")
    summary.wait_for()
    text = summary.inner_text()
    assert demo.plat1.name in text and "¥1,500,000.00" in text and f"托管账户·{TITLE}·里程碑 1" in text
    assert "测试报告.pdf" in text and "回单.pdf" in text and "按计划完成" in text
    page.locator("#action-confirm [data-action=confirm]").click()
    page.wait_for_selector(".msg-success")
    assert row(page, 1).locator(".op .state-awaiting_confirmation").count() == 1
    assert row(page, 1).locator("[data-action=review_operation]").count() == 0  # not for the maker


def test_maker_confirms_summary_checker_rejects_with_reason_then_confirms_the_new_order(
        live_server, page, demo, ledger_ok):
    from escrow.models import JournalEntry, MoneyOperation
    from projects import milestones as ms
    from projects.models import Milestone
    from projects.tests.steps import fresh, releasable_milestone

    m = releasable_milestone(demo, "1500000.00", deposit="150000.00", title=TITLE, reason="样机指标全部达到")
    project = m.project
    entries = JournalEntry.objects.count()
    base = live_server.url
    url = f"{base}/projects/{project.pk}/"

    login(page, base, "custodian")
    order_release(page, url, demo)
    assert JournalEntry.objects.count() == entries  # awaiting the second operator: nothing moved

    login(page, base, "custodian2")
    page.goto(url)
    row(page, 1).locator("[data-action=review_operation]").click()
    review = page.locator("#operation-review")
    review.wait_for()
    text = review.inner_text()
    assert demo.plat1.name in text and "¥1,500,000.00" in text and "样机指标全部达到" in text
    with page.expect_download() as download:  # the evidence downloads
        review.locator("a[data-evidence]:has-text('测试报告.pdf')").click()
    assert download.value.suggested_filename == "测试报告.pdf"
    page.fill("textarea[name=reason]", "测试报告未盖第三方检测机构公章，请补正后重新发起")
    page.locator("[data-action=reject_operation]").click()
    page.wait_for_selector(".msg-success")
    assert page.url.startswith(url)  # back on the project page
    assert "测试报告未盖第三方检测机构公章" in row(page, 1).locator(".op-rejected").inner_text()
    assert fresh(m).state == "releasable" and JournalEntry.objects.count() == entries

    login(page, base, "custodian")  # the maker is told, and may order again
    assert demo.custodian.notifications.filter(verb="operation_rejected").count() == 1
    order_release(page, url, demo)

    checker_confirms(page, base, url)
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "released"
    released = MoneyOperation.objects.filter(purpose=ms.P_RELEASE)
    assert sorted(released.values_list("state", flat=True)) == ["done", "failed"]
    assert JournalEntry.objects.count() == entries + 1  # exactly one release
    assert Milestone.objects.get(pk=m.pk).released_amount == 1500000
