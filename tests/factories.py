"""Factories with fixed, readable values (as in seed_demo)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import factory

from core.models import Organization, SchemeVersion, User
from core.services import user_create
from demo import people as demo_data


def scheme_2025() -> SchemeVersion:
    scheme, _ = SchemeVersion.objects.get_or_create(
        name="萧山区科创安心宝 2025 版", defaults={"valid_from": date(2025, 3, 9), "valid_to": date(2026, 3, 8)})
    return scheme


def scheme_in_force() -> SchemeVersion:
    """I16: a proposal is filed under the version in force on its submission date; "today" is after the 2025
    trial, so tests that file proposals record the 2026 renewal (same figures) unless a version is in force."""
    from django.utils import timezone

    return SchemeVersion.active_on(timezone.localdate()) or demo_data.scheme_renewal(scheme_2025())


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = "enterprise"
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    uscc = factory.Sequence(lambda n: demo_data.code(f"913301090000{n:05d}"))


def make_user(username: str, org: Organization | None, *roles: str, **extra) -> User:
    return user_create(username=username, password=demo_data.DEMO_PASSWORD, organization=org, roles=roles,
                       email=f"{username}@test.local", **extra)


def build_demo(*, pool: bool = True) -> SimpleNamespace:
    """The demo organisations and users; ``pool`` funds the risk pool's first tranche."""
    ns = SimpleNamespace(scheme=scheme_2025())
    for key, kind, name, body in demo_data.ORGANIZATIONS:
        org, _ = Organization.objects.get_or_create(name=name, defaults={"kind": kind, "uscc": demo_data.code(body)})
        setattr(ns, key, org)
    orgs = {k: getattr(ns, k) for k, *_ in demo_data.ORGANIZATIONS}
    for username, org_key, roles, full_name, superuser in demo_data.USERS:
        user = User.objects.filter(username=username).first() or user_create(
            username=username, password=demo_data.DEMO_PASSWORD, organization=orgs.get(org_key), roles=roles,
            email=f"{username}@test.local", is_superuser=superuser, full_name=full_name)
        setattr(ns, username, user)
    demo_data.apply_demo_attributes(orgs)
    for username in demo_data.EXPERT_CATEGORIES:
        getattr(ns, username).expert_category = demo_data.EXPERT_CATEGORIES[username]
    if pool:
        from escrow.services import pool_top_up

        pool_top_up(amount=ns.scheme.pool_first_tranche, decided_on=date(2025, 3, 9), actor=ns.poolmanager,
                    idempotency_key="test:pool:tranche-1")
    return ns


def make_project(ns: SimpleNamespace, *, enterprise: Organization | None = None, platform: Organization | None = None,
                 title: str = "智能装备联合研发", state: str = "active"):
    """A project row for tests that need one to exist (scoping, custody accounts); no workflow is run."""
    from decimal import Decimal

    from projects.models import Project

    project = Project.objects.create(
        enterprise=enterprise or ns.ent1, platform=platform or ns.plat1, created_by=ns.enterprise,
        scheme=ns.scheme, mode="project_cooperation", title=title, total_amount=Decimal("5000000.00"),
        budget=Decimal("1200000.00"), start_date=date(2025, 4, 1), end_date=date(2026, 3, 31), state=state)
    post_advance(project)
    return project


def post_advance(project, actor=None) -> None:
    """An approved or active project has had its budget B advanced by the pool (I2), as approval does;
    the ledger invariants check that ``pool:advanced:P`` holds it."""
    from escrow import accounts as codes
    from escrow.choices import OperationKind
    from escrow.services import operation_request

    if project.state not in ("approved", "active"):
        return
    operation_request(kind=OperationKind.ADVANCE, amount=project.budget, memo=f"风险池垫付 项目{project.pk}",
                      lines=[(codes.POOL_AVAILABLE, -project.budget), (codes.pool_advanced(project.pk), project.budget)],
                      idempotency_key=f"test:advance:{project.pk}", ordered_by=actor, executed_by=actor,
                      context={"project": project.pk}, inline=True)
