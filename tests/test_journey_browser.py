"""In real Chromium: one project from filing to close through every role, clicking through the pages only.

Enterprise files (2 milestones, plan + agreement) → platform signs (揭榜) → reviewer accepts, starts the
review (experts drawn) → 3 experts score (R13) → reviewer approves (notice number, advance B posted, I2) →
reviewer opens escrow (R14) → per milestone: receipt, deposit confirmed (R5/R7), completion reported with
evidence, found met, balance receipt and confirmation, release (R7) — milestone 2's tranche is above the
dual-control threshold, so a second custodian operator confirms it (maker–checker) → reviewer closes with
the advance repaid (I2) → the auditor opens the project and has its dossier rendered (PDF) → the year's grant:
the auditor records the audited input, the enterprise its acceptance opinion, the reviewer computes and approves,
the finance bureau pays (R11, R15). Before it all, the pool manager records a top-up of the pool (R3, I1).

Where a role's home page lists what waits on the user (reviewer queues, the enterprise's payments due,
operations awaiting a second custodian), the journey starts from there. The only service calls are the
``demo`` fixture's users, organisations and funded pool.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from core.money import format_cny  # noqa: E402
from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from projects.tests.factories import PDF_BYTES  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "全流程：高精度伺服电机联合研发"
T1, D1 = "1000000.00", "100000.00"   # at the threshold: one custodian operator releases it
T2, D2 = "2000000.00", "200000.00"   # above 1,000,000.00: a second operator must confirm (maker–checker)
BUDGET = "1000000.00"                # B ≥ first tranche (R6); advanced at approval, repaid at close (I2)


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}


def open_project(page) -> None:
    """From wherever the user is: the nav's 合作项目, then the project's title."""
    page.click("nav.mainnav a[href='/projects/']")
    page.click(f"#project-list a:has-text('{TITLE}')")
    page.wait_for_selector("#project-state")


def from_home(page, card: str) -> None:
    """The role's home page lists what waits on the user: follow the project's link in that card."""
    assert page.locator("h1").inner_text() == "工作台"
    page.click(f"{card} a:has-text('{TITLE}')")
    page.wait_for_selector("#project-state")


def submit_confirmed(page, button) -> None:
    """A money or official action: its page first says what it will do (payee, amount, account, evidence);
    confirm there."""
    submit(page, button)
    assert page.locator("#action-confirm").count() == 1
    submit(page, page.locator("#action-confirm [data-action=confirm]"))


def submit(page, button) -> None:
    """Click a form's button, wait for the page it redirects to (or, for a form that htmx answers in place,
    for its section to be swapped in), and fail on an error message."""
    if button.evaluate("b => !!(b.form && b.form.hasAttribute('hx-post'))"):
        with page.expect_response(lambda r: r.request.method == "POST"):
            button.click()
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    else:
        with page.expect_navigation():
            button.click()
    errors = page.locator(".msg-error")
    assert errors.count() == 0, errors.all_inner_texts()


def detail(page, seq: int):
    return page.locator(f"#m{seq} + tr.milestone-detail")


def state_of(page, seq: int) -> str:
    return page.locator(f"#m{seq} [data-state]").get_attribute("data-state")


def fill_milestone(page, i: int, title: str, targets: str, amount: str, deposit: str, start: str, due: str) -> None:
    page.fill(f"#id_ms-{i}-title", title)
    page.fill(f"#id_ms-{i}-targets", targets)
    page.fill(f"#id_ms-{i}-deliverables", f"{title}报告")
    page.fill(f"#id_ms-{i}-amount", amount)
    page.fill(f"#id_ms-{i}-deposit_amount", deposit)
    page.fill(f"#id_ms-{i}-start_date", start)
    page.fill(f"#id_ms-{i}-due_date", due)


def run_milestone(page, base: str, seq: int, amount: str, deposit: str, *, second_custodian: bool) -> None:
    balance = str(Decimal(amount) - Decimal(deposit))  # what the custodian types: T − D
    # The enterprise pays the deposit and uploads the bank receipt (payment reference shown).
    login(page, base, "enterprise")
    from_home(page, "#enterprise-todo")  # the deposit due, with its payment reference
    assert re.search(rf"AXB-\d+-{seq}", detail(page, seq).locator(".pay-instructions").inner_text())
    detail(page, seq).locator("input[type=file][name=file]").set_input_files(files=[pdf(f"保证金回单{seq}.pdf")])
    submit(page, detail(page, seq).locator("[data-action=upload_receipt]"))
    assert f"保证金回单{seq}.pdf" in detail(page, seq).inner_text()

    # The custodian confirms the deposit received (D ≤ amount ≤ T: R5 for milestone 1, R7 after).
    login(page, base, "custodian")
    open_project(page)
    detail(page, seq).locator("input[name=amount]").fill(deposit)
    detail(page, seq).locator("input[name=bank_ref]").fill(f"HZRCB2025{seq:02d}01")
    submit_confirmed(page, detail(page, seq).locator("[data-action=confirm_deposit]"))
    assert state_of(page, seq) == "in_progress"

    # The platform reports completion, a note against each target, with evidence.
    login(page, base, "platform")
    open_project(page)
    row = detail(page, seq)
    row.locator("textarea[name=description]").fill(f"第{seq}阶段目标已完成")
    targets = row.locator("input[name^=target_]")
    for i in range(targets.count()):
        targets.nth(i).fill("已完成，见测试报告")
    row.locator("input[name=files]").set_input_files(files=[pdf(f"成果证明{seq}.pdf")])
    submit(page, row.locator("[data-action=report_completion]"))
    assert state_of(page, seq) == "reported"

    # The bureau finds it met: the balance T − paid in is now due (R7).
    login(page, base, "reviewer")
    from_home(page, "#queue-reported")  # 待验收里程碑
    detail(page, seq).locator("input[name=reason]").fill("达到约定目标")
    submit(page, detail(page, seq).locator("[data-action=review_met]"))
    assert state_of(page, seq) == "balance_due"

    # The enterprise pays the balance and uploads its receipt; the custodian confirms it.
    login(page, base, "enterprise")
    from_home(page, "#enterprise-todo")  # now the balance due
    assert "付款说明" in detail(page, seq).inner_text()
    detail(page, seq).locator("input[type=file][name=file]").set_input_files(files=[pdf(f"尾款回单{seq}.pdf")])
    submit(page, detail(page, seq).locator("[data-action=upload_receipt]"))
    login(page, base, "custodian")
    open_project(page)
    detail(page, seq).locator("input[name=amount]").fill(balance)
    detail(page, seq).locator("input[name=bank_ref]").fill(f"HZRCB2025{seq:02d}02")
    submit_confirmed(page, detail(page, seq).locator("[data-action=confirm_balance]"))
    assert state_of(page, seq) == "releasable"

    # The custodian releases T to the platform; above the threshold a second operator confirms.
    release = detail(page, seq).locator("[data-action=release]")
    assert release.inner_text() == f"拨付 {format_cny(Decimal(amount))} 给平台"  # grouped, as everywhere else
    submit_confirmed(page, release)
    if second_custodian:
        assert state_of(page, seq) == "releasable"
        assert detail(page, seq).locator(".op .state-awaiting_confirmation").count() == 1
        assert detail(page, seq).locator("[data-action=review_operation]").count() == 0  # not for the maker
        # The maker's home page says someone else must confirm; the second operator's sends them to the desk.
        page.click("nav.mainnav a[href='/']")
        assert "本人申请，须由他人复核" in page.inner_text("#custodian-awaiting")
        login(page, base, "custodian2")
        page.click("#custodian-awaiting a:has-text('去复核')")
        page.click(f"tr:has-text('{TITLE}') [data-action=review_operation]")  # the order in words, its evidence
        assert f"成果证明{seq}.pdf" in page.inner_text("#operation-review")
        submit(page, page.locator("button:has-text('复核并执行')"))
        open_project(page)
    assert state_of(page, seq) == "released"


def test_one_project_from_filing_to_close_through_every_role(demo, live_server, page):
    from django.utils import timezone

    from core.tests.factories import scheme_in_force
    from escrow import accounts
    from escrow.invariants import assert_ledger_invariants
    from escrow.selectors import account_balance
    from projects.models import Project

    page.set_default_timeout(20000)
    base = live_server.url
    scheme_in_force()  # I16: filed under the version in force today

    # 0. The pool manager records a top-up of the risk pool decided by the bureaus (R3, I1).
    login(page, base, "poolmanager")
    with page.expect_navigation():
        page.click("nav.mainnav a[href='/escrow/pool/']")
    page.fill("#id_amount", "5000000.00")
    page.fill("#id_decided_on", "2025-05-20")
    page.fill("#id_decision_ref", "萧科〔2025〕18号")
    submit(page, page.locator("form button:has-text('记账')"))
    assert "¥5,000,000.00" in page.inner_text("#action-confirm")  # said in words before it is recorded
    submit(page, page.locator("#action-confirm [data-action=confirm]"))
    assert page.inner_text("#pool-funding") == "¥105,000,000.00"

    # 1. The enterprise files the proposal with two milestones, its plan and agreement attached, and submits.
    login(page, base, "enterprise")
    page.click("nav.mainnav a[href='/projects/']")
    page.click("#new-project")
    page.select_option("#id_platform", label=demo.plat1.name)
    page.select_option("#id_mode", "project_cooperation")
    page.fill("#id_title", TITLE)
    page.fill("#id_total_amount", "3500000.00")
    page.fill("#id_equipment_amount", "500000.00")  # net 3,000,000 = T1 + T2 (R2, I9)
    page.fill("#id_budget", BUDGET)
    page.fill("#id_start_date", "2025-06-01")
    page.fill("#id_end_date", "2027-05-31")
    page.fill("#id_ip_terms", "阶段成果归企业，基础算法归平台")  # R4: required at submission
    page.fill("#id_profit_sharing", "产业化后按销售额 3% 分成五年")
    page.click("#add-milestone")
    fill_milestone(page, 0, "样机设计", "伺服精度 ±0.01°\n样机一台", T1, D1, "2025-06-01", "2026-03-31")
    fill_milestone(page, 1, "小批量试产", "试产 50 台", T2, D2, "2026-04-01", "2027-03-31")
    for kind, name in (("plan", "合作方案.pdf"), ("agreement", "合作协议.pdf")):  # R12: filed with the proposal
        page.set_input_files(f"#id_{kind}", files=[pdf(name)])
    submit(page, page.locator("#submit-proposal"))
    assert page.inner_text("#project-state") == "已提交"
    for name in ("合作方案.pdf", "合作协议.pdf"):
        page.wait_for_selector(f"#attachments a:has-text('{name}')")

    # 2. The platform signs (揭榜).
    login(page, base, "platform")
    open_project(page)
    submit(page, page.locator("#action-platform_sign button"))
    assert page.inner_text("#project-state") == "已揭榜"

    # 3. The reviewer accepts (受理) and starts the review, which draws the experts (R13).
    login(page, base, "reviewer")
    from_home(page, "#queue-signed")  # 待受理
    submit(page, page.locator("#action-accept button"))
    assert page.inner_text("#project-state") == "已受理"
    submit(page, page.locator("#action-start_review button"))
    assert page.inner_text("#project-state") == "专家评审中"
    assert page.locator("#reviews tbody tr").count() == 3

    # 4. Three experts score; each finds the task under 我的评审 (an expert not drawn has none).
    scored = 0
    for username in ("expert1", "expert2", "expert3", "expert4"):
        login(page, base, username)
        with page.expect_navigation():  # count() does not wait: be on 我的评审 before counting its tasks
            page.click("nav.mainnav a[href='/projects/reviews/']")
        page.wait_for_selector("#my-reviews")
        task = page.locator("#my-reviews a.btn")
        if task.count() == 0:
            continue
        task.first.click()
        page.wait_for_selector("#review-form")
        for field in ("#id_feasibility", "#id_terms", "#id_cost"):
            page.fill(field, str(80 + 3 * scored))
        page.fill("#id_opinion", "技术路线可行，经费测算合理")
        submit(page, page.locator("#review-form button[type=submit]"))
        scored += 1
    assert scored == 3

    # 5. The reviewer approves: the notice number appears; then opens the escrow channel (R14).
    login(page, base, "reviewer")
    assert "3/3" in page.inner_text(f"#queue-under_review tr:has-text('{TITLE}')")  # every expert has scored
    from_home(page, "#queue-under_review")
    assert "83.00" in page.inner_text("#mean-score")
    page.fill("#reason-approve", "专家评审通过，予以立项")
    submit(page, page.locator("#action-approve button"))
    assert page.inner_text("#project-state") == "已立项"
    assert re.search(r"萧科安〔\d{4}〕\d+号", page.inner_text("#notice-number"))
    # The 办理 card no longer lists the six proposal actions as greyed-out buttons: it points to the panel.
    assert page.locator("#actions .action-missing").count() == 0
    assert page.locator("#actions-in-milestones a[href='#milestones']").count() == 1
    submit(page, page.locator("#milestones [data-action=open_escrow]"))
    assert page.inner_text("#project-state") == "实施中"
    assert state_of(page, 1) == "deposit_due" and state_of(page, 2) == "planned"

    # 6. Both milestones through deposit, report, review, balance and release.
    run_milestone(page, base, 1, T1, D1, second_custodian=False)
    run_milestone(page, base, 2, T2, D2, second_custodian=True)

    # 7. The reviewer closes the project; the platform repays the advance in full (I2).
    login(page, base, "reviewer")
    open_project(page)
    page.fill("#milestones input[name=repaid_amount]", BUDGET)
    submit_confirmed(page, page.locator("#milestones [data-action=close]"))
    assert page.inner_text("#project-state") == "已结项"

    # 8. The auditor views the project and has its dossier rendered (the page polls until done).
    login(page, base, "auditor")
    open_project(page)
    assert page.inner_text("#project-state") == "已结项"
    history = page.inner_text("#history")
    for label in ("提交申报", "揭榜", "受理", "开始专家评审", "立项", "开通保证金通道", "结项"):
        assert label in history, label
    for seq in (1, 2):
        svg_row = page.locator(f"#milestone-timeline g.tl-row[data-seq='{seq}']")
        assert svg_row.get_attribute("data-state") == "released"
        assert svg_row.locator("rect.tl-released").count() == 1
    assert "拨付 ¥2,000,000.00" in page.locator("#milestone-timeline g.tl-row[data-seq='2']").inner_html()
    dossier = page.locator("#documents form:has(input[name=kind][value=project_dossier]) button")
    submit(page, dossier)
    page.wait_for_selector("#report-progress[data-state=done]", timeout=60000)
    assert "项目档案" in page.inner_text("h1")
    with page.expect_download() as download:
        page.click("#report-progress a.btn")
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    # 9. The year's grant (R11, R15): the auditor records the audited input, the enterprise gives its
    #    acceptance opinion, the reviewer computes and approves, the finance bureau pays.
    year = str(timezone.localdate().year)  # both milestones were released today

    def go(selector: str) -> None:  # follow a link and be on the new page before reading it
        with page.expect_navigation():
            page.click(selector)

    def subsidies_year(section: str) -> None:
        go("nav.mainnav a[href='/subsidies/']")
        if section:
            go(f"nav.subnav a[href='{section}']")
        page.select_option("select[name=year]", year)
        with page.expect_navigation():
            page.click("form.actions button[type=submit]")

    login(page, base, "auditor")
    subsidies_year("/subsidies/audits/")
    go(f"tr:has-text('{TITLE}') a:has-text('登记审计')")  # the ledger's input for the year, filled in
    assert Decimal(page.input_value("#id_audited_input")) == Decimal("3000000.00")
    submit(page, page.locator("#audit-form button[type=submit]"))
    login(page, base, "enterprise")
    subsidies_year("/subsidies/audits/")
    go(f"a:has-text('{TITLE}')")
    page.fill("#id_opinion", "同意审计结论")
    submit(page, page.locator("button:has-text('提交验收意见')"))
    login(page, base, "reviewer")
    subsidies_year("")
    submit(page, page.locator("button:has-text('测算研发投入资助')"))
    go(f"a[href*='/subsidies/grant/']:has-text('{demo.ent1.name}')")
    submit(page, page.locator("button:has-text('审定')"))
    login(page, base, "finance")
    subsidies_year("")
    go(f"a[href*='/subsidies/grant/']:has-text('{demo.ent1.name}')")
    page.fill("#id_amount", "900000.00")  # 30 % × 3,000,000.00, no claims, under the cap
    page.fill("#id_paid_on", timezone.localdate().isoformat())
    page.fill("#id_voucher", f"财拨{year}-001")
    submit(page, page.locator("form button:has-text('登记拨付')"))
    assert "¥900,000.00" in page.inner_text("main") and "财拨" in page.inner_text("main")

    # The ledger: every invariant holds; custody emptied, the advance returned to the pool.
    project = Project.objects.get(title=TITLE)
    assert project.state == "completed"
    assert [m.released_amount for m in project.milestones.order_by("seq")] == [1000000, 2000000]
    assert account_balance(accounts.pool_advanced(project.pk)) == 0
    for m in project.milestones.all():
        assert account_balance(accounts.custody(project.pk, m.seq)) == 0
    assert_ledger_invariants()
