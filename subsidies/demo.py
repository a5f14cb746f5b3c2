"""Demo data of the subsidies app, called by ``seed_demo`` after the projects' demo.

Policies with their documents (worked example 4: premium 700,000 with a Lin'an
subsidy of 350,000 recorded on that premium; a policy bought after the
cooperation started, flagged 合作后投保, I11), a paid claim, the annual audits
of the projects whose money reached the platforms with the enterprises'
acceptance opinions (I18), the computed figures, and a paid grant with a
recovery: a claim for that year paid after the grant, so the recomputed
version is below what was paid (I10). Idempotent: every row is keyed, and a
recomputation with unchanged inputs creates nothing. Without suitable
projects (approved or later) it creates nothing.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core.choices import Role
from core.models import User
from core.services import users_of
from projects.demo import PDF
from projects.models import Project

from .choices import ComputationState
from .models import AnnualAudit, GrantComputation, InsuranceClaim, InsurancePolicy, OtherPolicySubsidy
from .selectors import ledger_inputs
from .services import (
    audit_opinion,
    audit_save,
    claim_create,
    figure_approve,
    figure_pay,
    figure_settlement,
    grant_compute,
    other_subsidy_create,
    policy_attach_document,
    policy_create,
    premium_compute,
)

LATE_CLAIM = "DEMO-LATE-CLAIM：上一年度里程碑未达标，保险公司在资助拨付后赔付"

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
    users = {u.username: u for u in User.objects.filter(username__in=["reviewer", "auditor", "enterprise", "finance"])}
    if not projects or insurer is None or len(users) < 4:
        stdout.write("subsidies demo: no approved projects yet, nothing to add")
        return
    reviewer, auditor = users["reviewer"], users["auditor"]
    first = next((p for p in projects if p.enterprise_id == ent1.pk), projects[0])
    policy = InsurancePolicy.objects.filter(policy_number="PDEMO-RD-001").first()
    if policy is None:
        policy = policy_create(actor=reviewer, project=first, insurer=insurer, type="rd_loss",
                               premium=Decimal("700000.00"), cover=Decimal("8000000.00"),
                               start_date=first.start_date, end_date=_one_year_from(first.start_date),
                               policy_number="PDEMO-RD-001", document=_policy_pdf("PDEMO-RD-001"))
    year = policy.year
    if not OtherPolicySubsidy.objects.filter(policy=policy).exists():
        other_subsidy_create(actor=reviewer, enterprise=first.enterprise, policy_name="临安区科创保险保费补助",
                             issuer="临安区（市级以下同类政策）", type="rd_loss", year=year,
                             amount=Decimal("350000.00"), premium_covered=Decimal("700000.00"), policy=policy)
    if not InsuranceClaim.objects.filter(policy=policy).exists():
        claim_create(actor=reviewer, policy=policy, assessed_loss=Decimal("1200000.00"),
                     paid_amount=Decimal("1000000.00"), paid_on=policy.start_date + timedelta(days=200),
                     description="里程碑未达标，保险公司核定研发费用损失")
    second = next((p for p in projects if p.enterprise_id != first.enterprise_id), None)
    if second is not None and not InsurancePolicy.objects.filter(policy_number="PDEMO-TR-001").exists():
        bought = second.start_date + timedelta(days=30)  # after the cooperation started: flagged 合作后投保 (I11)
        policy_create(actor=reviewer, project=second, insurer=insurer, type="transformation",
                      premium=Decimal("200000.00"), cover=Decimal("3000000.00"), start_date=bought,
                      end_date=_one_year_from(bought), policy_number="PDEMO-TR-001",
                      document=_policy_pdf("PDEMO-TR-001"))
    for old in InsurancePolicy.objects.filter(policy_number__startswith="PDEMO-", document=""):  # older demo data
        policy_attach_document(actor=reviewer, policy=old, document=_policy_pdf(old.policy_number))

    ids = [p.pk for p in projects]
    years = set()
    for y in sorted({p.start_date.year for p in projects} | {year, year + 1}):
        inputs = ledger_inputs(y, ids)
        for pid, amount in inputs.items():
            if amount > 0 and not AnnualAudit.objects.filter(project_id=pid, year=y).exists():
                audit_save(actor=auditor, project=Project.objects.get(pk=pid), year=y, audited_input=amount,
                           expert_evaluation="专家组评价：项目按计划推进，阶段成果达到协议约定。")
            _give_opinion(pid, y)
            if amount > 0:
                years.add(y)
    for y in sorted(years):
        grant_compute(year=y, actor=reviewer)
    for y in sorted({p.year for p in InsurancePolicy.objects.filter(policy_number__startswith="PDEMO-")}):
        premium_compute(year=y, actor=reviewer)
    _seed_recovery(policy=policy, reviewer=reviewer, finance=users["finance"])
    stdout.write(f"subsidies demo: policies, claim, audits for {sorted(years) or '—'}, figures computed")


def _policy_pdf(number: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{number}.pdf", PDF, content_type="application/pdf")


def _give_opinion(project_id: int, year: int) -> None:
    """I18: the enterprise's acceptance opinion on the year's evaluation, so the project-year enters the grant."""
    audit = AnnualAudit.objects.filter(project_id=project_id, year=year, opinion_at__isnull=True).select_related(
        "project__enterprise").first()
    staff = audit and users_of(audit.project.enterprise, Role.ENTERPRISE).first()
    if staff:
        audit_opinion(actor=staff, audit=audit, opinion="同意专项审计结论，确认当年实际投入。")


def _seed_recovery(*, policy: InsurancePolicy, reviewer, finance) -> None:
    """I10: the policy's enterprise has its grant for the policy's year approved and paid; then the insurer
    pays a claim for that year's failure on 15 January of the next year; the recomputed version is below
    what was paid, approved, and its recovery waits to be netted from the enterprise's next payment."""
    year = policy.year
    if InsuranceClaim.objects.filter(policy=policy, description=LATE_CLAIM).exists():
        return
    latest = GrantComputation.objects.filter(enterprise_id=policy.project.enterprise_id, year=year).order_by(
        "-version").first()
    if latest is None or latest.amount <= 0 or latest.trace.get("pending_audit"):
        return
    if latest.state == ComputationState.COMPUTED:
        latest = figure_approve(figure=latest, actor=reviewer)
    if latest.state == ComputationState.APPROVED:
        plan = figure_settlement(latest)
        latest = figure_pay(figure=latest, actor=finance, amount=plan.cash, paid_on=date(year + 1, 1, 10),
                            voucher=f"萧财拨〔{year + 1}〕3号")
    claim_create(actor=reviewer, policy=policy, assessed_loss=Decimal("600000.00"), paid_amount=Decimal("500000.00"),
                 paid_on=date(year + 1, 1, 15), loss_year=year, description=LATE_CLAIM)
    grant_compute(year=year, actor=reviewer)
    newest = GrantComputation.objects.filter(enterprise_id=latest.enterprise_id, year=year).order_by("-version").first()
    if newest.state == ComputationState.COMPUTED and newest.recovery > 0:
        figure_approve(figure=newest, actor=reviewer)
