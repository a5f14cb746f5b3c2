"""Fixtures shared by every test: demo-like organisations, users per role, ledger invariants."""
from __future__ import annotations

import os

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from escrow.invariants import assert_ledger_invariants  # noqa: F401

# The Chromium that Playwright drives in tests marked ``browser`` (Debian's package ``chromium``).
CHROMIUM = "/usr/lib/chromium/chromium"

# A real Celery worker subprocess, for tests marked ``redis``.
pytest_plugins = ["tests.conftest_celery"]

# Property tests: random examples locally (new inputs each run, to find new bugs); the same examples on
# every CI run (HYPOTHESIS_PROFILE=ci, set by .ci/run), so a merge gate never fails on an input that no
# change of the branch introduced. A failure found locally is kept in .hypothesis/ and replayed first.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    on_redis = bool(settings.REDIS_URL or os.environ.get("CELERY_BROKER_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (see README)")
    skip_redis = pytest.mark.skip(reason="needs a Redis broker: set REDIS_URL (see README)")
    on_chromium = os.access(CHROMIUM, os.X_OK)
    skip_browser = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}: install the system packages (see README)")
    if any("browser" in item.keywords for item in items):
        # Playwright's sync API keeps an event loop running in the test thread;
        # the ORM calls of the tests themselves are still synchronous.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not on_redis:
            item.add_marker(skip_redis)
        if "browser" in item.keywords and not on_chromium:
            item.add_marker(skip_browser)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (简体中文): a request with Accept-Language: en in an earlier
    test of the same process leaves English active in the thread otherwise."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args,
            "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync"]}


@pytest.fixture
def scheme(db):
    from core.tests.factories import scheme_2025

    return scheme_2025()


@pytest.fixture
def demo(db, scheme):
    """Organisations and one user per role, as in seed_demo, with a funded pool."""
    from core.tests.factories import build_demo

    return build_demo()


@pytest.fixture
def ledger_ok(db):
    """Use in money tests: checks the invariants of workflow.md at the end of the test."""
    yield
    assert_ledger_invariants()


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Browser tests read the primary UI language, 简体中文."""
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (sessions, per-user roles and counts: core/caching.py)."""
    from django.core.cache import cache

    cache.clear()
