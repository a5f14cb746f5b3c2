"""In real Chromium on the demo data: every role signs in and sees its work list, oldest first, each row with
an action that opens."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from demo.management.commands.screenshots import login  # noqa: E402  (one sign-in, as the screenshots use)
from tests.test_browser import seeded_server  # noqa: E402,F401  (the demo data behind a live server)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_server")]

# Who to sign in as for each role: the demo user of that role who has work waiting in the demo data.
WORKERS = {"enterprise": "enterprise", "platform": "platform2", "reviewer": "reviewer", "expert": "expert2",
           "custodian": "custodian", "pool_manager": "poolmanager", "finance": "finance", "auditor": "auditor"}


def work_rows(page) -> list[str]:
    return page.locator("#worklist tr.work-item").all_inner_texts()


def test_every_role_sees_its_work_list_with_an_action_on_each_row(live_server, page):
    page.set_default_timeout(20000)
    for role, username in WORKERS.items():
        login(page, live_server.url, username)
        assert page.locator("#worklist h2").inner_text().startswith("待办"), role
        assert page.locator("text=尚无业务角色").count() == 0, role
        rows = work_rows(page)
        if role in ("auditor", "finance"):  # the demo has no audit left to record and no approved figure to pay
            assert not rows and page.locator("#worklist").inner_text().count("今天没有等您处理的事项")
            continue
        assert rows, f"{role} ({username}) has work in the demo data but an empty list"
        dates = [r.split()[0] for r in rows]
        assert dates == sorted(dates), f"{role}: not oldest first: {dates}"
        buttons = page.locator("#worklist tr.work-item a.btn")
        assert buttons.count() == len(rows)
        href = buttons.first.get_attribute("href")
        response = page.goto(f"{live_server.url}{href}")
        assert response.status == 200, f"{role}: {href} answered {response.status}"
