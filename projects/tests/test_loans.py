"""R10: policy guarantee loans — services, permissions, API, page, PDFs; never a ledger posting."""
from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.exceptions import ConflictError, DomainError, PermissionDeniedError, TransitionNotAllowed
from core.models import AuditEvent, Notification
from escrow.models import Account, JournalEntry, Posting
from projects.loans import services as loans
from projects.loans.models import GuaranteeLoan
from projects.tests.factories import approved_project, project_at

VALUES = {"lender": "杭州联合银行萧山支行", "guarantor": "杭州市融资担保有限公司", "amount": "3000000.00",
          "rate": "3.45", "term_months": 24, "purpose": "中试设备与流动资金"}


def ledger_snapshot():
    return (JournalEntry.objects.count(), Posting.objects.count(),
            sorted(Account.objects.values_list("code", "balance")))


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def project(demo):
    return approved_project(demo)


def test_r10_loan_walks_every_state_without_touching_the_ledger(demo, project, ledger_ok):
    before = ledger_snapshot()
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    assert loan.state == "applied" and loan.amount == Decimal("3000000.00") and loan.rate == Decimal("3.45")
    loan = loans.loan_recommend(loan=loan, actor=demo.reviewer, reason="推荐")
    assert loan.state == "recommended"
    loan = loans.loan_grant(loan=loan, actor=demo.enterprise)
    assert loan.state == "granted"
    loan = loans.loan_repay(loan=loan, actor=demo.enterprise)
    assert loan.state == "repaid"
    other = loans.loan_create(project=project, actor=demo.enterprise, **{**VALUES, "amount": "500000"})
    loans.loan_decline(loan=other, actor=demo.reviewer, reason="担保额度已满，不予推荐")
    assert GuaranteeLoan.objects.get(pk=other.pk).state == "declined"
    third = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    loans.loan_recommend(loan=third, actor=demo.reviewer)
    loans.loan_decline(loan=third, actor=demo.enterprise, reason="银行审批未通过")
    assert GuaranteeLoan.objects.get(pk=third.pk).state_reason == "银行审批未通过"
    assert ledger_snapshot() == before  # R10: no money moves in our books
    events = AuditEvent.objects.filter(object_id=str(loan.pk), content_type__model="guaranteeloan").order_by("pk")
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("loan_applied", "", "applied"), ("loan_recommend", "applied", "recommended"),
        ("loan_grant", "recommended", "granted"), ("loan_repay", "granted", "repaid")]
    assert events[1].actor == demo.reviewer and events[1].reason == "推荐"


def test_r10_default_is_reported_to_the_bureau_with_its_reason(demo, project, ledger_ok):
    before = ledger_snapshot()
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    loans.loan_recommend(loan=loan, actor=demo.reviewer)
    loans.loan_grant(loan=loan, actor=demo.enterprise)
    with pytest.raises(DomainError) as err:
        loans.loan_default(loan=loan, actor=demo.enterprise, reason=" ")
    assert err.value.fields == {"reason": [err.value.fields["reason"][0]]} and err.value.rule == "R10"
    Notification.objects.all().delete()
    loans.loan_default(loan=loan, actor=demo.enterprise, reason="第 6 期本息逾期 90 天，担保机构已代偿")
    loan = GuaranteeLoan.objects.get(pk=loan.pk)
    assert loan.state == "defaulted" and "代偿" in loan.state_reason
    notice = Notification.objects.get(user=demo.reviewer)
    assert notice.verb == "loan_defaulted" and "已违约" in notice.text and "代偿" in notice.text
    assert ledger_snapshot() == before


@pytest.mark.parametrize("amount, rule", [("0", "R10"), ("0.00", "R10"), ("-5.00", "R10"), ("1000.005", "I4"),
                                          ("abc", None)])
def test_r10_bad_amount_names_the_field_and_records_nothing(demo, project, amount, rule):
    with pytest.raises(DomainError) as err:
        loans.loan_create(project=project, actor=demo.enterprise, **{**VALUES, "amount": amount})
    assert "amount" in err.value.fields and err.value.rule == rule and err.value.status_code == 400
    assert not GuaranteeLoan.objects.exists()


@pytest.mark.parametrize("field, value", [("rate", "0"), ("rate", "24.01"), ("rate", "3.455"), ("term_months", 0),
                                          ("term_months", 121), ("lender", " "), ("guarantor", ""), ("purpose", "")])
def test_r10_bad_terms_name_their_field(demo, project, field, value):
    with pytest.raises(DomainError) as err:
        loans.loan_create(project=project, actor=demo.enterprise, **{**VALUES, field: value})
    assert list(err.value.fields) == [field] and err.value.rule == "R10"
    assert not GuaranteeLoan.objects.exists()


def test_r10_only_the_projects_enterprise_records_and_only_once_approved(demo, project):
    for user in (demo.enterprise2, demo.platform, demo.reviewer, demo.custodian):
        with pytest.raises(PermissionDeniedError):
            loans.loan_create(project=project, actor=user, **VALUES)
    draft = project_at(demo, "under_review", title="评审中的项目")
    with pytest.raises(ConflictError) as err:
        loans.loan_create(project=draft, actor=demo.enterprise, **VALUES)
    assert err.value.rule == "R10" and err.value.status_code == 409
    assert not GuaranteeLoan.objects.exists()


def test_r10_who_moves_a_loan(demo, project):
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    for user in (demo.enterprise, demo.platform, demo.custodian, demo.enterprise2):
        with pytest.raises(PermissionDeniedError):
            loans.loan_recommend(loan=loan, actor=user)
    with pytest.raises(PermissionDeniedError):  # before the recommendation only the bureau can refuse it
        loans.loan_decline(loan=loan, actor=demo.enterprise, reason="x")
    with pytest.raises(TransitionNotAllowed):
        loans.loan_grant(loan=loan, actor=demo.enterprise)
    loans.loan_recommend(loan=loan, actor=demo.reviewer)
    with pytest.raises(TransitionNotAllowed):
        loans.loan_recommend(loan=loan, actor=demo.reviewer)
    with pytest.raises(PermissionDeniedError):
        loans.loan_grant(loan=loan, actor=demo.platform)
    loans.loan_grant(loan=loan, actor=demo.reviewer)  # the bureau may record what the lender told it
    with pytest.raises(TransitionNotAllowed):
        loans.loan_decline(loan=loan, actor=demo.reviewer, reason="x")
    assert GuaranteeLoan.objects.get(pk=loan.pk).state == "granted"


def test_r17_blacklisted_enterprise_is_not_recommended(demo, project):
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    type(demo.ent1).objects.filter(pk=demo.ent1.pk).update(blacklisted=True)
    with pytest.raises(DomainError) as err:
        loans.loan_recommend(loan=loan, actor=demo.reviewer)
    assert err.value.rule == "R17"
    assert GuaranteeLoan.objects.get(pk=loan.pk).state == "applied"


# -- API -------------------------------------------------------------------


def test_r10_api_records_lists_and_moves_a_loan(demo, project, ledger_ok, django_assert_max_num_queries):
    before = ledger_snapshot()
    url = f"/api/v1/projects/{project.pk}/loans/"
    r = api(demo.enterprise).post(url, VALUES, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["state"] == "applied" and body["amount"] == "3000000.00" and body["rate"] == "3.45"
    assert body["term_months"] == 24 and body["project"] == project.pk
    loan_id = body["id"]
    api(demo.enterprise).post(url, {**VALUES, "lender": "第二家银行"}, format="json")
    with django_assert_max_num_queries(8):
        r = api(demo.platform).get(url)
    assert r.status_code == 200 and r.json()["count"] == 2
    assert [x["lender"] for x in r.json()["results"]] == [VALUES["lender"], "第二家银行"]
    assert api(demo.enterprise2).get(url).status_code == 404
    r = api(demo.enterprise).post(f"/api/v1/loans/{loan_id}/recommend/", {}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = api(demo.reviewer).post(f"/api/v1/loans/{loan_id}/grant/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    r = api(demo.reviewer).post(f"/api/v1/loans/{loan_id}/recommend/", {"reason": "推荐"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "recommended"
    for action in ("grant", "repay"):
        r = api(demo.enterprise).post(f"/api/v1/loans/{loan_id}/{action}/", {}, format="json")
        assert r.status_code == 200, r.json()
    assert r.json()["state"] == "repaid"
    assert api(demo.enterprise).get(f"/api/v1/loans/{loan_id}/").json()["state"] == "repaid"
    assert api(demo.enterprise2).post(f"/api/v1/loans/{loan_id}/default/", {"reason": "x"}).status_code == 404
    assert api(demo.enterprise).post(f"/api/v1/loans/{loan_id}/forgive/", {}).status_code == 404
    assert ledger_snapshot() == before


@pytest.mark.parametrize("amount, rule", [("0", "R10"), ("0.00", "R10"), ("100.001", "I4")])
def test_r10_api_bad_amount_is_400_naming_amount_and_nothing_changes(demo, project, amount, rule):
    r = api(demo.enterprise).post(f"/api/v1/projects/{project.pk}/loans/", {**VALUES, "amount": amount}, format="json")
    assert r.status_code == 400
    assert r.json()["fields"].keys() == {"amount"} and r.json().get("rule") == rule
    assert not GuaranteeLoan.objects.exists() and not AuditEvent.objects.filter(action="loan_applied").exists()


def test_r10_api_wrong_role_is_403_and_default_needs_reason(demo, project):
    url = f"/api/v1/projects/{project.pk}/loans/"
    assert api(demo.platform).post(url, VALUES, format="json").status_code == 403
    assert api(demo.reviewer).post(url, VALUES, format="json").status_code == 403
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    loans.loan_recommend(loan=loan, actor=demo.reviewer)
    loans.loan_grant(loan=loan, actor=demo.enterprise)
    r = api(demo.enterprise).post(f"/api/v1/loans/{loan.pk}/default/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    r = api(demo.reviewer).post(f"/api/v1/loans/{loan.pk}/default/", {"reason": "担保机构通报逾期"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "defaulted"
    assert Notification.objects.filter(user=demo.enterprise, verb="loan_defaulted").exists()


def test_r10_openapi_schema_shows_the_loan_and_attachment_paths(client, db):
    body = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/projects/{id}/loans/", "/api/v1/loans/{id}/{action}/", "/api/v1/projects/{id}/attachments/"):
        assert path in body, path
    assert "multipart/form-data" in body and "LoanStateEnum" in body


# -- page and documents -------------------------------------------------------


def test_r10_project_page_lists_loans_with_this_users_actions(client, demo, project):
    loan = loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    client.force_login(demo.reviewer)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="loans"' in html and VALUES["lender"] in html and "¥3,000,000.00" in html
    assert f'id="loan-{loan.pk}-recommend"' in html and 'id="loan-form"' not in html
    r = client.post(f"/projects/loans/{loan.pk}/recommend/", {"reason": ""})
    assert r.status_code == 302 and GuaranteeLoan.objects.get(pk=loan.pk).state == "recommended"
    client.force_login(demo.enterprise)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'id="loan-{loan.pk}-grant"' in html and f'id="loan-{loan.pk}-recommend"' not in html
    assert 'id="loan-form"' in html
    r = client.post(f"/projects/{project.pk}/loans/", {**VALUES, "amount": "1,200,000.00"})
    assert r.status_code == 302
    assert GuaranteeLoan.objects.filter(amount=Decimal("1200000.00")).exists()
    client.post(f"/projects/{project.pk}/loans/", {**VALUES, "amount": "1.005"})
    assert GuaranteeLoan.objects.count() == 2
    client.force_login(demo.platform)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert VALUES["lender"] in html and 'data-loan-action' not in html


def test_r10_dossier_and_annual_report_list_the_loans(demo, project):
    from django.template.loader import render_to_string

    from reports import documents

    loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    ctx = documents.dossier_context(project.pk, number="档案〔2025〕1号", issued_on=project.approved_at.date())
    html = render_to_string("reports/project_dossier.html", ctx)
    assert "政策性融资担保贷款" in html and "（R10）" not in html and VALUES["lender"] in html and "3,000,000.00" in html
    assert "3.45%" in html and "已申请" in html
    year = project.approved_at.year
    plan = documents.annual_audit_plan(year, number=f"审〔{year}〕1号", issued_on=project.approved_at.date())
    assert project.pk in plan.project_ids
    back = list(documents.annual_audit_bodies(plan))[-1]
    assert "政策性融资担保贷款" in back and "（R10）" not in back and VALUES["guarantor"] in back and "3,000,000.00" in back


def test_r10_seed_demo_records_one_granted_loan_once(db, ledger_ok):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    loan = GuaranteeLoan.objects.get()
    assert loan.state == "granted" and loan.amount == Decimal("3000000.00")
    assert loan.project.title == "智能产线数字孪生联合实验室"


def test_r10_loans_section_query_count_does_not_grow_with_loans(client, demo, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(demo.enterprise)
    loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    client.get(f"/projects/{project.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/projects/{project.pk}/")
    for _i in range(3):
        loans.loan_create(project=project, actor=demo.enterprise, **VALUES)
    with CaptureQueriesContext(connection) as four:
        html = client.get(f"/projects/{project.pk}/").content.decode()
    assert html.count('data-loan-state="applied"') == 4
    assert len(four) == len(one)
