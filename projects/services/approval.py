"""立项 (R13) and the pool advance (I2): notice numbers, competitive selection, rejection."""
from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import Role
from core.exceptions import DomainError
from core.models import User
from core.money import format_cny
from core.services import lock_or_create, notify, users_with_role

from .. import permissions as perms
from ..choices import ProjectState as S
from ..models import ExpertAssignment, NoticeCounter, Project
from ._common import (
    apply_transition,
    check,
    lock_project,
    require_reason,
    tell_enterprise,
    tell_platform,
    tell_reviewers,
)
from .proposals import project_validate

ADVANCE_PURPOSE = "project_advance"


def notice_counter_lock(year: int) -> NoticeCounter:
    """The year's counter row, locked: one sequence per year, no gap, no duplicate."""
    return lock_or_create(NoticeCounter, year=year)


def _require_reviews(project: Project) -> None:
    required = project.scheme.reviews_required
    scored = project.assignments.filter(milestone__isnull=True, status=ExpertAssignment.Status.SCORED).count()
    if scored < required:
        raise DomainError(_("R13：立项须有 %(k)s 份完成的专家评审，目前只有 %(n)s 份") % {"k": required, "n": scored},
                          code="reviews_incomplete", rule="R13")


def _require_top_of_waitlist(project: Project) -> None:
    from ..selectors import waitlist_ranked

    top = waitlist_ranked().first()
    if top is not None and top.pk != project.pk:
        raise DomainError(_("R13：择优立项须按排名进行，排在首位的是“%(t)s”（平均分 %(m)s）")
                          % {"t": top.title, "m": top.mean_score}, code="not_top_of_waitlist", rule="R13")


def pool_available():
    from escrow import accounts
    from escrow.selectors import account_balance

    return account_balance(accounts.POOL_AVAILABLE)


@transaction.atomic
def project_approve(*, project: Project, actor: User, reason: str) -> Project:
    """Approve with a reason (R13): re-validate, need the reviews, number the notice and post the advance B (I2).

    When the pool's available balance is below B a project under review is
    waitlisted instead (competitive selection); the returned project's state
    says which happened. While projects wait, a newly reviewed one joins the
    waitlist rather than jumping it (R13). A waitlisted project is approved from
    the top of the ranking only, and only when the pool can pay its advance.
    """
    from escrow import accounts
    from escrow.choices import OperationKind
    from escrow.services import operation_request

    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    if project.state not in (S.UNDER_REVIEW, S.WAITLISTED):
        apply_transition(project, method="approve", actor=actor, year=0, seq=0)  # raises 409
    reason = require_reason(reason, action=_("立项"), rule="R13")
    project_validate(project)
    _require_reviews(project)
    if project.state == S.WAITLISTED:
        _require_top_of_waitlist(project)
    year = timezone.localdate().year
    counter = notice_counter_lock(year)  # serialises approvals: the pool check below holds
    available = pool_available()
    if available < project.budget:
        if project.state == S.WAITLISTED:
            raise DomainError(_("I2：风险池可用余额 %(a)s 仍低于项目预算 B %(b)s，暂不能立项")
                              % {"a": format_cny(available), "b": format_cny(project.budget)},
                              code="pool_insufficient", rule="I2")
        return _queue(project, actor=actor,
                      reason=_("I2：风险池可用余额 %(a)s 低于项目预算 B %(b)s，列入择优排队")
                      % {"a": format_cny(available), "b": format_cny(project.budget)})
    if project.state == S.UNDER_REVIEW:
        from ..selectors import waitlist_ranked

        if waitlist_ranked().exists():
            # Competitive selection is running (R13): a newcomer joins the ranking instead of jumping it.
            return _queue(project, actor=actor,
                          reason=_("R13：已有项目在择优排队，本项目加入排队，按专家均分排名立项"))
    seq = counter.last + 1
    apply_transition(project, method="approve", actor=actor, reason=reason, year=year, seq=seq,
                     extra_fields=["notice_year", "notice_seq", "notice_number", "approved_at"],
                     data={"notice_number": f"萧科安〔{year}〕{seq}号", "budget": str(project.budget)})
    counter.last = seq
    counter.save(update_fields=["last"])
    operation_request(
        kind=OperationKind.ADVANCE, amount=project.budget,
        lines=[(accounts.POOL_AVAILABLE, -project.budget), (accounts.pool_advanced(project.pk), project.budget)],
        memo=_("立项垫付 %(n)s %(t)s") % {"n": project.notice_number, "t": project.title},
        idempotency_key=f"project:{project.pk}:advance", ordered_by=actor, executed_by=actor,
        purpose=ADVANCE_PURPOSE, context={"project": project.pk}, reference=project.notice_number, inline=True)
    text = _("项目“%(t)s”准予立项，通知书编号 %(n)s；请企业按里程碑 1 缴纳保证金（R5、R14）") % {
        "t": project.title, "n": project.notice_number}
    tell_enterprise(project, "project_approved", text)
    tell_platform(project, "project_approved", text)
    return project


def on_pool_top_up(operation) -> None:
    """A top-up landed (escrow's completion hook): waitlisted projects may now be approved (I2, R13)."""
    waiting = Project.objects.filter(state=S.WAITLISTED).count()
    if not waiting:
        return
    text = _("风险池已注资 %(a)s，%(n)s 个择优排队项目可按专家均分排名立项（I2、R13）") % {
        "a": format_cny(operation.amount), "n": waiting}
    notify(users=users_with_role(Role.REVIEWER), verb="pool_topped_up", text=text, url=reverse("projects:queue"))


def _queue(project: Project, *, actor: User, reason: str) -> Project:
    apply_transition(project, method="queue", actor=actor, reason=reason)
    text = _("项目“%(t)s”列入择优排队：%(r)s") % {"t": project.title, "r": reason}
    tell_enterprise(project, "project_waitlisted", text)
    tell_platform(project, "project_waitlisted", text)
    tell_reviewers(project, "project_waitlisted", text)
    return project


@transaction.atomic
def project_queue(*, project: Project, actor: User, reason: str) -> Project:
    """Competitive selection (R13): the reviewer waitlists a reviewed project to rank it against others."""
    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    reason = require_reason(reason, action=_("列入择优排队"))
    if project.state == S.UNDER_REVIEW:
        _require_reviews(project)
    return _queue(project, actor=actor, reason=reason)


@transaction.atomic
def project_reject(*, project: Project, actor: User, reason: str) -> Project:
    project = lock_project(project)
    check(perms.can_review_act(actor, project))
    reason = require_reason(reason, action=_("不予立项"))
    apply_transition(project, method="reject", actor=actor, reason=reason)
    text = _("项目“%(t)s”未予立项：%(r)s") % {"t": project.title, "r": reason}
    tell_enterprise(project, "project_rejected", text)
    tell_platform(project, "project_rejected", text)
    return project
