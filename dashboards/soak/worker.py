"""A real Celery worker subprocess (``celery -A anxinbao worker``) that the soak starts, SIGKILLs and restarts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30


def database_url_of(settings_dict: dict) -> str:
    """The URL of a Django database (its current NAME: under pytest, the test database)."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class CeleryWorker:
    """One worker: a main process and its pool of ``concurrency`` child processes, in a process group of its
    own so that a SIGKILL takes them all at once, as when the machine dies."""

    def __init__(self, *, database_url: str, redis_url: str, settings_module: str, logdir: Path,
                 concurrency: int = 2, queue: str = "celery"):
        self.concurrency, self.queue = concurrency, queue
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "PYTHONUNBUFFERED": "1"}
        self.env.pop("ANXINBAO_TEST_DB_NAME", None)
        self.logdir = logdir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def logfile(self) -> Path:
        return self.logdir / f"worker-{self.starts}.log"

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def start(self) -> None:
        self.starts += 1
        name = f"soak-{uuid.uuid4().hex[:8]}@%h"
        cmd = [sys.executable, "-m", "celery", "-A", "anxinbao", "worker", "--pool=prefork",
               f"--concurrency={self.concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-Q", self.queue, "-n", name, "-l", "info", f"--logfile={self.logfile}"]
        stderr = open(self.logdir / f"worker-{self.starts}.stderr", "w")  # noqa: SIM115 (the child keeps it)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr,
                                     start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = (self.logdir / f"worker-{self.starts}.stderr").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"Celery worker did not start (exit {self.proc.poll()}):\n{self.log()}\n{err}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the whole group: no warm shutdown, the tasks in hand are neither finished nor acknowledged."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), SIGKILL if it does not end."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
