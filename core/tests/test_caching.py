"""What every page reads about the user, cached (core/caching.py): each change is seen on the next page."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.choices import Role
from core.models import Notification, User
from core.services import notification_mark_read, notify


def _home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def _unread(client) -> int:
    return _home(client).context["unread_count"]


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # a new request's user: no per-object memo


@pytest.mark.django_db
def test_unread_count_drops_after_a_notice_is_read(client, demo):
    client.force_login(demo.enterprise)
    notify(users=[demo.enterprise, demo.enterprise], verb="t", msg="两条通知")
    assert _unread(client) == 2
    first = Notification.objects.filter(user=demo.enterprise).first()
    notification_mark_read(actor=demo.enterprise, ids=[first.pk])
    assert _unread(client) == 1
    notification_mark_read(actor=demo.enterprise)
    assert _unread(client) == 0


@pytest.mark.django_db
def test_unread_count_rises_with_a_new_notice_and_falls_when_one_is_deleted(client, demo):
    client.force_login(demo.reviewer)
    before = _unread(client)
    notify(users=[demo.reviewer], verb="t", msg="新通知")
    assert _unread(client) == before + 1
    Notification.objects.create(user=demo.reviewer, verb="t", msg="another")
    assert _unread(client) == before + 2
    Notification.objects.filter(user=demo.reviewer).delete()
    assert _unread(client) == 0


@pytest.mark.django_db
def test_unread_count_is_read_from_the_cache_on_the_second_page(client, demo):
    client.force_login(demo.enterprise)
    _home(client)
    with CaptureQueriesContext(connection) as ctx:
        _home(client)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "core_notification" not in sql
    assert "auth_group" not in sql  # the roles too
    assert "django_session" not in sql  # and the session


@pytest.mark.django_db
def test_a_role_given_is_seen_on_the_next_request(demo):
    user = demo.enterprise
    assert not _fresh(user).has_role(Role.REVIEWER)  # cached now
    user.groups.add(Group.objects.get(name=Role.REVIEWER))
    assert _fresh(user).has_role(Role.REVIEWER)
    user.groups.remove(Group.objects.get(name=Role.REVIEWER))
    assert not _fresh(user).has_role(Role.REVIEWER)


@pytest.mark.django_db
def test_a_role_given_from_the_groups_side_is_seen(demo):
    user = demo.platform
    group = Group.objects.get(name=Role.AUDITOR)
    assert not _fresh(user).has_role(Role.AUDITOR)
    group.user_set.add(user)
    assert _fresh(user).has_role(Role.AUDITOR)
    group.user_set.clear()
    assert not _fresh(user).has_role(Role.AUDITOR)
    group.user_set.add(user)
    assert _fresh(user).has_role(Role.AUDITOR)
    group.delete()
    assert not _fresh(user).has_role(Role.AUDITOR)


@pytest.mark.django_db
def test_a_role_taken_away_closes_the_page_at_once(client, demo):
    client.force_login(demo.custodian)
    assert client.get(reverse("escrow:desk")).status_code == 200
    demo.custodian.groups.clear()
    assert client.get(reverse("escrow:desk")).status_code in (302, 403)


@pytest.mark.django_db
def test_without_a_shared_cache_every_value_comes_from_the_database(client, demo, settings):
    settings.ANXINBAO_SHARED_CACHE = False
    client.force_login(demo.enterprise)
    _home(client)
    with CaptureQueriesContext(connection) as ctx:
        _home(client)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "core_notification" in sql and "auth_group" in sql
