"""Decisions added after the first release for proposals and 立项: I13, I14, I16, I17 and the exact R1, R4, R17.

Services first, then the API (api.md) and the pages where the rule shows there.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.choices import ExpertCategory, Role
from core.exceptions import DomainError
from core.models import AuditEvent, Notification, Organization, SchemeVersion
from core.services import organization_blacklist
from core.tests.factories import make_user, scheme_in_force
from demo import people as demo_data
from escrow import accounts
from escrow.selectors import account_balance, pool_summary
from projects import services
from projects.choices import ProjectState
from projects.models import ConflictDeclaration, ExpertAssignment, Project
from projects.tests.factories import milestone_rows, pdf_file, project_at, proposal_values, score_all

pytestmark = pytest.mark.django_db
A = ExpertAssignment.Status


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def approval_reviews(project: Project):
    return ExpertAssignment.objects.filter(project=project, milestone__isnull=True)


def resubmit(demo, project: Project) -> Project:
    services.project_submit(project=project, actor=demo.enterprise)
    services.project_platform_sign(project=project, actor=demo.platform)
    services.project_accept(project=project, actor=demo.reviewer)
    return services.project_start_review(project=project, actor=demo.reviewer)


def add_expert(demo, username: str, category: str):
    expert = make_user(username, demo.expert1.organization, Role.EXPERT)
    type(expert).objects.filter(pk=expert.pk).update(expert_category=category)
    return expert


def spend_pool_down_to(demo, available: str) -> Project:
    """An approved project whose advance leaves ``available`` in the pool (first tranche 100,000,000)."""
    budget = Decimal("100000000.00") - Decimal(available)
    big = project_at(demo, "approved", title="大额在建项目", budget=budget)
    assert pool_summary().available == Decimal(available)
    return big


# -- I13: scores belong to one version of the proposal ------------------------------------------

def test_i13_returned_project_voids_its_scores_and_the_next_round_draws_and_scores_afresh(demo, ledger_ok):
    # The reproducer: scored, returned, budget raised 2,000,000 → 5,000,000.
    project = project_at(demo, "reviewed")
    first_round = {a.expert_id: a.score for a in approval_reviews(project)}
    assert len(first_round) == 3 and project.mean_score == Decimal("85.00")
    services.project_return_for_changes(project=project, actor=demo.reviewer, reason="预算测算需调整")
    project = Project.objects.get(pk=project.pk)
    assert project.review_round == 2 and project.mean_score is None
    voided = approval_reviews(project).filter(round=1)
    assert {a.status for a in voided} == {A.VOIDED}
    assert {a.expert_id: a.score for a in voided} == first_round  # kept on record, no longer counted
    services.project_update(project=project, actor=demo.enterprise, budget=Decimal("5000000.00"))
    project = resubmit(demo, project)
    drawn = list(approval_reviews(project).filter(round=2))
    assert len(drawn) == 3 and {a.status for a in drawn} == {A.ASSIGNED}  # drawn afresh
    # Four experts, three a round: at least two are drawn again, and each must score again.
    assert len({a.expert_id for a in drawn} & set(first_round)) >= 2
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason="专家评审通过")
    assert (exc.value.code, exc.value.rule) == ("reviews_incomplete", "R13") and "I13" not in exc.value.detail
    assert account_balance(accounts.pool_advanced(project.pk)) == 0  # no advance on the old scores
    score_all(project, scores=(70, 75, 80))
    project = Project.objects.get(pk=project.pk)
    assert project.mean_score == Decimal("75.00")  # this round's scores only
    project = services.project_approve(project=project, actor=demo.reviewer, reason="修改后评审通过")
    assert project.state == ProjectState.APPROVED
    assert account_balance(accounts.pool_advanced(project.pk)) == Decimal("5000000.00")
    event = AuditEvent.objects.get(object_id=str(project.pk), action="approve")
    assert event.data["review_round"] == 2


def test_i13_an_expert_of_the_voided_round_cannot_score_it_any_more(demo):
    project = project_at(demo, "under_review")
    expert = approval_reviews(project).first().expert
    services.project_return_for_changes(project=project, actor=demo.reviewer, reason="材料不全")
    project = resubmit(demo, Project.objects.get(pk=project.pk))
    ExpertAssignment.objects.filter(project=project, round=2, expert=expert).delete()  # not drawn this round
    with pytest.raises(Exception) as exc:
        services.review_submit(project=project, expert=expert, feasibility=90, terms=90, cost=90, opinion="好")
    assert getattr(exc.value, "code", "") == "not_assigned"


def test_i13_api_approval_refused_until_the_new_round_is_scored(demo, ledger_ok):
    project = project_at(demo, "reviewed")
    api = api_for(demo.reviewer)
    r = api.post(f"/api/v1/projects/{project.pk}/return_for_changes/", {"reason": "预算调整"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "draft"
    r = api_for(demo.enterprise).patch(f"/api/v1/projects/{project.pk}/", {"budget": "5000000.00"}, format="json")
    assert r.status_code == 200, r.json()
    resubmit(demo, Project.objects.get(pk=project.pk))
    r = api.post(f"/api/v1/projects/{project.pk}/approve/", {"reason": "通过"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "reviews_incomplete" and r.json()["rule"] == "R13"
    reviews = api.get(f"/api/v1/projects/{project.pk}/reviews/").json()
    rows = reviews["results"] if isinstance(reviews, dict) else reviews
    assert {(row["round"], row["status"]) for row in rows} == {(1, "voided"), (2, "assigned")}
    assert api.get(f"/api/v1/projects/{project.pk}/").json()["review_round"] == 2


# -- I14: competitive selection order (worked example 8) ---------------------------------------

def example_8(demo):
    """Pool available 1,000,000; waitlist P1 (mean 90) needing 2,000,000 and P2 (mean 85) needing 500,000."""
    spend_pool_down_to(demo, "1000000.00")
    p1 = project_at(demo, "reviewed", title="P1 高分大项目", scores=(90, 90, 90))
    p1 = services.project_approve(project=p1, actor=demo.reviewer, reason="专家评审通过")
    assert p1.state == ProjectState.WAITLISTED and "低于项目预算 B" in p1.state_reason
    p2 = project_at(demo, "reviewed", title="P2 小项目", scores=(85, 85, 85), budget=Decimal("500000.00"),
                    milestones=milestone_rows(amounts=("500000.00", "2500000.00")))
    p2 = services.project_approve(project=p2, actor=demo.reviewer, reason="专家评审通过")
    assert p2.state == ProjectState.WAITLISTED  # joins the ranking (R13)
    return p1, p2


def test_i14_worked_example_8_p2_approved_past_p1_naming_it(demo, ledger_ok):
    p1, p2 = example_8(demo)
    preview = services.approval_outcome(p2)
    assert preview.outcome == "approve" and preview.passed_over == [p1] and "P1 高分大项目" in preview.text
    assert services.approval_outcome(p1).code == "pool_insufficient"
    p2 = services.project_approve(project=p2, actor=demo.reviewer, reason="择优立项")
    assert p2.state == ProjectState.APPROVED and p2.notice_number
    assert p2.state_reason.startswith("择优立项")
    assert "排名在前的" in p2.state_reason and "P1 高分大项目" in p2.state_reason
    assert "¥2,000,000.00" in p2.state_reason and "¥1,000,000.00" in p2.state_reason
    event = AuditEvent.objects.get(object_id=str(p2.pk), action="approve")
    assert [row["project"] for row in event.data["passed_over"]] == [p1.pk]
    assert Project.objects.get(pk=p1.pk).state == ProjectState.WAITLISTED  # P1 waits for a top-up
    assert pool_summary().available == Decimal("500000.00")
    assert account_balance(accounts.pool_advanced(p2.pk)) == Decimal("500000.00")


def test_i14_lower_ranked_refused_while_a_higher_ranked_one_fits(demo, ledger_ok):
    spend_pool_down_to(demo, "1000000.00")
    rows = milestone_rows(amounts=("800000.00", "2200000.00"))
    p1 = project_at(demo, "reviewed", title="P1 排名在前", scores=(90, 90, 90), budget=Decimal("800000.00"),
                    milestones=rows)
    services.project_queue(project=p1, actor=demo.reviewer, reason="择优排队")
    p2 = project_at(demo, "reviewed", title="P2 排名在后", scores=(85, 85, 85), budget=Decimal("500000.00"),
                    milestones=milestone_rows(amounts=("500000.00", "2500000.00")))
    services.project_queue(project=p2, actor=demo.reviewer, reason="择优排队")
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=p2, actor=demo.reviewer, reason="择优立项")
    assert (exc.value.code, exc.value.rule) == ("not_top_of_waitlist", "I14") and "P1 排名在前" in exc.value.detail
    assert Project.objects.get(pk=p2.pk).state == ProjectState.WAITLISTED
    r = api_for(demo.reviewer).post(f"/api/v1/projects/{p2.pk}/approve/", {"reason": "择优立项"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "I14"


def test_i14_api_approves_p2_of_example_8_and_the_reason_names_p1(demo, ledger_ok):
    p1, p2 = example_8(demo)
    r = api_for(demo.reviewer).post(f"/api/v1/projects/{p2.pk}/approve/", {"reason": "择优立项"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    history = api_for(demo.reviewer).get(f"/api/v1/projects/{p2.pk}/history/").json()
    rows = history["results"] if isinstance(history, dict) else history
    assert any("P1 高分大项目" in (row["reason"] or "") and "排名在前的" in row["reason"] for row in rows)


def test_i14_the_page_says_before_approval_that_it_would_waitlist(demo, client, ledger_ok):
    spend_pool_down_to(demo, "1000000.00")
    project = project_at(demo, "reviewed", title="待立项项目")
    assert services.approval_outcome(project).outcome == "waitlist"
    client.force_login(demo.reviewer)
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'id="approval-preview"' in html and "立项将列入择优排队" in html and "I2" in html


# -- I16: a scheme version must be in force ---------------------------------------------------

def drop_renewal() -> None:
    SchemeVersion.objects.filter(valid_from=date(2026, 3, 9)).delete()


def test_i16_submission_refused_naming_r19_when_no_version_is_in_force(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo))
    drop_renewal()  # today (2026-12-02) is after the 2025 trial, which ended on 2026-03-08
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert (exc.value.code, exc.value.rule) == ("no_scheme_in_force", "R19") and "scheme" in exc.value.fields
    assert Project.objects.get(pk=project.pk).state == ProjectState.DRAFT
    told = Notification.objects.filter(verb="no_scheme_in_force")
    assert set(told.values_list("user", flat=True)) == {demo.reviewer.pk}  # the bureau, to record a version


def test_i16_proposal_is_filed_under_the_version_in_force_on_its_submission_date(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo))
    assert project.scheme == demo.scheme  # the draft is dated in 2025
    project = services.project_submit(project=project, actor=demo.enterprise)
    assert project.scheme.name == demo_data.RENEWAL_2026[0]
    assert Project.objects.get(pk=project.pk).scheme == scheme_in_force()


def test_i16_api_submission_without_a_version_in_force_is_400_r19(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo))
    drop_renewal()
    r = api_for(demo.enterprise).post(f"/api/v1/projects/{project.pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "no_scheme_in_force" and r.json()["rule"] == "R19"
    assert Notification.objects.filter(verb="no_scheme_in_force", user=demo.reviewer).exists()


def test_i16_renewal_has_the_trials_figures(demo):
    renewal = scheme_in_force()
    for name in ("min_net_funding", "min_deposit_ratio", "grant_rate", "grant_cap", "premium_cap",
                 "reviews_required", "pool_first_tranche"):
        assert getattr(renewal, name) == getattr(demo.scheme, name), name
    assert (renewal.valid_from, renewal.valid_to) == (date(2026, 3, 9), date(2027, 3, 8))


# -- I17: the expert panel's make-up -------------------------------------------------------------

def test_i17_approval_panel_has_a_technical_an_investment_and_a_financial_expert(demo):
    for i in range(5, 10):  # a pool dominated by technical experts: a purely random draw would often miss
        add_expert(demo, f"expert{i}", ExpertCategory.TECHNICAL)
    for n in range(4):
        project = project_at(demo, "under_review", title=f"专家构成 {n}")
        categories = sorted(a.expert.expert_category for a in approval_reviews(project).select_related("expert"))
        assert categories == sorted(ExpertCategory.values), categories


def test_i17_never_a_conflicted_expert_and_the_rest_random_where_a_category_is_missing(demo):
    ConflictDeclaration.objects.create(expert=demo.expert2, organization=demo.ent1, reason="曾任该企业顾问")
    project = project_at(demo, "under_review")
    drawn = {a.expert for a in approval_reviews(project).select_related("expert")}
    assert demo.expert2 not in drawn and len(drawn) == 3  # the only investment expert is conflicted
    assert {e.expert_category for e in drawn} == {ExpertCategory.TECHNICAL, ExpertCategory.FINANCIAL}


def test_i17_replacement_after_a_conflict_keeps_the_panel_balanced(demo):
    add_expert(demo, "expert5", ExpertCategory.FINANCIAL)
    project = project_at(demo, "under_review")
    financial = approval_reviews(project).get(expert__expert_category=ExpertCategory.FINANCIAL).expert
    replacement = services.review_declare_conflict(project=project, expert=financial, reason="亲属任职")
    assert replacement.expert.expert_category == ExpertCategory.FINANCIAL


@pytest.mark.django_db(transaction=True)  # the deposit's money operation runs on commit
def test_i17_milestone_acceptance_draws_a_technical_expert(demo, ledger_ok):
    from projects import milestones
    from projects.tests.steps import reported_milestone

    milestone = reported_milestone(demo)
    ConflictDeclaration.objects.create(expert=demo.expert1, organization=milestone.project.enterprise)
    assignment = milestones.milestone_expert_draw(milestone=milestone, actor=demo.reviewer)
    assert assignment.expert == demo.expert4  # the technical expert without a conflict
    assert assignment.milestone == milestone


def test_i17_expert_category_is_editable_in_the_admin(demo, client):
    client.force_login(demo.admin)
    html = client.get(reverse("admin:core_user_change", args=[demo.expert2.pk])).content.decode()
    assert 'name="expert_category"' in html


# -- R1: one of the district's platforms ----------------------------------------------------------

def test_r1_a_platform_outside_the_district_is_refused_at_submit(demo):
    outside = demo_data.outside_platform()
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, platform=outside))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert exc.value.rule == "R1" and not exc.value.fields["platform"][0].startswith("R1")


def test_r1_checked_again_at_approval(demo, ledger_ok):
    project = project_at(demo, "reviewed")
    Organization.objects.filter(pk=demo.plat1.pk).update(district_platform=False)  # the bureau withdrew it
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason="专家评审通过")
    assert exc.value.rule == "R1" and "platform" in exc.value.fields
    assert Project.objects.get(pk=project.pk).state == ProjectState.UNDER_REVIEW


def test_r1_api_shows_the_attribute_read_only_and_refuses_an_outside_platform(demo):
    outside = demo_data.outside_platform()
    rows = api_for(demo.enterprise).get("/api/v1/organizations/?kind=platform").json()["results"]
    flags = {row["id"]: row["district_platform"] for row in rows}
    assert flags[demo.plat1.pk] is True and flags[outside.pk] is False
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, platform=outside))
    r = api_for(demo.enterprise).post(f"/api/v1/projects/{project.pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R1" and "platform" in r.json()["fields"]


def test_r1_the_form_offers_only_district_platforms(demo, client):
    outside = demo_data.outside_platform()
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:create")).content.decode()
    assert demo.plat1.name in html and outside.name not in html


# -- R4: IP terms and profit sharing at submission ---------------------------------------------------

@pytest.mark.parametrize("field", ["ip_terms", "profit_sharing"])
def test_r4_ip_terms_and_profit_sharing_are_required_at_submission(demo, field):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, **{field: "  "}))
    with pytest.raises(DomainError) as exc:
        services.project_submit(project=project, actor=demo.enterprise)
    assert exc.value.rule == "R4" and list(exc.value.fields) == [field]
    assert exc.value.fields[field][0].endswith("必填")  # words only: the rule is exc.value.rule
    assert Project.objects.get(pk=project.pk).state == ProjectState.DRAFT


def test_r4_api_submission_names_both_fields(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo, ip_terms="", profit_sharing=""))
    r = api_for(demo.enterprise).post(f"/api/v1/projects/{project.pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R4"
    assert set(r.json()["fields"]) == {"ip_terms", "profit_sharing"}


def test_r4_the_form_marks_both_required(demo, client):
    client.force_login(demo.enterprise)
    html = client.get(reverse("projects:create")).content.decode()
    for name in ("ip_terms", "profit_sharing"):
        tag = html[html.index(f'name="{name}"') - 200: html.index(f'name="{name}"') + 200]
        assert "required" in tag, name


# -- R17: a blacklisted enterprise cannot submit or be approved ------------------------------------

def test_r17_blacklisted_enterprise_cannot_submit_through_the_api(demo):
    project = services.project_create(actor=demo.enterprise, **proposal_values(demo))
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="虚报经费", evidence=pdf_file("证据.pdf"))
    r = api_for(demo.enterprise).post(f"/api/v1/projects/{project.pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R17" and "enterprise" in r.json()["fields"]
    assert Project.objects.get(pk=project.pk).state == ProjectState.DRAFT


def test_r17_blacklisted_enterprise_cannot_be_approved_even_from_the_waitlist(demo, ledger_ok):
    project = project_at(demo, "waitlisted")
    organization_blacklist(organization=demo.ent1, actor=demo.reviewer, reason="失信", evidence=pdf_file("证据.pdf"))
    with pytest.raises(DomainError) as exc:
        services.project_approve(project=project, actor=demo.reviewer, reason="择优立项")
    assert exc.value.rule == "R17" and "enterprise" in exc.value.fields
    r = api_for(demo.reviewer).post(f"/api/v1/projects/{project.pk}/approve/", {"reason": "择优立项"}, format="json")
    assert r.status_code == 400 and r.json()["rule"] == "R17"
    assert Project.objects.get(pk=project.pk).state == ProjectState.WAITLISTED
    assert account_balance(accounts.pool_advanced(project.pk)) == 0


# -- Demo -----------------------------------------------------------------------------------------

def test_seed_demo_shows_i14_i16_i17_and_r1():
    import io

    from django.core.management import call_command

    from core.models import User
    from projects.demo import SELECTION_LARGE, SELECTION_SMALL

    call_command("seed_demo", stdout=io.StringIO())
    large, small = (Project.objects.get(title=row[0]) for row in (SELECTION_LARGE, SELECTION_SMALL))
    assert large.state == ProjectState.WAITLISTED and small.state == ProjectState.APPROVED
    assert small.mean_score < large.mean_score and small.budget < large.budget
    assert "排名在前的" in small.state_reason and large.title in small.state_reason
    assert SchemeVersion.objects.filter(name=demo_data.RENEWAL_2026[0]).exists()
    assert small.scheme.name == demo_data.RENEWAL_2026[0]  # filed today, under the renewal (I16)
    assert dict(User.objects.filter(username__in=demo_data.EXPERT_CATEGORIES).values_list(
        "username", "expert_category")) == demo_data.EXPERT_CATEGORIES
    platforms = dict(Organization.objects.filter(kind="platform").values_list("name", "district_platform"))
    assert platforms[demo_data.OUTSIDE_PLATFORM[1]] is False and platforms["湘湖实验室"] is True
