"""The subsidies' helpers build what they name: an active project whose milestones are under way, with the pool
advance posted, and a milestone paid in and released on a given day."""
from __future__ import annotations

from decimal import Decimal

from escrow import accounts as codes
from escrow.tests.factories import balance
from projects.choices import MilestoneState, ProjectState
from projects.models import Milestone

from .factories import at, make_project, release


def test_make_project_builds_an_active_project_with_its_advance(demo, ledger_ok):
    project = make_project(demo, amounts=("2000000.00", "1000000.00"))
    assert project.state == ProjectState.ACTIVE
    assert set(project.milestones.values_list("state", flat=True)) == {MilestoneState.IN_PROGRESS}
    assert balance(codes.pool_advanced(project.pk)) == Decimal("3000000.00")


def test_release_pays_in_and_out_of_custody(demo, ledger_ok):
    project = make_project(demo)
    milestone = Milestone.objects.get(pk=release(project, 1, "3000000.00", on=at(2025, 9, 1)).pk)
    assert milestone.released_amount == Decimal("3000000.00")
    assert balance(codes.custody(project.pk, 1)) == Decimal("0.00")
