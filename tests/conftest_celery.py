"""A real Celery worker for tests that need one (marked ``redis``).

Usage::

    @pytest.mark.redis
    @pytest.mark.postgres
    @pytest.mark.django_db(transaction=True)
    def test_something(celery_worker_process):
        ...  # .delay() now goes through Redis to the worker subprocess

The worker runs ``celery -A anxinbao worker`` from this checkout with
REDIS_URL from the environment and DATABASE_URL pointing at the *test*
database (visible to another process only in a ``transaction=True`` test).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from dashboards.soak.worker import database_url_of

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 20


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, logfile: Path, name: str):
        self.proc, self.logfile, self.name = proc, logfile, name

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a worker subprocess on the test database; stop it (warm shutdown) afterwards."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/1)")
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process can see the test database only on PostgreSQL")

    from anxinbao.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    app.conf.result_backend = redis_url
    app.control.purge()  # stale messages of an earlier run must not reach this worker

    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    logdir = Path(tempfile.mkdtemp(prefix="anxinbao-worker-"))
    logfile = logdir / "worker.log"
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "anxinbao.settings.test",
           "DATABASE_URL": database_url_of(connection.settings_dict),
           "REDIS_URL": redis_url,
           "CELERY_BROKER_URL": redis_url,
           "PYTHONUNBUFFERED": "1"}
    env.pop("ANXINBAO_TEST_DB_NAME", None)
    cmd = [sys.executable, "-m", "celery", "-A", "anxinbao", "worker", "--pool=solo", "--concurrency=1",
           "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", name, "-l", "info",
           f"--logfile={logfile}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(logdir / "stderr.log", "w"))  # noqa: SIM115
    worker = WorkerProcess(proc, logfile, name)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in worker.log():
            if proc.poll() is not None or time.monotonic() > deadline:
                err = (logdir / "stderr.log").read_text(errors="replace")
                pytest.fail(f"Celery worker did not start (exit {proc.poll()}):\n{worker.log()}\n{err}")
            time.sleep(0.2)
        yield worker
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = previous
