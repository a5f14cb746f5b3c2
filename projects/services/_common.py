"""Shared steps of every project transition: lock, check, transition, save, audit, notify."""
from __future__ import annotations

from collections.abc import Iterable

import django_fsm
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from core.choices import Role
from core.exceptions import DomainError, TransitionNotAllowed
from core.notices import Notice
from core.permissions import Decision, require
from core.services import record_event, users_of, users_with_role

from ..choices import ProjectState
from ..models import Milestone, Project


def lock_project(project: Project | int) -> Project:
    """The project's row, locked for this transaction (callers lock projects before counters and accounts).

    ``no_key``: a transition changes the row's state and dates, never its key, so on PostgreSQL the lock
    is FOR NO KEY UPDATE and rows that merely reference the project (attachments, assignments) can still
    be inserted meanwhile."""
    pk = project.pk if isinstance(project, Project) else project
    return (Project.objects.select_for_update(no_key=True, of=("self",))
            .select_related("enterprise", "platform", "scheme").get(pk=pk))


def lock_milestones(project: Project | int, *milestone_ids: int) -> tuple[Project, dict[int, Milestone]]:
    """The project's row, then the given milestones in primary-key order: the one lock order of the app, so
    two services (or a service and an escrow completion hook) never wait on each other in opposite orders."""
    project = lock_project(project)
    rows = Milestone.objects.select_for_update(no_key=True).filter(pk__in=milestone_ids).order_by("pk")
    return project, {m.pk: m for m in rows}


def not_allowed(obj: Project | Milestone, action: str) -> TransitionNotAllowed:
    """409: the project or milestone is not in a state the action starts from."""
    values = {"state": obj.get_state_display(), "action": action}
    if isinstance(obj, Project):
        return TransitionNotAllowed(_("项目当前状态为“%(state)s”，不能执行“%(action)s”") % values,
                                    code="transition_not_allowed")
    return TransitionNotAllowed(_("里程碑当前状态为“%(state)s”，不能执行“%(action)s”") % values)


def require_state(obj: Project | Milestone, action: str, *states: str) -> None:
    if obj.state not in states:
        raise not_allowed(obj, action)


def require_reason(reason: str, *, action: str, rule: str | None = None) -> str:
    """The reason, stripped; a blank one is refused (naming ``rule`` when the rule asks for the reason)."""
    reason = (reason or "").strip()
    if not reason:
        detail = _("“%(action)s”必须填写原因") % {"action": action}
        raise DomainError(detail, code="reason_required", rule=rule, fields={"reason": [_("必须填写原因")]})
    return reason


def apply_transition(project: Project, *, method: str, actor, action: str | None = None, reason: str = "",
                     extra_fields: Iterable[str] = (), data: dict | None = None, notices: Iterable[Notice] = (),
                     **kwargs) -> Project:
    """Call the FSM transition ``method``, save, and record the event: the audit row (from, to, action, reason)
    and the ``notices`` it sends (``to_enterprise`` …), in one transaction."""
    from_state = project.state
    transition = getattr(project, method)
    if not django_fsm.can_proceed(transition):
        raise not_allowed(project, action or method)
    try:
        transition(**kwargs)
    except django_fsm.TransitionNotAllowed as exc:  # raced or guarded: the API answers 409
        raise TransitionNotAllowed(str(exc), code="transition_not_allowed") from exc
    project.state_reason = reason or ""
    fields = {"state", "state_reason", "updated_at", *extra_fields}
    project.save(update_fields=sorted(fields))
    record_event(actor=actor, target=project, action=action or method, from_state=from_state,
                 to_state=project.state, reason=reason, data=data, notices=notices)
    return project


def check(decision: Decision) -> None:
    require(decision)


def locked_for(project: Project | int, actor, permission) -> Project:
    """The project locked for this transaction, once ``permission`` lets ``actor`` act on it (else a 403)."""
    project = lock_project(project)
    check(permission(actor, project))
    return project


def refuse(project: Project | int, *, actor, permission, method: str, label: str, reason: str,
           notices) -> Project:
    """A refusal (decline, reject): lock, check the permission, require the reason, then the transition with
    the notices ``notices(project, reason)`` builds, in one event."""
    project = locked_for(project, actor, permission)
    reason = require_reason(reason, action=label)
    return apply_transition(project, method=method, actor=actor, reason=reason, notices=notices(project, reason))


def project_url(project: Project) -> str:
    return reverse("projects:detail", args=[project.pk])


def milestone_url(milestone: Milestone) -> str:
    """The milestone's row on its project's milestone page ("" where that page is not routed)."""
    try:
        return reverse("milestones:project", args=[milestone.project_id]) + f"#m{milestone.seq}"
    except NoReverseMatch:
        return ""


def enterprise_users(project: Project):
    return users_of(project.enterprise, Role.ENTERPRISE)


def platform_users(project: Project):
    return users_of(project.platform, Role.PLATFORM)


def party_users(project: Project) -> list:
    """Both parties' staff: the enterprise's, then the platform's."""
    return list(enterprise_users(project)) + list(platform_users(project))


def to_users(users, project: Project, verb: str, msg: str, **params) -> Notice:
    """A notice about ``project``: ``msg`` a ``gettext_noop`` msgid, rendered in each reader's language."""
    return Notice(users=users, verb=verb, msg=msg, params=params, url=project_url(project))


def to_enterprise(project: Project, verb: str, msg: str, **params) -> Notice:
    return to_users(enterprise_users(project), project, verb, msg, **params)


def to_platform(project: Project, verb: str, msg: str, **params) -> Notice:
    return to_users(platform_users(project), project, verb, msg, **params)


def to_reviewers(project: Project, verb: str, msg: str, **params) -> Notice:
    reviewers = users_with_role(Role.REVIEWER).exclude(organization__in=[project.enterprise_id, project.platform_id])
    return to_users(reviewers, project, verb, msg, **params)


STATE = ProjectState
