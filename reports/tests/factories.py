"""Projects with milestones and real ledger postings, for the reports' tests and the benchmark.

Money moves through ``escrow.services.operation_request`` (the real ledger entry point), so the
documents read the same postings as the pages would.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from core.services import audit_record
from escrow import accounts as codes
from escrow.choices import OperationKind
from escrow.services import operation_request
from projects.choices import MilestoneState, Mode, ProjectState
from projects.models import Milestone, Project

D = Decimal


def _op(kind, amount, lines, memo, key, actor=None, purpose="", context=None):
    # ``purpose`` is not passed on: the milestones' completion hooks would move the milestones, whose
    # states this builder sets itself. Kind and context are kept (the subsidies' ledger input reads them).
    return operation_request(kind=kind, amount=D(amount), lines=[(c, D(a)) for c, a in lines], memo=memo,
                             idempotency_key=key, ordered_by=actor, executed_by=actor,
                             context=context or {}, inline=True)


def make_project(*, enterprise, platform, created_by, scheme, seq: int, year: int = 2025, title: str | None = None,
                 fail_second: bool = False, actor=None, milestones=(("5000000.00", "500000.00"),
                                                                   ("3000000.00", "300000.00"))) -> Project:
    """An active project (approved, advance posted) whose milestone 1 is released.

    With ``fail_second`` milestone 2 got 1,000,000.00 in and was forfeited: its deposit
    300,000.00 to the platform, the other 700,000.00 back to the enterprise (R8, I3).
    """
    total = sum(D(a) for a, _d in milestones)
    budget = D(milestones[0][0])
    approved = timezone.make_aware(timezone.datetime(year, 4, 1, 10, 0))
    project = Project.objects.create(
        enterprise=enterprise, platform=platform, created_by=created_by, scheme=scheme,
        mode=Mode.PROJECT_COOPERATION, title=title or f"智能装备联合攻关项目{seq}",
        total_amount=total, equipment_amount=D("0.00"), budget=budget,
        start_date=date(year, 4, 1), end_date=date(year + 1, 12, 31),
        ip_terms="阶段成果归企业所有，平台保留署名权", profit_sharing="产业化后三年按销售额 2% 分成",
        state=ProjectState.ACTIVE, notice_number=f"萧科安〔{year}〕{seq}号", notice_year=year, notice_seq=seq,
        approved_at=approved, mean_score=D("86.67"))
    for frm, to, action in (("under_review", "approved", "approve"), ("approved", "active", "open_escrow")):
        audit_record(actor=actor, target=project, action=action, from_state=frm, to_state=to, reason="专家评审通过")
    ms = []
    start = date(year, 4, 1)
    for i, (amount, deposit) in enumerate(milestones, start=1):
        ms.append(Milestone.objects.create(project=project, seq=i, title=f"第{i}阶段样机研制", amount=D(amount),
                                           deposit_amount=D(deposit), start_date=start,
                                           due_date=start + timedelta(days=300)))
        start += timedelta(days=301)
    p, e, f = project.pk, codes.ext_enterprise(enterprise.pk), codes.ext_platform(platform.pk)
    _op(OperationKind.ADVANCE, budget, [(codes.POOL_AVAILABLE, -budget), (codes.pool_advanced(p), budget)],
        f"风险池垫付 项目{p}", f"t:{p}:adv", actor, "project_advance", {"project": p})
    m1 = ms[0]
    _op(OperationKind.DEPOSIT, m1.deposit_amount, [(e, -m1.deposit_amount), (codes.custody(p, 1), m1.deposit_amount)],
        f"保证金到账 {m1.payment_reference}", f"t:{p}:d1", actor, "milestone_deposit", {"project": p, "milestone": m1.pk})
    rest = m1.amount - m1.deposit_amount
    _op(OperationKind.BALANCE, rest, [(e, -rest), (codes.custody(p, 1), rest)],
        f"尾款到账 {m1.payment_reference}", f"t:{p}:b1", actor, "milestone_balance", {"project": p, "milestone": m1.pk})
    _op(OperationKind.RELEASE, m1.amount, [(codes.custody(p, 1), -m1.amount), (f, m1.amount)],
        f"拨付平台 {m1.payment_reference}", f"t:{p}:r1", actor, "milestone_release", {"project": p, "milestone": m1.pk})
    Milestone.objects.filter(pk=m1.pk).update(state=MilestoneState.RELEASED, paid_in=m1.amount,
                                              released_amount=m1.amount)
    if fail_second and len(ms) > 1:
        m2 = ms[1]
        paid = D("1000000.00")
        _op(OperationKind.DEPOSIT, paid, [(e, -paid), (codes.custody(p, 2), paid)], f"保证金到账 {m2.payment_reference}",
            f"t:{p}:d2", actor, "milestone_deposit", {"project": p, "milestone": m2.pk})
        refund = paid - m2.deposit_amount
        _op(OperationKind.FORFEIT, paid, [(codes.custody(p, 2), -paid), (f, m2.deposit_amount), (e, refund)],
            f"保证金罚没 {m2.payment_reference}", f"t:{p}:f2", actor, "milestone_forfeit",
            {"project": p, "milestone": m2.pk})
        Milestone.objects.filter(pk=m2.pk).update(state=MilestoneState.FORFEITED, paid_in=paid,
                                                  forfeited_amount=m2.deposit_amount, refunded_amount=refund,
                                                  decision_reason="样机未达到约定指标")
    return Project.objects.get(pk=project.pk)
