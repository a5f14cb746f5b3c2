"""Entries per second through the ledger's entry point (post_entry) with N concurrent workers.

Runs on its own PostgreSQL database (created and dropped here), never on the
application's. Each worker is a process with its own connection; every entry
is one transaction (lock the accounts in pk order, check, insert the entry
and its postings, update the balances, deferred balance trigger at commit).

The reference is measured in the same run, on the same server: pgbench's built-in
``tpcb-like`` script at the same client counts, for as long, right after each of
our runs. Each row prints entries/s, the pgbench tps and their ratio, so the
figure does not depend on how busy the shared machine is. The reference has the
same contention as the workload it is compared with: ``disjoint`` against
``pgbench -i -s SCALE`` (SCALE ≥ clients: each client mostly on its own branch
row), ``hot`` against scale 1 (every transaction updates the one branch row, as
every entry of ``hot`` updates ``pool:available``).

Two workloads:
- ``disjoint``: each worker moves money between its own two custody accounts
  (no row-lock contention: measures the cost of an entry);
- ``hot``: pool advances and repayments, so every entry touches
  ``pool:available`` (all workers queue on one row lock: the worst case).

Usage::

    python bench/ledger.py [--workers 1 2 4 8] [--seconds 5] [--base postgres://postgres@127.0.0.1:5432/postgres]
                           [--scale 8] [--python-path] [--no-append]

``--python-path`` posts through the Python path instead of the PostgreSQL function, for comparison.

Appends a dated section with the machine's description to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_anxinbao_ledger"
PGBENCH_DB = "bench_anxinbao_pgbench"  # + "_s<scale>"
sys.path.insert(0, str(ROOT))


def _admin(base: str, sql: str) -> None:
    import psycopg2

    u = urlparse(base)
    conn = psycopg2.connect(dbname=u.path.lstrip("/") or "postgres", user=u.username or "postgres",
                            password=u.password, host=u.hostname or "127.0.0.1", port=u.port or 5432)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _pgbench_env(base: str) -> tuple[list[str], dict]:
    u = urlparse(base)
    args = ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _pgbench_init(base: str, scale: int) -> None:
    _admin(base, f"DROP DATABASE IF EXISTS {PGBENCH_DB}_s{scale}")
    _admin(base, f"CREATE DATABASE {PGBENCH_DB}_s{scale}")
    conn, env = _pgbench_env(base)
    subprocess.run(["pgbench", *conn, "-i", "-q", "-s", str(scale), f"{PGBENCH_DB}_s{scale}"], env=env, check=True,
                   capture_output=True)


def _pgbench_tps(base: str, scale: int, clients: int, seconds: float) -> float:
    """tps of the built-in tpcb-like script with ``clients`` connections (one thread per client)."""
    conn, env = _pgbench_env(base)
    out = subprocess.run(["pgbench", *conn, "-b", "tpcb-like", "-c", str(clients), "-j", str(clients),
                          "-T", str(max(1, round(seconds))), "-n", f"{PGBENCH_DB}_s{scale}"],
                         env=env, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps:\n{out}")


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anxinbao.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)


def _worker(url: str, workload: str, worker: int, run: str, start_at: float, seconds: float, out) -> None:
    from django.db import connections

    connections.close_all()
    from escrow import accounts as codes
    from escrow.services import post_entry

    a, b = codes.custody(100000 + worker, 1), codes.custody(100000 + worker, 2)
    one = Decimal("1.00")
    n = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    latencies = []
    while time.time() < deadline:
        src, dst = (a, b) if n % 2 == 0 else (b, a)
        lines = [(src, -one), (dst, one)]
        if workload == "hot":  # advances and repayments of the worker's project: all share pool:available
            advanced = codes.pool_advanced(100000 + worker)
            lines = [(codes.POOL_AVAILABLE, -one), (advanced, one)] if n % 2 == 0 else \
                [(advanced, -one), (codes.POOL_AVAILABLE, one)]
        t0 = time.perf_counter()
        post_entry(memo="bench", idempotency_key=f"bench:{run}:{worker}:{n}", lines=lines)
        latencies.append(time.perf_counter() - t0)
        n += 1
    connections.close_all()
    latencies.sort() if latencies else latencies.append(0.0)
    out.put((n, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]))


def _seed(workers: int) -> None:
    from core.models import Organization
    from demo import people as demo
    from escrow import accounts as codes
    from escrow.services import post_entry

    org = Organization.objects.create(kind="enterprise", name="基准测试企业", uscc=demo.code("91330109MA2H3K4L0"))
    big = Decimal("1000000.00")
    post_entry(memo="seed pool", idempotency_key="bench:seed:pool",
               lines=[(codes.POOL_FUNDING, -big), (codes.POOL_AVAILABLE, big)])
    for w in range(workers):
        for seq in (1, 2):
            post_entry(memo="seed", idempotency_key=f"bench:seed:{w}:{seq}",
                       lines=[(codes.ext_enterprise(org.pk), -big), (codes.custody(100000 + w, seq), big)])


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    import django

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {"cpu": cpu, "cores": os.cpu_count(), "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "django": django.get_version(), "postgres": pg,
            "load": f"{load:.2f}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--base", default=os.environ.get("BENCH_DATABASE_URL",
                                                         "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--scale", type=int, default=8, help="pgbench -i scale (branches) of the reference")
    parser.add_argument("--python-path", action="store_true", help="post through the Python path, not the function")
    parser.add_argument("--no-append", action="store_true", help="print only, do not touch docs/benchmarks.md")
    args = parser.parse_args()
    if args.python_path:
        os.environ["ANXINBAO_LEDGER_SQL"] = "false"
    scales = {"disjoint": args.scale, "hot": 1}
    for scale in set(scales.values()):
        _pgbench_init(args.base, scale)

    _admin(args.base, f"DROP DATABASE IF EXISTS {DB_NAME}")
    _admin(args.base, f"CREATE DATABASE {DB_NAME}")
    u = urlparse(args.base)
    url = urlunparse(u._replace(path=f"/{DB_NAME}"))
    try:
        _setup_django(url)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        _seed(max(args.workers))
        machine = _machine()
        connections.close_all()

        ctx = mp.get_context("fork")
        rows = []
        for workload in ("disjoint", "hot"):
            for n in args.workers:
                out = ctx.Queue()
                run = f"{workload}-{n}"
                start_at = time.time() + 0.5
                procs = [ctx.Process(target=_worker, args=(url, workload, w, run, start_at, args.seconds, out))
                         for w in range(n)]
                for p in procs:
                    p.start()
                results = [out.get() for _ in procs]
                for p in procs:
                    p.join()
                total = sum(r[0] for r in results)
                p50 = sorted(r[1] for r in results)[len(results) // 2] * 1000
                p95 = max(r[2] for r in results) * 1000
                # The reference, right after our run, at the same client count and the same contention.
                ref = _pgbench_tps(args.base, scales[workload], n, args.seconds)
                rate = total / args.seconds
                rows.append((workload, n, total, rate, p50, p95, scales[workload], ref, rate / ref))
                print(f"{workload:9} workers={n:2}  entries={total:6}  {rate:8.1f}/s  p50={p50:.1f} ms  "
                      f"p95={p95:.1f} ms  pgbench tpcb-like (scale {scales[workload]}) {ref:8.1f} tps  "
                      f"ratio {rate / ref:.2f}x", flush=True)

        from escrow.invariants import ledger_violations

        problems = ledger_violations()
        print("invariants:", "OK" if not problems else problems[:5])
        connections.close_all()
    finally:
        from django.db import connections

        connections.close_all()
        _admin(args.base, f"DROP DATABASE IF EXISTS {DB_NAME}")
        for scale in {args.scale, 1}:
            _admin(args.base, f"DROP DATABASE IF EXISTS {PGBENCH_DB}_s{scale}")

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Ledger: entries per second through `post_entry` — {now}\n",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}; load average at start "
        f"{machine['load']} (the machine is shared with other work, so figures are a lower bound)",
        f"- PostgreSQL {machine['postgres']} on the same machine; Python {machine['python']}, "
        f"Django {machine['django']}; commit {commit}",
        f"- `python bench/ledger.py --workers {' '.join(map(str, args.workers))} --seconds {args.seconds:g}"
        f" --scale {args.scale}{' --python-path' if args.python_path else ''}`: each worker a process with its own "
        f"connection, one transaction per entry, posting through the "
        f"{'Python path' if args.python_path else 'PostgreSQL function (one round trip)'}; reference: pgbench's "
        f"built-in `tpcb-like` (`-c N -j N`) on the same server right after each of our runs, at scale {args.scale} "
        "for `disjoint` and scale 1 (one hot branch row) for `hot`.",
        f"- Invariants after the run: {'all hold' if not problems else '; '.join(problems[:3])}\n",
        "| workload | workers | entries | entries/s | p50 latency | p95 latency | pgbench scale | pgbench tps | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {w} | {n} | {total} | {rate:.0f} | {p50:.1f} ms | {p95:.1f} ms | {sc} | {ref:.0f} | {ratio:.2f}× |"
              for w, n, total, rate, p50, p95, sc, ref, ratio in rows]
    text = "\n".join(lines) + "\n"
    if args.no_append:
        print(text)
    else:
        path = ROOT / "docs" / "benchmarks.md"
        if not path.exists():
            path.write_text("# Benchmarks\n\nMeasured figures, newest last. Each section says how it was run.\n")
        with path.open("a") as fh:
            fh.write(text)
        print(f"appended to {path}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
