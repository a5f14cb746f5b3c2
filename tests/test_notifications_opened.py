"""Notices are read once their object is opened, so the count in the header drops; the favicon is served."""
from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Notification
from core.services import notify
from projects.tests.factories import project_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scheme_in_force(db):
    from core.tests.factories import scheme_in_force

    scheme_in_force()


def test_opening_the_project_marks_its_notices_read(demo, client):
    project = project_at(demo, "submitted")
    other = project_at(demo, "submitted")
    detail = reverse("projects:detail", args=[project.pk])
    milestones = reverse("milestones:project", args=[project.pk])
    Notification.objects.filter(user=demo.enterprise).update(read_at=None)
    notify(users=[demo.enterprise], verb="t", msg="项目通知", url=detail)
    notify(users=[demo.enterprise], verb="t", msg="里程碑通知", url=f"{milestones}#m1")
    notify(users=[demo.enterprise], verb="t", msg="另一个项目", url=reverse("projects:detail", args=[other.pk]))
    notify(users=[demo.platform], verb="t", msg="别人的通知", url=detail)
    unread = Notification.objects.filter(user=demo.enterprise, read_at__isnull=True)
    assert unread.filter(url=detail).exists()
    client.force_login(demo.enterprise)
    from core import caching

    before = caching.unread_count(demo.enterprise)  # the badge's count, cached where a shared cache is set
    assert client.get(detail).status_code == 200
    assert not unread.filter(url=detail).exists()
    assert caching.unread_count(demo.enterprise) == before - 1  # the badge drops at once
    assert unread.filter(text="里程碑通知").exists()  # a milestone notice waits for the milestone page
    assert client.get(milestones).status_code == 200
    assert not unread.filter(text="里程碑通知").exists()
    assert unread.filter(text="另一个项目").exists()  # another object's notice stays unread
    assert Notification.objects.get(text="别人的通知").read_at is None  # only the opener's notices


def test_favicon_is_linked_and_served(client):
    html = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith("favicon.svg")
    assert client.get(r["Location"]).status_code == 200
