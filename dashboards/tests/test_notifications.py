"""A step that waits on someone reaches their inbox and the header count; reading is explicit (POST)."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.models import Notification
from projects.tests.factories import project_at


def _unread_badge(html: str) -> int:
    m = re.search(r'id="unread-count">(\d+)<', html)
    return int(m.group(1)) if m else 0


@pytest.mark.django_db
def test_submit_notifies_the_platform_in_inbox_and_header_count(client, demo):
    project = project_at(demo, "submitted")
    notices = Notification.objects.filter(user=demo.platform, read_at__isnull=True)
    assert notices.count() == 1
    client.force_login(demo.platform)
    html = client.get(reverse("notifications")).content.decode()
    assert project.title in html and 'class="unread"' in html
    assert _unread_badge(html) == 1
    # reading the page marks nothing
    assert _unread_badge(client.get(reverse("home")).content.decode()) == 1


@pytest.mark.django_db
def test_mark_one_read_then_all_read_by_post(client, demo):
    project_at(demo, "signed")  # notifies the platform (submit), the enterprise and the reviewers (sign)
    Notification.objects.create(user=demo.platform, verb="x", text="第二条")
    other = Notification.objects.create(user=demo.enterprise, verb="x", text="别人的消息")
    mine = list(Notification.objects.filter(user=demo.platform).order_by("pk"))
    assert len(mine) == 2
    client.force_login(demo.platform)
    assert client.get(reverse("notifications_read")).status_code == 405
    client.post(reverse("notifications_read"), {"id": [mine[0].pk, other.pk]})
    other.refresh_from_db()
    assert other.read_at is None  # another user's notice is untouched
    assert Notification.objects.filter(user=demo.platform, read_at__isnull=True).count() == 1
    assert _unread_badge(client.get(reverse("notifications")).content.decode()) == 1
    client.post(reverse("notifications_read"), {"all": "1"})
    assert not Notification.objects.filter(user=demo.platform, read_at__isnull=True).exists()
    assert _unread_badge(client.get(reverse("notifications")).content.decode()) == 0
