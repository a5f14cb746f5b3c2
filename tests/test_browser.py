"""Real Chromium (Playwright): log in, see the layout with its local assets, switch to English."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

# No skip when Chromium is missing: like every browser test, this one must fail loudly then
# (.ci/run installs Debian's chromium).
pytestmark = [pytest.mark.browser]


@pytest.fixture
def seeded_server(transactional_db, live_server):
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


def test_browser_login_layout_and_language_switch(seeded_server, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{seeded_server.url}/accounts/login/")
    page.fill("#id_username", "enterprise")
    page.fill("#id_password", "anxinbao-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{seeded_server.url}/")
    assert page.locator("h1").inner_text() == "工作台"
    assert page.evaluate("typeof window.htmx") == "object"  # htmx loaded from /static/
    assert all(url.startswith(seeded_server.url) for url in requests), requests

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("button:has-text('Log out')").count() == 1

    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{seeded_server.url}/accounts/login/")
    assert page.locator("h1").inner_text() == "Log in"
