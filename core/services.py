"""Writes of the core app: audit rows, notifications, users, blacklist."""
from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import caching
from .choices import Role
from .exceptions import DomainError
from .files import check_upload
from .models import AuditEvent, BlacklistEntry, Notification, Organization, User
from .notices import Notice, encode, render_in
from .permissions import require_role


def audit_record(*, actor, target, action: str, from_state: str = "", to_state: str = "",
                 reason: str = "", data: dict | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        content_type=ContentType.objects.get_for_model(type(target)),
        object_id=str(target.pk),
        action=action,
        from_state=from_state or "",
        to_state=to_state or "",
        reason=reason or "",
        data=data or {},
    )


def audit_history(target):
    return (AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(type(target)),
                                      object_id=str(target.pk))
            .select_related("actor").order_by("at", "pk"))


def notify(*, users: Iterable[User], verb: str, msg: str, params: dict | None = None, url: str = "") -> None:
    """In-app notice for each user, and an e-mail per recipient sent by a task after commit.

    ``msg`` is a ``gettext_noop`` msgid and ``params`` its values (core.notices): the notice renders when read,
    in the reader's language, and each e-mail in its recipient's ``User.language``.
    """
    users = [u for u in users if u is not None]
    if not users:
        return
    params = encode(params or {})
    text = render_in(settings.LANGUAGE_CODE, msg, params)
    Notification.objects.bulk_create([Notification(user=u, verb=verb, text=text, msg=msg, params=params, url=url)
                                      for u in users])
    caching.forget_unread({u.pk for u in users})
    recipients = [[u.email, u.language or settings.LANGUAGE_CODE] for u in users if u.email]
    if recipients:
        from .tasks import send_notice_email

        transaction.on_commit(lambda: send_notice_email.delay(recipients, msg, params, text, url))


@transaction.atomic
def record_event(*, actor, target, action: str, from_state: str = "", to_state: str = "", reason: str = "",
                 data: dict | None = None, notices: Iterable[Notice] = ()) -> AuditEvent:
    """One step of a workflow: its audit row and the notices it sends, in one transaction (both or neither)."""
    event = audit_record(actor=actor, target=target, action=action, from_state=from_state, to_state=to_state,
                         reason=reason, data=data)
    send_notices(notices)
    return event


def send_notices(notices: Iterable[Notice]) -> None:
    """Notices of a step that writes no audit row of its own (``record_event`` sends them otherwise)."""
    for notice in notices:
        notify(users=notice.users, verb=notice.verb, msg=notice.msg, params=notice.params, url=notice.url)


def users_of(organization: Organization | None, role: str):
    if organization is None:
        return User.objects.none()
    return User.objects.filter(organization=organization, groups__name=role, is_active=True)


def users_with_role(role: str):
    return User.objects.filter(groups__name=role, is_active=True)


def user_create(*, username: str, password: str, organization: Organization | None,
                roles: Iterable[str] = (), email: str = "", is_superuser: bool = False,
                full_name: str = "") -> User:
    user = User(username=username, organization=organization, email=email,
                is_superuser=is_superuser, is_staff=is_superuser, first_name=full_name)
    user.set_password(password)
    user.save()
    for role in roles:
        group, _created = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return user


@transaction.atomic
def organization_blacklist(*, organization: Organization, actor: User, reason: str, evidence) -> BlacklistEntry:
    """R17: bar an enterprise from the scheme with a reason and evidence, keeping the history.
    The bureau's reviewers only."""
    require_role(actor, Role.REVIEWER)
    if not reason.strip():
        raise DomainError(_("列入黑名单必须说明原因"), code="reason_required", rule="R17")
    if not evidence:
        raise DomainError(_("列入黑名单必须附证据材料"), code="evidence_required", rule="R17",
                          fields={"evidence": [_("必填")]})
    check_upload(evidence, field="evidence")  # R12
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    if org.blacklisted:
        raise DomainError(_("该组织已在黑名单中"), code="already_blacklisted", rule="R17")
    entry = BlacklistEntry.objects.create(organization=org, action=BlacklistEntry.Action.ADD,
                                          reason=reason, evidence=evidence, actor=actor)
    Organization.objects.filter(pk=org.pk).update(blacklisted=True)
    audit_record(actor=actor, target=org, action="blacklist", from_state="", to_state="blacklisted", reason=reason)
    return entry


@transaction.atomic
def organization_lift_blacklist(*, organization: Organization, actor: User, reason: str) -> BlacklistEntry:
    require_role(actor, Role.REVIEWER)
    if not reason.strip():
        raise DomainError(_("移出黑名单必须说明原因"), code="reason_required", rule="R17")
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    if not org.blacklisted:
        raise DomainError(_("该组织不在黑名单中"), code="not_blacklisted", rule="R17")
    entry = BlacklistEntry.objects.create(organization=org, action=BlacklistEntry.Action.LIFT,
                                          reason=reason, actor=actor)
    Organization.objects.filter(pk=org.pk).update(blacklisted=False)
    audit_record(actor=actor, target=org, action="lift_blacklist", from_state="blacklisted", to_state="",
                 reason=reason)
    return entry


def user_set_language(*, actor: User, language: str) -> str:
    """Keep the language the user picked (one the site offers); e-mails to them are rendered in it."""
    try:
        language = translation.get_supported_language_variant(language)
    except LookupError:
        return actor.language
    if actor.language != language:
        User.objects.filter(pk=actor.pk).update(language=language)
        actor.language = language
    return language


def notification_mark_read(*, actor: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notices read: the given ids, or all of them when ``ids`` is None."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    done = qs.update(read_at=timezone.now())
    caching.forget_unread([actor.pk])
    return done


def notification_mark_opened(*, actor: User, path: str) -> int:
    """The user opened ``path`` (a project, a milestone, a figure): their unread notices pointing at it are read."""
    if not getattr(actor, "is_authenticated", False):
        return 0
    qs = Notification.objects.filter(user=actor, read_at__isnull=True).filter(
        Q(url=path) | Q(url__startswith=f"{path}#") | Q(url__startswith=f"{path}?"))
    done = qs.update(read_at=timezone.now())
    if done:  # update() sends no signal: the cached count is dropped here, as notification_mark_read does
        caching.forget_unread([actor.pk])
    return done


def lock_or_create(model, **key):
    """The row of ``model`` with ``key``, locked for this transaction (SELECT … FOR UPDATE), created first if
    it does not exist yet. Counters use it so that numbers are handed out one at a time, with no gap and no
    duplicate; a concurrent first creation waits on the unique index and then locks the winner's row."""
    if not model.objects.filter(**key).exists():
        try:
            with transaction.atomic():
                model.objects.create(**key)
        except IntegrityError:
            pass  # created by a concurrent caller: lock theirs
    return model.objects.select_for_update().get(**key)



def trail_seal() -> int:
    """Seal the committed, unsealed audit events into the trail's hash chain (core.chain); returns how many."""
    from .chain import TRAIL, seal

    return seal(TRAIL)
