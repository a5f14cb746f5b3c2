"""Where a page's time goes: one request of each page kind, profiled in-process against the web bench's data.

    .venv/bin/python bench/web_profile.py [--db bench_anxinbao_web] [--repeat 5] [--top 6]

Uses the database built by ``bench/web.py`` (run that once first). Each page kind is requested
by a user of the role that sees it, with Django's test client, DEBUG off: the first request warms
the connection and caches, then ``--repeat`` requests give the median time and the query count,
and one more runs under cProfile. Prints, per page kind, the median time, the queries and the
functions of the project (not Django's) with the most cumulative time, and the slowest SQL.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web  # noqa: E402

PAGES = [  # (page kind, user, path or a callable giving it from the user's targets)
    ("home: enterprise", "enterprise", "/"),
    ("home: platform", "platform", "/"),
    ("home: reviewer", "reviewer", "/"),
    ("home: custodian", "custodian", "/"),
    ("home: auditor", "auditor", "/"),
    ("home: poolmanager", "poolmanager", "/"),
    ("home: finance", "finance", "/"),
    ("project list", "reviewer", "/projects/"),
    ("project list (later page)", "reviewer", "/projects/?page=200"),
    ("project detail", "reviewer", lambda t: f"/projects/{t['moving'][0]}/"),
    ("milestone panel", "reviewer", lambda t: f"/milestones/project/{t['moving'][0]}/"),
    ("pool", "poolmanager", "/escrow/pool/"),
    ("desk", "custodian", "/escrow/desk/"),
    ("subsidies", "finance", "/subsidies/"),
    ("queue", "reviewer", "/projects/queue/"),
    ("performance dashboard", "reviewer", "/dashboards/performance/"),
]
MODEL_BACKEND = web.MODEL_BACKEND
OWN = ("core/", "projects/", "escrow/", "subsidies/", "dashboards/", "reports/", "templates/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_anxinbao_web")
    parser.add_argument("--server", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=6)
    args = parser.parse_args()
    web.setup_django(f"{args.server}/{args.db}")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import User

    call_command("migrate", verbosity=0, interactive=False)
    targets = web.user_targets(sample=5)
    for kind, username, path in PAGES:
        if callable(path):
            path = path(targets[username])
        client = Client()
        client.force_login(User.objects.get(username=username), backend=MODEL_BACKEND)
        if client.get(path).status_code != 200:
            print(f"{kind}: {path} answered {client.get(path).status_code}, skipped")
            continue
        times, queries = [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - t0)
            queries = list(ctx.captured_queries)  # read now: the next request clears the log
        slow = sorted(queries, key=lambda q: -float(q["time"]))[:3]
        prof = cProfile.Profile()
        prof.enable()
        client.get(path)
        prof.disable()
        stats = pstats.Stats(prof)
        own = [(v[3], f"{Path(fn).parent.name}/{Path(fn).name}:{line} {name}")
               for (fn, line, name), v in stats.stats.items() if any(o in fn for o in OWN) and ".venv" not in fn]
        own.sort(reverse=True)
        print(f"\n## {kind} ({username} {path}): {statistics.median(times) * 1000:.1f} ms, "
              f"{len(queries)} queries, SQL {sum(float(q['time']) for q in queries) * 1000:.1f} ms")
        for cum, where in own[:args.top]:
            print(f"   {cum * 1000:7.1f} ms  {where}")
        for q in slow:
            print(f"   sql {float(q['time']) * 1000:6.1f} ms  {q['sql'][:220]}")


if __name__ == "__main__":
    main()
