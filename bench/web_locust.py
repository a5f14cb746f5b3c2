"""Benchmark: the web pages under load from Locust — N signed-in users against the web bench's data.

    .venv/bin/python bench/web_locust.py [--users 20] [--think 0] [--duration 60] [--workers N]
        [--cache-url redis://127.0.0.1:6379/0] [--db bench_anxinbao_web] [--no-record]

The data and the server are those of ``bench/web.py`` (same database, built there on first use; gunicorn
with the production settings). The load is Locust, headless (``bench/locustfile.py``): ``--users`` users
of the role mix of web.py, all started at once, each signing in once, then browsing with a think time of
``--think`` seconds on average (uniform on [0, 2 × think]; 0: none). Statistics start from zero when the
last user has signed in (sign-ins are not counted) and the run stops ``--duration`` seconds later. With
``--cache-url`` the server keeps sessions and per-user values in that Redis (``ANXINBAO_CACHE_URL``), as
deployed; without it, in each process's memory.
Results per page kind (req/s, p50/p95/p99, errors) and the load average before and after go to the
section "Web pages under load, Locust (bench/web_locust.py)" of docs/benchmarks.md; a run with errors
is written too, marked as such.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web  # noqa: E402

SECTION = "## Web pages under load, Locust (bench/web_locust.py)"
START = "<!-- web-locust:start -->"
END = "<!-- web-locust:end -->"
LOCUST = str(Path(sys.executable).with_name("locust"))


def scaled_users(n: int) -> list[tuple[str, int]]:
    total = sum(k for _u, k in web.USERS)
    mix = [(u, max(1, round(k * n / total))) for u, k in web.USERS]
    if n < len(mix):
        return [(u, 1) for u, _k in mix[:n]]
    while sum(k for _u, k in mix) > n:  # rounding up the small roles: take back from the largest
        i = max(range(len(mix)), key=lambda j: mix[j][1])
        mix[i] = (mix[i][0], mix[i][1] - 1)
    while sum(k for _u, k in mix) < n:
        i = min(range(len(mix)), key=lambda j: mix[j][1])
        mix[i] = (mix[i][0], mix[i][1] + 1)
    return mix


def run_locust(host: str, users: int, duration: float, think: float, spec: Path, prefix: Path) -> None:
    env = {**os.environ, "BENCH_WEB_TARGETS": str(spec), "BENCH_WEB_THINK": str(think),
           "BENCH_WEB_USERS": str(users), "BENCH_WEB_DURATION": str(duration)}
    subprocess.run([LOCUST, "-f", str(Path(__file__).with_name("locustfile.py")), "--headless", "-u", str(users),
                    "-r", str(users), "-t", f"{duration + 600:.0f}s", "--host", host, "--csv", str(prefix),
                    "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"],
                   env=env, check=False)


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def warm_up(base: str, targets: dict, workers: int, password: str) -> None:
    """Every worker's first pages (templates compiled, connections opened) before anything is measured."""
    from concurrent.futures import ThreadPoolExecutor

    def visit(username: str) -> None:
        session = web.login(base, username, password)
        t = targets[username]
        for path in ["/", "/projects/", *t["role_pages"], *(f"/projects/{p}/" for p in t["projects"][:2]),
                     *(f"/milestones/project/{p}/" for p in t["moving"][:1])]:
            session.get(base + path, allow_redirects=False, timeout=120)

    names = [u for u, _n in web.USERS] * max(1, workers // 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(visit, names))


def write_results(path: Path, body: list[str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    intro = [
        SECTION, "",
        "The load of the section above from Locust instead of the hand-written loop: the same data, server and",
        "user mix, each user signed in once, with a think time (uniform on [0, 2 × mean]). Locust's percentiles",
        "are rounded (two significant figures above 100 ms). Rerun: `.venv/bin/python bench/web_locust.py",
        "--users 20 --think 0` and `--users 100 --think 1` (plus `--cache-url redis://…` for the deployed cache).",
        "",
    ]
    if START not in text:
        text = text.rstrip("\n") + "\n\n" + "\n".join(intro + [START, *body, END]) + "\n"
    else:
        before, rest = text.split(START, 1)
        old, after = rest.split(END, 1)
        text = before + START + old.rstrip("\n") + "\n\n" + "\n".join(body) + "\n" + END + after
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a user's requests (s)")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", ""))
    parser.add_argument("--db", default="bench_anxinbao_web")
    parser.add_argument("--server", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    mix = scaled_users(args.users)
    web.USERS[:] = mix
    db_url = f"{args.server}/{args.db}"
    web.prepare_database(args.server, args.db, rebuild=False)
    web.setup_django(db_url)
    from django.core.management import call_command
    from django.db import connection

    from demo.people import DEMO_PASSWORD

    call_command("migrate", verbosity=0, interactive=False)
    web.ensure_data(args.projects)
    targets = web.user_targets()
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0].split(" ")[0]
    connection.close()

    tmp = Path(tempfile.mkdtemp(prefix="anxinbao-web-locust-"))
    spec = tmp / "targets.json"
    spec.write_text(json.dumps({"users": mix, "targets": targets, "password": DEMO_PASSWORD}))
    if args.cache_url:
        os.environ["ANXINBAO_CACHE_URL"] = args.cache_url
    proc, port = web.start_server(db_url, args.workers, tmp)
    try:
        warm_up(f"http://127.0.0.1:{port}", targets, args.workers, DEMO_PASSWORD)
        load_before = os.getloadavg()
        print(f"gunicorn: {args.workers} workers on port {port}; Locust: {args.users} users, think {args.think:g} s, "
              f"{args.duration:.0f} s", flush=True)
        run_locust(f"http://127.0.0.1:{port}", args.users, args.duration, args.think, spec, tmp / "run")
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    stats = read_stats(tmp / "run")
    rows, errors = [], 0
    for r in stats:
        if r["Name"].startswith("sign-in"):
            continue
        name = "**all**" if r["Name"] == "Aggregated" else r["Name"]
        errors += int(r["Failure Count"]) if name != "**all**" else 0
        rows.append(f"| {name} | {int(r['Request Count']):,} | {float(r['Requests/s']):.1f} "
                    f"| {float(r['Average Response Time']):.0f} | {r['50%']} | {r['95%']} | {r['99%']} "
                    f"| {r['Max Response Time'].split('.')[0]} | {r['Failure Count']} |")
    rows.sort(key=lambda line: line.startswith("| **all**"))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"### {stamp} — {args.users} users, think time {args.think:g} s{'' if not errors else f', {errors} ERRORS'}",
        "",
        f"Machine: {web.machine(pg_version)}. Load average (1 min) {load_before[0]:.1f} before and "
        f"{load_after[0]:.1f} after the run (the machine's 2 cores are shared with other processes).",
        "",
        f"Server: gunicorn, {args.workers} sync workers, production settings (persistent connections), "
        f"{'sessions and per-user values in Redis' if args.cache_url else 'no shared cache'}. Locust "
        f"{subprocess.run([LOCUST, '--version'], capture_output=True, text=True).stdout.split()[1]}: "
        f"{args.users} users ({', '.join(f'{u} ×{n}' for u, n in mix)}), {args.duration:.0f} s after all started.",
        "",
        "| page | requests | req/s | mean (ms) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(body))
    if errors:
        fails = Path(f"{tmp / 'run'}_failures.csv")
        print(fails.read_text() if fails.exists() else "", file=sys.stderr)
    if not args.no_record:
        write_results(web.ROOT / "docs" / "benchmarks.md", body)
        print("written to docs/benchmarks.md")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
