"""The escrow API of api.md: ledger, pool, top-ups, operations, confirm; scoping and Idempotency-Key."""
from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from escrow import accounts as codes
from escrow.choices import OperationState
from escrow.models import Account, MoneyOperation, PoolTranche
from projects.tests.factories import make_project

from .factories import balance, deposit, request_release

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(demo):
    """Two active projects of two enterprises, each with its budget of 1,200,000.00 advanced by the pool (so
    97,600,000.00 is left available), money in custody and one pending release."""
    demo.p1 = make_project(demo)
    demo.p2 = make_project(demo, enterprise=demo.ent2, platform=demo.plat2, title="新材料中试")
    deposit(demo, project=demo.p1.pk, seq=1, amount="120000.00")
    deposit(demo, project=demo.p2.pk, seq=1, amount="2500000.00")
    demo.op1 = request_release(demo, project=demo.p1.pk, seq=1, amount="120000.00")
    demo.op2 = request_release(demo, project=demo.p2.pk, seq=1, amount="2000000.00")  # above the threshold
    return demo


def codes_of(response) -> set[str]:
    return {row["code"] for row in response.json()["results"]}


def test_api_requires_credentials_401(world):
    assert APIClient().get("/api/v1/ledger/accounts/").status_code == 401


def test_accounts_oversight_sees_all_with_money_strings(world, django_assert_max_num_queries):
    client = client_for(world.auditor)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/ledger/accounts/")
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.json()["results"]}
    assert rows[codes.POOL_AVAILABLE]["balance"] == "97600000.00"
    assert rows[codes.pool_advanced(world.p1.pk)]["balance"] == "1200000.00"
    assert rows[codes.custody(world.p1.pk, 1)]["balance"] == "120000.00"
    assert rows[codes.custody(world.p2.pk, 1)]["project"] == world.p2.pk
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_accounts_enterprise_sees_own_and_its_projects_custody_only(world):
    response = client_for(world.enterprise).get("/api/v1/ledger/accounts/")
    assert codes_of(response) == {codes.ext_enterprise(world.ent1.pk), codes.custody(world.p1.pk, 1)}
    foreign = Account.objects.get(code=codes.custody(world.p2.pk, 1))
    assert client_for(world.enterprise).get(f"/api/v1/ledger/accounts/{foreign.pk}/").status_code == 404


def test_accounts_platform_sees_its_receipts_and_projects(world):
    response = client_for(world.platform2).get("/api/v1/ledger/accounts/")
    assert codes_of(response) == {codes.custody(world.p2.pk, 1), codes.pool_advanced(world.p2.pk)}


def test_accounts_expert_sees_nothing(world):
    assert client_for(world.expert1).get("/api/v1/ledger/accounts/").json()["count"] == 0


def test_accounts_filter_by_kind(world):
    response = client_for(world.custodian).get("/api/v1/ledger/accounts/?kind=custody")
    assert codes_of(response) == {codes.custody(world.p1.pk, 1), codes.custody(world.p2.pk, 1)}


def test_entries_have_postings_and_are_scoped(world, django_assert_max_num_queries, ledger_ok):
    for i in range(5):
        deposit(world, project=world.p1.pk, seq=2, amount=f"{i + 1}.00")
    client = client_for(world.reviewer)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/ledger/entries/")
    results = response.json()["results"]
    assert response.json()["count"] == 10  # tranche, 2 advances, 2 deposits, 5 more deposits
    assert all(sum(Decimal(p["amount"]) for p in e["postings"]) == 0 for e in results)
    assert {"account": codes.POOL_AVAILABLE, "amount": "100000000.00"} in results[-1]["postings"]

    mine = client_for(world.enterprise2).get("/api/v1/ledger/entries/").json()
    assert mine["count"] == 1
    assert {p["account"] for p in mine["results"][0]["postings"]} == {codes.custody(world.p2.pk, 1),
                                                                      codes.ext_enterprise(world.ent1.pk)}


def test_pool_figures_for_oversight_403_for_enterprise(world):
    body = client_for(world.poolmanager).get("/api/v1/pool/").json()
    assert body == {"funding": "100000000.00", "available": "97600000.00", "advanced": "2400000.00",
                    "losses": "0.00", "utilisation": "0.0240"}
    response = client_for(world.enterprise).get("/api/v1/pool/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_pool_history_lists_points(world):
    body = client_for(world.auditor).get("/api/v1/pool/history/").json()
    assert body[-1]["available"] == "97600000.00" and body[-1]["funding"] == "100000000.00"
    assert body[-1]["advanced"] == "2400000.00"


def test_topup_by_pool_manager_creates_tranche_and_posts(world, ledger_ok):
    client = client_for(world.poolmanager)
    response = client.post("/api/v1/pool/topups/", {"amount": "5000000.00", "decided_on": "2025-09-01",
                                                    "decision_ref": "萧科〔2025〕12号"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "5000000.00"
    assert response.json()["operation"]["state"] == OperationState.DONE
    assert balance(codes.POOL_AVAILABLE) == Decimal("102600000.00")  # 97,600,000.00 + 5,000,000.00
    assert client.get("/api/v1/pool/topups/").json()["count"] == 2


def test_topup_by_custodian_is_403_and_changes_nothing(world, ledger_ok):
    response = client_for(world.custodian).post("/api/v1/pool/topups/", {"amount": "1.00", "decided_on": "2025-09-01"},
                                                format="json", HTTP_IDEMPOTENCY_KEY="k-403")
    assert response.status_code == 403
    assert PoolTranche.objects.count() == 1 and not IdempotencyRecord.objects.exists()


def test_topup_idempotency_key_replay_returns_first_response_once(world, ledger_ok):
    client = client_for(world.poolmanager)
    body = {"amount": "300.00", "decided_on": "2025-09-01"}
    first = client.post("/api/v1/pool/topups/", body, format="json", HTTP_IDEMPOTENCY_KEY="topup-1")
    second = client.post("/api/v1/pool/topups/", body, format="json", HTTP_IDEMPOTENCY_KEY="topup-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert PoolTranche.objects.count() == 2
    assert balance(codes.POOL_AVAILABLE) == Decimal("97600300.00")


def test_topup_same_key_other_body_is_409(world, ledger_ok):
    client = client_for(world.poolmanager)
    client.post("/api/v1/pool/topups/", {"amount": "300.00", "decided_on": "2025-09-01"}, format="json",
                HTTP_IDEMPOTENCY_KEY="topup-2")
    response = client.post("/api/v1/pool/topups/", {"amount": "301.00", "decided_on": "2025-09-01"}, format="json",
                           HTTP_IDEMPOTENCY_KEY="topup-2")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert PoolTranche.objects.count() == 2


def test_topup_invalid_amount_400_with_fields(world, ledger_ok):
    response = client_for(world.poolmanager).post("/api/v1/pool/topups/", {"amount": "1.001", "decided_on": "2025-09-01"},
                                                  format="json")
    assert response.status_code == 400 and "amount" in response.json()["fields"]


def test_operations_list_filters_and_scoping(world, django_assert_max_num_queries):
    client = client_for(world.custodian)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/operations/?state=awaiting_confirmation")
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [world.op2.pk]
    assert rows[0]["amount"] == "2000000.00" and rows[0]["ordered_by"] == "custodian"
    kinds = {r["kind"] for r in client.get("/api/v1/operations/?kind=deposit").json()["results"]}
    assert kinds == {"deposit"}
    mine = client_for(world.enterprise).get("/api/v1/operations/").json()["results"]
    assert {r["project"] for r in mine} == {world.p1.pk}
    assert client_for(world.expert1).get("/api/v1/operations/").json()["count"] == 0


def test_confirm_maker_gets_403_checker_confirms_then_409(world, ledger_ok, django_capture_on_commit_callbacks):
    url = f"/api/v1/operations/{world.op2.pk}/confirm/"
    response = client_for(world.custodian).post(url)
    assert response.status_code == 403 and response.json()["code"] == "maker_checker"
    assert client_for(world.reviewer).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.custodian2).post(url, HTTP_IDEMPOTENCY_KEY="confirm-1")
    assert response.status_code == 200, response.json()
    assert response.json()["confirmed_by"] == "custodian2"
    op = MoneyOperation.objects.get(pk=world.op2.pk)
    assert op.state == OperationState.DONE
    assert balance(codes.custody(world.p2.pk, 1)) == Decimal("500000.00")
    # A retry of the same request replays the first answer; a fresh request is 409 (wrong state).
    replay = client_for(world.custodian2).post(url, HTTP_IDEMPOTENCY_KEY="confirm-1")
    assert replay.status_code == 200 and replay.json() == response.json()
    again = client_for(world.custodian2).post(url)
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"


def test_confirm_other_organisations_operation_is_404(world, ledger_ok):
    response = client_for(world.enterprise).post(f"/api/v1/operations/{world.op2.pk}/confirm/")
    assert response.status_code == 404
