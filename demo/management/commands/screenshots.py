"""Save a PNG of each demo role's home page, a demo project's page and the pool page (README).

Starts the application on a free local port against the current database (``runserver`` in a
subprocess, static files served), signs in through the login page as each demo user
(``demo/people.py``) and photographs the page in Chromium at 1280×800:

    DATABASE_URL=sqlite:////tmp/shots.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/shots.sqlite3 python manage.py seed_demo
    DATABASE_URL=sqlite:////tmp/shots.sqlite3 python manage.py screenshots

``--base-url`` photographs an application that is already running instead.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.choices import Role
from demo import people

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
DEMO_PROJECT = "演示：数控机床智能运维系统联合研发"  # three milestones: one released, one reported (seed_demo)


@dataclass(frozen=True)
class Shot:
    name: str          # the file is <name>.png
    username: str      # who is signed in
    path: str          # the page
    anchor: str = ""   # scroll this element to the top before the picture


def role_users() -> list[tuple[str, str]]:
    """(role, username): the first demo user holding each role, in the order of ``Role``."""
    out = []
    for role in Role:
        username = next((u for u, _org, roles, _name, _su in people.USERS if role in roles), None)
        if username:
            out.append((role.value, username))
    return out


def demo_project_id() -> int | None:
    from projects.models import Project

    project = (Project.objects.filter(title=DEMO_PROJECT).first()
               or Project.objects.filter(state="active").order_by("pk").first()
               or Project.objects.order_by("pk").first())
    return project.pk if project else None


# The home page of these roles is photographed as the demo user who has work waiting (the work list shows rows).
WITH_WORK = {Role.EXPERT.value: "expert2", Role.PLATFORM.value: "platform2"}


def plan(project_id: int | None) -> list[Shot]:
    shots = [Shot(role, WITH_WORK.get(role, username), "/") for role, username in role_users()]
    if project_id is not None:
        shots.append(Shot("project", "enterprise", f"/projects/{project_id}/", anchor="#milestones"))
    shots.append(Shot("pool", "poolmanager", "/escrow/pool/"))
    return shots


def login(page, base_url: str, username: str, password: str = people.DEMO_PASSWORD) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda u: "/accounts/login/" not in u)


def capture(base_url: str, shots: list[Shot], outdir: Path, *, executable: str = CHROMIUM,
            locale: str = "zh-CN", log=None) -> list[Path]:
    """Launch Chromium and take the shots (see ``capture_with``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            return capture_with(browser, base_url, shots, outdir, locale=locale, log=log)
        finally:
            browser.close()


def capture_with(browser, base_url: str, shots: list[Shot], outdir: Path, *, locale: str = "zh-CN",
                 log=None) -> list[Path]:
    """Sign in as each shot's user and save the page at 1280×800 (viewport only, never the full page)."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    context = browser.new_context(viewport=VIEWPORT, locale=locale, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(30000)
        signed_in = None
        for shot in shots:
            if shot.username != signed_in:
                login(page, base_url, shot.username)
                signed_in = shot.username
            response = page.goto(f"{base_url}{shot.path}")
            if response is None or response.status >= 400:
                raise CommandError(f"{shot.path} as {shot.username}: HTTP {response.status if response else '—'}")
            page.wait_for_load_state("load")
            if shot.anchor and page.locator(shot.anchor).count():
                page.locator(shot.anchor).first.evaluate("el => el.scrollIntoView({block: 'start'})")
            target = outdir / f"{shot.name}.png"
            page.screenshot(path=str(target), full_page=False, animations="disabled", caret="hide")
            written.append(target)
            if log:
                log(f"{target} ({shot.username} {shot.path}, {target.stat().st_size // 1024} KB)")
    finally:
        context.close()
    return written


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(timeout: float = 60.0) -> Iterator[str]:
    """``runserver`` on a free port with this process's settings and database; stopped afterwards."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    manage = Path(settings.BASE_DIR) / "manage.py"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                  "anxinbao.settings.local")}
    proc = subprocess.Popen([sys.executable, str(manage), "runserver", f"127.0.0.1:{port}", "--noreload",
                             "--insecure"], cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise CommandError(f"runserver exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise CommandError(f"runserver did not answer on {base_url} within {timeout:.0f} s") from None
                time.sleep(0.3)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Command(BaseCommand):
    help = "Save docs/screenshots/<role>.png (each role's home page), project.png and pool.png."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"))
        parser.add_argument("--base-url", default="", help="photograph a running application instead")
        parser.add_argument("--only", nargs="*", default=None, help="names of the shots to take (e.g. reviewer pool)")
        parser.add_argument("--chromium", default=CHROMIUM)

    def handle(self, *args, **options):
        from core.models import User

        missing = [u for _r, u in role_users() if not User.objects.filter(username=u).exists()]
        if missing:
            raise CommandError(f"demo users missing ({', '.join(missing)}): run `manage.py seed_demo` first")
        shots = plan(demo_project_id())
        if options["only"]:
            shots = [s for s in shots if s.name in options["only"]]
        outdir = Path(options["output"])
        if options["base_url"]:
            written = capture(options["base_url"].rstrip("/"), shots, outdir, executable=options["chromium"],
                              log=self.stdout.write)
        else:
            with running_server() as base_url:
                written = capture(base_url, shots, outdir, executable=options["chromium"], log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"{len(written)} screenshots in {outdir}"))
