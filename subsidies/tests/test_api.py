"""API of api.md: insurance/…, audits/, subsidies/grants|premiums/ — shape, money strings, scoping."""
from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from projects.tests.factories import pdf_file
from subsidies.models import GrantComputation
from subsidies.services import audit_save, grant_compute

from .factories import at, make_project, release, with_opinion

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def grants(demo):
    p1 = make_project(demo, demo.ent1)
    p2 = make_project(demo, demo.ent2)
    with_opinion(audit_save(actor=demo.auditor, project=p1, year=2025, audited_input=Decimal("1000000.00"), reason="审计"))
    with_opinion(audit_save(actor=demo.auditor, project=p2, year=2025, audited_input=Decimal("2000000.00"), reason="审计"))
    grant_compute(year=2025, actor=demo.reviewer)
    return p1, p2


def test_grants_list_scoped_enterprise_b_cannot_see_a_404(demo, grants, django_assert_max_num_queries):
    a = GrantComputation.objects.get(enterprise=demo.ent1)
    b_client = client_for(demo.enterprise2)
    with django_assert_max_num_queries(8):
        body = b_client.get("/api/v1/subsidies/grants/?year=2025").json()
    assert [r["enterprise"] for r in body["results"]] == [demo.ent2.pk]
    assert body["results"][0]["amount"] == "600000.00"
    assert b_client.get(f"/api/v1/subsidies/grants/{a.pk}/").status_code == 404
    assert b_client.post(f"/api/v1/subsidies/grants/{a.pk}/approve/").status_code == 404


def test_grants_list_for_bureau_has_all_with_money_strings(demo, grants):
    body = client_for(demo.reviewer).get("/api/v1/subsidies/grants/?year=2025").json()
    assert body["count"] == 2
    row = next(r for r in body["results"] if r["enterprise"] == demo.ent1.pk)
    assert (row["amount"], row["uncapped_amount"], row["capped"], row["state"], row["version"]) == (
        "300000.00", "300000.00", False, "computed", 1)
    assert row["trace"]["rule"] == "R11"
    assert client_for(demo.platform).get("/api/v1/subsidies/grants/").json()["count"] == 0


def test_compute_approve_pay_over_api(demo, grants):
    rev = client_for(demo.reviewer)
    r = rev.post("/api/v1/subsidies/grants/compute/", {"year": 2025}, format="json")
    assert r.status_code == 200 and r.json()["created"] == 0 and r.json()["unchanged"] == 2
    assert client_for(demo.enterprise).post("/api/v1/subsidies/grants/compute/", {"year": 2025},
                                            format="json").status_code == 403
    g = GrantComputation.objects.get(enterprise=demo.ent1)
    r = rev.post(f"/api/v1/subsidies/grants/{g.pk}/approve/", HTTP_IDEMPOTENCY_KEY="appr-1")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    again = rev.post(f"/api/v1/subsidies/grants/{g.pk}/approve/", HTTP_IDEMPOTENCY_KEY="appr-1")
    assert again.status_code == 200 and again.json() == r.json()
    assert rev.post(f"/api/v1/subsidies/grants/{g.pk}/approve/").status_code == 409
    fin = client_for(demo.finance)
    bad = fin.post(f"/api/v1/subsidies/grants/{g.pk}/pay/", {"amount": "1.00", "paid_on": "2026-01-20",
                                                              "voucher": "V1"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "amount_mismatch"
    ok = fin.post(f"/api/v1/subsidies/grants/{g.pk}/pay/", {"amount": "300000.00", "paid_on": "2026-01-20",
                                                             "voucher": "V1"}, format="json")
    assert ok.status_code == 200 and ok.json()["paid_amount"] == "300000.00" and ok.json()["state"] == "paid"


def test_policy_claim_audit_premium_endpoints(demo, ledger_ok):
    p = make_project(demo, demo.ent1)
    release(p, 1, "3000000.00", on=at(2025, 8, 1))
    ent = client_for(demo.enterprise)
    r = ent.post("/api/v1/insurance/policies/", {
        "project": p.pk, "insurer": demo.insurer.pk, "type": "rd_loss", "premium": "700000.00",
        "cover": "5000000.00", "start_date": "2025-04-01", "end_date": "2026-03-31"}, format="json")
    assert r.status_code == 201, r.json()
    policy = r.json()
    assert (policy["insured"], policy["year"], policy["premium"]) == ("enterprise", 2025, "700000.00")
    # I11: a premium is subsidised only with its policy document on file; it can follow the policy (R12)
    r = ent.post(f"/api/v1/insurance/policies/{policy['id']}/document/", {"document": pdf_file("保单.pdf")},
                 format="multipart")
    assert r.status_code == 200 and r.json()["document"], r.json()
    r = ent.post("/api/v1/insurance/claims/", {"policy": policy["id"], "assessed_loss": "400000.00",
                                               "paid_amount": "300000.00", "paid_on": "2025-12-01"}, format="json")
    assert r.status_code == 201, r.json()
    # the other enterprise cannot claim on this policy, nor see it
    other = client_for(demo.enterprise2)
    assert other.get(f"/api/v1/insurance/policies/{policy['id']}/").status_code == 404
    r = other.post("/api/v1/insurance/claims/", {"policy": policy["id"], "assessed_loss": "1.00"}, format="json")
    assert r.status_code == 400
    assert other.get("/api/v1/insurance/claims/").json()["count"] == 0
    claims = ent.get("/api/v1/insurance/claims/").json()["results"]
    assert [(c["policy"], c["paid_amount"]) for c in claims] == [(policy["id"], "300000.00")]
    aud = client_for(demo.auditor)
    r = aud.post("/api/v1/audits/", {"project": p.pk, "year": 2025, "audited_input": "2500000.00"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I5"
    r = aud.post("/api/v1/audits/", {"project": p.pk, "year": 2025, "audited_input": "2500000.00",
                                     "reason": "50万元为设备购置"}, format="json")
    assert r.status_code == 201 and r.json()["ledger_input"] == "3000000.00"
    r = ent.post(f"/api/v1/audits/{r.json()['id']}/opinion/", {"opinion": "同意审计结论"}, format="json")
    assert r.status_code == 200 and r.json()["opinion"] == "同意审计结论"
    rev = client_for(demo.reviewer)
    assert rev.post("/api/v1/subsidies/premiums/compute/", {"year": 2025}, format="json").json()["created"] == 1
    assert rev.post("/api/v1/subsidies/grants/compute/", {"year": 2025}, format="json").json()["created"] == 1
    prem = ent.get("/api/v1/subsidies/premiums/?year=2025").json()["results"][0]
    assert (prem["amount"], prem["uncapped_amount"], prem["capped"]) == ("500000.00", "560000.00", True)
    grant = ent.get("/api/v1/subsidies/grants/?year=2025").json()["results"][0]
    assert grant["amount"] == "660000.00"  # 30 % × (2,500,000 − 300,000)
    assert client_for(demo.enterprise2).get("/api/v1/subsidies/premiums/").json()["count"] == 0


def test_policy_and_audit_lists_scoped_with_bounded_queries(demo, grants, django_assert_max_num_queries):
    p1, p2 = grants
    for p in (p1, p2):
        client_for(demo.reviewer).post("/api/v1/insurance/policies/", {
            "project": p.pk, "insurer": demo.insurer.pk, "type": "rd_loss", "premium": "10000.00",
            "cover": "100000.00", "start_date": "2025-04-01", "end_date": "2026-03-31"}, format="json")
    ent = client_for(demo.enterprise)
    with django_assert_max_num_queries(8):
        policies = ent.get("/api/v1/insurance/policies/").json()
    with django_assert_max_num_queries(8):
        audits = ent.get("/api/v1/audits/?year=2025").json()
    assert [r["project"] for r in policies["results"]] == [p1.pk]
    assert [r["project"] for r in audits["results"]] == [p1.pk]
    assert client_for(demo.auditor).get("/api/v1/audits/").json()["count"] == 2
