"""A money operation from the custodian's order to ``done``, through a real Celery worker on Redis.

Runs on its own PostgreSQL database (created and dropped here) and its own Redis
database number. Starts a Celery worker (prefork, one process per core unless
``--concurrency``) on that database, then N custodian processes, each ordering
releases of 1.00 from its own custody account (below the maker–checker threshold,
so no second operator is needed) and waiting until the worker has executed it.
Latency is from the call of ``operation_request`` (row, audit, dispatch on commit)
to the moment the custodian sees the operation ``done``; throughput is operations
done per second over the run.

Usage::

    python bench/operations.py [--custodians 1 8] [--seconds 10] [--concurrency 2]
                               [--base postgres://postgres@127.0.0.1:5432/postgres]
                               [--redis redis://127.0.0.1:6379/14] [--no-append]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_anxinbao_operations"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ledger import _admin, _machine  # noqa: E402  (the sibling benchmark's helpers)

POLL = 0.002


def _setup_django(url: str, redis: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anxinbao.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_CONN_MAX_AGE"] = "600"  # as in production: a connection per worker process, kept
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)


def _seed(custodians: int) -> None:
    from core.tests.factories import build_demo, scheme_2025
    from escrow import accounts as codes
    from escrow.services import post_entry

    scheme_2025()
    demo = build_demo()
    big = Decimal("100000000.00")
    for w in range(custodians):
        post_entry(memo="seed", idempotency_key=f"bench:ops:seed:{w}",
                   lines=[(codes.ext_enterprise(demo.ent1.pk), -big), (codes.custody(200000 + w, 1), big)])


def _custodian(url: str, redis: str, worker: int, run: str, go, seconds: float, out) -> None:
    # A spawned process: its own Django, database connection and broker connection (a forked one would
    # share the parent's sockets).
    _setup_django(url, redis)
    from django.db import connections

    from core.models import User
    from escrow import accounts as codes
    from escrow.choices import OperationKind, OperationState
    from escrow.models import MoneyOperation
    from escrow.services import operation_request

    custodian = User.objects.get(username="custodian")
    platform = User.objects.get(username="platform").organization_id
    one = Decimal("1.00")
    lines = [(codes.custody(200000 + worker, 1), -one), (codes.ext_platform(platform), one)]
    out.put("ready")
    go.wait()
    deadline = time.time() + seconds
    latencies, n, stuck = [], 0, 0
    while time.time() < deadline:
        t0 = time.perf_counter()
        op = operation_request(kind=OperationKind.RELEASE, amount=one, lines=lines, memo="bench",
                               idempotency_key=f"bench:ops:{run}:{worker}:{n}", ordered_by=custodian)
        while True:
            state = MoneyOperation.objects.filter(pk=op.pk).values_list("state", flat=True).first()
            if state == OperationState.DONE:
                latencies.append(time.perf_counter() - t0)
                break
            if time.perf_counter() - t0 > 30:
                stuck += 1
                break
            time.sleep(POLL)
        n += 1
    connections.close_all()
    out.put((latencies, stuck))


def _start_worker(url: str, redis: str, concurrency: int, logdir: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis, "DJANGO_SETTINGS_MODULE": "anxinbao.settings.local",
           "DJANGO_DEBUG": "0", "DJANGO_CONN_MAX_AGE": "600", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "celery", "-A", "anxinbao", "worker", "--pool=prefork",
           f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
           "--prefetch-multiplier=4", "-n", f"bench-{os.getpid()}@%h",
           "-l", os.environ.get("BENCH_WORKER_LOGLEVEL", "warning"),
           f"--logfile={logdir / 'worker.log'}"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_ready(timeout: float = 60) -> None:
    from anxinbao.celery import app

    deadline = time.time() + timeout
    while time.time() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError("the Celery worker did not answer within a minute")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--custodians", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="worker processes")
    parser.add_argument("--base", default=os.environ.get("BENCH_DATABASE_URL",
                                                         "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--no-append", action="store_true", help="print only, do not touch docs/benchmarks.md")
    args = parser.parse_args()

    _admin(args.base, f"DROP DATABASE IF EXISTS {DB_NAME}")
    _admin(args.base, f"CREATE DATABASE {DB_NAME}")
    url = urlunparse(urlparse(args.base)._replace(path=f"/{DB_NAME}"))
    worker = None
    rows = []
    try:
        _setup_django(url, args.redis)
        from django.core.management import call_command
        from django.db import connections

        from anxinbao.celery import app

        call_command("migrate", verbosity=0)
        _seed(max(args.custodians))
        machine = _machine()
        connections.close_all()
        app.control.purge()
        logdir = Path(tempfile.mkdtemp(prefix="anxinbao-bench-"))
        print(f"worker log: {logdir / 'worker.log'}", flush=True)
        worker = _start_worker(url, args.redis, args.concurrency, logdir)
        _wait_ready()

        ctx = mp.get_context("spawn")
        for n in args.custodians:
            out, go = ctx.Queue(), ctx.Event()
            procs = [ctx.Process(target=_custodian, args=(url, args.redis, w, f"c{n}", go, args.seconds, out))
                     for w in range(n)]
            for p in procs:
                p.start()
            for _ in procs:  # every custodian has set up Django before the clock starts
                assert out.get() == "ready"
            go.set()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            lat = sorted(x for r in results for x in r[0])
            stuck = sum(r[1] for r in results)
            done = len(lat)
            p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
            p95 = lat[int(len(lat) * 0.95)] * 1000 if lat else float("nan")
            rows.append((n, done, done / args.seconds, p50, p95, stuck))
            print(f"custodians={n:2}  done={done:6}  {done / args.seconds:7.1f} ops/s  p50={p50:.1f} ms  "
                  f"p95={p95:.1f} ms  not done within 30 s: {stuck}", flush=True)

        from escrow.invariants import ledger_violations

        problems = ledger_violations()
        print("invariants:", "OK" if not problems else problems[:5])
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        _admin(args.base, f"DROP DATABASE IF EXISTS {DB_NAME}")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Money operations: custodian's order → worker → done — {now}\n",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}; load average at start "
        f"{machine['load']}",
        f"- PostgreSQL {machine['postgres']} and Redis on the same machine; commit {commit}",
        f"- `python bench/operations.py --custodians {' '.join(map(str, args.custodians))} --seconds {args.seconds:g} "
        f"--concurrency {args.concurrency}`: one Celery worker (prefork, {args.concurrency} processes); each "
        "custodian a process ordering releases of ¥1.00 below the maker–checker threshold and waiting for `done`.",
        f"- Invariants after the run: {'all hold' if not problems else '; '.join(problems[:3])}\n",
        "| custodians | operations done | operations/s | p50 latency | p95 latency | not done in 30 s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {n} | {done} | {rate:.1f} | {p50:.1f} ms | {p95:.1f} ms | {stuck} |"
              for n, done, rate, p50, p95, stuck in rows]
    text = "\n".join(lines) + "\n"
    if args.no_append:
        print(text)
    else:
        with (ROOT / "docs" / "benchmarks.md").open("a") as fh:
            fh.write(text)
    return 0 if not problems and not any(r[5] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
