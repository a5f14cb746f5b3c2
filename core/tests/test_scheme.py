"""Scheme versions (R19): one active version per day, versions never overlap."""
import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from core.models import SchemeVersion


def test_scheme_version_active_on_first_day_exists_and_none_the_day_before(scheme):
    active = SchemeVersion.active_on(date(2025, 3, 9))
    assert active is not None and active.pk == scheme.pk
    assert SchemeVersion.active_on(date(2025, 3, 8)) is None


def test_scheme_version_active_until_valid_to_inclusive(scheme):
    assert SchemeVersion.active_on(date(2026, 3, 8)).pk == scheme.pk
    assert SchemeVersion.active_on(date(2026, 3, 9)) is None


@pytest.mark.django_db
def test_seed_demo_scheme_active_on_2025_03_09_with_every_parameter():
    call_command("seed_demo", stdout=io.StringIO())
    active = SchemeVersion.active_on(date(2025, 3, 9))
    assert active is not None
    assert SchemeVersion.active_on(date(2025, 3, 8)) is None
    assert (active.valid_from, active.valid_to) == (date(2025, 3, 9), date(2026, 3, 8))
    assert str(active.min_net_funding) == "3000000.00"
    assert str(active.min_deposit_ratio) == "0.1000"
    assert active.max_milestone_months == 12
    assert str(active.pool_first_tranche) == "100000000.00"
    assert str(active.grant_rate) == "0.3000" and str(active.grant_cap) == "3000000.00"
    assert str(active.premium_rate) == "0.8000" and str(active.premium_cap) == "500000.00"
    assert active.reviews_required >= 1


@pytest.mark.parametrize(("valid_from", "valid_to"), [
    (date(2026, 3, 8), date(2027, 3, 8)),   # starts on the last day of 2025's version
    (date(2025, 1, 1), date(2025, 3, 9)),   # ends on its first day
    (date(2025, 6, 1), date(2025, 7, 1)),   # inside it
    (date(2024, 1, 1), None),               # open-ended, covering it
])
def test_scheme_version_overlap_rejected_r19(scheme, valid_from, valid_to):
    other = SchemeVersion(name="重叠版本", valid_from=valid_from, valid_to=valid_to)
    with pytest.raises(ValidationError, match="有效期不得重叠"):
        other.full_clean()


def test_scheme_version_adjacent_accepted_r19(scheme):
    nxt = SchemeVersion(name="萧山区科创安心宝 2026 版", valid_from=date(2026, 3, 9), valid_to=None)
    nxt.full_clean()
    nxt.save()
    assert SchemeVersion.active_on(date(2026, 3, 9)).pk == nxt.pk
    assert SchemeVersion.active_on(date(2026, 3, 8)).pk == scheme.pk


def test_scheme_version_editing_itself_is_not_an_overlap(scheme):
    scheme.grant_cap = "3500000.00"
    scheme.full_clean()


def test_scheme_version_admin_refuses_overlap_and_keeps_history(admin_client, scheme):
    url = "/admin/core/schemeversion/add/"
    data = {f.name: getattr(scheme, f.name) for f in SchemeVersion._meta.fields if f.name not in ("id",)}
    data.update(name="重叠版本", valid_from="2025-12-01", valid_to="2026-12-01")
    response = admin_client.post(url, data)
    assert response.status_code == 200  # form redisplayed with the error
    assert "有效期不得重叠" in response.content.decode()
    assert SchemeVersion.objects.count() == 1

    change = f"/admin/core/schemeversion/{scheme.pk}/change/"
    data.update(name=scheme.name, valid_from="2025-03-09", valid_to="2026-03-08", grant_cap="3100000.00")
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    scheme.refresh_from_db()
    assert str(scheme.grant_cap) == "3100000.00"
    history = admin_client.get(f"/admin/core/schemeversion/{scheme.pk}/history/")
    assert history.status_code == 200
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(scheme.pk)).exists()
