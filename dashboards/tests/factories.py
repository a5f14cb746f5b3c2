"""Projects and milestones in bulk, straight into the tables (fixtures for query-count tests)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from projects.choices import MilestoneState as M
from projects.choices import ProjectState as S
from projects.models import Milestone, Project

PROJECT_STATES = [S.DRAFT, S.SUBMITTED, S.SIGNED, S.ACCEPTED, S.UNDER_REVIEW, S.WAITLISTED, S.APPROVED, S.ACTIVE,
                  S.ACTIVE, S.COMPLETED]
MILESTONE_STATES = [M.DEPOSIT_DUE, M.IN_PROGRESS, M.OVERDUE, M.REPORTED, M.BALANCE_DUE, M.RELEASED, M.FAILED]


def bulk_projects(demo, n: int, *, start: int = 0) -> list[Project]:
    now = timezone.now()
    rows = []
    for i in range(start, start + n):
        state = PROJECT_STATES[i % len(PROJECT_STATES)]
        rows.append(Project(
            enterprise=demo.ent1 if i % 2 == 0 else demo.ent2, platform=demo.plat1 if i % 3 else demo.plat2,
            created_by=demo.enterprise, scheme=demo.scheme, mode="project_cooperation", title=f"批量项目{i}",
            total_amount=Decimal("5000000.00"), budget=Decimal("1200000.00"), start_date=date(2025, 4, 1),
            end_date=date(2026, 3, 31), state=state, submitted_at=now - timedelta(days=i % 30),
            mean_score=Decimal(60 + i % 40) if state == S.WAITLISTED else None))
    projects = Project.objects.bulk_create(rows)
    milestones = []
    today = timezone.localdate()
    for i, p in enumerate(projects):
        if p.state not in (S.ACTIVE, S.COMPLETED):
            continue
        for seq in (1, 2):
            state = MILESTONE_STATES[(i + seq) % len(MILESTONE_STATES)]
            milestones.append(Milestone(
                project=p, seq=seq, title=f"阶段{seq}", amount=Decimal("1000000.00"),
                deposit_amount=Decimal("100000.00"), start_date=today - timedelta(days=200),
                due_date=today + timedelta(days=(i % 60) - 20), state=state,
                reported_at=now - timedelta(days=i % 9) if state == M.REPORTED else None))
    Milestone.objects.bulk_create(milestones)
    return projects
