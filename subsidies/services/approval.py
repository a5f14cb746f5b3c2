"""The bureau's approval of a computed figure (R15, I10)."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import DomainError, TransitionNotAllowed
from core.money import ZERO, format_amount
from core.permissions import require
from core.services import audit_record, notify, users_of, users_with_role

from .. import permissions as perms
from ..models import SubsidyFigure
from ._common import CS, as_text, check_not_blacklisted


@transaction.atomic
def figure_approve(*, figure: SubsidyFigure, actor) -> SubsidyFigure:
    """The bureau approves a computed figure; an older approved, unpaid version is superseded."""
    require(perms.can_approve_figure(actor))
    model = type(figure)
    rows = list(model.objects.select_for_update().filter(enterprise_id=figure.enterprise_id, year=figure.year)
                .select_related("enterprise").order_by("pk"))
    fig = next(r for r in rows if r.pk == figure.pk)
    if fig.state != CS.COMPUTED:
        raise TransitionNotAllowed(_("当前状态为“%(s)s”，不能审定") % {"s": fig.get_state_display()})
    if any(r.version > fig.version for r in rows):
        raise TransitionNotAllowed(_("已有更新的测算版本，请审定最新版本"), code="stale_version")
    check_not_blacklisted(fig.enterprise)
    pending = fig.trace.get("pending_audit") or []
    if pending:
        raise DomainError(_("尚有 %(n)s 个项目未完成年度专项审计，资助须按审计确认的实际投入核定")
                          % {"n": len(pending)}, code="audit_pending", rule="R15")
    for older in rows:
        if older.pk != fig.pk and older.state == CS.APPROVED:
            older.supersede()
            older.save(update_fields=["state"])
            audit_record(actor=actor, target=older, action="supersede", from_state=CS.APPROVED,
                         to_state=CS.SUPERSEDED, reason=_("新版本 v%(v)s 已审定") % {"v": fig.version})
    # I10: what was paid above this version is owed back; read now (a payment may have come since computing).
    fig.recovery = max(sum((r.settled_value for r in rows if r.pk != fig.pk), ZERO) - fig.amount, ZERO)
    fig.approve(by=actor)
    fig.save(update_fields=["state", "approved_by", "approved_at", "recovery"])
    audit_record(actor=actor, target=fig, action="approve", from_state=CS.COMPUTED, to_state=CS.APPROVED,
                 data={"amount": as_text(fig.amount), "recovery": as_text(fig.recovery)})
    notify(users=list(users_of(fig.enterprise, Role.ENTERPRISE)) + list(users_with_role(Role.FINANCE)),
           verb="subsidy_approved", msg=gettext_noop("%(year)s 年度%(what)s已审定：¥%(a)s"),
           params={"year": fig.year, "what": model._meta.verbose_name, "a": format_amount(fig.amount)})
    return fig
