"""The soak's scheme version, organisations and users: created once, reused by later runs on the same database."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import uscc
from core.choices import OrgKind, Role
from core.models import Organization, SchemeVersion, User
from core.services import user_create

from .operations import TAG, Cast

ENTERPRISES = 6
PLATFORMS = 3
POOL_FIRST_TRANCHE = Decimal("100000000.00")  # I1
# The demo's password (README), so a person can sign in as a soak user while it runs.
PASSWORD = "anxinbao-demo"


def _org(kind: str, name: str, n: int) -> Organization:
    body = f"9133010{n:010d}"  # 17 characters; the check character is computed (GB 32100-2015)
    org, _created = Organization.objects.get_or_create(name=f"{TAG}{name}",
                                                       defaults={"kind": kind, "uscc": uscc.complete(body)})
    return org


def _user(username: str, org: Organization, role: str) -> User:
    return User.objects.filter(username=username).first() or user_create(
        username=username, password=PASSWORD, organization=org, roles=[role],
        email=f"{username}@soak.local", full_name=username)


@transaction.atomic
def build_cast() -> Cast:
    """A scheme version in force today (R19), the soak's organisations and users, and the pool's first
    tranche (once per database)."""
    from escrow.services import pool_top_up

    today = timezone.localdate()
    if SchemeVersion.active_on(today - timedelta(days=200)) is None or SchemeVersion.active_on(today) is None:
        SchemeVersion.objects.get_or_create(name=f"{TAG}政策版本", defaults={
            "valid_from": date(today.year - 1, 1, 1), "valid_to": None})
    ents = [_org(OrgKind.ENTERPRISE, f"企业{i}有限公司", 9000 + i) for i in range(1, ENTERPRISES + 1)]
    plats = [_org(OrgKind.PLATFORM, f"科创平台{i}", 9100 + i) for i in range(1, PLATFORMS + 1)]
    # R1: proposals name one of the district's platforms, as the bureau's list keeps them.
    Organization.objects.filter(pk__in=[p.pk for p in plats]).update(district_platform=True)
    bureau = _org(OrgKind.BUREAU, "科技局", 9201)
    custodian = _org(OrgKind.CUSTODIAN, "监管银行", 9202)
    experts = _org(OrgKind.EXPERT, "专家库", 9203)
    cast = Cast(
        enterprise={o.pk: _user(f"soak_ent{i}", o, Role.ENTERPRISE) for i, o in enumerate(ents, 1)},
        platform={o.pk: _user(f"soak_plat{i}", o, Role.PLATFORM) for i, o in enumerate(plats, 1)},
        reviewers=[_user(f"soak_reviewer{i}", bureau, Role.REVIEWER) for i in (1, 2)],
        experts=[_user(f"soak_expert{i}", experts, Role.EXPERT) for i in range(1, 7)],
        custodians=[_user(f"soak_custodian{i}", custodian, Role.CUSTODIAN) for i in (1, 2, 3)],
        pool_manager=_user("soak_pool", bureau, Role.POOL_MANAGER),
        auditor=_user("soak_auditor", _org(OrgKind.AUDITOR, "会计师事务所", 9204), Role.AUDITOR),
        finance=_user("soak_finance", _org(OrgKind.FINANCE, "财政局", 9205), Role.FINANCE),
        insurer=_org(OrgKind.INSURER, "保险公司", 9206),
    )
    pool_top_up(amount=POOL_FIRST_TRANCHE, decided_on=today, actor=cast.pool_manager,
                idempotency_key="soak:pool:tranche-1", decision_ref="soak-1")
    return cast
