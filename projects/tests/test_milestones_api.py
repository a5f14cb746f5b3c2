"""The milestone API (api.md): fields, actions, error shape, scoping, idempotency, query counts."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from escrow.models import MoneyOperation
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.tests.factories import tranche_project
from projects.tests.steps import evidence, fresh, pdf, reported_milestone

pytestmark = pytest.mark.django_db(transaction=True)


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def url(m, action=None):
    return f"/api/v1/milestones/{m.pk}/" + (f"{action}/" if action else "")


def test_api_walks_a_milestone_from_deposit_to_release(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1500000.00", "150000.00")], budget="1500000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    r = client(demo.enterprise).get(url(m))
    assert r.status_code == 200
    assert r.json()["state"] == "deposit_due" and r.json()["deposit_amount"] == "150000.00"
    assert r.json()["custody_balance"] == "0.00" and r.json()["payment_reference"] == f"AXB-{p.pk}-1"
    r = client(demo.enterprise).post(url(m, "upload_receipt"), {"file": pdf()}, format="multipart")
    assert r.status_code == 200, r.json()
    r = client(demo.custodian).post(url(m, "confirm_deposit"), {"amount": "149999.99", "bank_ref": "B1"},
                                    format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R5" and r.json()["code"] == "deposit_too_low"
    r = client(demo.custodian).post(url(m, "confirm_deposit"), {"amount": "150000.00", "bank_ref": "B1"},
                                    format="json", HTTP_IDEMPOTENCY_KEY="k-dep-1")
    assert r.status_code == 200, r.json()
    body = r.json()
    # the answer is the order (the worker executes after the commit); then the milestone has moved
    assert body["state"] == "deposit_due" and body["operation"]["state"] == "requested"
    assert body["operation"]["kind"] == "deposit" and body["operation"]["amount"] == "150000.00"
    now = client(demo.enterprise).get(url(m)).json()
    assert now["state"] == "in_progress" and now["paid_in"] == "150000.00" and now["custody_balance"] == "150000.00"
    assert MoneyOperation.objects.get(pk=body["operation"]["id"]).state == "done"
    again = client(demo.custodian).post(url(m, "confirm_deposit"), {"amount": "150000.00", "bank_ref": "B1"},
                                        format="json", HTTP_IDEMPOTENCY_KEY="k-dep-1")
    assert again.status_code == 200 and again.json()["operation"]["id"] == body["operation"]["id"]
    other = client(demo.custodian).post(url(m, "confirm_deposit"), {"amount": "150000.01", "bank_ref": "B2"},
                                        format="json", HTTP_IDEMPOTENCY_KEY="k-dep-1")
    assert other.status_code == 409
    assert MoneyOperation.objects.filter(kind="deposit").count() == 1
    r = client(demo.platform).post(url(m, "report_completion"),
                                   {"description": "完成", "target_notes": '{"样机指标1": "达成", "测试报告1": "已出具"}',
                                    "files": [evidence()]}, format="multipart")
    assert r.status_code == 200, r.json()
    assert client(demo.custodian).post(url(m, "review_met"), {"reason": "x"}).status_code == 403
    r = client(demo.reviewer).post(url(m, "review_met"), {"reason": "达标"}, format="json")
    assert r.json()["state"] == "balance_due" and r.json()["balance_due"] == "1350000.00"
    r = client(demo.custodian).post(url(m, "confirm_balance"), {"amount": "1350000.00", "bank_ref": "B3"},
                                    format="json")
    assert r.status_code == 200 and r.json()["operation"]["kind"] == "balance"
    assert client(demo.custodian).get(url(m)).json()["state"] == "releasable"
    r = client(demo.custodian).post(url(m, "release"), format="json")
    assert r.status_code == 200
    assert r.json()["state"] == "releasable" and r.json()["operation"]["state"] == "awaiting_confirmation"
    assert client(demo.custodian).post(url(m, "forfeit")).status_code == 409
    op_id = r.json()["operation"]["id"]
    assert client(demo.custodian).post(f"/api/v1/operations/{op_id}/confirm/").status_code == 403  # the maker
    assert client(demo.custodian2).post(f"/api/v1/operations/{op_id}/confirm/").status_code == 200
    r = client(demo.platform).get(url(m))
    assert r.json()["state"] == "released" and r.json()["released_amount"] == "1500000.00"
    assert r.json()["custody_balance"] == "0.00"


def test_api_other_organisation_gets_404_and_errors_have_shape(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    r = client(demo.enterprise2).get(url(m))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client(demo.platform2).post(url(m, "report_completion"), {"description": "x"}).status_code == 404
    r = client(demo.reviewer).post(url(m, "release"))
    assert r.status_code == 403 and set(r.json()) >= {"code", "detail"}
    r = client(demo.reviewer).post(url(m, "review_met"), {"reason": "x"})
    assert r.status_code == 409 and r.json()["code"] == "transition_not_allowed"
    assert APIClient().get(url(m)).status_code == 401
    assert client(demo.reviewer).post(url(m, "nonsense")).status_code == 404


def test_api_review_met_without_reason_is_400_naming_R7(demo, ledger_ok):
    m = reported_milestone(demo)
    for body in ({}, {"reason": " "}):
        r = client(demo.reviewer).post(url(m, "review_met"), body, format="json")
        assert r.status_code == 400
        assert r.json()["code"] == "reason_required" and r.json()["rule"] == "R7" and "reason" in r.json()["fields"]
    assert fresh(m).state == M.REPORTED and fresh(m).decision_reason == ""


def test_api_extend_beyond_a_year_refused_R7(demo, ledger_ok):
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    ms.milestone_confirm_deposit(milestone=m, actor=demo.custodian, amount=Decimal("120000.00"), bank_ref="E1")
    ms.milestones_mark_overdue(today=fresh(m).due_date.replace(year=2030))
    assert fresh(m).state == M.OVERDUE
    too_late = fresh(m).start_date.replace(year=fresh(m).start_date.year + 1).replace(day=2).isoformat()
    r = client(demo.reviewer).post(url(m, "extend"), {"due_date": too_late, "reason": "x"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R7"


def test_timeline_shows_forfeited_deposit_and_refunded_remainder_r8_i3(demo, ledger_ok):
    from django.test import Client

    from projects.tests.steps import forfeit, pay_deposit, report

    p = tranche_project(demo, tranches=[("900000.00", "90000.00")], budget="900000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    pay_deposit(demo, m, "900000.00")  # the whole tranche: all but the deposit goes back on forfeiture
    report(demo, m)
    ms.milestone_review_not_met(milestone=fresh(m), actor=demo.reviewer, reason="未达标")
    forfeit(demo, m)
    assert (fresh(m).forfeited_amount, fresh(m).refunded_amount) == (Decimal("90000.00"), Decimal("810000.00"))
    c = Client()
    c.force_login(demo.enterprise)
    html = c.get(f"/milestones/project/{p.pk}/").content.decode()
    svg = html[html.index('<svg id="milestone-timeline"'):html.index("</svg>")]
    assert 'data-state="forfeited"' in svg and 'class="tl-forfeited"' in svg
    assert "缴入 ¥900,000.00 · 罚没 ¥90,000.00 · 退还 ¥810,000.00" in svg and "拨付 " not in svg


def test_extend_form_states_the_projects_longest_cycle_r7(demo, ledger_ok):
    from django.test import Client

    demo.scheme.max_milestone_months = 18
    demo.scheme.save(update_fields=["max_milestone_months"])
    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m = p.milestones.get()
    ms.milestone_confirm_deposit(milestone=m, actor=demo.custodian, amount=Decimal("120000.00"), bank_ref="E1")
    ms.milestones_mark_overdue(today=fresh(m).due_date.replace(year=2030))
    c = Client()
    c.force_login(demo.reviewer)
    html = c.get(f"/milestones/project/{p.pk}/").content.decode()
    assert 'data-action="extend"' in html and "新截止日期（最长 18 个月）" in html and "一年" not in html
    assert ">R7</abbr>" in html  # the rule as an explained reference, not in the label


def test_milestone_page_shows_timeline_with_bounded_queries(demo, django_assert_max_num_queries, ledger_ok):
    from django.test import Client

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("900000.00", "90000.00"),
                                         ("900000.00", "90000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    m1 = p.milestones.get(seq=1)
    ms.milestone_upload_receipt(milestone=m1, actor=demo.enterprise, file=pdf())
    ms.milestone_confirm_deposit(milestone=m1, actor=demo.custodian, amount=Decimal("120000.00"), bank_ref="P1")
    c = Client()
    c.force_login(demo.custodian)
    with django_assert_max_num_queries(12):  # 10 measured, the same for 1, 3 or 6 milestones
        r = c.get(f"/milestones/project/{p.pk}/")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="milestone-timeline"' in html
    assert html.count('class="tl-row') == 3 and "缴入 ¥120,000.00" in html
    api = client(demo.custodian)
    with django_assert_max_num_queries(5):
        assert api.get(url(m1)).json()["custody_balance"] == "120000.00"
    c.force_login(demo.enterprise2)
    assert c.get(f"/milestones/project/{p.pk}/").status_code == 404
    c.force_login(demo.enterprise)
    # I15: from the deposit's confirmation on the enterprise may pay (and file the receipt of) the balance
    assert 'data-action="upload_receipt"' in c.get(f"/milestones/project/{p.pk}/").content.decode()


def test_milestone_attachment_download_is_private_and_scoped(demo):
    from django.test import Client

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    att = ms.milestone_upload_receipt(milestone=p.milestones.get(), actor=demo.enterprise, file=pdf("银行回单.pdf"))
    c = Client()
    c.force_login(demo.custodian)
    assert f"/milestones/attachments/{att.pk}/" in c.get(f"/milestones/project/{p.pk}/").content.decode()
    r = c.get(f"/milestones/attachments/{att.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")
    assert r["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('银行回单.pdf')}"
    assert r["Content-Type"] == "application/pdf" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Cache-Control"] == "private, no-store"
    c.force_login(demo.enterprise2)
    assert c.get(f"/milestones/attachments/{att.pk}/").status_code == 404
    c.force_login(demo.custodian)
    att.file.storage.delete(att.file.name)   # gone from storage: a 404, not a 500
    assert c.get(f"/milestones/attachments/{att.pk}/").status_code == 404


def test_page_forms_call_services_and_redirect_only_inside(demo, ledger_ok):
    from django.test import Client

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00")])
    c = Client()
    c.force_login(demo.reviewer)
    r = c.post(f"/milestones/project/{p.pk}/open_escrow/", {"next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == f"/milestones/project/{p.pk}/#milestones"  # at the panel
    m = p.milestones.get()
    assert fresh(m).state == M.DEPOSIT_DUE
    c.force_login(demo.enterprise)
    r = c.post(f"/milestones/{m.pk}/do/confirm_deposit/", {"amount": "120000.00", "bank_ref": "Z1",
                                                           "next": f"/projects/{p.pk}/"}, follow=False)
    assert r["Location"] == f"/projects/{p.pk}/#m1"
    assert fresh(m).state == M.DEPOSIT_DUE and not MoneyOperation.objects.filter(kind="deposit").exists()
    page = c.get(f"/milestones/project/{p.pk}/").content.decode()
    assert "监管账户操作员" in page  # the 403 reason is shown to the user
    c.force_login(demo.enterprise2)
    assert c.post(f"/milestones/{m.pk}/do/upload_receipt/", {"file": pdf()}).status_code == 404


def test_terminate_api_reads_repaid_amount_as_a_decimal_i2_i4(demo, ledger_ok):
    """An amount is text: a JSON number is refused naming the field, a third decimal is a 400 naming I4."""
    p = tranche_project(demo, tranches=[("1500000.00", "150000.00")], budget="1500000.00")
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    api = client(demo.reviewer)
    r = api.post(f"/api/v1/projects/{p.pk}/terminate/", {"reason": "企业放弃", "repaid_amount": 1499999.5},
                 format="json")
    assert r.status_code == 400 and "repaid_amount" in r.json()["fields"], r.json()
    r = api.post(f"/api/v1/projects/{p.pk}/terminate/", {"reason": "企业放弃", "repaid_amount": "1500000.005"},
                 format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I4", r.json()
    r = api.post(f"/api/v1/projects/{p.pk}/terminate/", {"reason": "企业放弃", "repaid_amount": "1499999.50"},
                 format="json")
    assert r.status_code == 200, r.json()
    from escrow import accounts as codes
    from escrow.selectors import account_balance

    assert account_balance(codes.POOL_LOSSES) == Decimal("0.50")  # repaid 1,499,999.50, the rest written off
