"""Test helpers: projects created directly, money moved through the real ledger."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import time_machine
from django.db.models import F

from escrow import accounts
from escrow.services import operation_request
from projects.models import Milestone, Project
from projects.tests.factories import post_advance

SH = ZoneInfo("Asia/Shanghai")
_seq = count(1)


def make_project(demo, enterprise=None, platform=None, *, title=None, amounts=("3000000.00",),
                 state="active") -> Project:
    enterprise = enterprise or demo.ent1
    platform = platform or demo.plat1
    n = next(_seq)
    total = sum(Decimal(a) for a in amounts)
    project = Project.objects.create(
        enterprise=enterprise, platform=platform, created_by=demo.enterprise, scheme=demo.scheme,
        mode="project_cooperation", title=title or f"联合研发项目{n}", total_amount=total, budget=total,
        start_date=date(2025, 4, 1), end_date=date(2027, 3, 31), state=state)
    for k, amount in enumerate(amounts, start=1):
        Milestone.objects.create(project=project, seq=k, title=f"里程碑{k}", amount=Decimal(amount),
                                 deposit_amount=(Decimal(amount) / 10).quantize(Decimal("0.01")),
                                 start_date=date(2025, 4, 1), due_date=date(2026, 3, 31), state="in_progress")
    post_advance(project)
    return project


def release(project: Project, seq: int, amount, *, on: datetime, kind: str = "release", actor=None):
    """Pay ``amount`` in for milestone ``seq`` and release (or forfeit) it to the platform at ``on``."""
    from core.models import User

    actor = actor or User.objects.get(username="custodian")  # release and forfeit are the custodian's
    milestone = project.milestones.get(seq=seq)
    amount = Decimal(amount)
    key = f"t:{project.pk}:{seq}:{kind}:{on.isoformat()}:{amount}"
    ctx = {"project": project.pk, "milestone": milestone.pk}
    with time_machine.travel(on, tick=False):
        operation_request(kind="deposit", amount=amount, memo="到账", idempotency_key=key + ":in",
                          lines=[(accounts.ext_enterprise(project.enterprise_id), -amount),
                                 (accounts.custody(project.pk, seq), amount)],
                          purpose="milestone_deposit", context=ctx, inline=True, ordered_by=actor)
        operation_request(kind=kind, amount=amount, memo="拨付", idempotency_key=key + ":out",
                          lines=[(accounts.custody(project.pk, seq), -amount),
                                 (accounts.ext_platform(project.platform_id), amount)],
                          purpose=f"milestone_{kind}", context=ctx, inline=True, ordered_by=actor)
    # The deposit's hook counted it in paid_in; the milestone was never releasable, so the release hook left
    # the row alone: record what went out, as the real flow does, so the row agrees with the ledger.
    settled = {"released_amount": F("released_amount") + amount} if kind == "release" else \
        {"forfeited_amount": F("forfeited_amount") + amount}
    Milestone.objects.filter(pk=milestone.pk).update(**settled)
    return milestone


def at(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=SH)


def with_opinion(audit, opinion: str = "同意审计结论"):
    """I18: the enterprise's acceptance opinion on the audit, so the project-year enters the grant."""
    from core.choices import Role
    from core.services import users_of
    from core.tests.factories import make_user
    from subsidies.services import audit_opinion

    org = audit.project.enterprise
    staff = users_of(org, Role.ENTERPRISE).first() or make_user(f"staff{org.pk}", org, Role.ENTERPRISE)
    return audit_opinion(actor=staff, audit=audit, opinion=opinion)
