"""The screenshots command: one demo user per role, sign-in through the login page, a 1280×800 PNG per page."""
from __future__ import annotations

import os
import struct

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from core.choices import Role  # noqa: E402
from demo.management.commands.screenshots import Shot, capture_with, plan, role_users  # noqa: E402


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plan_has_every_role_home_page_then_project_and_pool():
    users = dict(role_users())
    assert set(users) == set(Role.values)
    assert users[Role.EXPERT] == "expert1" and users[Role.POOL_MANAGER] == "poolmanager"
    shots = plan(7)
    assert [s.name for s in shots] == [*Role.values, "project", "pool"]
    assert all(s.path == "/" for s in shots[:len(Role.values)])
    assert shots[-2].path == "/projects/7/" and shots[-1].path == "/escrow/pool/"
    assert [s.name for s in plan(None)][-1] == "pool" and "project" not in [s.name for s in plan(None)]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_capture_signs_in_as_each_user_and_saves_the_viewport(demo, live_server, browser, tmp_path):
    shots = [Shot("reviewer", "reviewer", "/"), Shot("pool", "poolmanager", "/escrow/pool/")]
    written = capture_with(browser, live_server.url, shots, tmp_path)
    assert written == [tmp_path / "reviewer.png", tmp_path / "pool.png"]
    for path in written:
        assert png_size(path) == (1280, 800)  # the viewport, not the full page
    # A user who may not see the page: the command stops with the status rather than photograph a 403.
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="403"):
        capture_with(browser, live_server.url, [Shot("pool", "enterprise", "/escrow/pool/")], tmp_path / "x")
