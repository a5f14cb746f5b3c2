"""In real Chromium: the home page of every role, the project page and the proposal form work under the
Content-Security-Policy (docs/security.md) with no violation reported, and the security headers are sent."""
from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLE_USERS = ["enterprise", "platform", "reviewer", "expert1", "custodian", "poolmanager", "auditor", "finance"]
# Reported to the page by the browser for every refused script, style, image, frame or connection.
LISTEN = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});"""


def test_pages_work_under_the_csp_without_violations(live_server, page):
    from projects.models import Project

    call_command("seed_demo", stdout=io.StringIO())
    project = Project.objects.filter(enterprise__users__username="enterprise", state="active").order_by("pk").first()
    base = live_server.url
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.add_init_script(LISTEN)

    visited = []

    def visit(path: str) -> None:
        response = page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
        assert response.status == 200, path
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]
        assert page.evaluate("typeof window.htmx") == "object", path  # the scripts ran
        violations = page.evaluate("window.__csp")
        assert not violations, (path, violations)
        visited.append(path)

    for username in ROLE_USERS:
        login(page, base, username)
        visit("/")
    login(page, base, "enterprise")
    visit(f"/projects/{project.pk}/")
    assert page.locator("#milestone-timeline").count() == 1  # the inline SVG timeline is drawn
    visit("/projects/new/")
    page.click("#add-milestone")  # the formset's script (static/js/app.js) still adds a row
    assert page.locator("#ms-rows .milestone-row").count() >= 2
    page.select_option("select[name=language]", "en")  # the language switch submits without an inline handler
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert not page.evaluate("window.__csp")
    blocked = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert not blocked, blocked
    assert len(visited) == len(ROLE_USERS) + 2
