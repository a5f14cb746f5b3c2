"""In real Chromium on the demo data: every role's work list, axe-core on the main pages, the phone layout.

axe-core is the unmodified ``axe.min.js`` of the npm package, vendored under tests/browser_assets/axe-core
(MPL-2.0, see its README): injected into the page under test, never served by the application.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from dashboards.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "browser_assets" / "axe-core" / "axe.min.js"
# Who to sign in as for each role: the demo user of that role who has work waiting in the demo data.
WORKERS = {"enterprise": "enterprise", "platform": "platform2", "reviewer": "reviewer", "expert": "expert2",
           "custodian": "custodian", "pool_manager": "poolmanager", "finance": "finance", "auditor": "auditor"}
HOMES = ["enterprise", "platform", "reviewer", "expert1", "custodian", "poolmanager", "auditor", "finance"]


@pytest.fixture
def seeded(live_server):
    call_command("seed_demo", stdout=io.StringIO())
    return live_server.url


def work_rows(page) -> list[str]:
    return page.locator("#worklist tr.work-item").all_inner_texts()


def test_every_role_sees_its_work_list_with_an_action_on_each_row(seeded, page):
    page.set_default_timeout(20000)
    for role, username in WORKERS.items():
        login(page, seeded, username)
        assert page.locator("#worklist h2").inner_text().startswith("待办"), role
        assert page.locator("text=尚无业务角色").count() == 0, role
        rows = work_rows(page)
        if role == "auditor":  # the demo's audits are all recorded: an empty list says so
            assert not rows and page.locator("#worklist").inner_text().count("今天没有等您处理的事项")
            continue
        assert rows, f"{role} ({username}) has work in the demo data but an empty list"
        dates = [r.split()[0] for r in rows]
        assert dates == sorted(dates), f"{role}: not oldest first: {dates}"
        buttons = page.locator("#worklist tr.work-item a.btn")
        assert buttons.count() == len(rows)
        href = buttons.first.get_attribute("href")
        response = page.goto(f"{seeded}{href}")
        assert response.status == 200, f"{role}: {href} answered {response.status}"


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.impact + " " + v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""")
    return result


def test_axe_finds_no_serious_or_critical_violation(seeded, page):
    from projects.models import Project

    page.set_default_timeout(30000)
    project = Project.objects.filter(enterprise__users__username="enterprise", state="active").order_by("pk").first()
    found = {}
    for username in HOMES:
        login(page, seeded, username)
        found[f"/ as {username}"] = axe_violations(page)
    login(page, seeded, "enterprise")
    for path in (f"/projects/{project.pk}/", "/projects/new/"):
        page.goto(f"{seeded}{path}")
        page.wait_for_load_state("load")
        found[path] = axe_violations(page)
    assert not {k: v for k, v in found.items() if v}, found


def test_project_page_fits_a_phone_with_the_menu_collapsed(seeded, browser):
    from projects.models import Project

    project = Project.objects.filter(enterprise__users__username="enterprise", state="active").order_by("pk").first()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(20000)
        login(page, seeded, "enterprise")
        page.goto(f"{seeded}/projects/{project.pk}/")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] <= 844 * 0.25, header
        nav = page.locator("nav.mainnav")
        assert not nav.is_visible()  # behind the menu button
        page.click("button.menu-toggle")
        assert nav.is_visible() and page.locator("button.menu-toggle").get_attribute("aria-expanded") == "true"
        page.locator("nav.mainnav a").first.wait_for(state="visible")
        page.click("button.menu-toggle")
        assert not nav.is_visible()
    finally:
        context.close()
