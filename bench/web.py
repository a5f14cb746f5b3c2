"""Benchmark: the web pages under load — 20 signed-in users against 10,000 projects, PostgreSQL, gunicorn.

    /work/main/.venv/bin/python bench/web.py [--projects 10000] [--users 20] [--duration 60] [--warmup 10]
        [--workers N] [--db bench_anxinbao_web] [--rebuild] [--no-record]

1. Data, in a database of its own (default ``bench_anxinbao_web``, created when
   missing, dropped and created again with ``--rebuild``): migrate, ``seed_demo``,
   then 10,000 projects spread over the demo enterprises and platforms and over
   every project state, with 2–3 milestones each and the ledger data the pages
   read (pool advances, deposits, releases, repayments, write-offs). A second run
   finds the data and skips this step.
2. Server: gunicorn ``anxinbao.wsgi`` with the production settings (DEBUG off,
   whitenoise serving static files collected into a temporary STATIC_ROOT),
   bound to 127.0.0.1 on a free port.
3. Load: N threads, each a user of a role (enterprise, platform, reviewer,
   custodian, auditor, pool manager, finance) signed in once (django-axes locks
   out after repeated failures), requesting in a closed loop their home page,
   the project list (first and later pages), project pages visible to them, the
   milestone panel of projects under way and their role's own page, for a fixed
   duration after a warm-up. Every response must be 200: anything else is
   counted and fails the run (nothing is written then).
4. Results (p50/p95/p99, mean, requests/s, errors per page kind and overall,
   and the queries each page kind makes, measured once in-process) go to the
   section "Web pages under load (bench/web.py)" of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TITLE_PREFIX = "基准项目"
SECTION = "## Web pages under load (bench/web.py)"
START = "<!-- web-bench:start -->"
END = "<!-- web-bench:end -->"

# The simulated users: (username, how many concurrent sessions of them) — 20 in all.
USERS = [("enterprise", 2), ("enterprise2", 2), ("platform", 2), ("platform2", 2), ("reviewer", 3),
         ("custodian", 2), ("custodian2", 1), ("auditor", 2), ("poolmanager", 2), ("finance", 2)]
# Pages of a role besides home, list and project pages (the user must be allowed to see them).
ROLE_PAGES = {
    "custodian": ["/escrow/desk/", "/escrow/pool/"],
    "custodian2": ["/escrow/desk/"],
    "poolmanager": ["/escrow/pool/"],
    "auditor": ["/escrow/pool/", "/subsidies/"],
    "finance": ["/subsidies/"],
    "reviewer": ["/subsidies/", "/projects/queue/"],
    "enterprise": ["/subsidies/"],
    "enterprise2": ["/subsidies/"],
}
# Pages added by later work, requested only where they exist (checked against the URLconf).
OPTIONAL_PAGES: dict[str, list[str]] = {
    "reviewer": ["/dashboards/performance/"],
    "auditor": ["/dashboards/performance/"],
}
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # force_login would take the first backend with get_user
ROLE_OF = {"enterprise2": "enterprise", "platform2": "platform", "custodian2": "custodian"}


# --------------------------------------------------------------------------- database and data
def _server_conn(server: str):
    import psycopg2

    conn = psycopg2.connect(f"{server}/postgres")
    conn.autocommit = True
    return conn


def prepare_database(server: str, name: str, rebuild: bool) -> None:
    conn = _server_conn(server)
    with conn.cursor() as cur:
        if rebuild:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "anxinbao.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("ANXINBAO_MEDIA_ROOT", str(ROOT / "var" / "bench-media"))
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"  # the demo's mails: not printed
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() != here]
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT: the in-process client needs none


PROJECT_STATES = [  # (state, weight): most projects are under way or finished
    ("draft", 6), ("submitted", 5), ("signed", 4), ("accepted", 4), ("under_review", 5), ("waitlisted", 4),
    ("rejected", 6), ("approved", 8), ("active", 40), ("completed", 12), ("terminated", 6),
]
MODES = ["project_cooperation", "technology_transfer", "joint_research_center", "joint_lab", "other"]


def build(n_projects: int) -> None:
    """The fixture: projects and milestones by bulk_create; the ledger rows inserted directly.

    This is a benchmark fixture, not application code: the ledger rows are written
    here in bulk rather than through ``post_entry`` (which would take hours for
    tens of thousands of entries), but they keep every invariant of workflow.md —
    each entry balances (the PostgreSQL trigger checks it at commit), no guarded
    balance goes below zero, each milestone is released at most once, every done
    operation has its entry, the pool equation holds and every stored balance is
    the sum of its postings — so ``manage.py verify_ledger`` passes on the result.
    The pool is topped up through the real service first (one tranche covering
    every advance), so the advances draw on money that is there.
    """
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import F

    from core.models import Organization, SchemeVersion, User
    from escrow import accounts as codes
    from escrow.models import Account, JournalEntry, MoneyOperation, Posting
    from escrow.services import pool_top_up
    from projects.models import Milestone, Project

    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    scheme = SchemeVersion.current()
    users = {u.username: u for u in User.objects.filter(username__in=["enterprise", "enterprise2", "reviewer",
                                                                      "custodian", "poolmanager"])}
    ent_orgs = [users["enterprise"].organization, users["enterprise2"].organization]
    ent_user = {ent_orgs[0].pk: users["enterprise"], ent_orgs[1].pk: users["enterprise2"]}
    plat_orgs = list(Organization.objects.filter(kind="platform").order_by("pk")[:2])
    rng = random.Random(20251126)
    states = [s for s, w in PROJECT_STATES for _ in range(w)]
    funded = {"approved", "active", "completed", "terminated"}
    tz = timezone(timedelta(hours=8))

    plan = []  # (project kwargs, [milestone kwargs])
    for i in range(n_projects):
        state = states[i % len(states)] if i % 7 else rng.choice(states)
        ent = ent_orgs[i % 2]
        plat = plat_orgs[(i // 2) % 2]
        start = date(2025, 3, 10) + timedelta(days=i % 400)
        n_ms = 2 + (i % 2)
        amounts = [Decimal(1_000_000 + 100_000 * ((i + k) % 10)) for k in range(n_ms)]
        ms, day = [], start
        for k, amount in enumerate(amounts, start=1):
            due = day + timedelta(days=180)
            ms.append({"seq": k, "title": f"第{k}阶段：{['方案验证', '样机研制', '中试验证'][k - 1]}",
                       "targets": f"关键指标达到协议约定值\n提交第{k}阶段技术报告", "amount": amount,
                       "deposit_amount": (amount / 10).quantize(Decimal("0.01")), "start_date": day, "due_date": due})
            day = due
        proj = {"enterprise": ent, "platform": plat, "created_by": ent_user[ent.pk], "scheme": scheme,
                "mode": MODES[i % len(MODES)], "title": f"{TITLE_PREFIX}{i + 1:05d}：智能制造关键技术联合攻关",
                "summary": "基准测试数据", "total_amount": sum(amounts) + Decimal("300000.00"),
                "equipment_amount": Decimal("300000.00"), "budget": amounts[0], "start_date": start,
                "end_date": day, "state": state,
                "submitted_at": None if state == "draft" else datetime(2025, 3, 10, 9, tzinfo=tz) + timedelta(hours=i)}
        if state in funded:
            proj.update(notice_year=2024, notice_seq=i + 1, notice_number=f"萧科安〔2024〕{i + 1}号",
                        approved_at=proj["submitted_at"] + timedelta(days=30), mean_score=Decimal(80 + i % 15))
        plan.append((proj, ms))

    need = sum(p["budget"] for p, _ in plan if p["state"] in funded)
    pool_top_up(amount=need, decided_on=date(2025, 3, 9), actor=users["poolmanager"],
                idempotency_key="bench:web:pool", decision_ref="萧科〔2025〕基准", note="基准测试：覆盖全部垫付")

    batch = 1000
    for lo in range(0, n_projects, batch):
        chunk = plan[lo:lo + batch]
        with transaction.atomic():
            projects = Project.objects.bulk_create([Project(**p) for p, _ in chunk])
            milestones, entries = [], []  # entries: (key, memo, kind, purpose, project, milestone, lines)

            def entry(key, memo, kind, purpose, project, m, lines, _e=entries):
                _e.append((key, memo, kind, purpose, project, m, lines))

            for project, (_p, rows) in zip(projects, chunk):
                i = int(project.title[len(TITLE_PREFIX):len(TITLE_PREFIX) + 5]) - 1
                rows = [dict(r) for r in rows]  # state and amounts are set before the objects exist (FSM fields)
                st = project.state
                if st in funded:
                    P = project.pk
                    entry(f"bench:advance:{P}", f"{project.title} 风险池垫付", "advance", "project_advance", P,
                          None, [(codes.POOL_AVAILABLE, -project.budget), (codes.pool_advanced(P), project.budget)])
                    ext_e, ext_p = codes.ext_enterprise(project.enterprise_id), codes.ext_platform(project.platform_id)

                    def deposit(m, amount, state, ext_e=ext_e, P=P):
                        m["state"], m["paid_in"] = state, amount
                        entry(f"bench:deposit:{P}:{m['seq']}", f"保证金到账 {m['seq']}", "deposit",
                              "milestone_deposit", P, m, [(ext_e, -amount), (codes.custody(P, m["seq"]), amount)])

                    def release(m, ext_p=ext_p, P=P):
                        m["state"], m["released_amount"] = "released", m["amount"]
                        m["settled_at"] = datetime.combine(m["due_date"], datetime.min.time(), tzinfo=tz)
                        entry(f"bench:release:{P}:{m['seq']}", f"拨付平台 {m['seq']}", "release", "milestone_release",
                              P, m, [(codes.custody(P, m["seq"]), -m["amount"]), (ext_p, m["amount"])])

                    m1 = rows[0]
                    if st == "active":
                        variant = i % 5
                        if variant == 0:
                            m1["state"] = "deposit_due"
                        elif variant in (1, 2):
                            deposit(m1, m1["deposit_amount"], "in_progress")
                        elif variant == 3:
                            deposit(m1, m1["deposit_amount"], "overdue")
                        else:
                            deposit(m1, m1["amount"], "releasable")
                            release(m1)
                            deposit(rows[1], rows[1]["deposit_amount"], "in_progress")
                    elif st == "completed":
                        for m in rows:
                            deposit(m, m["amount"], "releasable")
                            release(m)
                        entry(f"bench:repayment:{P}", "平台归还垫付", "repayment", "project_repayment", P, None,
                              [(codes.pool_advanced(P), -project.budget), (codes.POOL_AVAILABLE, project.budget)])
                    elif st == "terminated":
                        entry(f"bench:write_off:{P}", "核销垫付损失", "write_off", "project_write_off", P, None,
                              [(codes.pool_advanced(P), -project.budget), (codes.POOL_LOSSES, project.budget)])
                milestones.extend(Milestone(project=project, **r) for r in rows)
            Milestone.objects.bulk_create(milestones)
            if not entries:
                continue
            by_seq = {(m.project_id, m.seq): m.pk for m in milestones}
            all_codes = {c for *_x, lines in entries for c, _a in lines}
            existing = {a.code: a for a in Account.objects.filter(code__in=all_codes)}
            Account.objects.bulk_create([
                Account(code=c, kind=codes.kind_of(c), owner_id=codes.owner_id_of(c), project_ref=codes.project_id_of(c))
                for c in sorted(all_codes - set(existing))])
            accounts = {a.code: a for a in Account.objects.filter(code__in=all_codes)}
            now = datetime.now(tz)
            journal = JournalEntry.objects.bulk_create([
                JournalEntry(memo=memo, idempotency_key=f"op:{key}", actor=users["custodian"], created_at=now)
                for key, memo, *_r in entries])
            ops, postings, delta = [], [], defaultdict(Decimal)
            for je, (key, memo, kind, purpose, P, m, lines) in zip(journal, entries):
                amount = max(a for _c, a in lines)
                ctx = {"project": P} if m is None else {"project": P, "milestone": by_seq[(P, m["seq"])]}
                ops.append(MoneyOperation(kind=kind, amount=amount, state="done", memo=memo,
                                          lines=[[c, str(a)] for c, a in lines], purpose=purpose, context=ctx,
                                          project_ref=P, idempotency_key=key, ordered_by=users["reviewer"],
                                          executed_by=users["custodian"], entry=je, created_at=now,
                                          dispatched_at=now, finished_at=now, attempts=1))
                for c, a in lines:
                    postings.append(Posting(entry=je, account=accounts[c], amount=a))
                    delta[c] += a
            MoneyOperation.objects.bulk_create(ops, batch_size=2000)
            Posting.objects.bulk_create(postings, batch_size=5000)
            # Balances: one UPDATE per shared account (pool, organisations), bulk for the new per-project ones.
            fresh = []
            for c, d in delta.items():
                if c in existing:
                    Account.objects.filter(pk=accounts[c].pk).update(balance=F("balance") + d)
                else:
                    accounts[c].balance = d
                    fresh.append(accounts[c])
            Account.objects.bulk_update(fresh, ["balance"], batch_size=5000)
        print(f"  built {min(lo + batch, n_projects):,} projects", flush=True)


def ensure_data(n_projects: int) -> None:
    from projects.models import Project

    have = Project.objects.filter(title__startswith=TITLE_PREFIX).count()
    if have >= n_projects:
        print(f"data present: {have:,} bench projects (use --rebuild to start again)")
        return
    if have:
        raise SystemExit(f"the database holds {have:,} bench projects (< {n_projects:,}): run with --rebuild")
    t = time.perf_counter()
    build(n_projects)
    print(f"data built in {time.perf_counter() - t:.0f} s", flush=True)
    from django.core.management import call_command

    call_command("verify_ledger")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")  # as autovacuum would have by now: visibility map, statistics


# --------------------------------------------------------------------------- what each user requests
def user_targets(sample: int = 300) -> dict[str, dict]:
    """Per demo user: project ids they may see (a sample), those with a milestone panel, their list's size."""
    from django.urls import NoReverseMatch, resolve
    from django.urls.exceptions import Resolver404

    from core.models import User
    from projects.selectors import projects_visible_to

    rng = random.Random(7)
    motion = ["approved", "active", "completed", "terminated"]
    out = {}
    for username, _n in USERS:
        user = User.objects.get(username=username)
        qs = projects_visible_to(user)
        ids = list(qs.values_list("pk", flat=True))
        moving = list(qs.filter(state__in=motion).values_list("pk", flat=True))
        pages = list(ROLE_PAGES.get(username, []))
        for path in OPTIONAL_PAGES.get(username, []):
            try:
                resolve(path)
                pages.append(path)
            except (Resolver404, NoReverseMatch):
                pass
        out[username] = {"projects": rng.sample(ids, min(sample, len(ids))),
                         "moving": rng.sample(moving, min(sample, len(moving))),
                         "list_pages": max(1, (len(ids) + 29) // 30), "role_pages": pages}
    return out


def page_kind(path: str, username: str) -> str:
    if path == "/":
        return f"home: {ROLE_OF.get(username, username)}"
    if path.startswith("/projects/?") or path == "/projects/":
        return "project list" if "page=" not in path else "project list (later page)"
    if re.fullmatch(r"/projects/\d+/", path):
        return "project detail"
    if path.startswith("/milestones/project/"):
        return "milestone panel"
    return path


def next_path(rng: random.Random, username: str, t: dict, step: int) -> str:
    """A visit: home, list, a few projects (with their milestone panel when under way), the role's page."""
    cycle = ["home", "list", "detail", "detail", "motion", "detail", "role", "list2"]
    what = cycle[step % len(cycle)]
    if what == "home":
        return "/"
    if what == "list":
        return "/projects/"
    if what == "list2":
        return f"/projects/?page={rng.randint(2, t['list_pages'])}" if t["list_pages"] > 1 else "/projects/"
    if what == "motion" and t["moving"]:
        return f"/milestones/project/{rng.choice(t['moving'])}/"
    if what == "role" and t["role_pages"]:
        return rng.choice(t["role_pages"])
    return f"/projects/{rng.choice(t['projects'])}/"


# --------------------------------------------------------------------------- queries per page (in-process)
def queries_per_kind(targets: dict) -> tuple[dict[str, int], dict[str, float]]:
    """Queries and time of each page kind for one user alone, in-process with Django's test client.

    Queries: the largest count seen; time: the median (no queueing behind other users, no HTTP).
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from core.models import User

    counts: dict[str, int] = {}
    times: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(3)
    for username, _n in USERS:
        client = Client()
        client.force_login(User.objects.get(username=username), backend=MODEL_BACKEND)
        for step in range(24):
            path = next_path(rng, username, targets[username], step)
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                resp = client.get(path)
                elapsed = time.perf_counter() - t0
            if resp.status_code != 200:
                raise SystemExit(f"{username} GET {path}: {resp.status_code}")
            kind = page_kind(path, username)
            counts[kind] = max(counts.get(kind, 0), len(ctx.captured_queries))
            if step >= 8:  # the first visit of each page warms caches and the connection
                times[kind].append(elapsed)
    return counts, {k: statistics.median(v) for k, v in times.items()}


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, workers: int, tmp: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with the production settings; static files collected into a temporary STATIC_ROOT."""
    (tmp / "bench_web_settings.py").write_text(
        "from anxinbao.settings.production import *  # noqa\n"
        f"STATIC_ROOT = {str(tmp / 'static')!r}\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_web_settings", "DATABASE_URL": db_url,
           "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]), "DJANGO_SECRET_KEY": os.urandom(32).hex(),
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SECURE_SSL_REDIRECT": "false",
           "DJANGO_DEBUG": "false", "ANXINBAO_REQUIRE_2FA": "false"}  # pages, not the second factor
    env.pop("REDIS_URL", None)  # a shared cache only through ANXINBAO_CACHE_URL: Celery stays eager
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([PYTHON, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT,
                   check=True)
    port = free_port()
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([PYTHON, "-m", "gunicorn", "anxinbao.wsgi", "--workers", str(workers),
                             "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {tmp / 'gunicorn.log'}\n{(tmp / 'gunicorn.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not start in 60 s")


# --------------------------------------------------------------------------- load
def login(base: str, username: str, password: str):
    import requests

    s = requests.Session()
    s.headers["Accept-Language"] = "zh-hans"
    r = s.get(f"{base}/accounts/login/", timeout=60)
    r.raise_for_status()
    # The production cookies are Secure (HTTPS only); this client talks plain HTTP to 127.0.0.1.
    for c in s.cookies:
        c.secure = False
    token = s.cookies.get("csrftoken")
    r = s.post(f"{base}/accounts/login/", data={"username": username, "password": password,
                                                "csrfmiddlewaretoken": token},
               headers={"Referer": f"{base}/accounts/login/"}, allow_redirects=False, timeout=60)
    if r.status_code != 302:
        raise SystemExit(f"login of {username} failed: HTTP {r.status_code}")
    for c in s.cookies:
        c.secure = False
    return s


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.recording = False

    def add(self, kind: str, seconds: float, status: int, path: str, user: str):
        with self.lock:
            if status != 200:
                self.errors.append(f"{user} GET {path}: HTTP {status}")
            if self.recording:
                self.samples[kind].append(seconds)


def run_load(base: str, targets: dict, warmup: float, duration: float, think: float) -> tuple[Recorder, float]:
    from demo.people import DEMO_PASSWORD

    rec = Recorder()
    stop = threading.Event()
    sessions = []
    for username, n in USERS:
        for k in range(n):
            sessions.append((username, k, login(base, username, DEMO_PASSWORD)))

    def worker(username, k, session):
        rng = random.Random(hash((username, k)))
        step = rng.randrange(8)
        t = targets[username]
        while not stop.is_set():
            path = next_path(rng, username, t, step)
            step += 1
            t0 = time.perf_counter()
            try:
                r = session.get(base + path, allow_redirects=False, timeout=120)
                status = r.status_code
            except Exception as exc:  # noqa: BLE001 - a failed request is an error of the run
                status = 0
                path = f"{path} ({exc.__class__.__name__})"
            rec.add(page_kind(path, username), time.perf_counter() - t0, status, path, username)
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    threads = [threading.Thread(target=worker, args=s, daemon=True) for s in sessions]
    for th in threads:
        th.start()
    time.sleep(warmup)
    with rec.lock:
        rec.recording = True
    t0 = time.perf_counter()
    time.sleep(duration)
    with rec.lock:
        rec.recording = False
    elapsed = time.perf_counter() - t0
    stop.set()
    for th in threads:
        th.join(timeout=150)
    return rec, elapsed


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# --------------------------------------------------------------------------- report
def machine(pg_version: str) -> str:
    import django

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return (f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg_version}")


def write_results(path: Path, body: list[str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    intro = [
        SECTION, "",
        "Signed-in users of every role (enterprise, platform, reviewer, custodian, auditor, pool manager, finance)",
        "browse their home page (the role's dashboard), the project list (first and later pages), project pages",
        "and milestone panels of projects visible to them, and their role's own pages, each in a closed loop",
        "(next request as soon as the last one is answered), against gunicorn with the production settings on",
        "PostgreSQL. Latency is measured at the client (request sent to body received); the warm-up is not",
        "counted. With 20 users and no think time the server is saturated on purpose: latencies under load are",
        "mostly waiting for a worker. \"queries\" is the largest count seen for the page kind and \"alone\" the",
        "median time of one request with no other user, both measured in-process (Django's test client, same",
        "users, same database) before the load.",
        "",
        "Rerun: `/work/main/.venv/bin/python bench/web.py` (options: `--projects`, `--users`, `--duration`,",
        "`--warmup`, `--workers`, `--think` seconds between a user's requests, `--conn-max-age` for persistent",
        "database connections, `--db`, `--rebuild` to drop and rebuild the data set, `--no-record` to leave this",
        "file alone). The first run builds the data set in",
        "the database `bench_anxinbao_web` on `postgres://postgres@127.0.0.1:5432` (`BENCH_PG` overrides the",
        "server) and checks it with `manage.py verify_ledger`; later runs reuse it. Each run adds a dated",
        "block below; the run fails, writing nothing, if any response is not 200.",
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
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=20, help="concurrent users (the role mix is scaled)")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a user's requests (s)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="persistent database connections in the server (seconds; default: as deployed, none)")
    parser.add_argument("--db", default="bench_anxinbao_web")
    parser.add_argument("--server", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="do not write to docs/benchmarks.md")
    args = parser.parse_args()

    if args.users != 20:
        total = sum(n for _u, n in USERS)
        scaled = [(u, max(1, round(n * args.users / total))) for u, n in USERS]
        USERS[:] = scaled

    db_url = f"{args.server}/{args.db}"
    prepare_database(args.server, args.db, args.rebuild)
    setup_django(db_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    ensure_data(args.projects)
    targets = user_targets()
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0].split(" ")[0]
        cur.execute("SELECT count(*) FROM projects_project")
        n_projects = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM projects_milestone")
        n_milestones = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM escrow_posting")
        n_postings = cur.fetchone()[0]
    queries, alone = queries_per_kind(targets)
    connection.close()

    tmp = Path(tempfile.mkdtemp(prefix="anxinbao-web-bench-"))
    server_url = db_url if args.conn_max_age is None else f"{db_url}?conn_max_age={args.conn_max_age}"
    proc, port = start_server(server_url, args.workers, tmp)
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    try:
        print(f"gunicorn: {args.workers} workers on {base}; {sum(n for _u, n in USERS)} users, "
              f"{args.warmup:.0f} s warm-up, {args.duration:.0f} s measured", flush=True)
        rec, elapsed = run_load(base, targets, args.warmup, args.duration, args.think)
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if rec.errors:
        print(f"{len(rec.errors)} requests failed:", file=sys.stderr)
        for line in sorted(set(rec.errors))[:30]:
            print("  " + line, file=sys.stderr)
        print(f"server log: {tmp / 'gunicorn.log'}", file=sys.stderr)
        raise SystemExit(1)
    shutil.rmtree(tmp, ignore_errors=True)

    order = [f"home: {ROLE_OF.get(u, u)}" for u, _n in USERS]
    order = list(dict.fromkeys(order)) + ["project list", "project list (later page)", "project detail", "milestone panel"]
    kinds = [k for k in order if k in rec.samples] + sorted(k for k in rec.samples if k not in order)
    rows = []
    everything: list[float] = []
    ms = 1000
    for kind in kinds:
        v = rec.samples[kind]
        everything += v
        rows.append(f"| {kind} | {len(v):,} | {len(v) / elapsed:.1f} | {statistics.fmean(v) * ms:.0f} "
                    f"| {pct(v, 50) * ms:.0f} | {pct(v, 95) * ms:.0f} | {pct(v, 99) * ms:.0f} | {max(v) * ms:.0f} "
                    f"| 0 | {queries.get(kind, '—')} | {_ms(alone.get(kind))} |")
    rows.append(f"| **all** | {len(everything):,} | {len(everything) / elapsed:.1f} "
                f"| {statistics.fmean(everything) * ms:.0f} | {pct(everything, 50) * ms:.0f} "
                f"| {pct(everything, 95) * ms:.0f} | {pct(everything, 99) * ms:.0f} | {max(everything) * ms:.0f} "
                f"| 0 | | |")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n_users = sum(n for _u, n in USERS)
    body = [
        f"### {stamp}",
        "",
        f"Machine: {machine(pg_version)}. Load average (1 min) {load_before[0]:.1f} before and "
        f"{load_after[0]:.1f} after the run (the machine's 2 cores are shared with other processes).",
        "",
        f"Data: {n_projects:,} projects, {n_milestones:,} milestones, {n_postings:,} postings (database "
        f"`{args.db}`). Server: gunicorn, {args.workers} sync workers"
        f"{' (2 × cores + 1)' if args.workers == 2 * (os.cpu_count() or 1) + 1 else ''}, production settings"
        f"{'' if args.conn_max_age is None else f', CONN_MAX_AGE={args.conn_max_age}'}. "
        f"Load: {n_users} users ({', '.join(f'{u} ×{n}' for u, n in USERS)}), think time {args.think:g} s, "
        f"{args.warmup:.0f} s warm-up, {elapsed:.0f} s measured.",
        "",
        "| page | requests | req/s | mean (ms) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors | queries "
        "| alone (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(body))
    if not args.no_record:
        write_results(ROOT / "docs" / "benchmarks.md", body)
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
