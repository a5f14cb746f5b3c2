"""Demo milestones in every state (a forfeited one and an overdue one among them). Idempotent.

Projects are created directly in ``approved`` with the pool advance posted
(I2), then moved through the real milestone services, so every figure on the
pages comes from real postings. Money operations are executed right away (the
demo seeding runs inside one transaction, where on-commit dispatch would wait).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.models import SchemeVersion, User
from escrow import accounts as codes
from escrow.services import operation_confirm, operation_execute, operation_request

from .. import milestones as ms
from ..choices import ProjectState
from ..models import Milestone, Project

PDF = b"%PDF-1.4\n% demo\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# title, enterprise user, platform user, [(T, D, months)], script (what happens), days ago the project started
PROJECTS = [
    ("演示：数控机床智能运维系统联合研发", "enterprise", "platform",
     [("1200000.00", "120000.00", 6), ("1500000.00", "150000.00", 6), ("900000.00", "90000.00", 4)],
     "released_then_reported", 240),
    ("演示：高性能复合材料中试线技术转化", "enterprise2", "platform2",
     [("1000000.00", "100000.00", 6), ("2000000.00", "200000.00", 8)], "forfeited_then_continue", 220),
    ("演示：工业视觉缺陷检测联合实验室", "enterprise", "platform2",
     [("1500000.00", "150000.00", 6), ("1500000.00", "150000.00", 6)], "overdue", 200),
    ("演示：新能源电池热管理共建研究中心", "enterprise2", "platform",
     [("3000000.00", "300000.00", 9)], "balance_due", 150),
    ("演示：柔性电子传感器项目合作", "enterprise", "platform",
     [("3200000.00", "3200000.00", 10)], "releasable", 120),
    ("演示：智能纺织装备技术转化", "enterprise2", "platform2",
     [("3000000.00", "600000.00", 12)], "failed", 100),
    ("演示：生物基材料合成工艺合作", "enterprise", "platform2",
     [("3100000.00", "310000.00", 10)], "in_progress", 60),
    ("演示：汽车零部件数字孪生平台", "enterprise2", "platform",
     [("3000000.00", "300000.00", 12)], "approved", 10),
    ("演示：精密减速器可靠性联合攻关", "enterprise", "platform",
     [("3000000.00", "3000000.00", 6)], "completed", 300),
    ("演示：海洋监测浮标联合研发", "enterprise2", "platform",
     [("3000000.00", "300000.00", 12)], "terminated", 180),
    # I15: balances not paid in time — overdue, breach declared, breach settled (forfeited, later cancelled).
    ("演示：智慧水务管网监测技术转化", "enterprise2", "platform2",
     [("1500000.00", "150000.00", 5), ("1500000.00", "150000.00", 6)], "balance_overdue", 190),
    ("演示：工业互联网安全网关联合研发", "enterprise", "platform2",
     [("1600000.00", "160000.00", 5), ("1400000.00", "140000.00", 6)], "breached", 200),
    ("演示：光伏组件回收工艺技术转化", "enterprise2", "platform",
     [("1800000.00", "180000.00", 5), ("1200000.00", "120000.00", 6)], "breach_forfeited", 210),
]


def _file(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _run(op):
    """Execute now, and confirm with the second operator where maker–checker holds it."""
    if op.state == "awaiting_confirmation":
        op = operation_confirm(operation=op, actor=User.objects.get(username="custodian2"))
    operation_execute(operation_id=op.pk)


def _fresh(m: Milestone) -> Milestone:
    return Milestone.objects.get(pk=m.pk)


def _create(title, ent_user, plat_user, tranches, started_days_ago, today, scheme) -> Project:
    ent = User.objects.get(username=ent_user)
    plat = User.objects.get(username=plat_user)
    reviewer = User.objects.get(username="reviewer")
    start = today - timedelta(days=started_days_ago)
    months_total = sum(t[2] for t in tranches)
    total = sum(Decimal(t[0]) for t in tranches)
    budget = Decimal(tranches[0][0])
    project = Project.objects.create(
        enterprise=ent.organization, platform=plat.organization, created_by=ent, scheme=scheme,
        mode="project_cooperation", title=title, total_amount=total, budget=budget, start_date=start,
        end_date=start + timedelta(days=31 * months_total), state=ProjectState.APPROVED,
        summary="演示数据", ip_terms="各阶段成果归企业所有，平台享有署名权", profit_sharing="产业化后按销售额 3% 分成三年")
    day = start
    for seq, (t, d, months) in enumerate(tranches, start=1):
        due = day + timedelta(days=30 * months)
        stage = ["方案验证", "样机研制", "中试验证"][seq - 1]
        Milestone.objects.create(project=project, seq=seq, title=f"第{seq}阶段：{stage}",
                                 amount=Decimal(t), deposit_amount=Decimal(d), start_date=day, due_date=due,
                                 targets=f"关键指标达到协议约定值\n提交第{seq}阶段技术报告")
        day = due
    operation_request(kind="advance", purpose="project_advance", inline=True, amount=budget,
                      lines=[(codes.POOL_AVAILABLE, -budget), (codes.pool_advanced(project.pk), budget)],
                      memo=f"{title} 风险池垫付", idempotency_key=f"demo:advance:{project.pk}",
                      ordered_by=reviewer, context={"project": project.pk})
    return project


def _deposit(m, amount, ref):
    ent = User.objects.filter(organization=m.project.enterprise, groups__name="enterprise").first()
    ms.milestone_upload_receipt(milestone=_fresh(m), actor=ent, file=_file(f"回单-{ref}.pdf"))
    _run(ms.milestone_confirm_deposit(milestone=_fresh(m), actor=User.objects.get(username="custodian"),
                                      amount=Decimal(amount), bank_ref=ref))


def _report(m):
    plat = User.objects.filter(organization=m.project.platform, groups__name="platform").first()
    m = _fresh(m)
    ms.milestone_report_completion(milestone=m, actor=plat, description="已按协议完成本阶段研发任务",
                                   target_notes={t: "已完成" for t in ms.target_list(m)},
                                   files=[_file("阶段技术报告.pdf")])


def _met(m):
    ms.milestone_review_met(milestone=_fresh(m), actor=User.objects.get(username="reviewer"), reason="专家组验收通过")


def _balance(m, ref):
    m = _fresh(m)
    due = m.amount - m.paid_in
    if due:
        _run(ms.milestone_confirm_balance(milestone=m, actor=User.objects.get(username="custodian"), amount=due,
                                          bank_ref=ref))


def _release(m):
    _m, op = ms.milestone_release(milestone=_fresh(m), actor=User.objects.get(username="custodian"))
    _run(op)


def _not_met(m, reason="关键指标未达到协议约定值"):
    ms.milestone_review_not_met(milestone=_fresh(m), actor=User.objects.get(username="reviewer"), reason=reason)


def _balance_overdue(m, today: date) -> None:
    """Met, then the balance due date passes unpaid: the beat task marks it (I15)."""
    _report(m)
    _met(m)
    Milestone.objects.filter(pk=m.pk).update(balance_due_date=today - timedelta(days=3))
    ms.milestones_mark_balance_overdue(today=today)


def _play_breach(m1, script: str, today: date) -> None:
    """I15: balance overdue; then breach declared; then the deposit forfeited and the project terminated."""
    reviewer = User.objects.get(username="reviewer")
    _balance_overdue(m1, today)
    if script == "balance_overdue":
        return
    ms.milestone_declare_breach(milestone=_fresh(m1), actor=reviewer, reason="尾款逾期未缴，经催告仍未缴纳",
                                repaid_amount=m1.project.budget / 2)
    if script == "breach_forfeited":
        _m, op = ms.milestone_forfeit(milestone=_fresh(m1), actor=User.objects.get(username="custodian"))
        _run(op)


def _play(project: Project, script: str, today: date) -> None:
    reviewer = User.objects.get(username="reviewer")
    if script == "approved":
        return
    ms.project_open_escrow(project=project, actor=reviewer, reason="立项后开通保证金通道")
    ms_ = list(project.milestones.order_by("seq"))
    m1 = ms_[0]
    ref = f"DEMO{project.pk:04d}"
    if script == "released_then_reported":
        _deposit(m1, m1.deposit_amount, ref + "01")
        _report(m1)
        _met(m1)
        _balance(m1, ref + "02")
        _release(m1)
        _deposit(ms_[1], "450000.00", ref + "03")
        _report(ms_[1])
    elif script == "forfeited_then_continue":
        _deposit(m1, "400000.00", ref + "01")
        _report(m1)
        _not_met(m1)
        _m, op = ms.milestone_forfeit(milestone=_fresh(m1), actor=User.objects.get(username="custodian"))
        _run(op)
        ms.project_continue(project=project, actor=reviewer, reason="平台调整技术路线后继续第二阶段")
    elif script == "overdue":
        _deposit(m1, m1.deposit_amount, ref + "01")
        Milestone.objects.filter(pk=m1.pk).update(due_date=today - timedelta(days=5))
        ms.milestones_mark_overdue(today=today)
    elif script == "balance_due":
        _deposit(m1, m1.deposit_amount, ref + "01")
        _report(m1)
        _met(m1)
    elif script == "releasable":
        _deposit(m1, m1.amount, ref + "01")
        _report(m1)
        _met(m1)
    elif script == "failed":
        _deposit(m1, m1.deposit_amount, ref + "01")
        _not_met(m1, "中期检查发现研发团队已解散")
    elif script == "in_progress":
        _deposit(m1, m1.deposit_amount, ref + "01")
    elif script == "terminated":
        # Not met, deposit forfeited (R8), then terminated: the platform repays part of the
        # advance and the rest is written off as a pool loss (I2).
        _deposit(m1, m1.deposit_amount, ref + "01")
        _not_met(m1, "合作方终止研发，阶段目标无法实现")
        _m, op = ms.milestone_forfeit(milestone=_fresh(m1), actor=User.objects.get(username="custodian"))
        _run(op)
        ms.project_terminate(project=Project.objects.get(pk=project.pk), actor=reviewer,
                             reason="企业经营调整，双方协商终止合作", repaid_amount=project.budget / 2)
    elif script in ("balance_overdue", "breached", "breach_forfeited"):
        _deposit(m1, m1.deposit_amount, ref + "01")
        _play_breach(m1, script, today)
    elif script == "completed":
        _deposit(m1, m1.amount, ref + "01")
        _report(m1)
        _met(m1)
        _release(m1)
        ms.project_close(project=Project.objects.get(pk=project.pk), actor=reviewer, reason="全部里程碑已拨付")


@transaction.atomic
def seed_milestones(*, today: date | None = None, stdout=None, **_ignored) -> list[Project]:
    """Create the demo projects that are missing (by title) and play each one's script."""
    today = today or timezone.localdate()
    scheme = SchemeVersion.current()
    made = []
    for title, ent, plat, tranches, script, ago in PROJECTS:
        if Project.objects.filter(title=title).exists():
            continue
        project = _create(title, ent, plat, tranches, ago, today, scheme)
        _play(project, script, today)
        made.append(project)
        if stdout:
            stdout.write(f"  {title}: {script}")
    return made


def milestone_states_present() -> set[str]:
    return set(Milestone.objects.filter(project__title__startswith="演示：").values_list("state", flat=True))

