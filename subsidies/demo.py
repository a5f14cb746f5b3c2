"""Demo data of the subsidies app, called by ``seed_demo`` after the projects' demo.

Policies (worked example 4: premium 700,000 with a Lin'an subsidy of 350,000
on record), a paid claim, the annual audits of the projects whose money
reached the platforms, and the computed figures. Idempotent: every row is
keyed, and a recomputation with unchanged inputs creates nothing. Without
suitable projects (approved or later) it creates nothing.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from core.models import User
from projects.models import Project

from .models import AnnualAudit, InsuranceClaim, InsurancePolicy, OtherPolicySubsidy
from .selectors import ledger_inputs
from .services import audit_save, claim_create, grant_compute, other_subsidy_create, policy_create, premium_compute

SUITABLE = ["approved", "active", "completed", "terminated"]


def _one_year_from(day: date) -> date:
    try:
        return day.replace(year=day.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return day + timedelta(days=364)


@transaction.atomic
def seed(*, orgs, scheme, stdout) -> None:
    ent1, ent2, insurer = orgs.get("ent1"), orgs.get("ent2"), orgs.get("insurer")
    projects = list(Project.objects.filter(enterprise__in=[o for o in (ent1, ent2) if o], state__in=SUITABLE)
                    .order_by("pk"))
    users = {u.username: u for u in User.objects.filter(username__in=["reviewer", "auditor", "enterprise"])}
    if not projects or insurer is None or len(users) < 3:
        stdout.write("subsidies demo: no approved projects yet, nothing to add")
        return
    reviewer, auditor = users["reviewer"], users["auditor"]
    first = next((p for p in projects if p.enterprise_id == ent1.pk), projects[0])
    policy = InsurancePolicy.objects.filter(policy_number="PDEMO-RD-001").first()
    if policy is None:
        policy = policy_create(by=reviewer, project=first, insurer=insurer, type="rd_loss",
                               premium=Decimal("700000.00"), cover=Decimal("8000000.00"),
                               start_date=first.start_date, end_date=_one_year_from(first.start_date),
                               policy_number="PDEMO-RD-001")
    year = policy.year
    if not OtherPolicySubsidy.objects.filter(policy=policy).exists():
        other_subsidy_create(by=reviewer, enterprise=first.enterprise, policy_name="临安区科创保险保费补助",
                             issuer="临安区（市级以下同类政策）", type="rd_loss", year=year,
                             amount=Decimal("350000.00"), premium_covered=Decimal("700000.00"), policy=policy)
    if not InsuranceClaim.objects.filter(policy=policy).exists():
        claim_create(by=reviewer, policy=policy, assessed_loss=Decimal("1200000.00"),
                     paid_amount=Decimal("1000000.00"), paid_on=policy.start_date + timedelta(days=200),
                     description="里程碑未达标，保险公司核定研发费用损失")
    second = next((p for p in projects if p.enterprise_id != first.enterprise_id), None)
    if second is not None and not InsurancePolicy.objects.filter(policy_number="PDEMO-TR-001").exists():
        policy_create(by=reviewer, project=second, insurer=insurer, type="transformation",
                      premium=Decimal("200000.00"), cover=Decimal("3000000.00"), start_date=second.start_date,
                      end_date=_one_year_from(second.start_date), policy_number="PDEMO-TR-001")

    ids = [p.pk for p in projects]
    years = set()
    for y in sorted({p.start_date.year for p in projects} | {year, year + 1}):
        inputs = ledger_inputs(y, ids)
        for pid, amount in inputs.items():
            if amount > 0 and not AnnualAudit.objects.filter(project_id=pid, year=y).exists():
                audit_save(by=auditor, project=Project.objects.get(pk=pid), year=y, audited_input=amount,
                           expert_evaluation="专家组评价：项目按计划推进，阶段成果达到协议约定。")
            if amount > 0:
                years.add(y)
    for y in sorted(years):
        grant_compute(year=y, by=reviewer)
    for y in sorted({p.year for p in InsurancePolicy.objects.filter(policy_number__startswith="PDEMO-")}):
        premium_compute(year=y, by=reviewer)
    stdout.write(f"subsidies demo: policies, claim, audits for {sorted(years) or '—'}, figures computed")
