"""seed_demo: the demo of the README; running it twice changes nothing."""
import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from core.choices import OrgKind
from core.models import Organization, User
from demo import people as demo_data


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if not m._meta.label.startswith(("sessions.", "admin.", "axes."))}


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", stdout=io.StringIO())
    first = row_counts()
    users = {u.username: (u.password, u.organization_id, tuple(sorted(u.roles))) for u in User.objects.all()}
    call_command("seed_demo", stdout=io.StringIO())
    assert row_counts() == first
    again = {u.username: (u.password, u.organization_id, tuple(sorted(u.roles))) for u in User.objects.all()}
    assert again == users
    assert first["core.User"] == len(demo_data.USERS)
    assert first["escrow.PoolTranche"] == 1


@pytest.mark.django_db
def test_seed_demo_creates_organisations_users_and_roles_of_the_readme():
    call_command("seed_demo", stdout=io.StringIO())
    kinds = {k: Organization.objects.filter(kind=k).count() for k in OrgKind.values}
    assert kinds["enterprise"] >= 2 and kinds["platform"] >= 2
    for kind in ("insurer", "custodian", "bureau", "finance"):
        assert kinds[kind] >= 1, kind
    assert {"浙大杭州国际科创中心", "湘湖实验室"} <= set(Organization.objects.values_list("name", flat=True))
    required = {"enterprise", "enterprise2", "platform", "platform2", "reviewer", "expert1", "expert2", "expert3",
                "custodian", "custodian2", "poolmanager", "auditor", "finance", "admin"}
    assert required <= set(User.objects.values_list("username", flat=True))
    for username, org_key, roles, _name, superuser in demo_data.USERS:
        user = User.objects.get(username=username)
        assert user.check_password(demo_data.DEMO_PASSWORD)
        assert user.roles == frozenset(roles)
        assert user.is_superuser is superuser
        assert (user.organization is None) is (org_key is None)
    assert User.objects.get(username="enterprise").organization != User.objects.get(username="enterprise2").organization
    assert set(Group.objects.values_list("name", flat=True)) >= {"enterprise", "platform", "custodian"}


@pytest.mark.django_db
def test_seed_demo_funds_pool_first_tranche_i1(ledger_ok):
    from escrow.models import PoolTranche
    from escrow.selectors import pool_summary

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    summary = pool_summary()
    # I1: one first tranche of 100,000,000.00, however often the demo is loaded; demo projects
    # may have drawn advances from it (I2), which invariant 4 accounts for.
    assert str(summary.funding) == "100000000.00", summary
    assert summary.available + summary.advanced + summary.losses == summary.funding
    assert PoolTranche.objects.count() == 1
