"""Organisations, users per role and the demo cast, with fixed, readable values (as in seed_demo).

    OrganizationFactory(platform=True)        # one trait per kind of organisation
    UserFactory(custodian=True)               # one trait per role, in an organisation of the matching kind
    build_demo()                              # the demo organisations and users (the ``demo`` fixture)
"""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import factory

from core.choices import OrgKind, Role
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

    # One trait per kind: OrganizationFactory(platform=True).
    Params = type("Params", (), {kind: factory.Trait(kind=kind) for kind in OrgKind.values})


# The kind of organisation each role works in (as in the demo cast, demo/people.py).
ROLE_ORG_KIND = {Role.ENTERPRISE: OrgKind.ENTERPRISE, Role.PLATFORM: OrgKind.PLATFORM,
                 Role.REVIEWER: OrgKind.BUREAU, Role.EXPERT: OrgKind.EXPERT, Role.CUSTODIAN: OrgKind.CUSTODIAN,
                 Role.POOL_MANAGER: OrgKind.BUREAU, Role.AUDITOR: OrgKind.AUDITOR, Role.FINANCE: OrgKind.FINANCE}


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(reviewer=True)``: a user made by ``user_create`` with that one role."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ENTERPRISE
    organization = factory.LazyAttribute(lambda o: OrganizationFactory(kind=ROLE_ORG_KIND[o.role]))

    # One trait per role: UserFactory(custodian=True).
    Params = type("Params", (), {role: factory.Trait(role=role) for role in Role.values})

    @classmethod
    def _create(cls, model_class, *args, username, role, organization, **extra):
        return make_user(username, organization, role, **extra)


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
