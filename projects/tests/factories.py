"""Projects in any state of the proposal FSM, built through the services (reusable by other apps' tests).

    demo = build_demo()                       # or the ``demo`` fixture
    project = approved_project(demo)          # 3 milestones, advance B posted, notice numbered
    project = project_at(demo, "under_review", budget=Decimal("3000000.00"))
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import User
from projects import services
from projects.choices import AttachmentKind, Mode
from projects.models import ExpertAssignment, Project
from tests.factories import scheme_in_force

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf_file(name: str = "合作方案.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def milestone_rows(*, amounts=("2000000.00", "1800000.00", "1200000.00"), deposits=None) -> list[dict]:
    """Consecutive milestones of 8 months each from 2025-06-01 (R7), deposits 10 % by default (R5)."""
    spans = [(date(2025, 6, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 9, 30)),
             (date(2026, 10, 1), date(2027, 5, 31)), (date(2027, 6, 1), date(2028, 1, 31))]
    rows = []
    for i, amount in enumerate(amounts):
        amount = Decimal(amount)
        deposit = Decimal(deposits[i]) if deposits else (amount / 10).quantize(Decimal("0.01"))
        start, due = spans[i]
        rows.append({"seq": i + 1, "title": f"阶段{i + 1}", "targets": f"阶段{i + 1}技术指标",
                     "deliverables": f"阶段{i + 1}样机与测试报告", "amount": amount, "deposit_amount": deposit,
                     "start_date": start, "due_date": due})
    return rows


def proposal_values(demo, **overrides) -> dict:
    scheme_in_force()  # I16: filing needs a version in force on the submission date
    milestones = overrides.pop("milestones", None) or milestone_rows()
    net = sum((m["amount"] for m in milestones), Decimal("0.00"))
    equipment = Decimal(overrides.pop("equipment_amount", "1000000.00"))
    values = {"platform": demo.plat1, "mode": Mode.PROJECT_COOPERATION, "title": "智能产线视觉检测联合攻关",
              "summary": "面向装备产线的视觉检测算法与样机", "total_amount": net + equipment,
              "equipment_amount": equipment, "budget": milestones[0]["amount"],
              "start_date": milestones[0]["start_date"], "end_date": milestones[-1]["due_date"],
              "ip_terms": "阶段成果归企业，基础算法归平台", "profit_sharing": "产业化后按销售额 3% 分成五年",
              "milestones": milestones}
    values.update(overrides)
    return values


ORDER = ["draft", "submitted", "signed", "accepted", "under_review", "reviewed", "approved"]


def project_at(demo, state: str, *, enterprise_user: User | None = None, platform_user: User | None = None,
               reviewer: User | None = None, scores=(80, 85, 90), **overrides) -> Project:
    """A project walked through the services up to ``state`` (one of ORDER, plus waitlisted/rejected)."""
    enterprise_user = enterprise_user or demo.enterprise
    if platform_user is None:
        platform = overrides.get("platform", demo.plat1)
        platform_user = demo.platform if platform == demo.plat1 else demo.platform2
    reviewer = reviewer or demo.reviewer
    target = {"waitlisted": "reviewed", "rejected": "reviewed"}.get(state, state)
    steps = ORDER[: ORDER.index(target) + 1]
    project = services.project_create(actor=enterprise_user, **proposal_values(demo, **overrides))
    if "submitted" in steps:
        services.attachment_add(project=project, actor=enterprise_user, kind=AttachmentKind.PLAN, file=pdf_file())
        services.attachment_add(project=project, actor=enterprise_user, kind=AttachmentKind.AGREEMENT,
                                file=pdf_file("合作协议.pdf"))
        services.project_submit(project=project, actor=enterprise_user)
    if "signed" in steps:
        services.project_platform_sign(project=project, actor=platform_user)
    if "accepted" in steps:
        services.project_accept(project=project, actor=reviewer)
    if "under_review" in steps:
        services.project_start_review(project=project, actor=reviewer)
    if "reviewed" in steps:
        score_all(project, scores=scores)
    if "approved" in steps:
        services.project_approve(project=project, actor=reviewer, reason="专家评审通过")
    if state == "waitlisted":
        services.project_queue(project=project, actor=reviewer, reason="择优排队")
    if state == "rejected":
        services.project_reject(project=project, actor=reviewer, reason="研发成本测算依据不足")
    return Project.objects.get(pk=project.pk)


def score_all(project: Project, *, scores=(80, 85, 90)) -> None:
    """Every drawn expert scores: expert i gives scores[i] on all three criteria (R13)."""
    pending = ExpertAssignment.objects.filter(project=project, milestone__isnull=True,
                                              status=ExpertAssignment.Status.ASSIGNED).select_related("expert")
    for i, assignment in enumerate(pending):
        s = scores[i % len(scores)]
        services.review_submit(project=project, expert=assignment.expert, feasibility=s, terms=s, cost=s,
                               opinion="技术路线可行，经费测算合理")


def approved_project(demo, **overrides) -> Project:
    return project_at(demo, "approved", **overrides)
