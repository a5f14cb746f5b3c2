"""Who may do what in the subsidies app: one role × action matrix over the demo users.

The permission functions answer the matrix, and the services enforce it (403 with the decision's
reason). Each action is tried on the objects of both demo enterprises, so enterprise staff are
checked on their own organisation's objects and on the other's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from core.exceptions import PermissionDeniedError
from core.models import Organization, User
from core.services import organization_blacklist
from projects.models import Project
from subsidies import permissions as perms
from subsidies import services
from subsidies.models import AnnualAudit, GrantComputation, InsurancePolicy, PremiumSubsidy

from .helpers import make_project

pytestmark = pytest.mark.django_db

USERS = ["enterprise", "enterprise2", "platform", "platform2", "reviewer", "expert1", "custodian", "poolmanager",
         "auditor", "finance", "admin"]
OVERSIGHT = {"reviewer", "custodian", "poolmanager", "auditor", "finance", "admin"}
OWN = "own enterprise"  # the staff of the enterprise whose object it is
ENTRY = {"enterprise", "enterprise2", "reviewer", "admin"}  # who gets the insurance and other-subsidy forms

MATRIX = {
    "view": {"enterprise", "enterprise2"} | OVERSIGHT,
    "export": OVERSIGHT,
    "record_policies": ENTRY,
    "record_other_subsidies": ENTRY,
    "record_policy": {OWN, "reviewer", "admin"},
    "record_claim": {OWN, "reviewer", "admin"},
    "record_other_subsidy": {OWN, "reviewer", "admin"},
    "record_audit": {"auditor", "admin"},
    "give_opinion": {OWN},
    "compute": {"reviewer", "admin"},
    "approve": {"reviewer"},
    "pay": {"finance"},
    "manage_blacklist": {"reviewer"},
}


@dataclass
class Owned:
    """One enterprise's objects, each in the state its action starts from."""
    org: Organization
    staff: str
    project: Project
    policy: InsurancePolicy
    audit: AnnualAudit
    grant: GrantComputation  # computed: to approve
    premium: PremiumSubsidy  # approved: to pay


@pytest.fixture
def world(demo) -> dict[str, Owned]:
    out = {}
    for key, staff in (("ent1", "enterprise"), ("ent2", "enterprise2")):
        org = getattr(demo, key)
        project = make_project(demo, org)
        policy = services.policy_create(by=demo.reviewer, project=project, insurer=demo.insurer, type="rd_loss",
                                        premium=Decimal("100000.00"), cover=Decimal("1000000.00"),
                                        start_date=date(2025, 4, 1), end_date=date(2026, 3, 31))
        audit = services.audit_save(by=demo.auditor, project=project, year=2025,
                                    audited_input=Decimal("1000000.00"), reason="线下支付的研发费用")
        out[key] = (org, staff, project, policy, audit)
    services.grant_compute(year=2025, by=demo.reviewer)
    services.premium_compute(year=2025, by=demo.reviewer)
    for key, (org, staff, project, policy, audit) in list(out.items()):
        premium = services.figure_approve(figure=PremiumSubsidy.objects.get(enterprise=org), by=demo.reviewer)
        out[key] = Owned(org, staff, project, policy, audit, GrantComputation.objects.get(enterprise=org), premium)
    return out


def expected(action: str, username: str, owned: Owned) -> bool:
    allowed = MATRIX[action]
    return username in allowed or (OWN in allowed and username == owned.staff)


def user(username: str) -> User:
    return User.objects.get(username=username)


DECIDE = {
    "view": lambda u, o: perms.can_view_subsidies(u),
    "export": lambda u, o: perms.can_export_year(u),
    "record_policies": lambda u, o: perms.can_record_policy(u),
    "record_other_subsidies": lambda u, o: perms.can_record_other_subsidy(u),
    "record_policy": lambda u, o: perms.can_record_policy(u, o.project),
    "record_claim": lambda u, o: perms.can_record_claim(u, o.policy),
    "record_other_subsidy": lambda u, o: perms.can_record_other_subsidy(u, o.org),
    "record_audit": lambda u, o: perms.can_record_audit(u),
    "give_opinion": lambda u, o: perms.can_give_acceptance_opinion(u, o.audit),
    "compute": lambda u, o: perms.can_compute(u),
    "approve": lambda u, o: perms.can_approve_figure(u),
    "pay": lambda u, o: perms.can_pay_figure(u),
    "manage_blacklist": lambda u, o: perms.can_manage_blacklist(u),
}

SERVICES = {
    "record_policy": lambda u, o, demo: services.policy_create(
        by=u, project=o.project, insurer=demo.insurer, type="transformation", premium=Decimal("1000.00"),
        cover=Decimal("2000.00"), start_date=date(2025, 5, 1), end_date=date(2026, 4, 30)),
    "record_claim": lambda u, o, demo: services.claim_create(by=u, policy=o.policy, assessed_loss=Decimal("10.00")),
    "record_other_subsidy": lambda u, o, demo: services.other_subsidy_create(
        by=u, enterprise=o.org, policy_name="余杭区科技保险补助", issuer="余杭区", type="rd_loss", year=2025,
        amount=Decimal("100.00")),
    "record_audit": lambda u, o, demo: services.audit_save(
        by=u, project=o.project, year=2025, audited_input=Decimal("900000.00"), reason="复核调整"),
    "give_opinion": lambda u, o, demo: services.audit_opinion(by=u, audit=o.audit, opinion="同意"),
    "compute": lambda u, o, demo: services.grant_compute(year=2025, by=u),
    "approve": lambda u, o, demo: services.figure_approve(figure=o.grant, by=u),
    "pay": lambda u, o, demo: services.figure_pay(figure=o.premium, by=u, amount=o.premium.due,
                                                  paid_on=date(2026, 2, 1), voucher="财付2026-01"),
    "manage_blacklist": lambda u, o, demo: organization_blacklist(organization=o.org, actor=u, reason="虚报研发投入"),
}


class _Undo(Exception):
    pass


def undone(fn):
    """Run ``fn`` and roll back what it wrote, so every user tries the same state; return what it returned."""
    out = []
    try:
        with transaction.atomic():
            out.append(fn())
            raise _Undo
    except _Undo:
        pass
    return out[0]


@pytest.mark.parametrize("owner", ["ent1", "ent2"])
def test_every_decision_follows_the_matrix_with_a_reason_when_refused(demo, world, owner):
    o = world[owner]
    wrong = []
    for action, decide in DECIDE.items():
        for name in USERS:
            decision = decide(user(name), o)
            if bool(decision) != expected(action, name, o) or (not decision and not decision.reason):
                wrong.append((action, name, decision))
    assert not wrong


def test_the_matrix_separates_own_and_other_enterprise(demo, world):
    """Enterprise staff act on their own enterprise's objects only."""
    for action in ("record_policy", "record_claim", "record_other_subsidy", "give_opinion"):
        assert DECIDE[action](demo.enterprise, world["ent1"]) and DECIDE[action](demo.enterprise2, world["ent2"])
        assert not DECIDE[action](demo.enterprise, world["ent2"])
        assert not DECIDE[action](demo.enterprise2, world["ent1"])


@pytest.mark.parametrize("owner", ["ent1", "ent2"])
def test_every_service_enforces_the_decision_with_its_reason(demo, world, owner):
    o = world[owner]
    wrong = []
    for action, call in SERVICES.items():
        for name in USERS:
            u = user(name)
            decision = DECIDE[action](u, o)
            try:
                undone(lambda: call(u, o, demo))  # noqa: B023 - called at once
                refused = None
            except PermissionDeniedError as exc:
                refused = exc.detail
            if (refused is None) != expected(action, name, o):
                wrong.append((action, name, refused))
            elif refused is not None and action != "manage_blacklist" and refused != decision.reason:
                wrong.append((action, name, refused, decision.reason))  # the blacklist's service lives in core
    assert not wrong
