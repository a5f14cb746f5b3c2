"""The work list on every role's home page: what waits on this person today, oldest first, with its action."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import bulk_projects

pytestmark = pytest.mark.django_db


def rows(html: str) -> list[str]:
    """The work list's rows as plain text."""
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split())
            for r in re.findall(r'<tr class="work-item">(.*?)</tr>', html, re.S)]


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_expert_home_lists_the_reviews_to_score_instead_of_saying_no_role(client, demo):
    from projects.models import ExpertAssignment
    from projects.tests.factories import make_project

    project = make_project(demo, title="待评审的项目", state="under_review")
    ExpertAssignment.objects.create(project=project, expert=demo.expert1, round=project.review_round)
    done = make_project(demo, title="已评分的项目", state="under_review")
    ExpertAssignment.objects.create(project=done, expert=demo.expert1, round=done.review_round, status="scored")
    html = home(client, demo.expert1)
    assert "尚无业务角色" not in html
    assert rows(html) == [rows(html)[0]] and "立项评审评分 待评审的项目" in rows(html)[0]
    assert f'href="{reverse("projects:review", args=[project.pk])}"' in html


def test_a_user_without_a_role_is_told_so_and_sees_no_work_list(client, demo):
    from core.tests.factories import make_user

    html = home(client, make_user("nobody", None))
    assert "尚无业务角色" in html and 'id="worklist"' not in html


def test_custodian_sees_a_receipt_to_confirm_until_the_deposit_is_confirmed(client, demo):
    from projects import milestones as ms
    from projects.tests.factories import tranche_project as approved_project
    from projects.tests.steps import bank_ref, fresh, pdf

    project = approved_project(demo, tranches=[("1200000.00", "120000.00")], title="回单待核对的项目")
    ms.project_open_escrow(project=project, actor=demo.reviewer)
    m = project.milestones.get()
    assert not [r for r in rows(home(client, demo.custodian)) if "回单待核对的项目" in r]
    ms.milestone_upload_receipt(milestone=fresh(m), actor=demo.enterprise, file=pdf())
    waiting = [r for r in rows(home(client, demo.custodian)) if "回单待核对的项目" in r]
    assert len(waiting) == 1 and "核对保证金到账" in waiting[0] and "确认到账" in waiting[0]
    ms.milestone_confirm_deposit(milestone=fresh(m), actor=demo.custodian, amount="120000.00", bank_ref=bank_ref())
    assert not [r for r in rows(home(client, demo.custodian)) if "核对保证金到账" in r]


def test_an_operation_waits_on_the_second_operator_not_on_the_one_who_ordered_it(client, demo):
    from decimal import Decimal

    from escrow.models import MoneyOperation

    op = MoneyOperation.objects.create(kind="release", amount=Decimal("9.99"), memo="待复核的拨付",
                                       idempotency_key="w:1", ordered_by=demo.custodian, requires_confirmation=True)
    MoneyOperation.objects.filter(pk=op.pk).update(state="awaiting_confirmation")
    assert not [r for r in rows(home(client, demo.custodian)) if "待复核的拨付" in r]
    lines = [r for r in rows(home(client, demo.custodian2)) if "待复核的拨付" in r]
    assert len(lines) == 1 and "待第二操作员复核" in lines[0] and "¥9.99" in lines[0] and "去复核" in lines[0]


def test_platform_sees_proposals_to_sign_and_the_enterprise_its_drafts_oldest_first(client, demo):
    from datetime import timedelta

    from django.utils import timezone

    from projects.models import Project
    from projects.tests.factories import make_project

    newer = make_project(demo, title="新提交的申报", state="submitted")
    older = make_project(demo, title="早提交的申报", state="submitted")
    Project.objects.filter(pk=newer.pk).update(submitted_at=timezone.now() - timedelta(days=1))
    Project.objects.filter(pk=older.pk).update(submitted_at=timezone.now() - timedelta(days=5))
    lines = rows(home(client, demo.platform))
    assert [r.split()[2] for r in lines if "待揭榜" in r] == ["早提交的申报", "新提交的申报"]
    make_project(demo, title="没写完的申报", state="draft")
    lines = rows(home(client, demo.enterprise))
    assert any("草稿待提交 没写完的申报" in r and "继续填写" in r for r in lines)


def test_finance_sees_approved_figures_to_pay_and_the_reviewer_computed_ones_to_approve(client, demo):
    from decimal import Decimal

    from django.utils import timezone

    from subsidies.models import GrantComputation

    g = GrantComputation.objects.create(enterprise=demo.ent1, year=2025, amount=Decimal("123456.78"),
                                        uncapped_amount=Decimal("123456.78"), scheme=demo.scheme)
    lines = rows(home(client, demo.reviewer))
    assert any("待审定研发投入资助" in r and "¥123,456.78" in r for r in lines)
    assert not rows(home(client, demo.finance))
    GrantComputation.objects.filter(pk=g.pk).update(state="approved", approved_at=timezone.now())
    lines = rows(home(client, demo.finance))
    assert len(lines) == 1 and "待拨付研发投入资助" in lines[0] and "登记拨付" in lines[0]


def test_pool_manager_sees_the_waitlist(client, demo):
    from projects.tests.factories import make_project

    make_project(demo, title="排队中的项目", state="waitlisted")
    assert any("择优排队待垫付 排队中的项目" in r for r in rows(home(client, demo.poolmanager)))


def _count(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("username", ["expert1", "enterprise", "platform", "reviewer", "custodian", "poolmanager",
                                      "auditor", "finance"])
def test_work_list_query_count_same_with_30_and_1000_projects(client, demo, username):
    from projects.models import ExpertAssignment, Project

    client.force_login(getattr(demo, username))
    bulk_projects(demo, 30)  # enough for a row of every kind (an empty list of ids is no query at all)
    for p in Project.objects.filter(state="under_review"):
        ExpertAssignment.objects.create(project=p, expert=demo.expert1, round=p.review_round)
    _count(client)
    small = _count(client)
    bulk_projects(demo, 970, start=30)
    for p in Project.objects.filter(state="under_review", assignments__isnull=True):
        ExpertAssignment.objects.create(project=p, expert=demo.expert1, round=p.review_round)
    assert _count(client) == small


def test_readme_screenshots_photograph_the_expert_and_the_platform_who_have_work_in_the_demo():
    from demo.management.commands.screenshots import plan

    users = {s.name: s.username for s in plan(None)}
    assert users["expert"] == "expert2" and users["platform"] == "platform2" and users["reviewer"] == "reviewer"
