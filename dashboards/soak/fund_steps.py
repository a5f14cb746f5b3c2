"""Soak operations: the pool, redelivered messages, insurance, audits and subsidies."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .context import TAG, Ctx, fen, pick


# -- pool ------------------------------------------------------------------------------------------------
def top_up(ctx: Ctx):
    from escrow.services import pool_top_up

    amount = Decimal(ctx.rng.randint(2, 12) * 1_000_000)
    key = ctx.ref("soak:topup:")
    pool_top_up(amount=amount, decided_on=ctx.today, actor=ctx.cast.pool_manager, idempotency_key=key,
                decision_ref=key[-40:])
    return "topped up"


def redeliver(ctx: Ctx):
    """A duplicate delivery of a money operation's task, as a broker or a second worker would make."""
    from escrow.models import MoneyOperation
    from escrow.tasks import execute_operation

    qs = MoneyOperation.objects.filter(project_ref__isnull=False)
    if ctx.rng.random() < 0.5:
        qs = qs.filter(state__in=["requested", "executing"])
    op = pick(ctx, qs, "operation")
    if op is None:
        return None
    execute_operation.delay(op.pk)
    return f"resent ({op.state})"


# -- insurance, audits and subsidies -----------------------------------------------------------------
def _year_start(ctx: Ctx) -> date:
    return date(ctx.today.year, 1, 1)


def policy(ctx: Ctx):
    from projects.models import Project
    from subsidies.choices import InsuredParty, PolicyType
    from subsidies.services import policy_create

    p = pick(ctx, Project.objects.filter(state__in=["approved", "active", "completed"], title__startswith=TAG),
              "project")
    if p is None:
        return None
    rng = ctx.rng
    start = max(_year_start(ctx), ctx.today - timedelta(days=rng.randint(0, 200)))
    policy_create(actor=ctx.cast.enterprise[p.enterprise_id], project=p, insurer=ctx.cast.insurer,
                  type=rng.choice(PolicyType.values),
                  insured=InsuredParty.ENTERPRISE if rng.random() < 0.8 else InsuredParty.PLATFORM,
                  premium=Decimal(rng.randint(5, 70) * 10_000), cover=Decimal("3000000.00"), start_date=start,
                  end_date=start + timedelta(days=365), policy_number=ctx.ref("PL"))
    return "policy"


def claim(ctx: Ctx):
    from subsidies.models import InsurancePolicy
    from subsidies.services import claim_create

    pol = pick(ctx, InsurancePolicy.objects.filter(project__title__startswith=TAG), "policy")
    if pol is None:
        return None
    paid = Decimal(ctx.rng.randint(0, 40) * 10_000)
    claim_create(actor=ctx.cast.enterprise[pol.project.enterprise_id], policy=pol, assessed_loss=paid + 50_000,
                 paid_amount=paid, paid_on=ctx.today if paid else None, description="里程碑未达标理赔")
    return "claim"


def audit(ctx: Ctx):
    """The auditor records (or corrects) a project's audited input for the year (R15, I5)."""
    from projects.models import Project
    from subsidies.selectors import ledger_inputs
    from subsidies.services import audit_save

    year = ctx.today.year
    inputs = {pid: v for pid, v in ledger_inputs(year).items() if v > 0}
    if not inputs:
        return None
    pid = ctx.rng.choice(sorted(inputs))
    ctx.note = f"project={pid}"
    rng = ctx.rng
    audited, reason = inputs[pid], ""
    if rng.random() < 0.3:
        audited, reason = fen(audited * Decimal(rng.choice(["0.9", "0.95", "1.05"]))), "审计调整：部分支出不予认定"
    audit_save(actor=ctx.cast.auditor, project=Project.objects.get(pk=pid), year=year, audited_input=audited,
               reason=reason, expert_evaluation="进展符合预期")
    return "audited"


def opinion(ctx: Ctx):
    from subsidies.models import AnnualAudit
    from subsidies.services import audit_opinion

    a = pick(ctx, AnnualAudit.objects.filter(opinion="", project__title__startswith=TAG), "audit")
    if a is None:
        return None
    audit_opinion(actor=ctx.cast.enterprise[a.project.enterprise_id], audit=a, opinion="同意审计结论")
    return "opinion"


def subsidy_run(ctx: Ctx):
    """The bureau runs the year's grant and premium computations (R9, R11); a repeat changes nothing."""
    from subsidies.services import grant_compute, premium_compute

    by = ctx.reviewer()
    g = grant_compute(year=ctx.today.year, actor=by)
    p = premium_compute(year=ctx.today.year, actor=by)
    return f"{len(g.created) + len(p.created)} new figures"


def _figures(state: str):
    from subsidies.models import GrantComputation, PremiumSubsidy

    return [m.objects.filter(state=state, enterprise__name__startswith=TAG) for m in (GrantComputation, PremiumSubsidy)]


def approve_figure(ctx: Ctx):
    from subsidies.services import figure_approve

    fig = pick(ctx, ctx.rng.choice(_figures("computed")), "figure")
    if fig is None:
        return None
    figure_approve(figure=fig, actor=ctx.reviewer())
    return "approved"


def pay_figure(ctx: Ctx):
    from subsidies.services import figure_pay, figure_settlement

    fig = pick(ctx, ctx.rng.choice(_figures("approved")), "figure")
    if fig is None:
        return None
    # the cash the finance officer pays: what is due less any recovery netted from it (I10)
    figure_pay(figure=fig, actor=ctx.cast.finance, amount=figure_settlement(fig).cash, paid_on=ctx.today,
               voucher=ctx.ref("V"))
    return "paid"
