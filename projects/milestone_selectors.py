"""Reads for milestones, scoped by role and organisation (another organisation's milestone → 404).

Once ``projects.selectors.projects_visible_to`` exists the scope follows it;
until then the same rule is stated here: oversight roles see every project,
enterprise and platform staff their own organisation's, experts those they
are assigned to.
"""
from __future__ import annotations

from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat

from core.choices import Role
from core.models import AuditEvent
from core.permissions import has_role, is_oversight
from escrow.models import Account, MoneyOperation

from .models import Milestone, Project


def _own_projects(user):
    try:
        from .selectors import projects_visible_to  # the proposals' scope, when present
    except ImportError:
        projects_visible_to = None
    if projects_visible_to is not None:
        return projects_visible_to(user)
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if is_oversight(user):
        return Project.objects.all()
    q = Q(pk__in=[])
    if user.organization_id and has_role(user, Role.ENTERPRISE):
        q |= Q(enterprise_id=user.organization_id)
    if user.organization_id and has_role(user, Role.PLATFORM):
        q |= Q(platform_id=user.organization_id)
    if has_role(user, Role.EXPERT):
        q |= Q(assignments__expert=user)
    return Project.objects.filter(q).distinct()


def projects_for_milestones(user):
    return _own_projects(user)


def with_custody_balance(qs):
    code = Concat(Value("custody:"), Cast(OuterRef("project_id"), CharField()), Value(":"),
                  Cast(OuterRef("seq"), CharField()), output_field=CharField())
    return qs.annotate(custody_balance=Subquery(Account.objects.filter(code=code).values("balance")[:1]))


def milestones_visible_to(user):
    return with_custody_balance(Milestone.objects.filter(project__in=_own_projects(user).values("pk"))
                                .select_related("project", "project__enterprise", "project__platform",
                                                "project__scheme"))


def milestone_operations(milestone_ids) -> dict[int, list[MoneyOperation]]:
    ops: dict[int, list[MoneyOperation]] = {}
    qs = (MoneyOperation.objects.filter(context__milestone__in=list(milestone_ids))
          .select_related("ordered_by", "confirmed_by").order_by("pk"))
    for op in qs:
        ops.setdefault(op.context.get("milestone"), []).append(op)
    return ops


def milestone_events(milestone_ids) -> dict[int, list[AuditEvent]]:
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Milestone)
    out: dict[int, list[AuditEvent]] = {}
    for ev in (AuditEvent.objects.filter(content_type=ct, object_id__in=[str(i) for i in milestone_ids])
               .select_related("actor").order_by("at", "pk")):
        out.setdefault(int(ev.object_id), []).append(ev)
    return out
