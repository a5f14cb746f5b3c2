"""Demo seeding: milestones in every state, idempotent, ledger consistent."""
import pytest

from projects.choices import MilestoneState
from projects.milestones.demo import milestone_states_present, seed_milestones


@pytest.mark.django_db
def test_seed_milestones_every_state_idempotent(demo, ledger_ok):
    made = seed_milestones()
    from projects.milestones.demo import PROJECTS

    assert len(made) == len(PROJECTS)
    assert milestone_states_present() == set(MilestoneState.values)
    assert seed_milestones() == []
