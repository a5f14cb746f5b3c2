"""Browser pages without a browser: the proposal form shows each rule's error beside its field."""
from __future__ import annotations

import pytest
from django.urls import reverse

from projects.choices import ProjectState
from projects.models import Project
from projects.tests.factories import project_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    """I16: filing needs a version in force on the submission date."""
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def documents(*, insured: bool = False) -> dict:
    """Fresh files each time: the test client reads a file once when it posts it."""
    from projects.tests.factories import proposal_documents

    return proposal_documents(insured=insured)


def form_data(demo, rows, *, with_documents: bool = True, **changes):
    """The proposal form as the browser posts it, with the plan and the agreement attached (R12)."""
    data = {"platform": demo.plat1.pk, "mode": "project_cooperation", "title": "视觉检测联合攻关",
            "summary": "", "total_amount": "6000000.00", "equipment_amount": "1000000.00", "budget": "2000000.00",
            "start_date": "2025-06-01", "end_date": "2027-05-31", "ip_terms": "阶段成果归企业",
            "profit_sharing": "按销售额 3%",
            "ms-TOTAL_FORMS": str(len(rows)), "ms-INITIAL_FORMS": "0", "ms-MIN_NUM_FORMS": "1",
            "ms-MAX_NUM_FORMS": "1000", "submit": "1"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"ms-{i}-{key}"] = value
    if with_documents:
        data.update(documents())
    data.update(changes)
    return data


ROWS = [
    {"title": "方案", "amount": "2000000.00", "deposit_amount": "200000.00", "start_date": "2025-06-01",
     "due_date": "2026-01-31"},
    {"title": "中试", "amount": "1800000.00", "deposit_amount": "180000.00", "start_date": "2026-02-01",
     "due_date": "2026-09-30"},
    {"title": "验证", "amount": "1200000.00", "deposit_amount": "120000.00", "start_date": "2026-10-01",
     "due_date": "2027-05-31"},
]


def test_form_worked_example_1_shows_r2_beside_total(demo, client):
    client.force_login(demo.enterprise)
    rows = [dict(ROWS[0], amount="1500000.00", deposit_amount="150000.00"),
            dict(ROWS[1], amount="1000000.00", deposit_amount="100000.00")]
    r = client.post(reverse("projects:create"), form_data(demo, rows, total_amount="5000000.00",
                                                           equipment_amount="2500000.00", budget="1500000.00",
                                                           end_date="2026-09-30"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "不含企业设备购置费的合作经费为 ¥2,500,000.00" in html
    project = Project.objects.get()
    assert project.state == ProjectState.DRAFT  # saved as a draft, not submitted
    assert f'action="{reverse("projects:edit", args=[project.pk])}"' in html


def test_form_worked_example_2_shows_r5_in_milestone_row(demo, client):
    client.force_login(demo.enterprise)
    rows = [dict(ROWS[0], amount="1200000.00", deposit_amount="119999.99"),
            dict(ROWS[1], amount="2600000.00", deposit_amount="260000.00"), ROWS[2]]
    r = client.post(reverse("projects:create"), form_data(demo, rows, equipment_amount="1000000.00",
                                                           budget="1200000.00"))
    html = r.content.decode()
    assert "里程碑 1 的约定保证金 ¥119,999.99 低于阶段经费 ¥1,200,000.00 的 10%（¥120,000.00）" in html
    # Fix the row on the edit page and submit.
    project = Project.objects.get()
    rows[0]["deposit_amount"] = "120000.00"
    r = client.post(reverse("projects:edit", args=[project.pk]), form_data(demo, rows, budget="1200000.00"))
    assert r.status_code == 302
    assert Project.objects.get().state == ProjectState.SUBMITTED


def test_form_removed_rows_are_not_saved(demo, client):
    client.force_login(demo.enterprise)
    rows = [*ROWS, dict(ROWS[2], title="多余", DELETE="on")]
    data = form_data(demo, rows)
    data.pop("submit")
    data["save"] = "1"
    r = client.post(reverse("projects:create"), data)
    assert r.status_code == 302
    assert list(Project.objects.get().milestones.values_list("seq", "title")) == [(1, "方案"), (2, "中试"), (3, "验证")]


def test_non_enterprise_cannot_open_the_form(demo, client):
    client.force_login(demo.platform)
    assert client.get(reverse("projects:create")).status_code == 403


def test_detail_shows_terms_reviews_mean_history_and_missing_button_reasons(demo, client):
    project = project_at(demo, "reviewed", scores=(70, 80, 90))
    client.force_login(demo.reviewer)
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "¥5,000,000.00" in html and 'id="mean-score"' in html and "80.00" in html
    assert 'id="action-approve"' in html and 'id="action-reject"' in html
    assert '<textarea name="reason" id="reason-approve" rows="2" required>' in html  # R13: a reason
    assert "当前状态为“专家评审中”，不能受理" in html  # a missing button says why
    assert "已受理 → 专家评审中" in html  # history
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'id="action-approve"' not in html
    assert "评审专家 1" in html  # the parties do not see the experts' names


def test_approve_through_page_shows_notice_number(demo, client, ledger_ok):
    project = project_at(demo, "reviewed")
    client.force_login(demo.reviewer)
    r = client.post(reverse("projects:action", args=[project.pk, "approve"]), {"reason": "专家评审通过"},
                    follow=True)
    html = r.content.decode()
    assert "萧科安〔" in html and 'id="notice-number"' in html


def test_platform_gets_error_message_not_crash_for_forbidden_action(demo, client):
    project = project_at(demo, "signed")
    client.force_login(demo.platform)
    r = client.post(reverse("projects:action", args=[project.pk, "accept"]), follow=True)
    assert "仅区科技局审核人员" in r.content.decode()
    assert Project.objects.get(pk=project.pk).state == ProjectState.SIGNED


def test_expert_review_page_scores_and_conflict(demo, client):
    project = project_at(demo, "under_review")
    a, b = list(project.assignments.select_related("expert"))[:2]
    client.force_login(a.expert)
    assert client.get(reverse("projects:my_reviews")).status_code == 200
    r = client.post(reverse("projects:review", args=[project.pk]),
                    {"score": "1", "feasibility": "88", "terms": "77", "cost": "66", "opinion": "可行"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == "scored" and a.score is not None
    client.force_login(b.expert)
    r = client.post(reverse("projects:review", args=[project.pk]),
                    {"conflict": "1", "conflict_with": "platform", "reason": "曾在该平台兼职"})
    assert r.status_code == 302
    assert client.get(reverse("projects:detail", args=[project.pk])).status_code == 404


def test_list_filters_by_state_within_query_budget(demo, client, django_assert_max_num_queries):
    for i in range(5):
        project_at(demo, "submitted", title=f"项目{i}")
    project_at(demo, "draft", title="草稿项目")
    client.force_login(demo.reviewer)
    with django_assert_max_num_queries(7):  # 6 measured: session, roles and unread count come from the cache
        r = client.get(reverse("projects:list") + "?state=submitted")
    html = r.content.decode()
    assert "项目4" in html and "草稿项目" not in html
    client.force_login(demo.enterprise2)
    assert "项目4" not in client.get(reverse("projects:list")).content.decode()


def test_reviewer_queue_ranks_waitlist(demo, client):
    project_at(demo, "waitlisted", title="低分", scores=(60, 60, 60))
    project_at(demo, "waitlisted", title="高分", scores=(95, 95, 95))
    client.force_login(demo.reviewer)
    html = client.get(reverse("projects:queue")).content.decode()
    waitlist = html.split('id="waitlist"')[1]
    assert waitlist.index("高分") < waitlist.index("低分")
    client.force_login(demo.enterprise)
    assert client.get(reverse("projects:queue")).status_code == 403


def test_reviewer_queue_pages_keep_the_waitlist_rank_r13(demo, client, monkeypatch):
    from projects import views

    monkeypatch.setattr(views, "QUEUE_PAGE", 1)
    project_at(demo, "waitlisted", title="低分", scores=(60, 60, 60))
    project_at(demo, "waitlisted", title="高分", scores=(95, 95, 95))
    client.force_login(demo.reviewer)
    first = client.get(reverse("projects:queue")).content.decode().split('id="waitlist"')[1]
    second = client.get(reverse("projects:queue") + "?wpage=2").content.decode().split('id="waitlist"')[1]
    assert "高分" in first and "低分" not in first
    assert "低分" in second and "<td>2</td>" in second


def test_detail_page_query_count_does_not_grow_with_reviews_and_history(demo, client, django_assert_max_num_queries):
    project = project_at(demo, "approved")
    client.force_login(demo.reviewer)
    with django_assert_max_num_queries(16):  # 15 measured, the milestone panel included; session and roles cached
        r = client.get(reverse("projects:detail", args=[project.pk]))
    assert r.status_code == 200


def test_form_states_the_deposit_ratio_and_cycle_of_the_scheme_it_uses_r19(demo, client):
    from datetime import date
    from decimal import Decimal

    from core.models import SchemeVersion

    draft = project_at(demo, "draft")  # dated under the 2025 version
    SchemeVersion.objects.filter(valid_from=date(2026, 3, 9)).delete()  # the test factories' renewal (I16)
    SchemeVersion.objects.create(name="2026 版", valid_from=date(2026, 3, 9), min_deposit_ratio=Decimal("0.1500"),
                                 max_milestone_months=18, min_net_funding=Decimal("5000000.00"))
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:create")).content.decode()
    assert "阶段经费的 15%，历时不超过 18 个月" in html and "政策最低额 ¥5,000,000.00" in html
    assert "≥15% T" in html and "10%" not in html and "一年" not in html
    html = client.get(reverse("projects:edit", args=[draft.pk])).content.decode()
    assert "阶段经费的 10%，历时不超过 12 个月" in html and "≥10% T" in html


@pytest.mark.django_db(transaction=True)
def test_milestone_review_form_requires_a_reason_R7(demo, client, ledger_ok):
    import re

    from projects.tests.steps import reported_milestone

    m = reported_milestone(demo)
    client.force_login(demo.reviewer)
    html = client.get(reverse("projects:detail", args=[m.project_id])).content.decode()
    form = re.search(rf'<form[^>]*id="review-{m.pk}".*?</form>', html, re.S).group(0)
    assert 'name="reason" required' in form and 'data-action="review_met"' in form
