"""R17: each platform's cooperation record per year, on the page and in the Excel export, to the fen."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from escrow import accounts as codes
from escrow.choices import OperationKind
from escrow.services.operations import operation_request
from projects.models import Milestone
from projects.tests.factories import make_project


def _move(demo, project, seq, kind, amount, to_platform, key):
    custody = codes.custody(project.pk, seq)
    operation_request(kind=OperationKind.DEPOSIT, amount=amount, memo="保证金", idempotency_key=f"{key}:in",
                      lines=[(codes.ext_enterprise(project.enterprise_id), -amount), (custody, amount)],
                      ordered_by=demo.custodian, context={"project": project.pk}, inline=True)
    operation_request(kind=kind, amount=amount, memo=str(kind), idempotency_key=key,
                      lines=[(custody, -amount), (codes.ext_platform(to_platform.pk), amount)],
                      ordered_by=demo.custodian, context={"project": project.pk}, inline=True)
    # No purpose, so no completion hook: keep the milestone row's figures with the ledger, as the hooks do.
    settled = "released_amount" if kind == OperationKind.RELEASE else "forfeited_amount"
    Milestone.objects.filter(project=project, seq=seq).update(paid_in=F("paid_in") + amount,
                                                              **{settled: F(settled) + amount})


def _milestone(project, seq, state, *, decided_at, reported_at, due_date):
    return Milestone.objects.create(project=project, seq=seq, title=f"阶段{seq}", amount=Decimal("1000.00"),
                                    deposit_amount=Decimal("100.00"), start_date=due_date - timedelta(days=30),
                                    due_date=due_date, state=state, decided_at=decided_at, reported_at=reported_at)


@pytest.fixture
def record(demo, ledger_ok):
    now = timezone.now()
    today = timezone.localdate()
    year = today.year
    p1 = make_project(demo, title="平台一项目甲")
    p2 = make_project(demo, title="平台一项目乙")
    p3 = make_project(demo, title="平台一去年项目")
    p4 = make_project(demo, enterprise=demo.ent2, platform=demo.plat2, title="平台二项目")
    from projects.models import Project

    Project.objects.filter(pk=p1.pk).update(notice_year=year, mean_score=Decimal("80.00"))
    Project.objects.filter(pk=p2.pk).update(notice_year=year, mean_score=Decimal("85.50"))
    Project.objects.filter(pk=p3.pk).update(notice_year=year - 1, mean_score=Decimal("10.00"))
    Project.objects.filter(pk=p4.pk).update(notice_year=year, mean_score=Decimal("70.00"))
    # P1: met on time, met late, not met, and one decided last year (not counted)
    _milestone(p1, 1, "released", decided_at=now, reported_at=now - timedelta(days=5), due_date=today)
    _milestone(p1, 2, "balance_due", decided_at=now, reported_at=now, due_date=today - timedelta(days=3))
    _milestone(p1, 3, "failed", decided_at=now, reported_at=None, due_date=today - timedelta(days=1))
    _milestone(p2, 1, "released", decided_at=now - timedelta(days=400), reported_at=now - timedelta(days=401),
               due_date=today - timedelta(days=399))
    _milestone(p4, 1, "forfeited", decided_at=now, reported_at=None, due_date=today - timedelta(days=2))
    _move(demo, p1, 1, OperationKind.RELEASE, Decimal("80.00"), demo.plat1, "perf:r1")
    _move(demo, p1, 3, OperationKind.FORFEIT, Decimal("30.00"), demo.plat1, "perf:f1")
    _move(demo, p4, 1, OperationKind.RELEASE, Decimal("50.25"), demo.plat2, "perf:r2")
    return year


@pytest.mark.django_db
def test_platform_performance_r17_exact_figures(demo, record):
    from dashboards.selectors import platform_performance

    rows = {r.platform_id: r for r in platform_performance(record)}
    one, two = rows[demo.plat1.pk], rows[demo.plat2.pk]
    assert (one.projects, one.met, one.not_met, one.on_time) == (2, 2, 1, 1)
    assert one.on_time_rate == Decimal("0.3333")
    assert one.received == Decimal("80.00") and one.forfeitures == Decimal("30.00")
    assert one.mean_score == Decimal("82.75")
    assert (two.projects, two.met, two.not_met, two.on_time) == (1, 0, 1, 0)
    assert two.on_time_rate == Decimal("0.0000")
    assert two.received == Decimal("50.25") and two.forfeitures == Decimal("0.00")
    assert two.mean_score == Decimal("70.00")


@pytest.mark.django_db
def test_platform_performance_page_and_excel_export(client, demo, record):
    client.force_login(demo.auditor)
    html = client.get(reverse("dashboards:performance"), {"year": record}).content.decode()
    assert f'data-platform="{demo.plat1.pk}"' in html
    assert "¥80.00" in html and "¥30.00" in html and "33.33%" in html and "82.75" in html
    response = client.get(reverse("dashboards:performance"), {"year": record, "format": "xlsx"})
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == f'attachment; filename="platform-performance-{record}.xlsx"'
    ws = load_workbook(BytesIO(response.content)).active
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    one = rows[demo.plat1.name]
    assert one[1:5] == (2, 2, 1, 1)
    assert abs(one[5] - 1 / 3) < 1e-4
    assert Decimal(str(one[6])) == Decimal("80.00") and Decimal(str(one[7])) == Decimal("30.00")
    assert Decimal(str(one[8])) == Decimal("82.75")
    assert Decimal(str(rows[demo.plat2.name][6])) == Decimal("50.25")


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["enterprise", "platform", "custodian", "finance", "expert1"])
def test_platform_performance_is_for_the_bureau_and_auditors_only(client, demo, username):
    client.force_login(getattr(demo, username))
    assert client.get(reverse("dashboards:performance")).status_code == 403


@pytest.mark.django_db
def test_platform_performance_query_count_does_not_grow_with_projects(client, demo, django_assert_max_num_queries):
    from .factories import bulk_projects

    client.force_login(demo.reviewer)
    bulk_projects(demo, 1000)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboards:performance")).status_code == 200


@pytest.mark.django_db
def test_auditor_year_at_a_glance_reads_the_ledger(client, demo, record):
    from dashboards.selectors import year_at_a_glance

    rows = [v for _, v in year_at_a_glance(record)["rows"]]
    # inputs (I5) = releases + forfeitures to platforms; then releases, forfeitures, refunds, grants, premiums
    assert rows == [Decimal("160.25"), Decimal("130.25"), Decimal("30.00"), Decimal("0.00"), Decimal("0.00"),
                    Decimal("0.00")]
    client.force_login(demo.auditor)
    html = client.get(reverse("home")).content.decode()
    assert 'id="auditor-year"' in html and "¥160.25" in html and "¥130.25" in html


@pytest.mark.django_db
def test_platform_dashboard_shows_money_received_and_enterprise_sees_its_custody(client, demo, record):
    from projects.models import Project

    p1 = Project.objects.get(title="平台一项目甲")
    operation_request(kind=OperationKind.DEPOSIT, amount=Decimal("12.34"), memo="保证金", idempotency_key="perf:held",
                      lines=[(codes.ext_enterprise(p1.enterprise_id), Decimal("-12.34")),
                             (codes.custody(p1.pk, 2), Decimal("12.34"))],
                      ordered_by=demo.custodian, context={"project": p1.pk}, inline=True)
    Milestone.objects.filter(project=p1, seq=2).update(paid_in=F("paid_in") + Decimal("12.34"))
    client.force_login(demo.platform)
    assert 'id="platform-received">¥110.00<' in client.get(reverse("home")).content.decode()
    client.force_login(demo.platform2)
    assert 'id="platform-received">¥50.25<' in client.get(reverse("home")).content.decode()
    client.force_login(demo.enterprise)
    assert 'id="enterprise-custody">¥12.34<' in client.get(reverse("home")).content.decode()
    client.force_login(demo.enterprise2)
    assert 'id="enterprise-custody">¥0.00<' in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_auditor_year_at_a_glance_counts_a_forfeits_refund_as_refund_R8_I3(demo, ledger_ok):
    """Worked example 5: 2,000,000.00 paid in, deposit 200,000.00 forfeited to the platform (R8) and
    the rest refunded to the enterprise (I3) by the same forfeit operation."""
    from dashboards.selectors import year_at_a_glance

    project = make_project(demo, title="罚没退还项目")
    custody = codes.custody(project.pk, 1)
    paid, deposit = Decimal("2000000.00"), Decimal("200000.00")
    operation_request(kind=OperationKind.DEPOSIT, amount=paid, memo="入账", idempotency_key="ex5:in",
                      lines=[(codes.ext_enterprise(project.enterprise_id), -paid), (custody, paid)],
                      ordered_by=demo.custodian, context={"project": project.pk}, inline=True)
    operation_request(kind=OperationKind.FORFEIT, amount=paid, memo="保证金罚没", idempotency_key="ex5:f",
                      lines=[(custody, -paid), (codes.ext_platform(project.platform_id), deposit),
                             (codes.ext_enterprise(project.enterprise_id), paid - deposit)],
                      ordered_by=demo.custodian, context={"project": project.pk}, inline=True)
    rows = dict(year_at_a_glance(timezone.localdate().year)["rows"])
    assert [rows[k] for k in ("研发投入", "拨付平台", "保证金罚没", "退还企业")] == [
        Decimal("200000.00"), Decimal("0.00"), Decimal("200000.00"), Decimal("1800000.00")]
