"""Milestone actions have one permission decision each, asked by the page, the API and the service alike."""
from __future__ import annotations

import pytest
from django.test import Client

from core.choices import Role
from core.exceptions import PermissionDeniedError
from core.tests.factories import make_user
from projects import milestones as ms
from projects.choices import MilestoneState as M
from projects.milestones import permissions as perms
from projects.milestones.registry import MILESTONE
from projects.milestones.views import panel_context
from projects.registry import PROJECT
from projects.tests.steps import fresh, met_by_a_custodian_reviewer, reported_milestone

pytestmark = pytest.mark.django_db(transaction=True)  # a deposit's money operation runs on commit


def _page(user, project) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/milestones/project/{project.pk}/").content.decode()


def test_a_reviewer_of_a_party_is_offered_no_review_the_service_would_refuse(demo, ledger_ok):
    """The page used to show the review buttons on the bare reviewer role; the service refuses a reviewer of
    either party (回避). Now both ask ``can_review``."""
    m = reported_milestone(demo)
    own = make_user("reviewer-of-the-platform", m.project.platform, Role.REVIEWER)
    html = _page(own, m.project)
    assert 'data-action="review_met"' not in html and 'data-action="review_not_met"' not in html
    assert not perms.can_review(own, m)
    with pytest.raises(PermissionDeniedError):
        ms.milestone_review_met(milestone=m, actor=own, reason="达标")
    assert fresh(m).state == M.REPORTED
    html = _page(demo.reviewer, m.project)  # the bureau's own reviewer is offered both
    assert 'data-action="review_met"' in html and 'data-action="review_not_met"' in html


def test_the_decider_sees_the_release_greyed_with_the_reason_the_service_gives(demo, ledger_ok):
    m = met_by_a_custodian_reviewer(demo)
    decider = type(demo.reviewer).objects.get(pk=demo.reviewer.pk)  # roles read afresh
    p = type(m.project).objects.get(pk=m.project_id)
    offer = next(it for it in panel_context(p, decider)["items"])["can"]["release"]
    assert offer["allowed"] is False and "职责分离" in offer["reason"]
    html = _page(decider, p)
    assert 'data-refused="release"' in html and "职责分离" in html
    with pytest.raises(PermissionDeniedError) as exc:
        ms.milestone_release(milestone=fresh(m), actor=decider)
    assert exc.value.code == "separation_of_duties" and exc.value.detail == offer["reason"]
    assert next(it for it in panel_context(p, demo.custodian)["items"])["can"]["release"]["allowed"] is True


def test_the_page_and_the_api_offer_exactly_the_registry_actions(demo, ledger_ok):
    """No second list: the API's actions and the page's POST routes are the registry's names."""
    from rest_framework.test import APIClient

    m = reported_milestone(demo)
    api = APIClient()
    api.force_authenticate(demo.reviewer)
    assert api.post(f"/api/v1/milestones/{m.pk}/no_such_action/", {}, format="json").status_code == 404
    assert "review_met" in MILESTONE and "close" in PROJECT and "terminate" in PROJECT
    for action in MILESTONE:
        assert action.permission is not None and action.serializer is not None and action.form is not None
    offered = {name for it in panel_context(m.project, demo.reviewer)["items"] for name, o in it["can"].items() if o}
    assert offered <= set(MILESTONE.names())
    assert {"review_met", "review_not_met", "draw_expert"} <= offered


def test_the_next_deposit_is_offered_only_once_the_milestone_before_is_settled(demo, ledger_ok):
    """R7: the service refuses a deposit request while an earlier milestone is open, so the panel does not offer it."""
    from core.exceptions import DomainError
    from projects.tests.factories import tranche_project

    p = tranche_project(demo, tranches=[("1200000.00", "120000.00"), ("800000.00", "80000.00")])
    ms.project_open_escrow(project=p, actor=demo.reviewer)
    first, second = p.milestones.order_by("seq")
    assert fresh(second).state == M.PLANNED and fresh(first).state == M.DEPOSIT_DUE
    items = panel_context(type(p).objects.get(pk=p.pk), demo.reviewer)["items"]
    assert items[1]["can"]["request_deposit"] is None
    with pytest.raises(DomainError) as refused:
        ms.milestone_request_deposit(milestone=fresh(second), actor=demo.reviewer)
    assert refused.value.rule == "R7"
