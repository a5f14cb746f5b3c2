"""Soak operations: proposals from filing to approval and the opening of escrow."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q

from .context import FILING, MAX_FILING, TAG, Ctx, fen, pdf, pick, projects_in


# -- proposals and approval -------------------------------------------------------------------------
def propose(ctx: Ctx):
    """An enterprise files a proposal of 1–3 milestones (net ≥ 3,000,000, R2) with plan and agreement."""
    from projects import services
    from projects.choices import AttachmentKind, Mode
    from projects.models import Project

    if Project.objects.filter(title__startswith=TAG, state__in=FILING).count() >= MAX_FILING:
        return None  # enough proposals on their way: the run moves them on rather than piling up new ones
    rng = ctx.rng
    ent_id = rng.choice(sorted(ctx.cast.enterprise))
    user = ctx.cast.enterprise[ent_id]
    platform = rng.choice(sorted(ctx.cast.platform))
    n = rng.choice([1, 2, 2, 3])
    amounts = [Decimal(rng.randint(5, 20) * 100_000) for _ in range(n)]
    if sum(amounts) < Decimal("3000000"):
        amounts[-1] += Decimal("3000000") - sum(amounts)
    # Some projects began months ago with a first milestone already past its due date (I7: overdue).
    start = ctx.today - timedelta(days=rng.choice([0, 0, 0, 200]))
    rows, day = [], start
    for seq, amount in enumerate(amounts, start=1):
        due = day + timedelta(days=190 if seq == 1 and start < ctx.today else rng.randint(150, 330))
        ratio = Decimal(rng.choice(["0.10", "0.10", "0.15", "0.20"]))
        rows.append({"seq": seq, "title": f"第{seq}阶段", "targets": f"指标{seq}A\n指标{seq}B",
                     "deliverables": f"第{seq}阶段成果", "amount": amount, "deposit_amount": fen(amount * ratio),
                     "start_date": day, "due_date": due})
        day = due + timedelta(days=1)
    net = sum(amounts)
    equipment = Decimal(rng.choice([0, 0, 200_000, 500_000]))
    project = services.project_create(
        actor=user, platform=platform, mode=rng.choice(Mode.values), title=f"{TAG}项目 {ctx.ref('P')}",
        total_amount=net + equipment, equipment_amount=equipment, budget=amounts[0], start_date=start,
        end_date=rows[-1]["due_date"], ip_terms="阶段成果归企业所有", profit_sharing="产业化后按销售额 2% 分成",
        milestones=rows, documents={kind: pdf(f"{kind}.pdf") for kind in (AttachmentKind.PLAN, AttachmentKind.AGREEMENT)})
    ctx.note = f"project={project.pk}"
    services.project_submit(project=project, actor=user)
    return "submitted"


def sign(ctx: Ctx):
    """The addressed platform takes the proposal on (揭榜), or now and then declines it with a reason."""
    from projects import services

    p = pick(ctx, projects_in("submitted"), "project")
    if p is None:
        return None
    user = ctx.cast.platform[p.platform_id]
    if ctx.rng.random() < 0.05:
        services.project_platform_decline(project=p, actor=user, reason="研发方向与平台定位不符")
        return "declined"
    services.project_platform_sign(project=p, actor=user)
    return "signed"


def _bureau_step(ctx: Ctx, state: str, service, outcome: str):
    """A reviewer moves a project in ``state`` on through ``service``."""
    p = pick(ctx, projects_in(state), "project")
    if p is None:
        return None
    service(project=p, actor=ctx.reviewer())
    return outcome


def accept(ctx: Ctx):
    from projects import services

    return _bureau_step(ctx, "signed", services.project_accept, "accepted")


def start_review(ctx: Ctx):
    from projects import services

    p = pick(ctx, projects_in("accepted"), "project")
    if p is None:
        return None
    if ctx.rng.random() < 0.05:
        services.project_return_for_changes(project=p, actor=ctx.reviewer(), reason="请补充经费测算依据")
        return "returned"
    services.project_start_review(project=p, actor=ctx.reviewer())
    return "under_review"


def review(ctx: Ctx):
    """A drawn expert scores a project under review (R13)."""
    from projects import services
    from projects.models import ExpertAssignment

    a = pick(ctx, ExpertAssignment.objects.filter(milestone__isnull=True, status=ExpertAssignment.Status.ASSIGNED,
                                                   project__state="under_review", project__title__startswith=TAG),
              "assignment")
    if a is None:
        return None
    score = ctx.rng.randint(50, 98)
    services.review_submit(project=a.project, expert=a.expert, feasibility=score, terms=score, cost=score,
                           opinion="技术路线可行，经费测算基本合理")
    return "scored"


def approve(ctx: Ctx):
    """The bureau approves a reviewed project (or waitlists it when the pool is short, R13/I2), approves the
    top of the waitlist, or rejects."""
    from projects import services
    from projects.models import ExpertAssignment
    from projects.selectors import waitlist_ranked

    rng = ctx.rng
    if rng.random() < 0.3:
        top = waitlist_ranked().first()
        p = top if top is not None and rng.random() < 0.8 else pick(ctx, projects_in("waitlisted"), "project")
        if p is not None:
            ctx.note = f"project={p.pk} (waitlist)"
    else:
        p = pick(ctx, projects_in("under_review").annotate(
            scored=Count("assignments", filter=Q(assignments__milestone__isnull=True,
                                                 assignments__status=ExpertAssignment.Status.SCORED)))
            .filter(scored__gte=3), "project")
    if p is None:
        return None
    if rng.random() < 0.08:
        services.project_reject(project=p, actor=ctx.reviewer(), reason="专家评分未达择优要求")
        return "rejected"
    return services.project_approve(project=p, actor=ctx.reviewer(), reason="专家评审通过").state


def open_escrow(ctx: Ctx):
    from projects import milestones as ms

    return _bureau_step(ctx, "approved", ms.project_open_escrow, "active")
