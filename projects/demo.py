"""Demo projects in every proposal state (draft … approved, waitlisted, rejected), made through the services.

Called by ``seed_demo``. Keyed by title: running it twice changes nothing.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import User

from . import services
from .choices import AttachmentKind, Mode
from .models import ExpertAssignment, Project

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
D = Decimal

# title, enterprise key, platform key, target state, first-tranche split, scores
PROJECTS = [
    ("高精度伺服电机控制算法（草稿）", "ent1", "plat1", "draft", ("2000000", "1500000"), None),
    ("石墨烯导热膜中试工艺", "ent2", "plat2", "submitted", ("1500000", "2000000"), None),
    ("工业视觉缺陷检测平台", "ent1", "plat1", "signed", ("2000000", "1800000", "1200000"), None),
    ("生物可降解包装材料配方", "ent2", "plat2", "accepted", ("1800000", "1700000"), None),
    ("数控机床远程运维系统", "ent1", "plat2", "under_review", ("2500000", "1500000"), None),
    ("智能产线数字孪生联合实验室", "ent1", "plat1", "approved", ("2000000", "1800000", "1200000"), (88, 91, 85)),
    ("锂电隔膜涂覆关键技术", "ent2", "plat1", "waitlisted", ("2000000", "2000000"), (78, 82, 75)),
    ("纺织印染废水处理技术转化", "ent2", "plat2", "rejected", ("1600000", "1600000"), (55, 60, 58)),
]
# The approved project comes before the waitlisted one: while a project waits, newcomers join the ranking (R13).
ORDER = ["draft", "submitted", "signed", "accepted", "under_review", "reviewed"]


def _milestones(amounts) -> list[dict]:
    spans = [(date(2025, 6, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 9, 30)),
             (date(2026, 10, 1), date(2027, 5, 31))]
    return [{"seq": i + 1, "title": f"第{i + 1}阶段", "targets": f"第{i + 1}阶段技术指标",
             "deliverables": f"第{i + 1}阶段成果与测试报告", "amount": D(a), "deposit_amount": D(a) / 10,
             "start_date": spans[i][0], "due_date": spans[i][1]} for i, a in enumerate(amounts)]


def _walk(*, title: str, ent: str, plat: str, state: str, amounts, scores, orgs: dict, users: dict, scheme,
          budget: Decimal | None = None) -> Project:
    """File a demo proposal and take it through the services up to ``state``."""
    ent_user = users[{"ent1": "enterprise", "ent2": "enterprise2"}[ent]]
    plat_user = users[{"plat1": "platform", "plat2": "platform2"}[plat]]
    reviewer = users["reviewer"]
    rows = _milestones(amounts)
    net = sum((r["amount"] for r in rows), D("0.00"))
    target = "reviewed" if state in ("waitlisted", "approved", "rejected") else state
    steps = ORDER[: ORDER.index(target) + 1]
    # R12: a proposal that goes on is filed with its plan and agreement; the demo draft has none yet.
    documents = {kind: SimpleUploadedFile(name, PDF, content_type="application/pdf")
                 for kind, name in ((AttachmentKind.PLAN, "合作方案.pdf"), (AttachmentKind.AGREEMENT, "合作协议.pdf"))
                 } if "submitted" in steps else None
    project = services.project_create(
        actor=ent_user, platform=orgs[plat], mode=Mode.PROJECT_COOPERATION, title=title,
        summary=f"{title}：企业出题、平台揭榜的合作研发", total_amount=net + D("500000.00"),
        equipment_amount=D("500000.00"), budget=budget or rows[0]["amount"], start_date=rows[0]["start_date"],
        end_date=rows[-1]["due_date"], ip_terms="阶段成果归企业所有，平台保留基础算法",
        profit_sharing="产业化后三年按销售额 2% 分成",
        milestones=rows, scheme=scheme, documents=documents)
    if "submitted" in steps:
        services.project_submit(project=project, actor=ent_user)
    if "signed" in steps:
        services.project_platform_sign(project=project, actor=plat_user)
    if "accepted" in steps:
        services.project_accept(project=project, actor=reviewer)
    if "under_review" in steps:
        services.project_start_review(project=project, actor=reviewer)
    if "reviewed" in steps:
        pending = ExpertAssignment.objects.filter(project=project, status=ExpertAssignment.Status.ASSIGNED)
        for assignment, score in zip(pending.select_related("expert"), scores):
            services.review_submit(project=project, expert=assignment.expert, feasibility=score,
                                   terms=score, cost=score, opinion="技术路线清晰，经费测算基本合理")
    if state == "approved":
        services.project_approve(project=project, actor=reviewer, reason="专家评审通过")
    elif state == "waitlisted":
        services.project_queue(project=project, actor=reviewer, reason="同期申报较多，参加择优排序")
    elif state == "rejected":
        services.project_reject(project=project, actor=reviewer, reason="研发成本测算依据不足，专家评分未达要求")
    return project


def _demo_users() -> dict:
    return {u.username: u for u in User.objects.filter(username__in=[
        "enterprise", "enterprise2", "platform", "platform2", "reviewer"])}


def seed(*, orgs: dict, scheme, stdout=None) -> None:
    users = _demo_users()
    created = 0
    for title, ent, plat, state, amounts, scores in PROJECTS:
        if Project.objects.filter(title=title).exists():
            continue
        _walk(title=title, ent=ent, plat=plat, state=state, amounts=amounts, scores=scores, orgs=orgs, users=users,
              scheme=scheme)
        created += 1
    seed_loans(enterprise=users["enterprise"], reviewer=users["reviewer"])
    if stdout is not None:
        stdout.write(f"Demo projects: {created} created, {len(PROJECTS) - created} already present.")
    seed_competitive_selection(orgs=orgs, scheme=scheme, stdout=stdout)


# I14 (worked example 8's shape): the best-ranked project needs more than the pool has and waits for a
# top-up; a smaller, lower-ranked one that fits is approved past it, its reason naming the larger one.
SELECTION_LARGE = ("区域储能电站系统集成中试基地", "ent1", "plat1", ("2000000", "1800000", "1200000"), (92, 90, 94),
                   D("120000000.00"))
SELECTION_SMALL = ("高效换热器焊接工艺改进", "ent2", "plat2", ("1500000", "2000000"), (86, 84, 88), None)


def seed_competitive_selection(*, orgs: dict, scheme, stdout=None) -> None:
    users = _demo_users()
    reviewer = users["reviewer"]
    walked = []
    for title, ent, plat, amounts, scores, budget in (SELECTION_LARGE, SELECTION_SMALL):
        project = Project.objects.filter(title=title).first()
        if project is None:
            project = _walk(title=title, ent=ent, plat=plat, state="reviewed", amounts=amounts, scores=scores,
                            orgs=orgs, users=users, scheme=scheme, budget=budget)
            # Under review: the pool is short for the large one (I2), the small one joins the ranking (R13).
            project = services.project_approve(project=project, actor=reviewer, reason="专家评审通过")
        walked.append(project)
    small = Project.objects.get(pk=walked[1].pk)
    if small.state == "waitlisted":
        services.project_approve(project=small, actor=reviewer, reason="择优立项：风险池可用余额足以垫付本项目")
    if stdout is not None:
        stdout.write("Demo competitive selection (I14): the smaller project approved past the larger one.")


LOAN_PROJECT = "智能产线数字孪生联合实验室"


def seed_loans(*, enterprise: User, reviewer: User) -> None:
    """R10: a policy guarantee loan on the approved demo project, recommended by the bureau and granted.
    Keyed by project and lender: running it twice changes nothing."""
    from .loans import services as loans

    project = Project.objects.filter(title=LOAN_PROJECT).first()
    lender = "杭州联合农村商业银行萧山支行"
    if project is None or project.loans.filter(lender=lender).exists():
        return
    loan = loans.loan_create(project=project, actor=enterprise, lender=lender, guarantor="杭州市融资担保有限公司",
                             amount="3000000.00", rate="3.45", term_months=24,
                             purpose="数字孪生联合实验室中试设备与流动资金")
    loans.loan_recommend(loan=loan, actor=reviewer, reason="已立项项目，推荐给合作银行")
    loans.loan_grant(loan=loan, actor=enterprise, reason="借款合同已签订，贷款已发放")
