"""Who may do what in the subsidies app: one role × action matrix over the demo users.

The same matrix is checked four times: the permission functions answer it; the services enforce it
(403 with the decision's reason); the API refuses alike; and the pages show a form or button exactly
when the action would succeed, and refuse it otherwise. Each action is tried on the objects of both
demo enterprises, so enterprise staff are checked on their own organisation's objects and on the
other's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from rest_framework.test import APIClient

from core.exceptions import PermissionDeniedError
from core.models import Organization, User
from core.services import organization_blacklist
from projects.models import Project
from projects.tests.factories import pdf_file
from subsidies import permissions as perms
from subsidies import services
from subsidies.models import AnnualAudit, GrantComputation, InsurancePolicy, PremiumSubsidy

from .factories import make_project, with_opinion

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
        policy = services.policy_create(actor=demo.reviewer, project=project, insurer=demo.insurer, type="rd_loss",
                                        premium=Decimal("100000.00"), cover=Decimal("1000000.00"),
                                        start_date=date(2025, 4, 1), end_date=date(2026, 3, 31))
        audit = with_opinion(services.audit_save(actor=demo.auditor, project=project, year=2025,
                                    audited_input=Decimal("1000000.00"), reason="线下支付的研发费用"))
        out[key] = (org, staff, project, policy, audit)
    services.grant_compute(year=2025, actor=demo.reviewer)
    services.premium_compute(year=2025, actor=demo.reviewer)
    for key, (org, staff, project, policy, audit) in list(out.items()):
        premium = services.figure_approve(figure=PremiumSubsidy.objects.get(enterprise=org), actor=demo.reviewer)
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
        actor=u, project=o.project, insurer=demo.insurer, type="transformation", premium=Decimal("1000.00"),
        cover=Decimal("2000.00"), start_date=date(2025, 5, 1), end_date=date(2026, 4, 30)),
    "record_claim": lambda u, o, demo: services.claim_create(actor=u, policy=o.policy, assessed_loss=Decimal("10.00")),
    "record_other_subsidy": lambda u, o, demo: services.other_subsidy_create(
        actor=u, enterprise=o.org, policy_name="余杭区科技保险补助", issuer="余杭区", type="rd_loss", year=2025,
        amount=Decimal("100.00")),
    "record_audit": lambda u, o, demo: services.audit_save(
        actor=u, project=o.project, year=2025, audited_input=Decimal("900000.00"), reason="复核调整"),
    "give_opinion": lambda u, o, demo: services.audit_opinion(actor=u, audit=o.audit, opinion="同意"),
    "compute": lambda u, o, demo: services.grant_compute(year=2025, actor=u),
    "approve": lambda u, o, demo: services.figure_approve(figure=o.grant, actor=u),
    "pay": lambda u, o, demo: services.figure_pay(figure=o.premium, actor=u, amount=o.premium.due,
                                                  paid_on=date(2026, 2, 1), voucher="财付2026-01"),
    "manage_blacklist": lambda u, o, demo: organization_blacklist(organization=o.org, actor=u, reason="虚报研发投入",
                                                                  evidence=pdf_file("证据.pdf")),
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


def api_calls(o: Owned, demo) -> dict:
    """action → (path, body) of the API's write endpoints."""
    return {
        "record_policy": ("/api/v1/insurance/policies/", {
            "project": o.project.pk, "insurer": demo.insurer.pk, "type": "transformation", "premium": "1000.00",
            "cover": "2000.00", "start_date": "2025-05-01", "end_date": "2026-04-30"}),
        "record_claim": ("/api/v1/insurance/claims/", {"policy": o.policy.pk, "assessed_loss": "10.00"}),
        "record_other_subsidy": ("/api/v1/subsidies/other/", {
            "enterprise": o.org.pk, "policy_name": "余杭区科技保险补助", "issuer": "余杭区", "type": "rd_loss",
            "year": 2025, "amount": "100.00"}),
        "record_audit": ("/api/v1/audits/", {"project": o.project.pk, "year": 2025, "audited_input": "900000.00",
                                            "reason": "复核调整"}),
        "give_opinion": (f"/api/v1/audits/{o.audit.pk}/opinion/", {"opinion": "同意"}),
        "compute": ("/api/v1/subsidies/grants/compute/", {"year": 2025}),
        "approve": (f"/api/v1/subsidies/grants/{o.grant.pk}/approve/", {}),
        "pay": (f"/api/v1/subsidies/premiums/{o.premium.pk}/pay/", {
            "amount": str(o.premium.due), "paid_on": "2026-02-01", "voucher": "财付2026-01"}),
    }


def test_the_api_refuses_as_the_decisions_do(demo, world):
    """403 with the decision's reason; another enterprise's object is not found (404) before that."""
    o = world["ent1"]
    wrong = []
    for action, (path, body) in api_calls(o, demo).items():
        for name in USERS:
            client = APIClient()
            client.force_authenticate(user(name))
            r = undone(lambda: client.post(path, body, format="json"))  # noqa: B023 - called at once
            allowed = expected(action, name, o)
            if allowed and r.status_code not in (200, 201):
                wrong.append((action, name, r.status_code, r.json()))
            elif not allowed and r.status_code == 403 and r.json()["detail"] != DECIDE[action](user(name), o).reason:
                wrong.append((action, name, r.json()))
            elif not allowed and r.status_code == 400 and action == "record_claim":
                # the claim names a policy this user cannot see: it "does not exist" for them, as a 404 would say
                if "policy" not in str(r.json()):
                    wrong.append((action, name, r.status_code, r.json()))
            elif not allowed and r.status_code not in (403, 404):
                wrong.append((action, name, r.status_code))
    assert not wrong


def _succeeded(r) -> bool:
    return r.status_code == 302 and any(m.level_tag == "success" for m in get_messages(r.wsgi_request))


def page_actions(o: Owned, demo) -> dict:
    """action → (page that offers it, how the page shows it, POST path, POST data)."""
    def form(r):
        return r.context["form"] is not None

    def offers(field, obj):
        """The page's form offers ``obj`` as a choice (enterprise staff get the form for their own)."""
        return lambda r: r.context["form"] is not None and r.context["form"].fields[field].queryset.filter(
            pk=obj.pk).exists()

    return {
        "compute": ("/subsidies/?year=2025", lambda r: b"/subsidies/compute/grant/" in r.content,
                    "/subsidies/compute/grant/", {"year": 2025}),
        "approve": (f"/subsidies/grant/{o.grant.pk}/", lambda r: r.context["can_approve"],
                    f"/subsidies/grant/{o.grant.pk}/approve/", {}),
        "pay": (f"/subsidies/premium/{o.premium.pk}/", lambda r: r.context["can_pay"],
                f"/subsidies/premium/{o.premium.pk}/pay/",
                {"amount": str(o.premium.due), "paid_on": "2026-02-01", "voucher": "财付2026-01"}),
        "record_policy": ("/subsidies/insurance/", offers("project", o.project), "/subsidies/insurance/", {
            "project": o.project.pk, "insurer": demo.insurer.pk, "insured": "enterprise", "type": "transformation",
            "premium": "1000.00", "cover": "2000.00", "start_date": "2025-05-01", "end_date": "2026-04-30"}),
        "record_claim": (f"/subsidies/insurance/{o.policy.pk}/", form, f"/subsidies/insurance/{o.policy.pk}/",
                         {"assessed_loss": "10.00", "paid_amount": "0.00"}),
        "record_other_subsidy": ("/subsidies/other/", offers("enterprise", o.org), "/subsidies/other/", {
            "enterprise": o.org.pk, "policy_name": "余杭区科技保险补助", "issuer": "余杭区", "type": "rd_loss",
            "year": 2025, "amount": "100.00", "premium_covered": "0.00"}),
        "record_audit": ("/subsidies/audits/?year=2025", offers("project", o.project), "/subsidies/audits/", {
            "project": o.project.pk, "year": 2025, "audited_input": "900000.00", "reason": "复核调整"}),
        "give_opinion": (f"/subsidies/audits/{o.audit.pk}/", lambda r: r.context["opinion_form"] is not None,
                         f"/subsidies/audits/{o.audit.pk}/", {"opinion": "同意"}),
        "manage_blacklist": ("/subsidies/", lambda r: b'href="/subsidies/blacklist/"' in r.content,
                             "/subsidies/blacklist/", {"action": "add", "add-organization": o.org.pk,
                                                       "add-reason": "虚报研发投入",
                                                       "add-evidence": pdf_file("证据.pdf")}),
    }


@pytest.mark.parametrize("owner", ["ent1", "ent2"])
def test_pages_show_an_action_exactly_when_it_would_succeed(client, demo, world, owner):
    """Shown and accepted, or hidden and refused: never a button the service refuses, nor a refusal
    of what the service accepts. Pages nobody of the role may see answer 403; another enterprise's
    object 404."""
    o = world[owner]
    wrong = []
    for name in USERS:
        client.force_login(user(name))
        may_view = expected("view", name, o)
        for action, (page, shown, path, data) in page_actions(o, demo).items():
            allowed = expected(action, name, o)
            r = client.get(page)
            if r.status_code == 200:
                if bool(shown(r)) != allowed:
                    wrong.append(("shown", action, name))
            elif allowed or r.status_code != (403 if not may_view else 404):
                wrong.append(("page", action, name, r.status_code))
            r = undone(lambda: client.post(path, data))  # noqa: B023 - called at once
            if _succeeded(r) != allowed:
                wrong.append(("post", action, name, r.status_code))
            elif not may_view and r.status_code != 403:
                wrong.append(("post", action, name, r.status_code))
        for action, page in (("record_policies", "/subsidies/insurance/"), ("record_other_subsidies", "/subsidies/other/")):
            r = client.get(page)
            if (r.status_code == 200 and r.context["form"] is not None) != expected(action, name, o):
                wrong.append(("form", action, name, r.status_code))
        r = client.get("/subsidies/?year=2025")
        export_shown = r.status_code == 200 and b"/subsidies/export/2025/" in r.content
        if export_shown != expected("export", name, o):
            wrong.append(("shown", "export", name))
        if (client.get("/subsidies/export/2025/").status_code == 200) != expected("export", name, o):
            wrong.append(("get", "export", name))
    assert not wrong


def test_the_administrator_computes_and_records_on_pages_as_the_services_allow(client, demo, world):
    """The services let the administrator compute and record insurance, other subsidies and audits;
    the pages used to hide those forms and refuse them (403)."""
    client.force_login(demo.admin)
    o = world["ent1"]
    assert b"/subsidies/compute/grant/" in client.get("/subsidies/?year=2025").content
    for action in ("compute", "record_policy", "record_claim", "record_other_subsidy", "record_audit"):
        _page, _shown, path, data = page_actions(o, demo)[action]
        assert _succeeded(client.post(path, data)), action
