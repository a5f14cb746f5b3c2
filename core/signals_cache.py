"""Drop the cached roles and unread counts (core/caching.py) when what they were read from changes."""
from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import caching
from .models import Notification, User


@receiver(m2m_changed, sender=User.groups.through)
def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_") and action != "pre_clear":
        return
    if not reverse:  # user.groups.add/remove/clear
        caching.forget_roles([instance.pk])
    elif pk_set is not None:  # group.user_set.add/remove
        caching.forget_roles(pk_set)
    else:  # group.user_set.clear(): the members are read before they go
        caching.forget_roles(instance.user_set.values_list("pk", flat=True))


@receiver(post_save, sender=Group)
@receiver(pre_delete, sender=Group)
def _group_changed(sender, instance, **kwargs):
    if instance.pk:
        caching.forget_roles(instance.user_set.values_list("pk", flat=True))


@receiver(post_save, sender=Notification)
@receiver(post_delete, sender=Notification)
def _notice_changed(sender, instance, **kwargs):
    caching.forget_unread([instance.user_id])
