from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from projects.choices import ProjectState
from projects.models import Project

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_proposal_state_and_is_idempotent(ledger_ok):
    call_command("seed_demo", stdout=io.StringIO())
    states = set(Project.objects.values_list("state", flat=True))
    assert set(ProjectState.values) <= states, set(ProjectState.values) - states
    snapshot = list(Project.objects.order_by("pk").values_list("pk", "state", "notice_number"))
    call_command("seed_demo", stdout=io.StringIO())
    assert list(Project.objects.order_by("pk").values_list("pk", "state", "notice_number")) == snapshot
