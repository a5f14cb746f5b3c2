"""立项 (R13) and the pool advance (I2): notice numbers, competitive selection, rejection."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

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
    locked_for,
    refuse,
    require_reason,
    to_enterprise,
    to_platform,
    to_reviewers,
)
from .proposals import project_validate

ADVANCE_PURPOSE = "project_advance"


def notice_counter_lock(year: int) -> NoticeCounter:
    """The year's counter row, locked: one sequence per year, no gap, no duplicate."""
    return lock_or_create(NoticeCounter, year=year)


def _require_reviews(project: Project) -> None:
    """R13 with I13: only scores given to this version of the proposal (its current review round) count."""
    required = project.scheme.reviews_required
    scored = project.assignments.filter(milestone__isnull=True, round=project.review_round,
                                        status=ExpertAssignment.Status.SCORED).count()
    if scored < required:
        raise DomainError(_("立项须有 %(k)s 份本轮（第 %(r)s 轮）完成的专家评审，目前只有 %(n)s 份")
                          % {"k": required, "r": project.review_round, "n": scored},
                          code="reviews_incomplete", rule="R13")


def pool_available():
    from escrow import accounts
    from escrow.selectors import account_balance

    return account_balance(accounts.POOL_AVAILABLE)


@dataclass
class ApprovalOutcome:
    """What 立项 would do now (I2, I14, R13): ``approve``, ``waitlist`` or ``refuse``, and why.

    ``passed_over`` are the higher-ranked waitlisted projects that do not fit the pool (I14); an
    approval records them in its reason.
    """

    outcome: str
    text: str = ""
    code: str = ""
    rule: str = ""
    available: Decimal = Decimal("0.00")
    passed_over: list[Project] = field(default_factory=list)

    @property
    def passed_over_text(self) -> str:
        return pgettext("标点", "；").join(
            _("排名在前的“%(t)s”（平均分 %(m)s）需垫付 %(b)s，超过风险池可用余额 %(a)s，暂不能立项")
            % {"t": p.title, "m": p.mean_score, "b": format_cny(p.budget), "a": format_cny(self.available)}
            for p in self.passed_over)


def approval_outcome(project: Project, *, available: Decimal | None = None) -> ApprovalOutcome:
    """The outcome of approving ``project`` now, for the page before the click and for the service itself."""
    from ..selectors import waitlist_ranked

    available = pool_available() if available is None else available
    short = {"a": format_cny(available), "b": format_cny(project.budget)}
    if project.state == S.UNDER_REVIEW:
        if available < project.budget:
            return ApprovalOutcome("waitlist", _("风险池可用余额 %(a)s 低于项目预算 B %(b)s，立项将列入择优排队")
                                   % short, code="pool_insufficient", rule="I2", available=available)
        if waitlist_ranked().exists():
            # Competitive selection is running (R13): a newcomer joins the ranking instead of jumping it.
            return ApprovalOutcome("waitlist", _("已有项目在择优排队，本项目将加入排队，按专家均分排名立项"),
                                   code="waitlist_running", rule="R13", available=available)
        return ApprovalOutcome("approve", _("风险池可用余额 %(a)s，可垫付项目预算 B %(b)s") % short,
                               available=available)
    if project.state != S.WAITLISTED:
        return ApprovalOutcome("refuse", _("项目当前状态为“%(s)s”，不能立项") % {"s": project.get_state_display()},
                               code="transition_not_allowed", available=available)
    if available < project.budget:
        return ApprovalOutcome("refuse", _("风险池可用余额 %(a)s 仍低于项目预算 B %(b)s，暂不能立项") % short,
                               code="pool_insufficient", rule="I2", available=available)
    higher: list[Project] = []
    for ranked in waitlist_ranked():
        if ranked.pk == project.pk:
            break
        if ranked.budget <= available:
            # I14: a higher-ranked project that fits goes first.
            return ApprovalOutcome(
                "refuse", _("择优立项须按排名进行，排名在前的“%(t)s”（平均分 %(m)s，预算 %(b)s）可在风险池可用余额 "
                            "%(a)s 内立项，应先予立项")
                % {"t": ranked.title, "m": ranked.mean_score, "b": format_cny(ranked.budget),
                   "a": format_cny(available)}, code="not_top_of_waitlist", rule="I14", available=available)
        higher.append(ranked)
    outcome = ApprovalOutcome("approve", _("风险池可用余额 %(a)s，可垫付项目预算 B %(b)s") % short,
                              available=available, passed_over=higher)
    if higher:
        outcome.text = f"{outcome.text}{pgettext('标点', '；')}{outcome.passed_over_text}"
    return outcome


@transaction.atomic
def project_approve(*, project: Project, actor: User, reason: str) -> Project:
    """Approve with a reason (R13): re-validate, need this round's reviews, number the notice, post the advance B (I2).

    When the pool's available balance is below B a project under review is
    waitlisted instead (competitive selection); the returned project's state
    says which happened. While projects wait, a newly reviewed one joins the
    waitlist rather than jumping it (R13). Waitlisted projects are approved in
    rank order; one that fits the pool may pass higher-ranked ones that do not,
    and its reason names them (I14).
    """
    from escrow import accounts
    from escrow.choices import OperationKind
    from escrow.services import operation_request

    project = locked_for(project, actor, perms.can_review_act)
    if project.state not in (S.UNDER_REVIEW, S.WAITLISTED):
        apply_transition(project, method="approve", actor=actor, year=0, seq=0)  # raises 409
    reason = require_reason(reason, action=_("立项"), rule="R13")
    project_validate(project)
    _require_reviews(project)
    year = timezone.localdate().year
    counter = notice_counter_lock(year)  # serialises approvals: the pool check below holds
    outcome = approval_outcome(project)
    if outcome.outcome == "refuse":
        raise DomainError(outcome.text, code=outcome.code, rule=outcome.rule or None)
    if outcome.outcome == "waitlist":
        return _queue(project, actor=actor, reason=outcome.text)
    passed_over = [{"project": p.pk, "title": p.title, "mean_score": str(p.mean_score), "budget": str(p.budget)}
                   for p in outcome.passed_over]
    if passed_over:
        reason = f"{reason}{pgettext('标点', '；')}{outcome.passed_over_text}"
    seq = counter.last + 1
    number = f"萧科安〔{year}〕{seq}号"
    msg = gettext_noop("项目“%(t)s”准予立项，通知书编号 %(n)s；请企业按里程碑 1 缴纳保证金")
    apply_transition(project, method="approve", actor=actor, reason=reason, year=year, seq=seq,
                     extra_fields=["notice_year", "notice_seq", "notice_number", "approved_at"],
                     data={"notice_number": number, "budget": str(project.budget),
                           "review_round": project.review_round, "passed_over": passed_over,
                           "pool_available": str(outcome.available)},
                     notices=[to_enterprise(project, "project_approved", msg, t=project.title, n=number),
                              to_platform(project, "project_approved", msg, t=project.title, n=number)])
    counter.last = seq
    counter.save(update_fields=["last"])
    operation_request(
        kind=OperationKind.ADVANCE, amount=project.budget,
        lines=[(accounts.POOL_AVAILABLE, -project.budget), (accounts.pool_advanced(project.pk), project.budget)],
        memo=_("立项垫付 %(n)s %(t)s") % {"n": project.notice_number, "t": project.title},
        idempotency_key=f"project:{project.pk}:advance", ordered_by=actor, executed_by=actor,
        purpose=ADVANCE_PURPOSE, context={"project": project.pk}, reference=project.notice_number, inline=True)
    return project


def on_pool_top_up(operation) -> None:
    """A top-up landed (escrow's completion hook): waitlisted projects may now be approved (I2, R13)."""
    waiting = Project.objects.filter(state=S.WAITLISTED).count()
    if not waiting:
        return
    notify(users=users_with_role(Role.REVIEWER), verb="pool_topped_up",
           msg=gettext_noop("风险池已注资 %(a)s，%(n)s 个择优排队项目可按专家均分排名立项"),
           params={"a": format_cny(operation.amount), "n": waiting}, url=reverse("projects:queue"))


def _queue(project: Project, *, actor: User, reason: str) -> Project:
    msg = gettext_noop("项目“%(t)s”列入择优排队：%(r)s")
    apply_transition(project, method="queue", actor=actor, reason=reason, notices=[
        to(project, "project_waitlisted", msg, t=project.title, r=reason)
        for to in (to_enterprise, to_platform, to_reviewers)])
    return project


@transaction.atomic
def project_queue(*, project: Project, actor: User, reason: str) -> Project:
    """Competitive selection (R13): the reviewer waitlists a reviewed project to rank it against others."""
    project = locked_for(project, actor, perms.can_review_act)
    reason = require_reason(reason, action=_("列入择优排队"))
    if project.state == S.UNDER_REVIEW:
        _require_reviews(project)
    return _queue(project, actor=actor, reason=reason)


@transaction.atomic
def project_reject(*, project: Project, actor: User, reason: str) -> Project:
    msg = gettext_noop("项目“%(t)s”未予立项：%(r)s")
    return refuse(project, actor=actor, permission=perms.can_review_act, method="reject", label=_("不予立项"),
                  reason=reason, notices=lambda p, r: [to(p, "project_rejected", msg, t=p.title, r=r)
                                                       for to in (to_enterprise, to_platform)])
