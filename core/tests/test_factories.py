"""Each trait of the core factories builds what it names: an organisation of that kind, a user of that role."""
from __future__ import annotations

import pytest

from core.choices import OrgKind, Role
from core.tests.factories import ROLE_ORG_KIND, OrganizationFactory, UserFactory
from demo.people import DEMO_PASSWORD


@pytest.mark.parametrize("kind", OrgKind.values)
def test_each_organisation_trait_builds_that_kind(db, kind):
    assert OrganizationFactory(**{kind: True}).kind == kind


@pytest.mark.parametrize("role", Role.values)
def test_each_user_trait_builds_a_user_of_that_role_in_a_matching_organisation(db, role):
    user = UserFactory(**{role: True})
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.organization.kind == ROLE_ORG_KIND[role]
    assert user.check_password(DEMO_PASSWORD)
