"""Approved projects built directly (until proposals filing lands), with the pool advance posted (I2)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from escrow import accounts as codes
from escrow.services import operation_request
from projects.choices import MilestoneState, ProjectState
from projects.models import Milestone, Project


def approved_project(demo, *, tranches: list[tuple[str, str]], budget: str | None = None,
                     start: date = date(2025, 4, 1), months: int = 6, title: str = "智能装备视觉检测联合研发",
                     enterprise=None, platform=None, advance: bool = True) -> Project:
    """A project in ``approved`` with one milestone per (T, D), and the pool advance B posted."""
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
                          memo=f"{title} 风险池垫付（I2）", idempotency_key=f"test:advance:{project.pk}",
                          ordered_by=demo.reviewer, context={"project": project.pk})
    return project
