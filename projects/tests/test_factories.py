"""Each trait of ProjectFactory builds a project in that state, through the services: an audit row of the project
records the move into it, and the ledger's invariants hold at the end."""
from __future__ import annotations

import pytest

from core.models import AuditEvent
from projects.choices import MilestoneState, ProjectState
from projects.tests.factories import ProjectFactory

# Money orders run on commit, as in the milestone tests (the ``completed`` trait pays and releases).
pytestmark = pytest.mark.django_db(transaction=True)

@pytest.mark.parametrize("state", ProjectState.values)
def test_each_project_trait_builds_a_project_in_that_state(demo, ledger_ok, state):
    project = ProjectFactory(demo=demo, **{state: True})
    assert project.state == state
    moves = AuditEvent.objects.filter(object_id=str(project.pk), content_type__model="project")
    if state != ProjectState.DRAFT:
        assert moves.filter(to_state=state).exists()
    if state == ProjectState.COMPLETED:
        assert set(project.milestones.values_list("state", flat=True)) == {MilestoneState.RELEASED}


def test_without_a_trait_the_project_is_a_draft(demo):
    assert ProjectFactory(demo=demo).state == ProjectState.DRAFT
