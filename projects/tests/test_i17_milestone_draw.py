"""I17 for a milestone's acceptance through the page and the API, and the I14 preview in the API."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.choices import ExpertCategory
from core.exceptions import DomainError
from core.models import AuditEvent
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.choices import ProjectState
from projects.models import ConflictDeclaration, ExpertAssignment, Project
from projects.tests.steps import fresh, reported_milestone
from projects.tests.test_approval_rules import example_8

# the deposit's money operation runs on commit
pytestmark = pytest.mark.django_db(transaction=True)


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def login(client: Client, user) -> None:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def drawn(milestone) -> list:
    return list(ExpertAssignment.objects.filter(milestone=milestone).order_by("pk").values_list("expert_id", flat=True))


def conflicted_milestone(demo):
    """A reported milestone whose enterprise expert1 (technical) declared a conflict with: expert4 is the only
    technical expert left."""
    milestone = reported_milestone(demo)
    ConflictDeclaration.objects.create(expert=demo.expert1, organization=milestone.project.enterprise, reason="顾问")
    return milestone


def test_i17_page_draws_a_technical_expert_from_the_milestone_panel(demo, ledger_ok):
    milestone = conflicted_milestone(demo)
    client = Client()
    login(client, demo.reviewer)
    page = client.get(reverse("milestones:project", args=[milestone.project_id])).content.decode()
    assert 'data-action="draw_expert"' in page
    r = client.post(reverse("milestones:action", args=[milestone.pk, "draw_expert"]), follow=True)
    assert r.status_code == 200
    assert drawn(milestone) == [demo.expert4.pk]  # the technical expert without a conflict
    html = r.content.decode()
    name = demo.expert4.get_full_name() or demo.expert4.username
    # the message, and the panel's list
    assert "负责该里程碑的验收评分" in html and 'class="milestone-experts"' in html and name in html
    assert AuditEvent.objects.filter(object_id=str(milestone.pk), action="assign_expert").count() == 1


def test_i17_api_draws_a_technical_expert_never_one_with_a_conflict(demo, ledger_ok):
    milestone = conflicted_milestone(demo)
    r = api_for(demo.reviewer).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] == milestone.pk and body["state"] == M.REPORTED
    assert body["assignment"]["expert"] == demo.expert4.pk
    assert body["assignment"]["expert_category"] == ExpertCategory.TECHNICAL
    assert [a["expert"] for a in body["assignments"]] == [demo.expert4.pk]
    # no technical expert left: the draw takes another expert, still never the conflicted one
    again = api_for(demo.reviewer).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json").json()
    assert again["assignment"]["expert"] not in (demo.expert1.pk, demo.expert4.pk)
    assert len(again["assignments"]) == 2 and demo.expert1.pk not in drawn(milestone)


def test_i17_api_draw_refused_when_the_milestone_is_not_open_for_acceptance(demo, ledger_ok):
    milestone = reported_milestone(demo)
    ms.milestone_review_not_met(milestone=milestone, actor=demo.reviewer, reason="未达标")
    r = api_for(demo.reviewer).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json")
    assert r.status_code == 409 and drawn(milestone) == []


def test_i17_only_the_reviewer_may_draw_the_acceptance_expert(demo, ledger_ok):
    milestone = conflicted_milestone(demo)
    for user in (demo.enterprise, demo.platform, demo.custodian):
        r = api_for(user).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json")
        assert r.status_code == 403, (user.username, r.content)
        assert "审核人员" in r.json()["detail"]  # the refusal names the rule: the reviewer's decision
    r = api_for(demo.expert2).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json")
    assert r.status_code == 404  # not assigned: the project is not theirs to see
    with pytest.raises(DomainError) as exc:
        ms.milestone_expert_draw(milestone=milestone, actor=demo.custodian)
    assert exc.value.code == "permission_denied"
    client = Client()
    login(client, demo.enterprise)
    page = client.get(reverse("milestones:project", args=[milestone.project_id])).content.decode()
    assert 'data-action="draw_expert"' not in page
    client.post(reverse("milestones:action", args=[milestone.pk, "draw_expert"]))
    assert drawn(milestone) == []


def test_i17_the_drawn_expert_sees_the_milestone_review_in_their_list(demo, ledger_ok):
    milestone = conflicted_milestone(demo)
    api_for(demo.reviewer).post(f"/api/v1/milestones/{milestone.pk}/draw_expert/", {}, format="json")
    client = Client()
    login(client, demo.expert4)
    html = client.get(reverse("projects:my_reviews")).content.decode()
    assert f'data-milestone="{milestone.pk}"' in html and milestone.title in html
    assert reverse("milestones:project", args=[milestone.project_id]) in html
    assert api_for(demo.expert4).get(f"/api/v1/milestones/{milestone.pk}/").status_code == 200
    login(client, demo.expert3)
    assert f'data-milestone="{milestone.pk}"' not in client.get(reverse("projects:my_reviews")).content.decode()


def test_i17_review_met_counts_only_the_technical_experts_scores(demo, ledger_ok):
    demo.scheme.milestone_reviews_required = 1
    demo.scheme.save()
    milestone = reported_milestone(demo)
    ms.milestone_assign_expert(milestone=milestone, actor=demo.reviewer, expert=demo.expert2)  # investment
    ms.milestone_expert_score(milestone=fresh(milestone), actor=demo.expert2, feasibility=90, terms=90, cost=90)
    with pytest.raises(DomainError) as exc:
        ms.milestone_review_met(milestone=fresh(milestone), actor=demo.reviewer, reason="达标")
    assert (exc.value.code, exc.value.rule) == ("expert_scores_missing", "R16") and "技术专家" in exc.value.detail
    assignment = ms.milestone_expert_draw(milestone=fresh(milestone), actor=demo.reviewer)
    assert assignment.expert.expert_category == ExpertCategory.TECHNICAL
    ms.milestone_expert_score(milestone=fresh(milestone), actor=assignment.expert, feasibility=80, terms=80, cost=80)
    assert ms.milestone_review_met(milestone=fresh(milestone), actor=demo.reviewer, reason="达标").state in (
        M.BALANCE_DUE, M.RELEASABLE)


# -- I14: the preview in the API ---------------------------------------------------------------

def test_i14_api_shows_the_approval_outcome_of_worked_example_8(demo, ledger_ok):
    p1, p2 = example_8(demo)
    r = api_for(demo.reviewer).get(f"/api/v1/projects/{p2.pk}/approval_outcome/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["project"], body["outcome"]) == (p2.pk, "approve")
    assert Decimal(body["available"]) == Decimal("1000000.00")
    assert [(row["id"], row["title"], Decimal(row["budget"])) for row in body["passed_over"]] == [
        (p1.pk, "P1 高分大项目", Decimal("2000000.00"))]
    assert Decimal(body["passed_over"][0]["mean_score"]) == Decimal("90.00")
    assert "排名在前的“P1 高分大项目”" in body["text"] and "P1 高分大项目" in body["passed_over_text"]
    top = api_for(demo.reviewer).get(f"/api/v1/projects/{p1.pk}/approval_outcome/").json()
    assert (top["outcome"], top["code"], top["rule"]) == ("refuse", "pool_insufficient", "I2")
    assert Project.objects.get(pk=p2.pk).state == ProjectState.WAITLISTED  # a preview changes nothing
    for user in (demo.enterprise, demo.platform, demo.custodian):
        assert api_for(user).get(f"/api/v1/projects/{p2.pk}/approval_outcome/").status_code == 403
    assert api_for(demo.reviewer).post(f"/api/v1/projects/{p2.pk}/approval_outcome/").status_code == 405
    # the catch-all `projects/{id}/{action}/` still takes the actions
    r = api_for(demo.reviewer).post(f"/api/v1/projects/{p2.pk}/approve/", {"reason": "择优立项"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved"


def test_i14_and_i17_routes_are_in_the_openapi_schema(demo):
    schema = api_for(demo.reviewer).get("/api/schema/").content.decode()
    assert "/api/v1/projects/{id}/approval_outcome/" in schema and "passed_over" in schema
    assert "draw_expert" in schema


def test_i17_draw_form_sent_twice_with_one_token_draws_one_expert(demo, client):
    """One click, one effect: the panel's draw form carries a one-time token (a double-click drew two experts)."""
    import re

    from core.once import FIELD

    milestone = reported_milestone(demo)
    login(client, demo.reviewer)
    page = client.get(reverse("milestones:project", args=[milestone.project_id])).content.decode()
    form = page[page.index("draw_expert"):]
    token = re.search(rf'name="{FIELD}" value="([0-9a-f]+)"', form).group(1)
    url = reverse("milestones:action", args=[milestone.pk, "draw_expert"])
    for _ in range(2):
        client.post(url, {FIELD: token, "next": "/"})
    assert len(drawn(milestone)) == 1
