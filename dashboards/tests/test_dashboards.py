"""Home pages per role: content scoped by role and organisation, query counts flat in the number of projects."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import bulk_projects

ROLE_USERS = ["enterprise", "platform", "reviewer", "custodian", "poolmanager", "auditor", "finance"]
SECTION = {"enterprise": "enterprise", "platform": "platform", "reviewer": "reviewer", "custodian": "custodian",
           "poolmanager": "pool_manager", "auditor": "auditor", "finance": "finance"}


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLE_USERS)
def test_home_shows_the_dashboard_of_the_users_role(client, demo, username):
    bulk_projects(demo, 10)
    client.force_login(getattr(demo, username))
    html = client.get(reverse("home")).content.decode()
    assert f'id="dashboard-{SECTION[username]}"' in html
    others = [s for u, s in SECTION.items() if u != username]
    assert not any(f'id="dashboard-{s}"' in html for s in others)
    assert "<svg" in html  # each dashboard draws at least one figure


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLE_USERS)
def test_dashboard_query_count_same_with_10_and_1000_projects(client, demo, username):
    user = getattr(demo, username)
    client.force_login(user)
    bulk_projects(demo, 10)
    _count_queries(client)  # warm caches (content types, sessions)
    small = _count_queries(client)
    bulk_projects(demo, 990, start=10)
    large = _count_queries(client)
    print(f"\nQUERIES home[{username}]: 10 projects={small}, 1000 projects={large}")
    assert small == large, f"{username}: {small} queries with 10 projects, {large} with 1,000"


@pytest.mark.django_db
def test_enterprise_sees_only_its_own_projects_and_payment_references(client, demo):
    projects = bulk_projects(demo, 20)
    client.force_login(demo.enterprise)
    html = client.get(reverse("home")).content.decode()
    own = [p for p in projects if p.enterprise_id == demo.ent1.pk]
    assert f'id="enterprise-projects">{len(own)}<' in html
    from projects.models import Milestone

    m = Milestone.objects.filter(project__enterprise=demo.ent1).order_by("pk").first()
    Milestone.objects.filter(pk=m.pk).update(state="deposit_due", paid_in=0)
    theirs = Milestone.objects.filter(project__enterprise=demo.ent2).order_by("pk").first()
    Milestone.objects.filter(pk=theirs.pk).update(state="deposit_due", paid_in=0)
    html = client.get(reverse("home")).content.decode()
    assert f"<code>{m.payment_reference}</code>" in html and "¥100,000.00" in html  # deposit owed
    assert theirs.payment_reference not in html
    foreign = next(p for p in projects if p.enterprise_id == demo.ent2.pk)
    assert f'href="/projects/{foreign.pk}/"' not in html


@pytest.mark.django_db
def test_platform_sees_no_drafts_and_no_other_platforms_projects(client, demo):
    projects = bulk_projects(demo, 30)
    client.force_login(demo.platform)
    html = client.get(reverse("home")).content.decode()
    visible = [p for p in projects if p.platform_id == demo.plat1.pk and p.state != "draft"]
    assert f'id="platform-projects">{len(visible)}<' in html
    for p in projects:
        if p.platform_id != demo.plat1.pk or p.state == "draft":
            assert f'href="/projects/{p.pk}/"' not in html


@pytest.mark.django_db
def test_reviewer_queues_count_each_step_and_rank_the_waitlist(demo):
    from dashboards.selectors import reviewer_dashboard

    projects = bulk_projects(demo, 40)
    data = reviewer_dashboard(demo.reviewer)
    queues = {q.key: q for q in data["queues"]}
    for state in ("submitted", "signed", "accepted", "under_review"):
        assert queues[state].count == sum(1 for p in projects if p.state == state)
    waitlisted = sorted((p for p in projects if p.state == "waitlisted"), key=lambda p: -p.mean_score)
    assert [p.pk for p in data["waitlist"]] == [p.pk for p in waitlisted][:10]
    assert queues["reported"].count > 0 and queues["overdue"].count > 0
    assert all(m.age_days is not None for m in queues["reported"].items)


@pytest.mark.django_db
def test_finance_sees_approved_subsidies_to_pay(client, demo):
    from decimal import Decimal

    from django.utils import timezone

    from subsidies.models import GrantComputation

    g = GrantComputation.objects.create(enterprise=demo.ent1, year=2025, amount=Decimal("123456.78"),
                                        uncapped_amount=Decimal("123456.78"), scheme=demo.scheme)
    GrantComputation.objects.filter(pk=g.pk).update(state="approved", approved_at=timezone.now())
    GrantComputation.objects.create(enterprise=demo.ent2, year=2025, amount=Decimal("1000.00"),
                                    uncapped_amount=Decimal("1000.00"), scheme=demo.scheme)  # computed only
    client.force_login(demo.finance)
    html = client.get(reverse("home")).content.decode()
    assert 'id="finance-grants">¥123,456.78<' in html
    assert demo.ent2.name not in html


@pytest.mark.django_db
def test_custodian_sees_unreconciled_lines_and_confirmations_awaiting_a_second_operator(client, demo):
    from datetime import date
    from decimal import Decimal

    from escrow.models import BankStatement, BankStatementLine, MoneyOperation

    statement = BankStatement.objects.create(filename="2026-11.csv", sha256="0" * 64, uploaded_by=demo.custodian)
    BankStatementLine.objects.create(statement=statement, line_no=1, date=date(2026, 11, 2), amount=Decimal("77.70"),
                                     direction="in", bank_ref="BK-UNMATCHED-1")
    op = MoneyOperation.objects.create(kind="release", amount=Decimal("9.99"), memo="待复核", idempotency_key="d:1",
                                       ordered_by=demo.custodian, requires_confirmation=True)
    MoneyOperation.objects.filter(pk=op.pk).update(state="awaiting_confirmation")
    client.force_login(demo.custodian)
    html = client.get(reverse("home")).content.decode()
    assert "BK-UNMATCHED-1" in html and "¥77.70" in html
    assert "本人申请，须由他人复核" in html  # the operator who ordered it cannot confirm it
    client.force_login(demo.custodian2)
    html = client.get(reverse("home")).content.decode()
    assert "去复核" in html


@pytest.mark.django_db
def test_public_cases_query_count_does_not_grow(client, demo, django_assert_max_num_queries):
    from projects.models import Project

    bulk_projects(demo, 1000)
    Project.objects.filter(state="active").update(exemplary=True, public_summary="公开摘要")
    with django_assert_max_num_queries(3):
        assert client.get(reverse("cases")).status_code == 200
