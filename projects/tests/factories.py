"""Projects in any state, built through the services (reusable by other apps' tests).

    demo = build_demo()                       # or the ``demo`` fixture
    project = ProjectFactory(demo=demo, active=True)     # one trait per project state, see ProjectFactory
    project = approved_project(demo)          # 3 milestones, advance B posted, notice numbered
    project = project_at(demo, "under_review", budget=Decimal("3000000.00"))
    project = tranche_project(demo, tranches=[("1200000.00", "120000.00")])   # approved rows, written directly
    project = make_project(demo)              # a bare row in a given state, for scoping and lists

Milestone states are reached with the steps of ``projects.tests.steps`` (deposit, report, release, ...).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Organization, User
from core.tests.factories import build_demo, scheme_in_force
from escrow import accounts as codes
from escrow.choices import OperationKind
from escrow.services import operation_request
from projects import milestones as ms
from projects import services
from projects.choices import MilestoneState, Mode, ProjectState
from projects.models import ExpertAssignment, Milestone, Project

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


def proposal_documents(*, insured: bool = False) -> dict:
    """The documents a proposal is filed with (R12): plan and agreement, and the policy when insured."""
    documents = {"plan": pdf_file(), "agreement": pdf_file("合作协议.pdf")}  # by AttachmentKind value
    if insured:
        documents["policy"] = pdf_file("保险保单.pdf")
    return documents


def proposal_values(demo, **overrides) -> dict:
    """A proposal that passes submission, filed with its plan and agreement (``documents=None``: without)."""
    scheme_in_force()  # I16: filing needs a version in force on the submission date
    milestones = overrides.pop("milestones", None) or milestone_rows()
    net = sum((m["amount"] for m in milestones), Decimal("0.00"))
    equipment = Decimal(overrides.pop("equipment_amount", "1000000.00"))
    values = {"platform": demo.plat1, "mode": Mode.PROJECT_COOPERATION, "title": "智能产线视觉检测联合攻关",
              "summary": "面向装备产线的视觉检测算法与样机", "total_amount": net + equipment,
              "equipment_amount": equipment, "budget": milestones[0]["amount"],
              "start_date": milestones[0]["start_date"], "end_date": milestones[-1]["due_date"],
              "ip_terms": "阶段成果归企业，基础算法归平台", "profit_sharing": "产业化后按销售额 3% 分成五年",
              "milestones": milestones, "documents": proposal_documents(insured=overrides.get("insured", False))}
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
    if "submitted" not in steps:
        overrides.setdefault("documents", None)  # a draft as first saved: its documents are not filed yet (R12)
    project = services.project_create(actor=enterprise_user, **proposal_values(demo, **overrides))
    if "submitted" in steps:
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


def tranche_project(demo, *, tranches: list[tuple[str, str]], budget: str | None = None,
                    start: date = date(2025, 4, 1), months: int = 6, title: str = "智能装备视觉检测联合研发",
                    enterprise=None, platform=None, advance: bool = True) -> Project:
    """A project in ``approved`` written directly, with one milestone per (T, D), and the pool advance B posted."""
    amounts = [Decimal(t) for t, _d in tranches]
    total = sum(amounts)
    budget = Decimal(budget) if budget else amounts[0]
    project = Project.objects.create(
        enterprise=enterprise or demo.ent1, platform=platform or demo.plat1, created_by=demo.enterprise,
        scheme=demo.scheme, mode="project_cooperation", title=title, total_amount=total, equipment_amount=0,
        budget=budget, start_date=start, end_date=start + timedelta(days=31 * months * len(tranches) + 1),
        state=ProjectState.APPROVED, notice_number=f"萧科安〔2025〕T{Project.objects.count() + 1}号")
    day = start
    for seq, (t, d) in enumerate(tranches, start=1):
        due = day + timedelta(days=30 * months)
        Milestone.objects.create(project=project, seq=seq, title=f"第{seq}阶段", amount=Decimal(t),
                                 deposit_amount=Decimal(d), start_date=day, due_date=due,
                                 targets=f"样机指标{seq}\n测试报告{seq}", state=MilestoneState.PLANNED)
        day = due
    if advance:
        operation_request(kind="advance", purpose="project_advance", inline=True, amount=budget,
                          lines=[(codes.POOL_AVAILABLE, -budget), (codes.pool_advanced(project.pk), budget)],
                          memo=f"{title} 风险池垫付", idempotency_key=f"test:advance:{project.pk}",
                          ordered_by=demo.reviewer, context={"project": project.pk})
    return project


def make_project(ns: SimpleNamespace, *, enterprise: Organization | None = None, platform: Organization | None = None,
                 title: str = "智能装备联合研发", state: str = "active"):
    """A project row for tests that need one to exist (scoping, custody accounts); no workflow is run."""
    project = Project.objects.create(
        enterprise=enterprise or ns.ent1, platform=platform or ns.plat1, created_by=ns.enterprise,
        scheme=ns.scheme, mode="project_cooperation", title=title, total_amount=Decimal("5000000.00"),
        budget=Decimal("1200000.00"), start_date=date(2025, 4, 1), end_date=date(2026, 3, 31), state=state)
    post_advance(project)
    return project


def post_advance(project, actor=None) -> None:
    """An approved or active project has had its budget B advanced by the pool (I2), as approval does;
    the ledger invariants check that ``pool:advanced:P`` holds it."""
    if project.state not in ("approved", "active"):
        return
    operation_request(kind=OperationKind.ADVANCE, amount=project.budget, memo=f"风险池垫付 项目{project.pk}",
                      lines=[(codes.POOL_AVAILABLE, -project.budget), (codes.pool_advanced(project.pk), project.budget)],
                      idempotency_key=f"test:advance:{project.pk}", ordered_by=actor, executed_by=actor,
                      context={"project": project.pk}, inline=True)


def project_in(demo, state: str, **overrides) -> Project:
    """``project_at`` and on past approval: escrow opened (active), every milestone met and released then
    closed (completed: money orders run on commit, so in a ``transaction=True`` test), or terminated before any
    money came in (terminated)."""
    if state not in ("active", "completed", "terminated"):
        return project_at(demo, state, **overrides)
    if state == "completed":
        overrides.setdefault("milestones", milestone_rows(amounts=("3000000.00",)))
    project = ms.project_open_escrow(project=project_at(demo, "approved", **overrides), actor=demo.reviewer)
    if state == "completed":
        from projects.tests.steps import full_cycle

        for m in project.milestones.order_by("seq"):
            full_cycle(demo, m, m.deposit_amount)
        ms.project_close(project=Project.objects.get(pk=project.pk), actor=demo.reviewer, reason="全部里程碑已拨付")
    if state == "terminated":
        ms.project_terminate(project=Project.objects.get(pk=project.pk), actor=demo.reviewer,
                             reason="企业经营调整，双方协商终止合作")
    return Project.objects.get(pk=project.pk)


class ProjectFactory(factory.django.DjangoModelFactory):
    """``ProjectFactory(demo=demo, approved=True)``: a project walked through the services to that state, so
    its audit rows, notices and ledger entries are the real ones. Other keywords go to ``proposal_values``."""

    class Meta:
        model = Project

    demo = factory.LazyFunction(build_demo)
    state = ProjectState.DRAFT

    # One trait per state: ProjectFactory(demo=demo, completed=True).
    Params = type("Params", (), {state: factory.Trait(state=state) for state in ProjectState.values})

    @classmethod
    def _create(cls, model_class, *args, demo, state, **overrides):
        return project_in(demo, state, **overrides)
