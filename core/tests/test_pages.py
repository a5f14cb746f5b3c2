"""Browser pages of the foundation: login, logout, lockout, language, local assets, API docs."""
import io
import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.test import Client

from demo import people as demo_data

ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', re.I)
EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(https?:)?//""", re.I)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


def login(client: Client, username: str, password: str = demo_data.DEMO_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR="10.0.0.1")


def test_login_page_answers_in_chinese(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "密码" in html


def test_home_requires_login(db):
    response = Client().get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("username", [u[0] for u in demo_data.USERS])
def test_every_demo_user_logs_in_after_seed_demo(seeded, username):
    client = Client()
    response = login(client, username)
    assert response.status_code == 302, response.content.decode()[:500]
    assert response.url == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert client.session["_auth_user_id"]
    assert f"{username}" in home.content.decode() or home.context["user"].username == username


def test_logout_is_post_only_and_ends_session(seeded):
    client = Client()
    login(client, "reviewer")
    assert client.get("/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_shows_error_and_no_session(seeded):
    client = Client()
    response = login(client, "enterprise", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_account_even_with_right_password(seeded, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "custodian", "wrong-password")
    response = login(client, "custodian")
    assert response.status_code == 429
    assert "账户已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not affected (lockout by username + IP).
    assert login(Client(), "custodian2").status_code == 302


def test_lockout_resets_after_cool_off(seeded, settings):
    import time_machine
    from django.utils import timezone

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "finance", "wrong-password")
    assert login(client, "finance").status_code == 429
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        assert login(client, "finance").status_code == 302


def test_language_switch_to_english(seeded):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page and "Password" in page and "用户名" not in page
    login(client, "platform")
    home = client.get("/").content.decode()
    assert "Dashboard" in home and "Log out" in home and "工作台" not in home
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "工作台" in client.get("/").content.decode()


def test_every_asset_of_base_layout_served_locally(seeded):
    client = Client()
    login(client, "custodian")
    html = client.get("/").content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assets = [a for a in ASSET.findall(html) if a.endswith((".css", ".js"))]
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/static/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_navigation_depends_on_role(seeded, monkeypatch):
    from core import context_processors
    from core.choices import Role

    monkeypatch.setattr(context_processors, "NAV", [
        ("home", "工作台", ()),
        ("notifications", "监管专用", (Role.CUSTODIAN,)),
        ("no-such-page", "尚未实现", ()),
    ])
    enterprise, custodian, admin = Client(), Client(), Client()
    login(enterprise, "enterprise")
    login(custodian, "custodian")
    login(admin, "admin")
    labels = lambda c: [str(i["label"]) for i in c.get("/").context["nav_items"]]  # noqa: E731
    assert labels(enterprise) == ["工作台"]
    assert labels(custodian) == ["工作台", "监管专用"]
    assert labels(admin) == ["工作台", "监管专用"]  # the superuser sees every item
    html = custodian.get("/").content.decode()
    assert '<a href="/" class="active">工作台</a>' in html and '<a href="/notifications/" >监管专用</a>' in html


def test_api_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "openapi: 3" in (tmp_path / "schema.yaml").read_text()


def test_api_schema_answers_openapi(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith("openapi: 3")
    assert "/api/v1/organizations/" in body and "/api/v1/schemes/" in body and "/api/v1/auth/token/" in body


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_use_only_local_assets(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    hosts = {urlparse(u).netloc for u in re.findall(r"https?://[^\s\"'<>)]+", html)}
    assert hosts <= {"testserver"}, hosts
    assets = [a for a in ASSET.findall(html) if a.endswith((".css", ".js", ".png"))] + \
        re.findall(r'"(/static/[^"]+\.js)"', html)
    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url


def test_pages_stay_chinese_for_english_browser_until_switched(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert '<html lang="en">' in client.get("/accounts/login/").content.decode()
    client.cookies["django_language"] = "xx"  # unknown value: back to Chinese
    assert '<html lang="zh-hans">' in client.get("/accounts/login/").content.decode()
