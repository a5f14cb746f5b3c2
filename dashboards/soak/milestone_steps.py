"""Soak operations: milestones from deposit to release, forfeiture, breach and settlement."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from .context import FEN, TAG, Ctx, between, fen, pdf, pick, projects_in


# -- milestones ---------------------------------------------------------------------------------------
def _milestones(*states: str):
    from projects.models import Milestone

    # A milestone left waiting when its project was closed or terminated takes no more steps.
    return Milestone.objects.filter(state__in=states, project__state="active", project__title__startswith=TAG)


def deposit(ctx: Ctx):
    """The enterprise uploads its receipt; a custodian confirms D ≤ amount ≤ T (R5/R7): a worker moves it."""
    from projects import milestones as ms

    m = pick(ctx, _milestones("deposit_due"), "milestone")
    if m is None:
        return None
    rng = ctx.rng
    if rng.random() < 0.3:
        ms.milestone_upload_receipt(milestone=m, actor=ctx.cast.enterprise[m.project.enterprise_id],
                                    file=pdf("回单.pdf"))
    roll = rng.random()
    amount = m.deposit_amount if roll < 0.6 else m.amount if roll < 0.8 else between(rng, m.deposit_amount, m.amount)
    if rng.random() < 0.03:
        amount = m.deposit_amount - FEN  # a short transfer: refused (R5)
    op = ms.milestone_confirm_deposit(milestone=m, actor=ctx.custodian(), amount=amount, bank_ref=ctx.ref("B"))
    return f"operation {op.state}"


def report(ctx: Ctx):
    from projects import milestones as ms

    m = pick(ctx, _milestones("in_progress"), "milestone")
    if m is None:
        return None
    notes = {t: f"已完成：{t}" for t in ms.target_list(m)}
    ms.milestone_report_completion(milestone=m, actor=ctx.cast.platform[m.project.platform_id],
                                   description="按计划完成", target_notes=notes, files=[pdf("测试报告.pdf")])
    return "reported"


def decide(ctx: Ctx):
    """The bureau's review: met (→ balance due or releasable) or not met (→ failed, R8); now and then a
    milestone still in progress or overdue is found not met (I7)."""
    from projects import milestones as ms

    rng = ctx.rng
    states = ("reported",) if rng.random() < 0.9 else ("in_progress", "overdue")
    m = pick(ctx, _milestones(*states), "milestone")
    if m is None:
        return None
    if m.state == "reported" and rng.random() < 0.75:
        return ms.milestone_review_met(milestone=m, actor=ctx.reviewer(), reason="达到约定目标").state
    return ms.milestone_review_not_met(milestone=m, actor=ctx.reviewer(), reason="未达到约定目标").state


def balance(ctx: Ctx):
    """A custodian confirms the balance received, whole or in part (R7, I15)."""
    from projects import milestones as ms

    m = pick(ctx, _milestones("balance_due"), "milestone")
    if m is None:
        return None
    due = m.amount - m.paid_in
    amount = due if ctx.rng.random() < 0.7 else between(ctx.rng, FEN, due)
    op = ms.milestone_confirm_balance(milestone=m, actor=ctx.custodian(), amount=amount, bank_ref=ctx.ref("B"))
    return f"operation {op.state}"


def _settle(ctx: Ctx, state: str | tuple[str, ...], order: str):
    """A custodian orders the money movement the bureau's decision allows: release or forfeit (R7, R8)."""
    from projects import milestones as ms

    m = pick(ctx, _milestones(*([state] if isinstance(state, str) else state)), "milestone")
    if m is None:
        return None
    _m, op = getattr(ms, order)(milestone=m, actor=ctx.custodian())
    return f"operation {op.state}"


def release(ctx: Ctx):
    return _settle(ctx, "releasable", "milestone_release")


def forfeit(ctx: Ctx):
    return _settle(ctx, ("failed", "breached"), "milestone_forfeit")


def confirm(ctx: Ctx):
    """The second custodian operator confirms an operation above the threshold (maker–checker)."""
    from escrow.models import MoneyOperation
    from escrow.services import operation_confirm

    op = pick(ctx, MoneyOperation.objects.filter(state="awaiting_confirmation"), "operation")
    if op is None:
        return None
    by = ctx.cast.other_custodian(ctx.rng, {op.ordered_by_id, op.executed_by_id})
    return f"operation {operation_confirm(operation=op, actor=by).state}"


def overdue(ctx: Ctx):
    """The beat task of I7: in-progress milestones past their due date become overdue."""
    from projects import milestones as ms

    if not _milestones("in_progress").filter(due_date__lt=ctx.today).exists():
        return None
    return f"{len(ms.milestones_mark_overdue(today=ctx.today))} overdue"


def extend(ctx: Ctx):
    """The bureau extends an overdue milestone (I7) or a balance-overdue one's balance deadline (I15)."""
    from projects import milestones as ms

    m = pick(ctx, _milestones("overdue", "balance_overdue"), "milestone")
    if m is None:
        return None
    ms.milestone_extend(milestone=m, actor=ctx.reviewer(), due_date=ctx.today + timedelta(days=ctx.rng.randint(10, 150)),
                        reason="客观原因延期")
    return "extended"


def balance_overdue(ctx: Ctx):
    """The beat task of I15 run as if the grace days had passed: unpaid balances become overdue.
    (A no-op until the workflow has balance deadlines: ``milestones_mark_balance_overdue``.)"""
    from projects import milestones as ms

    mark = getattr(ms, "milestones_mark_balance_overdue", None)
    if mark is None or not _milestones("balance_due").exists():
        return None
    return f"{len(mark(today=ctx.today + timedelta(days=60)))} balance overdue"


def breach(ctx: Ctx):
    """The bureau declares the enterprise in breach of a balance-overdue milestone (I15); the custodian's
    forfeiture then settles it (``forfeit`` picks breached milestones too)."""
    from projects import milestones as ms

    declare = getattr(ms, "milestone_declare_breach", None)
    m = pick(ctx, _milestones("balance_overdue"), "milestone") if declare else None
    if m is None:
        return None
    repaid = fen(m.project.budget * Decimal(ctx.rng.choice(["0", "0.5", "1"])))
    declare(milestone=m, actor=ctx.reviewer(), reason="尾款逾期未缴，认定企业违约", repaid_amount=repaid)
    return "breached"


def settle_project(ctx: Ctx):
    """After the last milestone is settled the bureau closes the project; after a forfeiture it continues or
    terminates it; the pool advance is repaid or partly written off (I2). Now and then an approved project
    is withdrawn before its escrow opens."""
    from projects import milestones as ms
    from projects.models import Milestone, Project

    rng = ctx.rng
    if rng.random() < 0.05:
        p = pick(ctx, projects_in("approved"), "project")
        if p is not None:
            ms.project_terminate(project=p, actor=ctx.reviewer(), reason="合作方撤回", repaid_amount=p.budget)
            return "terminated"
    open_states = ["deposit_due", "in_progress", "overdue", "reported", "balance_due", "releasable", "failed",
                   "balance_overdue", "breached"]
    settled = (Project.objects.filter(state="active", title__startswith=TAG)
               .exclude(milestones__state__in=open_states)
               .filter(milestones__state__in=["released", "forfeited"]).distinct())
    p = pick(ctx, settled, "project")
    if p is None:
        return None
    states = list(Milestone.objects.filter(project=p).order_by("seq").values_list("state", flat=True))
    partial = fen(p.budget * Decimal(rng.choice(["0", "0.5", "0.8"])))
    if states[-1] == "released":
        repaid = p.budget if rng.random() < 0.9 else partial
        ms.project_close(project=p, actor=ctx.reviewer(), repaid_amount=repaid, reason="平台部分归还，余额核销")
        return "completed"
    if "planned" in states and rng.random() < 0.6:
        ms.project_continue(project=p, actor=ctx.reviewer(), reason="罚没后继续下一里程碑")
        return "continued"
    ms.project_terminate(project=p, actor=ctx.reviewer(), reason="里程碑未达标，终止合作", repaid_amount=partial)
    return "terminated"
