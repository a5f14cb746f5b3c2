"""The soak's operation table: one entry per kind of step a real user takes, with its weight.

Each operation picks a random target in the state it needs (or returns ``None`` when there is none
yet), then calls the real service as a user of the right role and organisation, exactly as a page
or the API would. A refusal (``DomainError``) is an expected answer and is counted by its code; any
other exception is a failure of the soak. A new operation is one function and one line in ``TABLE``.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Q

from core.models import Organization, User

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FEN = Decimal("0.01")
TAG = "压测"  # every organisation and project the soak creates carries it in its name
FILING = ["draft", "submitted", "signed", "accepted", "under_review"]
MAX_FILING = 16


@dataclass
class Cast:
    """The soak's users, by role; enterprise and platform staff by organisation id."""
    enterprise: dict[int, User]
    platform: dict[int, User]
    reviewers: list[User]
    experts: list[User]
    custodians: list[User]
    pool_manager: User
    auditor: User
    finance: User
    insurer: Organization

    def other_custodian(self, rng: random.Random, not_ids: set[int]) -> User:
        others = [u for u in self.custodians if u.pk not in not_ids]
        return rng.choice(others or self.custodians)


@dataclass
class Ctx:
    """What one soak worker carries from one operation to the next."""
    worker: int
    rng: random.Random
    cast: Cast
    run: str
    today: date
    serial: count = field(default_factory=lambda: count(1))
    note: str = ""  # what the current operation acted on, for the operation log

    def ref(self, prefix: str) -> str:
        return f"{prefix}{self.run}W{self.worker}N{next(self.serial)}"

    def reviewer(self) -> User:
        return self.rng.choice(self.cast.reviewers)

    def custodian(self) -> User:
        return self.rng.choice(self.cast.custodians)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _pick(ctx: Ctx, qs, label: str):
    """A random row of ``qs`` (among the first 200 by pk), or None; noted for the log."""
    ids = list(qs.order_by("pk").values_list("pk", flat=True)[:200])
    if not ids:
        return None
    pk = ctx.rng.choice(ids)
    obj = qs.model.objects.get(pk=pk)
    ctx.note = f"{label}={pk}"
    return obj


def _fen(value: Decimal) -> Decimal:
    return value.quantize(FEN)


def _between(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A random amount in [low, high] at the fen."""
    if high <= low:
        return _fen(low)
    return _fen(low + (high - low) * Decimal(rng.randint(0, 10_000)) / 10_000)


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
                     "deliverables": f"第{seq}阶段成果", "amount": amount, "deposit_amount": _fen(amount * ratio),
                     "start_date": day, "due_date": due})
        day = due + timedelta(days=1)
    net = sum(amounts)
    equipment = Decimal(rng.choice([0, 0, 200_000, 500_000]))
    project = services.project_create(
        actor=user, platform=platform, mode=rng.choice(Mode.values), title=f"{TAG}项目 {ctx.ref('P')}",
        total_amount=net + equipment, equipment_amount=equipment, budget=amounts[0], start_date=start,
        end_date=rows[-1]["due_date"], ip_terms="阶段成果归企业所有", profit_sharing="产业化后按销售额 2% 分成",
        milestones=rows)
    ctx.note = f"project={project.pk}"
    for kind in (AttachmentKind.PLAN, AttachmentKind.AGREEMENT):
        services.attachment_add(project=project, actor=user, kind=kind, file=_pdf(f"{kind}.pdf"))
    services.project_submit(project=project, actor=user)
    return "submitted"


def _projects(state: str):
    from projects.models import Project

    return Project.objects.filter(state=state, title__startswith=TAG)


def sign(ctx: Ctx):
    """The addressed platform takes the proposal on (揭榜), or now and then declines it with a reason."""
    from projects import services

    p = _pick(ctx, _projects("submitted"), "project")
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
    p = _pick(ctx, _projects(state), "project")
    if p is None:
        return None
    service(project=p, actor=ctx.reviewer())
    return outcome


def accept(ctx: Ctx):
    from projects import services

    return _bureau_step(ctx, "signed", services.project_accept, "accepted")


def start_review(ctx: Ctx):
    from projects import services

    p = _pick(ctx, _projects("accepted"), "project")
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

    a = _pick(ctx, ExpertAssignment.objects.filter(milestone__isnull=True, status=ExpertAssignment.Status.ASSIGNED,
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
        p = top if top is not None and rng.random() < 0.8 else _pick(ctx, _projects("waitlisted"), "project")
        if p is not None:
            ctx.note = f"project={p.pk} (waitlist)"
    else:
        p = _pick(ctx, _projects("under_review").annotate(
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


# -- milestones ---------------------------------------------------------------------------------------
def _milestones(*states: str):
    from projects.models import Milestone

    # A milestone left waiting when its project was closed or terminated takes no more steps.
    return Milestone.objects.filter(state__in=states, project__state="active", project__title__startswith=TAG)


def deposit(ctx: Ctx):
    """The enterprise uploads its receipt; a custodian confirms D ≤ amount ≤ T (R5/R7): a worker moves it."""
    from projects import milestones as ms

    m = _pick(ctx, _milestones("deposit_due"), "milestone")
    if m is None:
        return None
    rng = ctx.rng
    if rng.random() < 0.3:
        ms.milestone_upload_receipt(milestone=m, actor=ctx.cast.enterprise[m.project.enterprise_id],
                                    file=_pdf("回单.pdf"))
    roll = rng.random()
    amount = m.deposit_amount if roll < 0.6 else m.amount if roll < 0.8 else _between(rng, m.deposit_amount, m.amount)
    if rng.random() < 0.03:
        amount = m.deposit_amount - FEN  # a short transfer: refused (R5)
    op = ms.milestone_confirm_deposit(milestone=m, actor=ctx.custodian(), amount=amount, bank_ref=ctx.ref("B"))
    return f"operation {op.state}"


def report(ctx: Ctx):
    from projects import milestones as ms

    m = _pick(ctx, _milestones("in_progress"), "milestone")
    if m is None:
        return None
    notes = {t: f"已完成：{t}" for t in ms.target_list(m)}
    ms.milestone_report_completion(milestone=m, actor=ctx.cast.platform[m.project.platform_id],
                                   description="按计划完成", target_notes=notes, files=[_pdf("测试报告.pdf")])
    return "reported"


def decide(ctx: Ctx):
    """The bureau's review: met (→ balance due or releasable) or not met (→ failed, R8); now and then a
    milestone still in progress or overdue is found not met (I7)."""
    from projects import milestones as ms

    rng = ctx.rng
    states = ("reported",) if rng.random() < 0.9 else ("in_progress", "overdue")
    m = _pick(ctx, _milestones(*states), "milestone")
    if m is None:
        return None
    if m.state == "reported" and rng.random() < 0.75:
        return ms.milestone_review_met(milestone=m, actor=ctx.reviewer(), reason="达到约定目标").state
    return ms.milestone_review_not_met(milestone=m, actor=ctx.reviewer(), reason="未达到约定目标").state


def balance(ctx: Ctx):
    """A custodian confirms the balance received, whole or in part (R7, I15)."""
    from projects import milestones as ms

    m = _pick(ctx, _milestones("balance_due"), "milestone")
    if m is None:
        return None
    due = m.amount - m.paid_in
    amount = due if ctx.rng.random() < 0.7 else _between(ctx.rng, FEN, due)
    op = ms.milestone_confirm_balance(milestone=m, actor=ctx.custodian(), amount=amount, bank_ref=ctx.ref("B"))
    return f"operation {op.state}"


def _settle(ctx: Ctx, state: str | tuple[str, ...], order: str):
    """A custodian orders the money movement the bureau's decision allows: release or forfeit (R7, R8)."""
    from projects import milestones as ms

    m = _pick(ctx, _milestones(*([state] if isinstance(state, str) else state)), "milestone")
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

    op = _pick(ctx, MoneyOperation.objects.filter(state="awaiting_confirmation"), "operation")
    if op is None:
        return None
    by = ctx.cast.other_custodian(ctx.rng, {op.ordered_by_id, op.executed_by_id})
    return f"operation {operation_confirm(operation=op, by=by).state}"


def overdue(ctx: Ctx):
    """The beat task of I7: in-progress milestones past their due date become overdue."""
    from projects import milestones as ms

    if not _milestones("in_progress").filter(due_date__lt=ctx.today).exists():
        return None
    return f"{len(ms.milestones_mark_overdue(today=ctx.today))} overdue"


def extend(ctx: Ctx):
    """The bureau extends an overdue milestone (I7) or a balance-overdue one's balance deadline (I15)."""
    from projects import milestones as ms

    m = _pick(ctx, _milestones("overdue", "balance_overdue"), "milestone")
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
    m = _pick(ctx, _milestones("balance_overdue"), "milestone") if declare else None
    if m is None:
        return None
    repaid = _fen(m.project.budget * Decimal(ctx.rng.choice(["0", "0.5", "1"])))
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
        p = _pick(ctx, _projects("approved"), "project")
        if p is not None:
            ms.project_terminate(project=p, actor=ctx.reviewer(), reason="合作方撤回", repaid_amount=p.budget)
            return "terminated"
    open_states = ["deposit_due", "in_progress", "overdue", "reported", "balance_due", "releasable", "failed",
                   "balance_overdue", "breached"]
    settled = (Project.objects.filter(state="active", title__startswith=TAG)
               .exclude(milestones__state__in=open_states)
               .filter(milestones__state__in=["released", "forfeited"]).distinct())
    p = _pick(ctx, settled, "project")
    if p is None:
        return None
    states = list(Milestone.objects.filter(project=p).order_by("seq").values_list("state", flat=True))
    partial = _fen(p.budget * Decimal(rng.choice(["0", "0.5", "0.8"])))
    if states[-1] == "released":
        repaid = p.budget if rng.random() < 0.9 else partial
        ms.project_close(project=p, actor=ctx.reviewer(), repaid_amount=repaid, reason="平台部分归还，余额核销")
        return "completed"
    if "planned" in states and rng.random() < 0.6:
        ms.project_continue(project=p, actor=ctx.reviewer(), reason="罚没后继续下一里程碑")
        return "continued"
    ms.project_terminate(project=p, actor=ctx.reviewer(), reason="里程碑未达标，终止合作", repaid_amount=partial)
    return "terminated"


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
    op = _pick(ctx, qs, "operation")
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

    p = _pick(ctx, Project.objects.filter(state__in=["approved", "active", "completed"], title__startswith=TAG),
              "project")
    if p is None:
        return None
    rng = ctx.rng
    start = max(_year_start(ctx), ctx.today - timedelta(days=rng.randint(0, 200)))
    policy_create(by=ctx.cast.enterprise[p.enterprise_id], project=p, insurer=ctx.cast.insurer,
                  type=rng.choice(PolicyType.values),
                  insured=InsuredParty.ENTERPRISE if rng.random() < 0.8 else InsuredParty.PLATFORM,
                  premium=Decimal(rng.randint(5, 70) * 10_000), cover=Decimal("3000000.00"), start_date=start,
                  end_date=start + timedelta(days=365), policy_number=ctx.ref("PL"))
    return "policy"


def claim(ctx: Ctx):
    from subsidies.models import InsurancePolicy
    from subsidies.services import claim_create

    pol = _pick(ctx, InsurancePolicy.objects.filter(project__title__startswith=TAG), "policy")
    if pol is None:
        return None
    paid = Decimal(ctx.rng.randint(0, 40) * 10_000)
    claim_create(by=ctx.cast.enterprise[pol.project.enterprise_id], policy=pol, assessed_loss=paid + 50_000,
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
        audited, reason = _fen(audited * Decimal(rng.choice(["0.9", "0.95", "1.05"]))), "审计调整：部分支出不予认定"
    audit_save(by=ctx.cast.auditor, project=Project.objects.get(pk=pid), year=year, audited_input=audited,
               reason=reason, expert_evaluation="进展符合预期")
    return "audited"


def opinion(ctx: Ctx):
    from subsidies.models import AnnualAudit
    from subsidies.services import audit_opinion

    a = _pick(ctx, AnnualAudit.objects.filter(opinion="", project__title__startswith=TAG), "audit")
    if a is None:
        return None
    audit_opinion(by=ctx.cast.enterprise[a.project.enterprise_id], audit=a, opinion="同意审计结论")
    return "opinion"


def subsidy_run(ctx: Ctx):
    """The bureau runs the year's grant and premium computations (R9, R11); a repeat changes nothing."""
    from subsidies.services import grant_compute, premium_compute

    by = ctx.reviewer()
    g = grant_compute(year=ctx.today.year, by=by)
    p = premium_compute(year=ctx.today.year, by=by)
    return f"{len(g.created) + len(p.created)} new figures"


def _figures(state: str):
    from subsidies.models import GrantComputation, PremiumSubsidy

    return [m.objects.filter(state=state, enterprise__name__startswith=TAG) for m in (GrantComputation, PremiumSubsidy)]


def approve_figure(ctx: Ctx):
    from subsidies.services import figure_approve

    fig = _pick(ctx, ctx.rng.choice(_figures("computed")), "figure")
    if fig is None:
        return None
    figure_approve(figure=fig, by=ctx.reviewer())
    return "approved"


def pay_figure(ctx: Ctx):
    from subsidies.services import figure_pay, figure_settlement

    fig = _pick(ctx, ctx.rng.choice(_figures("approved")), "figure")
    if fig is None:
        return None
    # the cash the finance officer pays: what is due less any recovery netted from it (I10)
    figure_pay(figure=fig, by=ctx.cast.finance, amount=figure_settlement(fig).cash, paid_on=ctx.today,
               voucher=ctx.ref("V"))
    return "paid"


Operation = Callable[[Ctx], "str | None"]

# name → (weight, operation). The weights keep every stage of the workflow fed: proposals enter at the
# top, the milestone steps move money, the subsidy steps read what was released. A draw that finds no
# target draws again, so the steps that always find one (top-ups, policies, audits) stay light.
TABLE: dict[str, tuple[int, Operation]] = {
    "propose": (9, propose),
    "sign": (8, sign),
    "accept": (8, accept),
    "start_review": (7, start_review),
    "review": (16, review),
    "approve": (9, approve),
    "open_escrow": (7, open_escrow),
    "deposit": (13, deposit),
    "report": (11, report),
    "decide": (11, decide),
    "balance": (10, balance),
    "release": (10, release),
    "forfeit": (6, forfeit),
    "confirm": (8, confirm),
    "overdue": (1, overdue),
    "extend": (3, extend),
    "balance_overdue": (1, balance_overdue),
    "breach": (3, breach),
    "settle_project": (6, settle_project),
    "top_up": (1, top_up),
    "redeliver": (8, redeliver),
    "policy": (1, policy),
    "claim": (1, claim),
    "audit": (2, audit),
    "opinion": (2, opinion),
    "subsidy_run": (1, subsidy_run),
    "approve_figure": (2, approve_figure),
    "pay_figure": (2, pay_figure),
}
