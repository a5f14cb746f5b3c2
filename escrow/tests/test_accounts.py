"""Account codes are built in ``escrow/accounts.py`` only, in Python and (for queries) in SQL alike."""
from __future__ import annotations

import pytest
from django.db.models import F

from escrow import accounts as codes
from projects.milestones.selectors import with_custody_balance
from projects.models import Milestone
from projects.tests.factories import tranche_project


@pytest.mark.django_db
def test_the_custody_code_built_in_sql_is_the_one_built_in_python(demo):
    project = tranche_project(demo, tranches=[("1000000.00", "100000.00"), ("500000.00", "50000.00")])
    rows = Milestone.objects.filter(project=project).annotate(
        code=codes.custody_expression(F("project_id"), F("seq"))).order_by("seq")
    assert [m.code for m in rows] == [codes.custody(project.pk, 1), codes.custody(project.pk, 2)]
    assert codes.kind_of(rows[0].code) == "custody" and codes.project_id_of(rows[0].code) == project.pk
    assert [m.custody_balance for m in with_custody_balance(rows)] == [None, None]  # no account opened yet
