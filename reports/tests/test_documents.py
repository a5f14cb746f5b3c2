"""Every kind of document: its Chinese title, its number and its amounts are in the PDF's text,
and the CJK font is embedded."""
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.tests.factories import pdf_file
from reports import documents, selectors
from subsidies.tests.factories import with_opinion

from .pdfcheck import assert_no_codes, cjk_embedded, filled_rects, page_texts, squeeze, text

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
    assert_no_codes(body.replace(f"AXB-{project.pk}-1", ""))
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
                   "合作协议.pdf", f"托管账户·{project.title}·里程碑1", "¥5,000,000.00", "¥700,000.00", "¥-1,000,000.00",
                   "2026年1月15日"):
        assert needle in body, needle
    assert_no_codes(body)  # actions and accounts in words, no rule ids
    assert cjk_embedded(out.content)


@pytest.mark.django_db
def test_project_dossier_history_queries_do_not_grow_with_the_events(projects, demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.services import audit_record

    project = projects[0]
    milestone = project.milestones.order_by("seq").first()

    def count() -> tuple[int, list[dict]]:
        with CaptureQueriesContext(connection) as ctx:
            rows = documents._history_rows(project)
        return len(ctx), rows

    count()  # per-process caches (content types) filled, whichever test ran before in this worker
    few, _ = count()
    for i in range(10):
        audit_record(actor=demo.reviewer, target=project, action=f"备注{i}")
        audit_record(actor=demo.reviewer, target=milestone, action=f"备注{i}")
    many, rows = count()
    assert many == few
    labels = {r["action"]: set() for r in rows}
    for r in rows:
        labels[r["action"]].add(r["target_label"])
    assert labels["备注3"] == {"项目", f"里程碑 {milestone.seq}"}


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
    assert f"托管账户·{project.title}·里程碑1" in body
    assert_no_codes(body)
    assert cjk_embedded(out.content)


def _figures():
    """Figures shaped as the subsidies app stores them (worked examples 3 and 4)."""
    grant_trace = {"rule": "R11", "rate": "0.3000", "cap": "3000000.00", "projects": [
        {"project": 1, "title": "智能装备联合攻关项目7", "notice_number": "萧科安〔2025〕7号", "input": "8000000.00",
         "claims_paid": "1000000.00", "base": "7000000.00", "share": "2100000.0000"}]}
    premium_trace = {"rule": "R9/I6/I8", "rate": "0.8000", "cap": "500000.00", "types": [
        {"type": "rd_loss", "premium": "700000.00", "alone": "500000.00", "others_total": "350000.00",
         "best_single": "500000.00", "due": "150000.00"}]}
    return selectors.SubsidyFigures(
        grants=[{"enterprise": None, "amount": Decimal("2100000.00"), "uncapped": Decimal("2100000.00"),
                 "capped": False, "state": "已审定", "trace": grant_trace, "version": 1}],
        premiums=[{"enterprise": None, "amount": Decimal("150000.00"), "uncapped": Decimal("560000.00"),
                   "capped": True, "state": "已审定", "trace": premium_trace, "version": 1}])


@pytest.mark.django_db
def test_subsidy_decision_has_amount_in_figures_and_capitals_R11(demo):
    out = documents.subsidy_decision_document(enterprise=demo.ent1, year=2025, figures=_figures(),
                                              number="萧科安补〔2026〕5号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "科创安心宝资助决定书" in body and "萧科安补〔2026〕5号" in body
    assert "¥2,100,000.00" in body and "人民币贰佰壹拾万元整" in body       # worked example 3
    assert "¥8,000,000.00" in body and "¥7,000,000.00" in body and "30%" in body
    assert "¥150,000.00" in body and "人民币壹拾伍万元整" in body           # worked example 4 (R20, I8)
    assert "¥350,000.00" in body and "研发费用损失险" in body
    assert "¥2,250,000.00" in body and "人民币贰佰贰拾伍万元整" in body
    assert demo.ent1.name in body
    assert cjk_embedded(out.content)


@pytest.mark.django_db
def test_subsidy_decision_from_the_subsidies_computation_capped_at_3000000_R11(projects, demo):
    from subsidies import services as subsidies
    from subsidies.models import GrantComputation

    year = timezone.localdate().year
    a, b = projects[0], projects[1]      # enterprise 1's projects: ledger input 5,300,000 and 5,000,000
    policy = subsidies.policy_create(actor=demo.enterprise, project=a, insurer=demo.insurer, type="rd_loss",
                                     premium=Decimal("100000.00"), cover=Decimal("2000000.00"),
                                     start_date=date(year, 1, 1), end_date=date(year, 12, 31))
    subsidies.claim_create(actor=demo.enterprise, policy=policy, assessed_loss=Decimal("1000000.00"),
                           paid_amount=Decimal("1000000.00"), paid_on=date(year, 6, 1))
    with_opinion(subsidies.audit_save(actor=demo.auditor, project=a, year=year, audited_input=Decimal("8000000.00"),
                         reason="审计确认的企业自有投入高于账户拨付额"))
    with_opinion(subsidies.audit_save(actor=demo.auditor, project=b, year=year, audited_input=Decimal("5000000.00")))
    subsidies.grant_compute(year=year, actor=demo.reviewer)
    grant = GrantComputation.objects.get(enterprise=demo.ent1, year=year)
    assert grant.amount == Decimal("3000000.00") and grant.capped     # worked example 3: 2.1M + 1.5M capped

    from core.exceptions import DomainError

    with pytest.raises(DomainError) as err:   # not approved yet: no decision (the figure is only computed)
        documents.subsidy_decision(demo.ent1.pk, year, number="萧科安补〔2026〕6号", issued_on=ISSUED)
    assert err.value.code == "subsidy_not_approved"
    subsidies.figure_approve(figure=grant, actor=demo.reviewer)
    out = documents.subsidy_decision(demo.ent1.pk, year, number="萧科安补〔2026〕6号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "¥3,000,000.00" in body and "人民币叁佰万元整" in body
    assert "¥2,100,000.00" in body and "¥1,500,000.00" in body and "¥3,600,000.00" in body
    assert "已按上限核定" in body and a.notice_number in body and b.notice_number in body
    assert cjk_embedded(out.content)


@pytest.fixture
def subsidised(projects, demo):
    """The year's grants (R11) and premium subsidy (R9) computed through the subsidies services."""
    from subsidies import services as subsidies

    year = timezone.localdate().year
    a, b, c = projects
    # ledger inputs (releases and forfeitures to the platform): a 5,300,000, b and c 5,000,000 each
    with_opinion(subsidies.audit_save(actor=demo.auditor, project=a, year=year, audited_input=Decimal("5300000.00")))
    with_opinion(subsidies.audit_save(actor=demo.auditor, project=b, year=year, audited_input=Decimal("5000000.00")))
    with_opinion(subsidies.audit_save(actor=demo.auditor, project=c, year=year, audited_input=Decimal("4000000.00"),
                         reason="审计核减了与项目无关的支出"))
    subsidies.policy_create(actor=demo.enterprise, project=a, insurer=demo.insurer, type="rd_loss",
                            premium=Decimal("123456.78"), cover=Decimal("2000000.00"),
                            start_date=date(year, 1, 1), end_date=date(year, 12, 31),
                            document=pdf_file("保单.pdf"))  # I11: subsidised only with the document on file
    subsidies.grant_compute(year=year, actor=demo.reviewer)
    subsidies.premium_compute(year=year, actor=demo.reviewer)
    return projects


@pytest.mark.django_db
def test_annual_audit_has_title_number_flows_pool_subsidies_and_exceptions(subsidised, settings, ledger_ok):
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
    for p in subsidised:
        assert p.notice_number in body
    # R11: enterprise 1 30 % × (5,300,000 + 5,000,000) = 3,090,000 capped at 3,000,000; enterprise 2 1,200,000
    assert "合作经费资助¥3,090,000.00¥3,000,000.00（封顶）" in body
    assert "合作经费资助¥1,200,000.00¥1,200,000.00" in body
    # R9: 80 % × 123,456.78 = 98,765.424 → 98,765.42
    assert "保费补助¥98,765.42¥98,765.42" in body
    assert "¥4,200,000.00/¥98,765.42" in body                      # the two totals
    assert "本年度资助与保费补助尚未测算" not in body
    # the opinion says in words what was checked, never "账务不变量 1–5"
    assert "各分录借贷平衡" in body and "各账户余额与其过账合计一致" in body and "不变量" not in body
    assert_no_codes(body)
    # The pool utilisation chart: its SVG text is drawn (not printed as source), its bars are vector
    # rectangles in the chart's coordinates: available 85 % of 480 = 408, advanced 15 % = 72 (I2).
    assert "<svg" not in body and "风险池使用情况" not in body
    assert "风险池资金10,000.00万元，使用率15.0%" in body
    assert "可用8,500.00万元已垫付1,500.00万元损失0.00万元" in body
    chart_page = next(i for i, t in enumerate(pages) if "使用率" in t)
    rects = filled_rects(out.content, chart_page)
    assert ("0.298039 0.603922 0.415686", "0 20 408 28") in rects     # available (#4c9a6a)
    assert ("0.85098 0.643137 0.254902", "408 20 72 28") in rects     # advanced (#d9a441)
    assert cjk_embedded(out.content)


@pytest.mark.django_db
def test_annual_audit_repeats_the_table_header_on_every_page_of_a_long_table(projects, demo, settings, ledger_ok):
    from projects.models import Milestone, Project
    from projects.tests.factories import post_advance

    settings.REPORTS_CHUNK_SIZE = 100   # one table for all projects, longer than a page
    year = timezone.localdate().year
    approved = timezone.make_aware(timezone.datetime(year, 3, 1, 10, 0))
    for seq in range(20, 50):           # projects without money yet (no flows: the totals stay as they are)
        project = Project.objects.create(
            enterprise=demo.ent2, platform=demo.plat2, created_by=demo.enterprise2, scheme=demo.scheme,
            mode="project_cooperation", title=f"新材料中试项目{seq}", total_amount=Decimal("2000000.00"),
            budget=Decimal("1000000.00"), start_date=date(year, 3, 1), end_date=date(year + 1, 12, 31),
            state="active", notice_number=f"萧科安〔{year}〕{seq}号", notice_year=year, notice_seq=seq,
            approved_at=approved)
        post_advance(project)  # its budget advanced by the pool at approval (I2)
        for ms in (1, 2):
            Milestone.objects.create(project=project, seq=ms, title=f"第{ms}阶段中试", amount=Decimal("1000000.00"),
                                     deposit_amount=Decimal("100000.00"), start_date=date(year, 3, 1),
                                     due_date=date(year, 12, 1))
    out = documents.annual_audit(year, number=f"萧科安审〔{year}〕9号", issued_on=ISSUED)
    header = "序号立项文号/项目/企业/平台状态缴入拨付罚没退还保险赔付审计投入"
    detail_pages = [squeeze(t) for t in page_texts(out.content) if "新材料中试项目" in t or "（截止" in t]
    assert len(detail_pages) >= 2, "the table should span several pages for this test to mean anything"
    for page in detail_pages:
        assert page.count(header) == 1, page[:200]
    body = "".join(detail_pages)
    assert all(f"新材料中试项目{seq}" in body for seq in range(20, 50))


def test_charts_are_svg_without_floats():
    from escrow.selectors import PoolSummary
    from reports.charts import monthly_flows_svg, pool_utilisation_svg

    svg = pool_utilisation_svg(PoolSummary(funding=Decimal("100000000.00"), available=Decimal("85000000.00"),
                                           advanced=Decimal("15000000.00"), losses=Decimal("0.00")))
    assert svg.startswith("<svg") and "使用率 15.0%" in svg and 'width="72.0"' in svg
    flows = selectors.Flows(inputs=Decimal("16000000.00"), releases=Decimal("15000000.00"))
    svg = monthly_flows_svg({3: flows})
    assert svg.count("<rect") >= 2 + 4 and "峰值 1,600.00万元" in svg


@pytest.mark.django_db
def test_subsidy_decision_uses_the_newest_decided_version_never_a_superseded_one(demo):
    from subsidies.models import GrantComputation

    base = {"enterprise": demo.ent1, "year": 2025, "scheme": demo.scheme, "capped": False, "trace": {}}
    GrantComputation.objects.create(**base, version=1, amount=Decimal("900000.00"),
                                    uncapped_amount=Decimal("900000.00"), state="superseded")
    GrantComputation.objects.create(**base, version=2, amount=Decimal("2100000.00"),
                                    uncapped_amount=Decimal("2100000.00"), state="approved")
    GrantComputation.objects.create(**base, version=3, amount=Decimal("2400000.00"),
                                    uncapped_amount=Decimal("2400000.00"), state="computed")
    figures = selectors.subsidy_figures(year=2025, enterprise_id=demo.ent1.pk)
    assert [g["version"] for g in figures.grants] == [3]     # the year's listing: the newest computation
    out = documents.subsidy_decision(demo.ent1.pk, 2025, number="萧科安补〔2026〕6号", issued_on=ISSUED)
    body = squeeze(text(out.content))
    assert "¥2,100,000.00" in body and "人民币贰佰壹拾万元整" in body and "第2版" in body
    assert "¥900,000.00" not in body and "¥2,400,000.00" not in body
