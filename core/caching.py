"""What every page reads about the signed-in user, kept in the shared cache: roles and unread-notice count.

Each value is dropped when it changes — roles when the user's groups change (either side of the relation) or a
group is renamed or deleted, the count when a notice is created, read or deleted — once at the write and again
when its transaction commits (a page read between the two may have put the old value back). Without a cache
every process shares (``settings.ANXINBAO_SHARED_CACHE`` false: memory of one process), the values are read
from the database on each request, as another process could not drop them.
"""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

TIMEOUT = 600  # seconds; a dropped key is read again at once, this only bounds memory


def roles_key(user_id: int) -> str:
    return f"roles:{user_id}"


def unread_key(user_id: int) -> str:
    return f"unread:{user_id}"


def _shared() -> bool:
    return getattr(settings, "ANXINBAO_SHARED_CACHE", False)


def cached(key: str, compute):
    if not _shared():
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def forget(keys) -> None:
    keys = list(keys)
    if not keys or not _shared():
        return
    cache.delete_many(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete_many(keys))


def user_roles(user) -> frozenset[str]:
    return cached(roles_key(user.pk), lambda: frozenset(user.groups.values_list("name", flat=True)))


def unread_count(user) -> int:
    return cached(unread_key(user.pk), lambda: user.notifications.filter(read_at__isnull=True).count())


def forget_roles(user_ids) -> None:
    forget(roles_key(pk) for pk in user_ids)


def forget_unread(user_ids) -> None:
    forget(unread_key(pk) for pk in user_ids)
