"""Pages: scoping (404/403), the trace in plain words, the year table, Excel export, blacklist."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from core.models import BlacklistEntry, SchemeVersion
from projects.tests.factories import pdf_file
from subsidies.models import AnnualAudit, GrantComputation, InsurancePolicy
from subsidies.services import audit_save, claim_create, grant_compute, policy_create, premium_compute

from .factories import make_project, with_opinion

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_2025(demo):
    p1 = make_project(demo, demo.ent1, amounts=("8000000.00",), title="智能焊接机器人")
    p2 = make_project(demo, demo.ent1, amounts=("5000000.00",), title="视觉检测系统")
    p3 = make_project(demo, demo.ent2, amounts=("3000000.00",), title="石墨烯涂层")
    for p, amount in ((p1, "8000000.00"), (p2, "5000000.00"), (p3, "3000000.00")):
        with_opinion(audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal(amount), reason="审计"))
    policy = policy_create(actor=demo.enterprise, project=p1, insurer=demo.insurer, type="rd_loss",
                           premium=Decimal("700000.00"), cover=Decimal("5000000.00"), start_date=date(2025, 4, 1),
                           end_date=date(2026, 3, 31), document=pdf_file("保单.pdf"))
    claim_create(actor=demo.enterprise, policy=policy, assessed_loss=Decimal("1000000.00"),
                 paid_amount=Decimal("1000000.00"), paid_on=date(2025, 11, 1))
    grant_compute(year=2025, actor=demo.reviewer)
    premium_compute(year=2025, actor=demo.reviewer)
    return p1, p2, p3


def test_enterprise_sees_own_figures_with_trace_in_words(client, demo, year_2025):
    client.force_login(demo.enterprise)
    html = client.get("/subsidies/").content.decode()
    assert "智能焊接机器人" in html and "¥2,100,000.00" in html
    assert "超过每年上限 ¥3,000,000.00，按上限核定，核减 ¥600,000.00" in html
    assert "石墨烯涂层" not in html


def test_enterprise_b_cannot_open_enterprise_a_grant_404(client, demo, year_2025):
    a = GrantComputation.objects.get(enterprise=demo.ent1)
    client.force_login(demo.enterprise2)
    assert client.get(f"/subsidies/grant/{a.pk}/").status_code == 404
    assert client.post(f"/subsidies/grant/{a.pk}/approve/").status_code == 404
    audit = AnnualAudit.objects.filter(project__enterprise=demo.ent1).first()
    assert client.get(f"/subsidies/audits/{audit.pk}/").status_code == 404
    assert client.get(f"/subsidies/insurance/{InsurancePolicy.objects.get().pk}/").status_code == 404


def test_platform_staff_have_no_subsidy_pages_403(client, demo, year_2025):
    client.force_login(demo.platform)
    assert client.get("/subsidies/").status_code == 403


def test_bureau_year_table_totals_and_caps(client, demo, year_2025, django_assert_max_num_queries):
    client.force_login(demo.reviewer)
    with django_assert_max_num_queries(15):
        html = client.get("/subsidies/?year=2025").content.decode()
    assert "¥3,900,000.00" in html  # 3,000,000 + 900,000
    assert "¥4,500,000.00" in html  # uncapped: 3,600,000 + 900,000
    assert "触及上限" in html


def test_year_page_states_the_rates_and_caps_of_that_years_scheme_r19(client, demo):
    SchemeVersion.objects.create(name="2026 版", valid_from=date(2026, 3, 9), grant_rate=Decimal("0.2500"),
                                 grant_cap=Decimal("2000000.00"), premium_rate=Decimal("0.7000"),
                                 premium_cap=Decimal("400000.00"))
    client.force_login(demo.reviewer)
    html = client.get("/subsidies/?year=2026").content.decode()
    assert "扣除保险赔付后的 25%，每家企业每年最高 ¥2,000,000.00" in html
    assert "保费的 70%，每家企业每年最高 ¥400,000.00" in html
    assert "30%" not in html and "300 万元" not in html and "80%" not in html
    html = client.get("/subsidies/?year=2025").content.decode()
    assert "扣除保险赔付后的 30%，每家企业每年最高 ¥3,000,000.00" in html
    assert "保费的 80%，每家企业每年最高 ¥500,000.00" in html
    r = client.get("/subsidies/?year=2020")  # before any scheme: the rules without figures
    assert r.status_code == 200 and "研发投入资助" in r.content.decode() and "（R11）" not in r.content.decode()


def test_reviewer_approves_and_finance_pays_on_pages(client, demo, year_2025):
    g = GrantComputation.objects.get(enterprise=demo.ent1)
    client.force_login(demo.reviewer)
    client.post(f"/subsidies/grant/{g.pk}/approve/")
    assert GrantComputation.objects.get(pk=g.pk).state == "approved"
    client.force_login(demo.finance)
    client.post(f"/subsidies/grant/{g.pk}/pay/", {"amount": "3000000.00", "paid_on": "2026-02-01",
                                                   "voucher": "财付2026-08"})
    g = GrantComputation.objects.get(pk=g.pk)
    assert (g.state, g.paid_amount, g.voucher) == ("paid", Decimal("3000000.00"), "财付2026-08")
    client.force_login(demo.enterprise)
    assert client.post(f"/subsidies/grant/{g.pk}/approve/").status_code == 403


def test_excel_export_has_rows_totals_and_money(client, demo, year_2025):
    client.force_login(demo.finance)
    r = client.get("/subsidies/export/2025/")
    assert r.status_code == 200 and r["Cache-Control"] == "private, no-store"
    assert r["Content-Disposition"] == 'attachment; filename="anxinbao-subsidies-2025.xlsx"'
    wb = load_workbook(BytesIO(r.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == demo.ent2.name or rows[1][0] == demo.ent1.name
    total = rows[-1]
    assert Decimal(str(total[5])) == Decimal("3900000.00") and total[6] == 1
    prem = list(wb.worksheets[1].iter_rows(values_only=True))
    assert Decimal(str(prem[1][5])) == Decimal("500000.00")
    client.force_login(demo.enterprise)
    assert client.get("/subsidies/export/2025/").status_code == 403


def test_auditor_enters_audit_and_enterprise_gives_opinion(client, demo):
    p = make_project(demo, demo.ent1)
    client.force_login(demo.auditor)
    r = client.post("/subsidies/audits/", {"project": p.pk, "year": 2025, "audited_input": "100.00"})
    assert r.status_code == 200 and "须说明原因" in r.content.decode()  # I5: ledger shows 0
    r = client.post("/subsidies/audits/", {"project": p.pk, "year": 2025, "audited_input": "100.00",
                                           "reason": "线下支付的研发费用", "expert_evaluation": "进展良好"})
    audit = AnnualAudit.objects.get()
    assert r.status_code == 302 and audit.audited_input == Decimal("100.00")
    client.force_login(demo.enterprise)
    client.post(f"/subsidies/audits/{audit.pk}/", {"opinion": "同意"})
    assert AnnualAudit.objects.get().opinion == "同意"
    client.force_login(demo.enterprise2)
    assert client.post(f"/subsidies/audits/{audit.pk}/", {"opinion": "x"}).status_code == 404


def test_blacklist_page_reason_evidence_history(client, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(demo.enterprise)
    assert client.get("/subsidies/blacklist/").status_code == 403
    client.force_login(demo.reviewer)
    client.post("/subsidies/blacklist/", {"action": "add", "add-organization": demo.ent2.pk,
                                          "add-reason": "虚报研发投入",
                                          "add-evidence": SimpleUploadedFile("证据.pdf", b"%PDF-1.4")})
    demo.ent2.refresh_from_db()
    assert demo.ent2.blacklisted
    client.post("/subsidies/blacklist/", {"action": "lift", "lift-organization": demo.ent2.pk,
                                          "lift-reason": "整改完成"})
    demo.ent2.refresh_from_db()
    assert not demo.ent2.blacklisted
    history = list(BlacklistEntry.objects.order_by("pk").values_list("action", "reason"))
    assert history == [("add", "虚报研发投入"), ("lift", "整改完成")]
    html = client.get("/subsidies/blacklist/").content.decode()
    assert "虚报研发投入" in html and "整改完成" in html


def test_policy_and_claim_pages(client, demo):
    p = make_project(demo, demo.ent1)
    client.force_login(demo.enterprise)
    r = client.post("/subsidies/insurance/", {
        "project": p.pk, "insurer": demo.insurer.pk, "insured": "enterprise", "type": "transformation",
        "premium": "200000.00", "cover": "3000000.00", "start_date": "2025-05-01", "end_date": "2026-04-30"})
    policy = InsurancePolicy.objects.get()
    assert r.status_code == 302 and policy.year == 2025
    client.post(f"/subsidies/insurance/{policy.pk}/", {"assessed_loss": "50000.00", "paid_amount": "40000.00",
                                                        "paid_on": "2025-12-01"})
    assert policy.claims.get().paid_amount == Decimal("40000.00")
    client.force_login(demo.reviewer)
    assert "200,000.00" in client.get("/subsidies/insurance/").content.decode()


def test_auditor_sees_projects_awaiting_audit_with_ledger_figure(client, demo, ledger_ok):
    from .factories import at, release

    p = make_project(demo, demo.ent1, title="待审计的项目")
    release(p, 1, "3000000.00", on=at(2025, 8, 1))
    client.force_login(demo.auditor)
    html = client.get("/subsidies/audits/?year=2025").content.decode()
    assert "待审计的项目" in html and "¥3,000,000.00" in html
    audit_save(actor=demo.auditor, project=p, year=2025, audited_input=Decimal("3000000.00"))
    html = client.get("/subsidies/audits/?year=2025").content.decode()
    assert "登记审计</a>" not in html
