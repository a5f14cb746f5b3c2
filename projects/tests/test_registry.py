"""The project's state machine is declared once (``projects.registry``): the page, the API and the history read it."""
from __future__ import annotations

import inspect
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.choices import ProjectState
from projects.models import Project
from projects.registry import PROJECT, history_label, history_labels, milestone_panel_actions, project_panel
from projects.tests.factories import project_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def test_each_action_s_service_takes_what_the_registry_gives_it():
    """A reason goes to exactly the services that take one; the form's and serializer's fields are parameters."""
    for action in PROJECT:
        params = inspect.signature(action.service).parameters
        assert {"project", "actor"} <= set(params), action.name
        takes_reason = action.needs_reason or action.extra.get("optional_reason", False)
        assert ("reason" in params) is takes_reason, action.name
        if "reason" in params and params["reason"].default is inspect.Parameter.empty:
            assert action.needs_reason, action.name  # a service that insists on a reason is marked so
        inputs = set(action.form.base_fields) - {"reason"} if action.form else set()
        serializer_inputs = set(action.serializer().fields) - {"reason"} if action.serializer else set()
        assert inputs == serializer_inputs and inputs <= set(params), action.name


def test_history_words_come_from_the_registry_and_keep_their_own_wording():
    labels = history_labels()
    assert set(PROJECT.names()) <= set(labels)
    assert str(labels["approve"]) == str(PROJECT.label("approve")) == "立项"
    # The button says what it does, the history what happened.
    assert str(PROJECT.label("start_review")) == "抽取专家并开始评审"
    assert str(history_label("start_review")) == "开始专家评审"
    assert str(history_label("request_deposit")) == "通知缴纳保证金" and history_label("no_such") == "no_such"
    import projects.views

    assert not hasattr(projects.views, "ACTION_LABELS")  # nobody keeps a second list of the words


def test_project_panel_lists_the_proposal_actions_and_leaves_the_milestone_ones_to_their_panel(demo):
    project = project_at(demo, "reviewed")
    names = [item["name"] for item in project_panel(demo.reviewer, project)]
    assert names == ["accept", "return_for_changes", "start_review", "approve", "queue", "reject"]
    assert milestone_panel_actions() == ["open_escrow", "continue", "close", "terminate"]
    assert not set(milestone_panel_actions()) & {i["name"] for i in project_panel(demo.admin, project)}
    assert [i["name"] for i in project_panel(demo.enterprise, project)] == ["submit"]


def test_terminate_through_the_project_page_reads_the_repayment_with_its_form_i2(demo, client, ledger_ok):
    from escrow import accounts
    from escrow.selectors import account_balance

    project = project_at(demo, "approved")
    client.force_login(demo.reviewer)
    url = reverse("projects:action", args=[project.pk, "terminate"])
    html = client.post(url, {"reason": "企业放弃", "repaid_amount": "1e5"}, follow=True).content.decode()
    assert "金额格式不正确：1e5" in html and Project.objects.get(pk=project.pk).state == ProjectState.APPROVED
    losses = account_balance(accounts.POOL_LOSSES)
    client.post(url, {"reason": "企业放弃", "repaid_amount": "1,000.00"}, follow=True)
    assert Project.objects.get(pk=project.pk).state == ProjectState.TERMINATED
    assert account_balance(accounts.POOL_LOSSES) - losses == project.budget - Decimal("1000.00")


def test_api_action_input_is_the_action_s_own(demo):
    """close and terminate read ``repaid_amount``; the others take a reason only."""
    from rest_framework.test import APIClient

    project = project_at(demo, "signed")
    api = APIClient()
    api.force_authenticate(demo.reviewer)
    r = api.post(f"/api/v1/projects/{project.pk}/accept/", {"repaid_amount": 1.5}, format="json")
    assert r.status_code != 400 or "repaid_amount" not in r.json().get("fields", {})
    assert api.post(f"/api/v1/projects/{project.pk}/fly/", {}, format="json").status_code == 404


def test_loans_read_one_registry_of_their_own_state_machine():
    """The loan's actions are listed once (``projects.loans.services.LOAN``): its page, POST and API read it."""
    from projects.loans import permissions, services

    assert not hasattr(permissions, "ACTIONS")
    assert services.LOAN.names() == ["recommend", "grant", "decline", "repay", "default"]
    assert all(a.service.__name__ == f"loan_{a.name}" for a in services.LOAN)
    assert [a.name for a in services.LOAN if a.needs_reason] == ["decline", "default"]
