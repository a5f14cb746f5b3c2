"""The API contract (api.md): token, error shape, organizations/, schemes/, pagination."""
import re

import pytest
from rest_framework.test import APIClient

from core import uscc
from core.models import Organization, SchemeVersion
from core.tests.factories import OrganizationFactory

API = "/api/v1/"


def assert_error_shape(body: dict, code: str | None = None) -> None:
    assert set(body) <= {"code", "detail", "rule", "fields"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if "fields" in body:
        assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["fields"].values())
    if code:
        assert body["code"] == code, body


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_token_endpoint_returns_token_that_authenticates(api, demo):
    response = api.post(f"{API}auth/token/", {"username": "enterprise", "password": "anxinbao-demo"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"{API}organizations/").status_code == 200


def test_token_endpoint_wrong_password_400_with_error_shape(api, demo):
    response = api.post(f"{API}auth/token/", {"username": "enterprise", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert_error_shape(response.json(), "invalid")


def test_api_without_credentials_401_with_error_shape(api, db):
    response = api.get(f"{API}organizations/")
    assert response.status_code == 401
    assert_error_shape(response.json(), "not_authenticated")
    assert response.headers.get("WWW-Authenticate", "").startswith("Token")


def test_api_bad_token_401_with_error_shape(api, db):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.get(f"{API}organizations/")
    assert response.status_code == 401
    assert_error_shape(response.json(), "authentication_failed")


def test_api_unknown_object_404_with_error_shape(demo):
    response = client_for(demo.enterprise).get(f"{API}organizations/999999/")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


@pytest.mark.parametrize("path", [f"{API}nosuch/", f"{API}milestones/1/bogus/extra/", "/api/nosuch"])
def test_api_unknown_path_404_with_error_shape(demo, path):
    response = client_for(demo.enterprise).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), "not_found")


def test_unknown_page_path_keeps_the_html_404_page(client, demo):
    client.force_login(demo.enterprise)
    response = client.get("/nosuch/page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_organizations_post_by_non_admin_403_with_error_shape(demo):
    body = {"kind": "enterprise", "name": "新企业", "uscc": "91350100M000100Y43"}
    for user in (demo.enterprise, demo.reviewer, demo.custodian):
        response = client_for(user).post(f"{API}organizations/", body, format="json")
        assert response.status_code == 403
        assert_error_shape(response.json(), "permission_denied")
    assert not Organization.objects.filter(name="新企业").exists()


def test_organizations_post_by_admin_lower_case_uscc_stored_upper(demo):
    body = {"kind": "enterprise", "name": "小写代码企业", "uscc": "91350100m000100y43"}
    response = client_for(demo.admin).post(f"{API}organizations/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["uscc"] == "91350100M000100Y43"
    assert response.json()["blacklisted"] is False
    assert Organization.objects.get(name="小写代码企业").uscc == "91350100M000100Y43"


def test_organizations_post_invalid_uscc_400_with_fields_uscc(demo):
    body = {"kind": "enterprise", "name": "错误代码企业", "uscc": "91350100M000100Y44"}
    response = client_for(demo.admin).post(f"{API}organizations/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert_error_shape(data, "invalid")
    assert list(data["fields"]) == ["uscc"]
    assert not Organization.objects.filter(name="错误代码企业").exists()


def test_organizations_post_lower_case_duplicate_uscc_400_with_fields_uscc(demo):
    OrganizationFactory(name="已有代码企业", uscc="91350100M000100Y43")
    body = {"kind": "enterprise", "name": "小写重复代码", "uscc": "91350100m000100y43"}
    response = client_for(demo.admin).post(f"{API}organizations/", body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert_error_shape(data, "invalid")
    assert list(data["fields"]) == ["uscc"]
    assert not Organization.objects.filter(name="小写重复代码").exists()


def test_organization_admin_form_lower_case_duplicate_uscc_is_a_form_error(admin_client, db):
    OrganizationFactory(name="已有代码企业", uscc="91350100M000100Y43")
    data = {"kind": "enterprise", "name": "小写重复代码", "district": "萧山区", "uscc": "91350100m000100y43"}
    response = admin_client.post("/admin/core/organization/add/", data)
    assert response.status_code == 200
    assert "uscc" in response.context["adminform"].form.errors
    assert not Organization.objects.filter(name="小写重复代码").exists()


def test_organizations_post_leading_y_code_accepted(demo):
    body17 = "Y1330109MA2H3K4L0"
    body = {"kind": "enterprise", "name": "Y 开头代码", "uscc": body17 + uscc.check_character(body17)}
    response = client_for(demo.admin).post(f"{API}organizations/", body, format="json")
    assert response.status_code == 201, response.json()


def test_organizations_post_missing_fields_400_lists_each_field(demo):
    response = client_for(demo.admin).post(f"{API}organizations/", {}, format="json")
    assert response.status_code == 400
    data = response.json()
    assert_error_shape(data, "invalid")
    assert {"kind", "name", "uscc"} <= set(data["fields"])


def test_organizations_blacklisted_is_read_only(demo):
    body = {"kind": "enterprise", "name": "黑名单字段只读", "uscc": "91110108551385082Q", "blacklisted": True}
    response = client_for(demo.admin).post(f"{API}organizations/", body, format="json")
    assert response.status_code == 201
    assert Organization.objects.get(name="黑名单字段只读").blacklisted is False


def test_organizations_list_paginated_shape_and_filter(demo, django_assert_max_num_queries):
    OrganizationFactory.create_batch(55)
    client = client_for(demo.enterprise)
    with django_assert_max_num_queries(4):
        response = client.get(f"{API}organizations/")
    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["count", "next", "previous", "results"]
    total = Organization.objects.count()
    assert data["count"] == total and len(data["results"]) == 50
    assert data["previous"] is None and data["next"].endswith("?page=2")
    page2 = client.get(data["next"]).json()
    assert len(page2["results"]) == total - 50 and page2["next"] is None
    assert set(data["results"][0]) == {"id", "kind", "name", "district", "uscc", "blacklisted", "district_platform"}
    platforms = client.get(f"{API}organizations/?kind=platform").json()
    assert platforms["count"] == 2
    assert {o["name"] for o in platforms["results"]} == {"浙大杭州国际科创中心", "湘湖实验室"}


def test_organizations_unknown_page_404_with_error_shape(demo):
    response = client_for(demo.enterprise).get(f"{API}organizations/?page=99")
    assert response.status_code == 404
    assert_error_shape(response.json())


def test_schemes_list_every_parameter_as_strings(demo):
    response = client_for(demo.enterprise).get(f"{API}schemes/")
    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["count", "next", "previous", "results"]
    assert data["count"] == SchemeVersion.objects.count() == 1
    row = data["results"][0]
    assert row["valid_from"] == "2025-03-09" and row["valid_to"] == "2026-03-08"
    assert row["min_net_funding"] == "3000000.00"
    assert row["pool_first_tranche"] == "100000000.00"
    assert row["grant_cap"] == "3000000.00" and row["premium_cap"] == "500000.00"
    assert row["grant_rate"] == "0.3000" and row["premium_rate"] == "0.8000"
    assert row["min_deposit_ratio"] == "0.1000"
    assert row["max_milestone_months"] == 12
    model_fields = {f.name for f in SchemeVersion._meta.fields}
    assert model_fields <= set(row)


def test_schemes_read_only_405_with_error_shape(demo):
    response = client_for(demo.admin).post(f"{API}schemes/", {"name": "x"}, format="json")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_domain_error_rendered_with_rule(demo, rf):
    """A service's DomainError becomes 400 {code, detail, rule, fields}; 403/409 keep the shape."""
    from core.api.errors import exception_handler
    from core.exceptions import ConflictError, DomainError, PermissionDeniedError, TransitionNotAllowed

    cases = [
        (DomainError("保证金不足", code="deposit_too_low", rule="R5", fields={"deposit_amount": ["太少"]}), 400),
        (PermissionDeniedError("此操作仅限监管账户操作员"), 403),
        (TransitionNotAllowed("当前状态不允许此操作"), 409),
        (ConflictError("幂等键已用于其他请求"), 409),
    ]
    for exc, status in cases:
        response = exception_handler(exc, {})
        assert response.status_code == status
        assert_error_shape(response.data, exc.code)
    assert exception_handler(cases[0][0], {}).data == {
        "code": "deposit_too_low", "detail": "保证金不足", "rule": "R5", "fields": {"deposit_amount": ["太少"]}}


def test_api_errors_follow_accept_language(demo):
    client = client_for(demo.enterprise)
    zh = client.get(f"{API}organizations/999999/").json()
    en = client.get(f"{API}organizations/999999/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["detail"] == "未找到，或您无权查看"
    assert en == {"code": "not_found", "detail": "Not found, or not visible to you"}
    body = {"kind": "enterprise", "name": "x", "uscc": "91350100M000100Y44"}
    en = client_for(demo.admin).post(f"{API}organizations/", body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert en["detail"] == "Invalid input" and en["fields"]["uscc"][0].startswith("Invalid unified social credit code")
