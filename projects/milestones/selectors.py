"""Reads for milestones, scoped like projects (``projects_visible_to``: another organisation's milestone → 404)."""
from __future__ import annotations

from django.db.models import OuterRef, Subquery

from core.models import AuditEvent
from escrow import accounts as codes
from escrow.models import Account, MoneyOperation

from ..models import Milestone
from ..selectors import projects_visible_to


def projects_for_milestones(user):
    return projects_visible_to(user)


def with_custody_balance(qs):
    """Each milestone with the balance of its custody account (the code from ``escrow.accounts``)."""
    code = codes.custody_expression(OuterRef("project_id"), OuterRef("seq"))
    return qs.annotate(custody_balance=Subquery(Account.objects.filter(code=code).values("balance")[:1]))


def milestones_visible_to(user):
    return with_custody_balance(Milestone.objects.filter(project__in=projects_visible_to(user).values("pk"))
                                .select_related("project", "project__enterprise", "project__platform",
                                                "project__scheme"))


def milestone_operations(milestone_ids) -> dict[int, list[MoneyOperation]]:
    ops: dict[int, list[MoneyOperation]] = {}
    qs = (MoneyOperation.objects.filter(context__milestone__in=list(milestone_ids))
          .select_related("ordered_by", "confirmed_by", "rejected_by").order_by("pk"))
    for op in qs:
        ops.setdefault(op.context.get("milestone"), []).append(op)
    return ops


def milestone_events(milestone_ids) -> dict[int, list[AuditEvent]]:
    """The milestones' audit rows, for a history shown to people (the dossier); the workflow never reads them."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Milestone)
    out: dict[int, list[AuditEvent]] = {}
    for ev in (AuditEvent.objects.filter(content_type=ct, object_id__in=[str(i) for i in milestone_ids])
               .select_related("actor").order_by("at", "pk")):
        out.setdefault(int(ev.object_id), []).append(ev)
    return out
