"""SQLite for a small office (issue 14): the embedded default holds concurrent money requests.

The race runs in a pytest of its own (tests/live_sqlite_race.py) because it needs a *file* SQLite test database
with the settings used when DATABASE_URL is not set; the suite's own test database may be in memory or PostgreSQL.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_default_sqlite_settings_take_the_write_lock_first_wait_for_it_and_use_wal():
    from anxinbao.settings.base import sqlite_options

    options = sqlite_options()
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_eight_simultaneous_forfeits_on_the_live_server_with_a_file_sqlite_database(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                        "PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS")}
    env["ANXINBAO_TEST_DB_NAME"] = str(tmp_path / "race.sqlite3")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:xdist", "-o",
         "python_files=live_sqlite_race.py", "tests/live_sqlite_race.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
