"""Real Chromium: the proposal form works out the milestones' running total against the net funding (I9) and
each milestone's minimum deposit (R5/R7) as the person types, reading amounts as the server's one money parser
does ("120万", "1,200,000") and printing them as ``format_cny`` does. The server stays the authority."""
from __future__ import annotations

import os

import pytest

from core.exceptions import DomainError
from core.money import format_cny, parse_money_text
from core.tests.factories import scheme_in_force
from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def text(page, selector: str) -> str:
    return page.inner_text(selector).strip()


def min_deposit(page, i: int) -> str:
    return text(page, f"#ms-rows .milestone-row:nth-child({i + 1}) [data-min-deposit] output")


def test_running_total_and_minimum_deposits_follow_what_is_typed(demo, live_server, page):
    page.set_default_timeout(15000)
    scheme_in_force()  # the form shows the ratio of the version in force (10 %)
    login(page, live_server.url, "enterprise")
    page.goto(f"{live_server.url}/projects/new/")
    page.fill("#id_total_amount", "6,000,000")
    page.fill("#id_equipment_amount", "100万")
    assert text(page, "#net-funding") == "¥5,000,000.00"  # total − equipment (I9)
    assert text(page, "#milestone-sum") == "¥0.00"

    page.fill("#id_ms-0-amount", "120万")  # worked example 2: tranche 1 = 1,200,000 → at least 120,000.00
    assert min_deposit(page, 0) == "¥120,000.00"
    assert text(page, "#milestone-sum") == "¥1,200,000.00"
    assert text(page, "#funding-gap") == "尚差 ¥3,800,000.00"

    page.click("#add-milestone")
    page.fill("#id_ms-1-amount", "1,200,000")
    assert min_deposit(page, 1) == "¥120,000.00"
    assert text(page, "#milestone-sum") == "¥2,400,000.00"

    page.click("#add-milestone")
    page.fill("#id_ms-2-amount", "¥2,600,000.05")
    assert min_deposit(page, 2) == "¥260,000.005"  # exact, as the server's R7 message prints it
    assert text(page, "#funding-gap") == "超出 ¥0.05"
    page.fill("#id_ms-2-amount", "260万元")
    assert text(page, "#milestone-sum") == "¥5,000,000.00"
    assert text(page, "#funding-gap") == "与合作经费相符"

    page.fill("#id_ms-1-amount", "3万5千")  # refused by the server: not counted, and said so
    assert min_deposit(page, 1) == "—"
    assert text(page, "#milestone-sum") == "¥3,800,000.00"
    assert "有金额无法识别" in text(page, "#funding-gap")

    page.locator("#ms-rows .milestone-row").nth(2).locator("[data-formset-remove]").click()
    assert text(page, "#milestone-sum") == "¥1,200,000.00"  # a removed row no longer counts


CASES = ["1,200,000", "120万", "120万元", "¥1200000", "￥1,200,000.00", "１２０万", " 12.5 ", "0.01万", "-5",
         "12,34", "1.000,00", "1e5", "1_000", "3万5千", "万3", "3亿", "0.001", "0.00001万", "1234567890123",
         "999999999999.99", "", "abc", "¥", "+7.5", "¥ 120 万 元"]


def test_the_page_reads_and_prints_amounts_as_the_server_does(demo, live_server, page):
    """One reading of amounts: the page's script against core.money.parse_money / format_cny, case by case."""
    scheme_in_force()
    login(page, live_server.url, "enterprise")
    page.goto(f"{live_server.url}/projects/new/")
    page.wait_for_function("window.anxinbaoMoney !== undefined")
    shown = page.evaluate("""cases => cases.map(c => {
        const fen = window.anxinbaoMoney.parseFen(c);
        return fen === null ? null : window.anxinbaoMoney.formatFen(fen);
    })""", CASES)
    expected = []
    for case in CASES:
        try:
            expected.append(format_cny(parse_money_text(case)) if case.strip() else None)
        except DomainError:
            expected.append(None)
    assert dict(zip(CASES, shown)) == dict(zip(CASES, expected))
