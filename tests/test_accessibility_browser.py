"""In real Chromium on the demo data: axe-core on the main pages, and the layout on a phone.

axe-core is the unmodified ``axe.min.js`` of the npm package, vendored under tests/browser_assets/axe-core
(MPL-2.0, see its README): injected into the page under test, never served by the application.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from tests.test_browser import seeded_server  # noqa: E402,F401  (the demo data behind a live server)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_server")]

AXE = Path(__file__).parent / "browser_assets" / "axe-core" / "axe.min.js"
HOMES = ["enterprise", "platform", "reviewer", "expert1", "custodian", "poolmanager", "auditor", "finance"]


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script tag, which the pages' CSP refuses (as it should): the test browser lets it in."""
    return {**browser_context_args, "bypass_csp": True}


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.impact + " " + v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""")
    return result


def test_axe_finds_no_serious_or_critical_violation(live_server, page):
    from projects.models import Project

    page.set_default_timeout(30000)
    project = Project.objects.filter(enterprise__users__username="enterprise", state="active").order_by("pk").first()
    seeded = live_server.url
    found = {}
    for username in HOMES:
        login(page, seeded, username)
        found[f"/ as {username}"] = axe_violations(page)
    login(page, seeded, "enterprise")
    for path in (f"/projects/{project.pk}/", "/projects/new/"):
        page.goto(f"{seeded}{path}")
        page.wait_for_load_state("load")
        found[path] = axe_violations(page)
    assert not {k: v for k, v in found.items() if v}, {k: v for k, v in found.items() if v}


def test_project_page_fits_a_phone_with_the_menu_collapsed(live_server, browser):
    from projects.models import Project

    project = Project.objects.filter(enterprise__users__username="enterprise", state="active").order_by("pk").first()
    seeded = live_server.url
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
