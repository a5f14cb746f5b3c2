"""Locust users for the web bench (bench/web_locust.py starts the server and runs this headless).

Each simulated user is one of the demo users of ``bench/web.py``'s mix (taken in turn), signs in once and
then browses as there: home, project list (first and later pages), project pages, milestone panels of
projects under way and their role's own pages. Requests are named by page kind, so Locust's statistics
come per kind. Environment: ``BENCH_WEB_TARGETS`` (JSON written by web_locust.py: the mix and what each
user may see), ``BENCH_WEB_THINK`` (mean seconds between a user's requests, uniform on [0, 2 × mean];
0: none).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import sys
import threading
from pathlib import Path

import gevent
from locust import HttpUser, constant, task
from locust import between as _between

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import next_path, page_kind  # noqa: E402

SPEC = json.loads(Path(os.environ["BENCH_WEB_TARGETS"]).read_text())
THINK = float(os.environ.get("BENCH_WEB_THINK", "0"))
USERS = int(os.environ.get("BENCH_WEB_USERS", "0"))  # the measurement starts when they have all signed in
DURATION = float(os.environ.get("BENCH_WEB_DURATION", "60"))
_signed_in = 0
_turn = itertools.cycle([name for name, n in SPEC["users"] for _k in range(n)])
_lock = threading.Lock()


class BenchUser(HttpUser):
    wait_time = _between(0, 2 * THINK) if THINK else constant(0)

    def on_start(self):
        with _lock:
            self.username = next(_turn)
        self.targets = SPEC["targets"][self.username]
        self.rng = random.Random(id(self))
        self.step = self.rng.randrange(8)
        self.client.headers["Accept-Language"] = "zh-hans"
        self.client.get("/accounts/login/", name="sign-in form")
        self._plain_cookies()
        r = self.client.post("/accounts/login/", name="sign-in",
                             data={"username": self.username, "password": SPEC["password"],
                                   "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")},
                             headers={"Referer": f"{self.host}/accounts/login/"}, allow_redirects=False)
        if r.status_code != 302:
            raise RuntimeError(f"sign-in of {self.username}: HTTP {r.status_code}")
        self._plain_cookies()
        self._signed_in()

    def _signed_in(self):
        """The last user in: statistics start from zero (sign-ins and the first pages are not counted) and the
        run stops ``DURATION`` seconds later."""
        global _signed_in
        with _lock:
            _signed_in += 1
            last = _signed_in == USERS
        if last:
            runner = self.environment.runner
            runner.stats.reset_all()
            gevent.spawn_later(DURATION, runner.quit)

    def _plain_cookies(self):
        # The production cookies are Secure (HTTPS only); the bench talks plain HTTP to 127.0.0.1.
        for c in self.client.cookies:
            c.secure = False

    @task
    def browse(self):
        path = next_path(self.rng, self.username, self.targets, self.step)
        self.step += 1
        with self.client.get(path, name=page_kind(path, self.username), allow_redirects=False,
                             catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code} on {path}")
