"""Benchmark: the annual audit report for 1,000 projects, in parts and in one pass.

    /work/main/.venv/bin/python bench/reports.py [--projects 1000] [--chunk 100]
        [--database postgres://postgres@127.0.0.1:5432/bench_anxinbao_reports]

Builds synthetic data (projects with milestones and real ledger postings, every
tenth with a forfeited milestone) in a database of its own, then renders the
same document twice in the same run:

- in parts: the way the worker does it (``reports.documents.annual_audit_in_parts``):
  a front part, one part per chunk of N projects, a back part, each rendered by
  a fresh process, merged with pypdf and stamped with 第 X 页 共 Y 页;
- in one pass: the whole HTML rendered by one WeasyPrint call, also in a
  process of its own so that its peak memory can be read.

Peak memory is ``ru_maxrss`` of the processes that render (reported by
``reports/pdfworker.py`` for itself), not tracemalloc: WeasyPrint's memory is
mostly outside Python's allocator. The results are appended as a row to this
benchmark's own section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_anxinbao_reports"
START = "<!-- reports-bench:start -->"
END = "<!-- reports-bench:end -->"


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    from urllib.parse import urlparse

    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anxinbao.settings.local")
    os.environ.setdefault("ANXINBAO_MEDIA_ROOT", str(ROOT / "var" / "bench-media"))
    # Run as a script, this file's folder comes first on sys.path: keep the app package ``reports`` visible.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() != here]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed(n_projects: int) -> int:
    """Create the synthetic scheme once; a second run reuses it."""
    from core.choices import OrgKind
    from core.models import Organization
    from core.tests.factories import build_demo
    from demo import people as demo_data
    from projects.models import Project
    from reports.tests.factories import make_project

    existing = Project.objects.count()
    if existing >= n_projects:
        return existing
    if existing:
        raise SystemExit(f"the bench database holds {existing} projects (< {n_projects}); drop it and run again")
    ns = build_demo()
    from decimal import Decimal

    from escrow.services import pool_top_up

    # The first tranche (I1) covers 50 advances of 2,000,000.00; a top-up covers the rest (R3).
    pool_top_up(amount=Decimal("2000000.00") * n_projects, decided_on=date(2025, 6, 1), actor=ns.poolmanager,
                idempotency_key="bench:pool:top-up", decision_ref="基准测试追加")
    enterprises = [Organization.objects.create(kind=OrgKind.ENTERPRISE, name=f"杭州萧山基准测试企业{i:03d}有限公司",
                                               uscc=demo_data.code(f"91330109BE{i:07d}")) for i in range(50)]
    platforms = [Organization.objects.create(kind=OrgKind.PLATFORM, name=f"萧山基准测试科创平台{i:02d}",
                                             uscc=demo_data.code(f"12330109BP{i:07d}")) for i in range(10)]
    started = time.perf_counter()
    for i in range(n_projects):
        make_project(enterprise=enterprises[i % 50], platform=platforms[i % 10], created_by=ns.enterprise,
                     scheme=ns.scheme, seq=i + 1, fail_second=i % 10 == 0, actor=ns.custodian,
                     title=f"基准测试合作项目{i + 1:04d}：智能装备关键部件联合研发",
                     milestones=(("2000000.00", "200000.00"), ("1500000.00", "150000.00"),
                                 ("1000000.00", "100000.00")))
        if (i + 1) % 100 == 0:
            print(f"  seeded {i + 1} projects ({time.perf_counter() - started:.0f} s)", flush=True)
    return Project.objects.count()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    import weasyprint

    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} cores (load {load:.1f} at the end: shared machine), {mem_gb:.0f} GB RAM; "
            f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
            f"{platform.system()} {platform.release()}")


def write_results(path: Path, row: str, header_lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START not in text:
        section = "\n".join([START, *header_lines, row, END])
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        before, rest = text.split(START, 1)
        body, after = rest.split(END, 1)
        text = before + START + body.rstrip("\n") + "\n" + row + "\n" + END + after
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--parts-only", action="store_true",
                        help="skip the one-pass rendering (at 10,000 projects it needs several GiB and most of an hour)")
    args = parser.parse_args()

    ensure_database(args.database)
    setup_django(args.database)
    print(f"seeding {args.projects} projects …", flush=True)
    count = seed(args.projects)

    import tempfile

    from django.utils import timezone

    from reports import documents

    year = timezone.localdate().year
    number = f"萧科安审〔{year}〕1号"
    issued = timezone.localdate()

    load = os.getloadavg()[0]
    # -- in parts (as the worker renders it) ------------------------------
    t0 = time.perf_counter()
    plan = documents.annual_audit_plan(year, number=number, issued_on=issued, chunk_size=args.chunk)
    parts = documents.annual_audit_in_parts(plan)
    t_parts = time.perf_counter() - t0
    print(f"parts: {parts.pages} pages in {len(parts.part_pages)} parts on {parts.workers} processes at a time, "
          f"{t_parts:.1f} s, peak {parts.peak_rss_kb / 1024:.0f} MiB per rendering process, "
          f"{parts.peak_total_rss_kb / 1024:.0f} MiB for the processes at once", flush=True)

    # -- one pass, the same document ---------------------------------------
    single = None
    if not args.parts_only:
        t0 = time.perf_counter()
        plan = documents.annual_audit_plan(year, number=number, issued_on=issued, chunk_size=args.chunk)
        html = documents.annual_audit_single_html(plan)
        with tempfile.TemporaryDirectory() as tmp:
            single = documents.render_in_child(html, Path(tmp), "single")
            single_size = single.path.stat().st_size
        t_single = time.perf_counter() - t0
        print(f"single pass: {single.pages} pages, {t_single:.1f} s, peak {single.maxrss_kb / 1024:.0f} MiB",
              flush=True)

    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mib = 1024
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")  # Django sets TZ to Shanghai
    header = [
        "## Annual audit report: rendering in parts vs one pass (bench/reports.py)",
        "",
        "The annual audit report (`reports.documents`) for every project of a year, rendered by the worker in",
        "parts (front, one part per chunk of projects, back; rendered by one process per core at a time, each",
        "process replaced after a few parts; merged with pypdf; page footers 第 X 页 共 Y 页 stamped afterwards)",
        "and, in the same run, as one single WeasyPrint rendering of the same HTML. Peak memory is `ru_maxrss`",
        "of the rendering processes: for parts, the sum of the largest peaks of as many processes as run at once",
        "(what they can hold together). The orchestrating process (Django, data, merge) is listed separately.",
        "Data: synthetic, three milestones per project, every tenth with a forfeited milestone, in a database",
        "of its own. Load: the 1-minute load average when the run started.",
        "",
        "| date | machine | load | database | projects | chunk | mode | pages | time (s) | pages/s "
        "| peak RSS of renderers (MiB) | orchestrator peak (MiB) | PDF size (KiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    engine = "PostgreSQL" if args.database.startswith("postgres") else "SQLite"
    rows = [
        f"| {today} | {machine()} | {load:.2f} | {engine} | {count} | {args.chunk} | in parts "
        f"({len(parts.part_pages)}, {parts.workers} at a time) | {parts.pages} | {t_parts:.1f} "
        f"| {parts.pages / t_parts:.1f} | {parts.peak_total_rss_kb / mib:.0f} "
        f"| {own_peak / mib:.0f} | {len(parts.pdf) / 1024:.0f} |",
    ]
    if single is not None:
        rows.append(f"| {today} | same run | | {engine} | {count} | — | one pass | {single.pages} | {t_single:.1f} "
                    f"| {single.pages / t_single:.1f} | {single.maxrss_kb / mib:.0f} | — | {single_size / 1024:.0f} |")
    write_results(Path(args.output), "\n".join(rows), header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
