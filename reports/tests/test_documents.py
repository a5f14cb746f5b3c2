"""Every kind of document: its Chinese title, its number and its amounts are in the PDF's text,
and the CJK font is embedded."""
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from reports import documents, selectors

from .pdfcheck import cjk_embedded, page_texts, squeeze, text

ISSUED = date(2026, 1, 15)


@pytest.mark.django_db
def test_approval_notice_has_title_notice_number_and_amounts_R13(projects, ledger_ok):
    project = projects[0]
    out = documents.approval_notice(project.pk)
    body = squeeze(text(out.content))
    assert "准予立项通知书" in body
    assert "萧科安〔2025〕7号" in body
    assert "¥8,000,000.00" in body           # net funding (R2)
    assert "人民币捌佰万元整" in body
    assert "¥5,000,000.00" in body and "¥500,000.00" in body   # milestone 1 tranche and deposit (R5)
    assert project.enterprise.name in body and project.platform.name in body
    assert f"AXB-{project.pk}-1" in body
    assert cjk_embedded(out.content)
    assert out.number == "萧科安〔2025〕7号"


@pytest.mark.django_db
def test_approval_notice_refused_before_approval_R13(projects):
    from core.exceptions import DomainError
    from projects.models import Project

    Project.objects.filter(pk=projects[0].pk).update(notice_number=None)
    with pytest.raises(DomainError) as err:
        documents.approval_notice(projects[0].pk)
    assert err.value.rule == "R13"


@pytest.mark.django_db
def test_project_dossier_has_terms_milestones_transitions_ledger_and_attachments(projects, demo):
    from django.core.files.base import ContentFile

    from projects.models import Attachment, ExpertAssignment

    project = projects[0]
    Attachment.objects.create(project=project, kind="agreement",
                              file=ContentFile(b"%PDF-1.4 agreement", name="a.pdf"),
                              original_name="合作协议.pdf", content_type="application/pdf", size=18, sha256="ab" * 32,
                              uploaded_by=demo.enterprise)
    ExpertAssignment.objects.create(project=project, expert=demo.expert1, status="scored", feasibility=90, terms=80,
                                    cost=88, opinion="技术路线可行")
    out = documents.project_dossier(project.pk, number="萧科安档〔2026〕3号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    for needle in ("科创安心宝项目档案", "萧科安档〔2026〕3号", "萧科安〔2025〕7号", "阶段成果归企业所有",
                   "第1阶段样机研制", "保证金已罚没", "技术路线可行", "86.00", "开通保证金通道", "已立项", "实施中",
                   "合作协议.pdf", f"custody:{project.pk}:1", "¥5,000,000.00", "¥700,000.00", "¥-1,000,000.00",
                   "2026年1月15日"):
        assert needle in body, needle
    assert cjk_embedded(out.content)


@pytest.mark.django_db
def test_custody_statement_has_running_balances(projects):
    project = projects[0]
    out = documents.custody_statement(project.pk, number="萧科安账〔2026〕4号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "安心宝监管账户对账单" in body and "萧科安账〔2026〕4号" in body
    # deposit 500,000 then balance 4,500,000 → running 5,000,000, released → 0
    assert "¥500,000.00" in body and "¥4,500,000.00" in body and "¥5,000,000.00" in body
    # milestone 2: 1,000,000 in; the total running balance after it is 1,000,000, then 0
    assert "¥1,000,000.00" in body
    lines, balances = selectors.custody_statement(project)
    assert [str(line.total_balance) for line in lines] == ["500000.00", "5000000.00", "0.00", "1000000.00", "0.00"]
    assert sum(balances.values()) == Decimal("0.00")
    assert cjk_embedded(out.content)


def _figures(amount="2100000.00"):
    return selectors.SubsidyFigures(
        available=True,
        grants=[{"enterprise": None, "amount": Decimal(amount), "uncapped": Decimal(amount), "capped": False,
                 "state": "已核定", "trace": {"audited_input": "8000000.00", "claims_paid": "1000000.00", "rate": "0.30"},
                 "version": ""}],
        premiums=[{"enterprise": None, "amount": Decimal("500000.00"), "uncapped": Decimal("560000.00"),
                   "capped": True, "state": "已核定", "trace": {"premium": "700000.00"}, "version": ""}])


@pytest.mark.django_db
def test_subsidy_decision_has_amount_in_figures_and_capitals_R11(demo):
    out = documents.subsidy_decision_document(enterprise=demo.ent1, year=2025, figures=_figures(),
                                              number="萧科安补〔2026〕5号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "科创安心宝资助决定书" in body and "萧科安补〔2026〕5号" in body
    assert "¥2,100,000.00" in body and "人民币贰佰壹拾万元整" in body       # worked example 3
    assert "¥500,000.00" in body and "人民币伍拾万元整" in body             # worked example 4, capped (R9)
    assert "¥2,600,000.00" in body and "人民币贰佰陆拾万元整" in body
    assert demo.ent1.name in body
    assert cjk_embedded(out.content)


@pytest.mark.django_db
def test_subsidy_decision_reads_the_subsidies_models_once_they_exist(demo):
    from django.apps import apps

    try:
        grant_model = apps.get_model("subsidies", "GrantComputation")
    except LookupError:
        pytest.skip("subsidies.GrantComputation is not merged yet")
    fields = {f.name for f in grant_model._meta.get_fields()}
    row = {"enterprise": demo.ent1, "year": 2025, "amount": Decimal("2100000.00")}
    if "uncapped_amount" in fields:
        row["uncapped_amount"] = Decimal("2100000.00")
    if "scheme" in fields:
        row["scheme"] = demo.scheme
    grant_model.objects.create(**row)
    if "version" in fields:  # a superseded earlier version is not part of the decision
        grant_model.objects.create(**{**row, "amount": Decimal("900000.00"), "version": 0, "state": "superseded"})
    out = documents.subsidy_decision(demo.ent1.pk, 2025, number="萧科安补〔2026〕6号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "¥2,100,000.00" in body and "人民币贰佰壹拾万元整" in body
    assert "¥900,000.00" not in body and "¥3,000,000.00" not in body


@pytest.mark.django_db
def test_annual_audit_has_title_number_flows_pool_and_exceptions(projects, settings):
    settings.REPORTS_CHUNK_SIZE = 2
    year = timezone.localdate().year
    out = documents.annual_audit(year, number=f"萧科安审〔{year}〕8号", issued_on=ISSUED)
    pages = page_texts(out.content)
    body = squeeze("\n".join(pages))
    assert f"科创安心宝{year}年度专项审计报告" in body and f"萧科安审〔{year}〕8号" in body
    # inputs 3 × 5,000,000 + 1,000,000; releases 3 × 5,000,000; forfeiture 300,000; refund 700,000
    assert "¥16,000,000.00" in body and "¥15,000,000.00" in body
    assert "¥300,000.00" in body and "¥700,000.00" in body
    assert "¥100,000,000.00" in body and "¥85,000,000.00" in body   # pool funding, available after 3 advances
    assert "保证金已罚没" in body and "样机未达到约定指标" in body       # the exception and its reason
    for p in projects:
        assert p.notice_number in body
    assert "账务不变量1–5" in body
    assert "<svg" not in body and "风险池使用情况" not in body  # charts are drawn, not printed as source
    assert cjk_embedded(out.content)


def test_charts_are_svg_without_floats():
    from escrow.selectors import PoolSummary
    from reports.charts import monthly_flows_svg, pool_utilisation_svg

    svg = pool_utilisation_svg(PoolSummary(funding=Decimal("100000000.00"), available=Decimal("85000000.00"),
                                           advanced=Decimal("15000000.00"), losses=Decimal("0.00")))
    assert svg.startswith("<svg") and "使用率 15.0%" in svg and 'width="72.0"' in svg
    flows = selectors.Flows(inputs=Decimal("16000000.00"), releases=Decimal("15000000.00"))
    svg = monthly_flows_svg({3: flows})
    assert svg.count("<rect") >= 2 + 4 and "峰值 1,600.00万元" in svg
