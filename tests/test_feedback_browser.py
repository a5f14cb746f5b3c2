"""In real Chromium: the message of a form appears next to what was acted on, inside the viewport, with what
was typed kept when it is refused (htmx, and the same without JavaScript); the milestone table on a phone."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from tests.test_csp_browser import LISTEN  # noqa: E402  (the page's record of what its CSP refused)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXE = b"MZ\x90\x00\x03\x00\x00\x00 an executable renamed .pdf"
TYPED_AMOUNT, TYPED_REF = "15O,000.00", "HZRCB20250401001"  # a letter O typed for a zero


def detail(page, seq: int):
    return page.locator(f"#m{seq} + tr.milestone-detail")


def in_viewport(locator) -> bool:
    """The element's box lies wholly inside the window as the person sees it now."""
    return locator.evaluate("""el => { const r = el.getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0
               && r.right <= window.innerWidth; }""")


def project_with_deposit_due(demo, **kw):
    from projects import milestones as ms
    from projects.tests.factories import tranche_project

    project = tranche_project(demo, tranches=[("1500000.00", "150000.00"), ("1500000.00", "150000.00"),
                                               ("1500000.00", "150000.00")], budget="1500000.00", **kw)
    ms.project_open_escrow(project=project, actor=demo.reviewer)
    return project


def long_project_page(page, base, project) -> None:
    """The project page, scrolled so that the milestones are the part in view (as after following a link)."""
    page.goto(f"{base}/projects/{project.pk}/")
    page.locator("#m1").scroll_into_view_if_needed()


def test_mistyped_amount_is_refused_next_to_the_form_with_what_was_typed_kept(live_server, page, demo):
    project = project_with_deposit_due(demo)
    base = live_server.url
    page.add_init_script(LISTEN)
    login(page, base, "custodian")
    long_project_page(page, base, project)
    row = detail(page, 1)
    row.locator("input[name=amount]").fill(TYPED_AMOUNT)
    row.locator("input[name=bank_ref]").fill(TYPED_REF)
    with page.expect_response(lambda r: "/confirm_deposit/" in r.url) as answer:
        row.locator("[data-action=confirm_deposit]").click()
    assert answer.value.status == 422
    message = row.locator("[data-feedback] .msg-error")
    message.wait_for()
    assert "金额格式不正确" in message.inner_text()
    assert in_viewport(message)
    assert in_viewport(row.locator("input[name=amount]"))  # the form it speaks of is beside it
    assert row.locator("input[name=amount]").input_value() == TYPED_AMOUNT
    assert row.locator("input[name=bank_ref]").input_value() == TYPED_REF
    assert page.locator("main > ul.messages").count() == 0  # nothing at the top of the page
    assert not page.evaluate("window.__csp")  # the swapped section obeys the CSP
    # corrected in place, it is summed up on the confirmation page; confirmed, the success is said at the
    # milestone
    row.locator("input[name=amount]").fill("1500000.00")
    row.locator("[data-action=confirm_deposit]").click()
    page.locator("[data-action=confirm]").click()
    page.locator("#m1 [data-state=in_progress]").wait_for()
    assert in_viewport(detail(page, 1).locator("[data-feedback] .msg-success"))


def test_executable_renamed_pdf_is_refused_next_to_the_upload_form(live_server, page, demo):
    from projects.tests.factories import project_at

    project = project_with_deposit_due(demo)
    proposal = project_at(demo, "submitted")
    base = live_server.url
    login(page, base, "enterprise")
    long_project_page(page, base, project)
    row = detail(page, 1)
    row.locator("input[type=file][name=file]").set_input_files(
        files=[{"name": "回单.pdf", "mimeType": "application/pdf", "buffer": EXE}])
    row.locator("[data-action=upload_receipt]").click()
    message = row.locator("[data-feedback] .msg-error")
    message.wait_for()
    assert in_viewport(message) and in_viewport(row.locator("[data-action=upload_receipt]"))

    page.goto(f"{base}/projects/{proposal.pk}/")
    page.select_option("#upload-form select[name=kind]", "agreement")
    page.set_input_files("#upload-form input[type=file]",
                         files=[{"name": "签字版.pdf", "mimeType": "application/pdf", "buffer": EXE}])
    page.click("#upload-form button[type=submit]")
    message = page.locator("#attachments [data-feedback] .msg-error")
    message.wait_for()
    assert in_viewport(message) and in_viewport(page.locator("#upload-form button[type=submit]"))
    assert page.locator("#upload-form select[name=kind]").input_value() == "agreement"  # kept
    assert "签字版.pdf" not in page.inner_text("#attachments table")


def test_successful_milestone_action_is_said_next_to_the_milestone_and_the_count_follows(live_server, page, demo):
    from core.models import Notification
    from projects.tests.factories import PDF_BYTES

    project = project_with_deposit_due(demo)
    base = live_server.url
    login(page, base, "enterprise")
    long_project_page(page, base, project)
    before = page.locator("#unread-count").inner_text()
    Notification.objects.create(user=demo.enterprise, verb="x", text="另一件事", url="/elsewhere/")  # arrives now
    row = detail(page, 1)
    row.locator("input[type=file][name=file]").set_input_files(
        files=[{"name": "保证金回单.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    row.locator("[data-action=upload_receipt]").click()
    message = detail(page, 1).locator("[data-feedback] .msg-success")
    message.wait_for()
    assert in_viewport(message)
    assert "保证金回单.pdf" in detail(page, 1).inner_text()
    expected = Notification.objects.filter(user=demo.enterprise, read_at__isnull=True).count()
    badge = page.locator("#unread-count")
    assert badge.is_visible() and badge.inner_text() == str(expected) != before  # the header counts it now


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_without_javascript_the_page_lands_at_the_milestone_with_its_message_and_typed_values(
        live_server, no_js_page, demo):
    page = no_js_page
    project = project_with_deposit_due(demo)
    base = live_server.url
    login(page, base, "custodian")
    page.goto(f"{base}/projects/{project.pk}/")
    row = detail(page, 1)
    row.locator("input[name=amount]").fill(TYPED_AMOUNT)
    row.locator("input[name=bank_ref]").fill(TYPED_REF)
    with page.expect_navigation():
        row.locator("[data-action=confirm_deposit]").click()
    assert page.url.endswith(f"/projects/{project.pk}/#m1")
    message = detail(page, 1).locator("[data-feedback] .msg-error")
    assert "金额格式不正确" in message.inner_text()
    assert in_viewport(message)
    assert row.locator("input[name=amount]").input_value() == TYPED_AMOUNT
    assert row.locator("input[name=bank_ref]").input_value() == TYPED_REF
    row.locator("input[name=amount]").fill("1500000.00")
    with page.expect_navigation():
        row.locator("[data-action=confirm_deposit]").click()
    with page.expect_navigation():
        page.locator("[data-action=confirm]").click()  # the confirmation page, then the milestone
    assert page.url.endswith(f"/projects/{project.pk}/#m1")
    assert page.locator("#m1 [data-state]").get_attribute("data-state") == "in_progress"
    message = detail(page, 1).locator("[data-feedback] .msg-success")
    assert in_viewport(message)


def test_phone_reads_the_milestone_table_as_cards_without_sideways_scroll(live_server, browser, demo):
    project = project_with_deposit_due(demo, title="面向新能源汽车电驱系统的高精度伺服电机与控制器联合研发项目")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        for username in ("custodian", "enterprise", "reviewer"):
            login(page, live_server.url, username)
            page.goto(f"{live_server.url}/projects/{project.pk}/")
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, username
            table = page.locator("table.milestones")
            assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), username  # no scroll inside either
            labels = page.locator("table.milestones td[data-label]")
            assert labels.count() >= 7 * 3
            assert labels.first.get_attribute("data-label") == "状态"
            assert labels.first.evaluate("td => getComputedStyle(td, '::before').content") not in ("none", "normal")
            badges = page.locator("table.milestones .state[data-state]")
            assert badges.count() == 3
            for i in range(badges.count()):
                lines = badges.nth(i).evaluate("""el => { const range = document.createRange();
                    range.selectNodeContents(el);
                    return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size; }""")
                box = badges.nth(i).bounding_box()
                size = badges.nth(i).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
                assert lines <= 2 and box["height"] <= 2 * 1.6 * size + 8, (username, i, lines, box)
    finally:
        context.close()
