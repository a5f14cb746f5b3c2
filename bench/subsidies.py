"""Benchmark: one year's grant and premium computations for 10,000 enterprises × 2 projects.

Runs on PostgreSQL in its own database (default ``bench_anxinbao_subsidies``,
created if missing), builds the data set once (bulk inserts of balanced
journal entries: a deposit and a release per project, dated in 2025), then
times ``grant_compute`` (first run: 10,000 new figures; second run: nothing
changes) and ``premium_compute``, and appends the times to docs/benchmarks.md.

    python bench/subsidies.py [--enterprises 10000] [--db bench_anxinbao_subsidies]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ensure_database(server_url: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model or platform.processor()} × {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def build(n_enterprises: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from core import uscc
    from core.models import Organization, SchemeVersion, User
    from core.services import user_create
    from escrow import accounts as codes
    from escrow.models import Account, JournalEntry, MoneyOperation, Posting
    from projects.models import Milestone, Project
    from subsidies.models import AnnualAudit, InsuranceClaim, InsurancePolicy

    if Organization.objects.filter(name__startswith="基准企业").count() >= n_enterprises:
        print("data set present")
        return
    scheme, _ = SchemeVersion.objects.get_or_create(
        name="萧山区科创安心宝 2025 版", defaults={"valid_from": date(2025, 3, 9), "valid_to": date(2026, 3, 8)})
    user = User.objects.filter(username="bench").first() or user_create(
        username="bench", password="bench", organization=None, roles=["reviewer", "auditor"])
    insurer, _ = Organization.objects.get_or_create(
        name="基准保险公司", defaults={"kind": "insurer", "uscc": "91330109700000000" + uscc.check_character(
            "91330109700000000")})
    platforms = []
    for i in range(20):
        body = f"123301098{i:08d}"
        org, _ = Organization.objects.get_or_create(name=f"基准平台{i:02d}",
                                                    defaults={"kind": "platform", "uscc": body + uscc.check_character(body)})
        platforms.append(org)
    tz = ZoneInfo("Asia/Shanghai")
    t0 = datetime(2025, 4, 1, 9, tzinfo=tz)
    step = 2000
    for start in range(0, n_enterprises, step):
        with transaction.atomic():
            ents = []
            for n in range(start, min(start + step, n_enterprises)):
                body = f"913301095{n:08d}"
                ents.append(Organization(kind="enterprise", name=f"基准企业{n:05d}有限公司",
                                         uscc=body + uscc.check_character(body)))
            Organization.objects.bulk_create(ents)
            projects = []
            for e in ents:
                for k in range(2):
                    projects.append(Project(
                        enterprise=e, platform=platforms[(e.pk + k) % len(platforms)], created_by=user,
                        scheme=scheme, mode="project_cooperation", title=f"{e.name} 项目{k + 1}",
                        total_amount=Decimal("6000000.00"), budget=Decimal("6000000.00"),
                        # completed: the one milestone is released below; an approved or active project
                        # would hold its budget in pool:advanced:P (I2), which this world does not post
                        start_date=date(2025, 4, 1), end_date=date(2027, 3, 31), state="completed"))
            Project.objects.bulk_create(projects)
            milestones, accounts, ops, entries, postings, audits, policies = [], [], [], [], [], [], []
            for idx, p in enumerate(projects):
                n = start * 2 + idx
                amount = Decimal(3_000_000 + (n % 7) * 1_000_000) + Decimal(n % 100) / 100
                milestones.append(Milestone(project=p, seq=1, title="里程碑1", amount=amount,
                                            deposit_amount=(amount / 10).quantize(Decimal("0.01")),
                                            start_date=date(2025, 4, 1), due_date=date(2026, 3, 31),
                                            state="released", paid_in=amount, released_amount=amount))
                accounts.append(Account(code=codes.custody(p.pk, 1), kind="custody", project_ref=p.pk))
                at = t0 + timedelta(minutes=n)
                for kind, purpose, lines in (
                    ("deposit", "milestone_deposit", [(codes.ext_enterprise(p.enterprise_id), -amount),
                                                      (codes.custody(p.pk, 1), amount)]),
                    ("release", "milestone_release", [(codes.custody(p.pk, 1), -amount),
                                                      (codes.ext_platform(p.platform_id), amount)]),
                ):
                    key = f"bench:{p.pk}:{kind}"
                    entry = JournalEntry(memo=f"{kind} {p.pk}", idempotency_key=f"op:{key}", created_at=at)
                    entries.append((entry, lines))
                    ops.append(MoneyOperation(kind=kind, amount=amount, state="done", memo=entry.memo,
                                              lines=[[c, str(a)] for c, a in lines], purpose=purpose,
                                              context={"project": p.pk, "milestone": None}, project_ref=p.pk,
                                              idempotency_key=key,
                                              created_at=at, finished_at=at))
                audited = amount if n % 10 else amount - Decimal("100000.00")
                audits.append(AnnualAudit(project=p, year=2025, ledger_input=amount, audited_input=audited,
                                          reason="" if audited == amount else "部分支出不属于研发投入",
                                          opinion="同意", opinion_at=timezone.now(),  # I18
                                          recorded_by=user))
                if n % 5 == 0:
                    policies.append(InsurancePolicy(project=p, insurer=insurer, type="rd_loss",
                                                    premium=Decimal("120000.00") + n % 1000,
                                                    cover=Decimal("3000000.00"), start_date=date(2025, 4, 1),
                                                    end_date=date(2026, 3, 31), created_by=user,
                                                    document="insurance/bench.pdf"))  # I11: on file
            Milestone.objects.bulk_create(milestones)
            new_ext = [Account(code=codes.ext_enterprise(e.pk), kind="external", owner=e) for e in ents]
            Account.objects.bulk_create(accounts + new_ext)
            for plat in platforms:
                Account.objects.get_or_create(code=codes.ext_platform(plat.pk),
                                              defaults={"kind": "external", "owner": plat})
            JournalEntry.objects.bulk_create([e for e, _ in entries])
            for op, (entry, _) in zip(ops, entries, strict=True):
                op.entry = entry
            MoneyOperation.objects.bulk_create(ops)
            by_code = {a.code: a for a in Account.objects.filter(
                code__in={c for _, lines in entries for c, _ in lines})}
            for entry, lines in entries:
                postings.extend(Posting(entry=entry, account=by_code[c], amount=a) for c, a in lines)
            Posting.objects.bulk_create(postings, batch_size=5000)
            balances: dict[str, Decimal] = {}
            for _, lines in entries:
                for c, a in lines:
                    balances[c] = balances.get(c, Decimal(0)) + a
            for code, delta in balances.items():
                by_code[code].balance += delta
            Account.objects.bulk_update([by_code[c] for c in balances], ["balance"], batch_size=5000)
            AnnualAudit.objects.bulk_create(audits)
            InsurancePolicy.objects.bulk_create(policies)
            claims = [InsuranceClaim(policy=pol, assessed_loss=Decimal("500000.00"), paid_amount=Decimal("400000.00"),
                                     paid_on=date(2025, 12, 1), loss_year=2025, created_by=user)
                      for pol in policies[::4]]
            InsuranceClaim.objects.bulk_create(claims)
        print(f"  built {min(start + step, n_enterprises)} enterprises")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--db", default="bench_anxinbao_subsidies")
    parser.add_argument("--server", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()

    _ensure_database(f"{args.server}/postgres", args.db)
    os.environ["DATABASE_URL"] = f"{args.server}/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anxinbao.settings.local")
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    build(args.enterprises)
    print(f"data set: {time.perf_counter() - t:.1f} s")

    from subsidies.models import GrantComputation, PremiumSubsidy
    from subsidies.services import grant_compute, premium_compute

    GrantComputation.objects.filter(year=2025).delete()
    PremiumSubsidy.objects.filter(year=2025).delete()
    # As in a running worker or web process: the URL configuration is loaded (the run's notice links to the
    # subsidies page) before anything is timed; a cold process pays ~1 s for it once, not per run.
    from django.urls import reverse

    reverse("subsidies:index")
    results = []
    for label, fn in (("grant_compute, first run", grant_compute), ("grant_compute, second run (no change)",
                                                                     grant_compute),
                      ("premium_compute, first run", premium_compute)):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            result = fn(year=2025)
            elapsed = time.perf_counter() - t
        results.append((label, elapsed, len(ctx.captured_queries), result.as_dict()))
        print(f"{label}: {elapsed:.2f} s, {len(ctx.captured_queries)} queries, "
              f"created {len(result.created)}, unchanged {len(result.unchanged)}")
    capped = GrantComputation.objects.filter(year=2025, capped=True).count()
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    if not args.no_record:
        out = ROOT / "docs" / "benchmarks.md"
        if not out.exists():
            out.write_text("# Benchmarks\n")
        lines = [f"\n## Subsidies: one year, {args.enterprises:,} enterprises × 2 projects "
                 f"({datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M} Asia/Shanghai)\n",
                 f"Machine: {_machine()}; PostgreSQL {pg}. Script: `bench/subsidies.py` "
                 f"(database `{args.db}`).\n",
                 "| step | time | queries |", "|---|---|---|"]
        lines += [f"| {label} | {elapsed:.2f} s | {q} |" for label, elapsed, q, _ in results]
        lines.append(f"\n{capped:,} of {args.enterprises:,} enterprises hit the 3,000,000 cap.\n")
        with out.open("a") as fh:
            fh.write("\n".join(lines) + "\n")
        print(f"appended to {out}")


if __name__ == "__main__":
    main()
