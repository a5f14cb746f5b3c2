"""When a milestone runs late: reminders and the overdue jobs (I7, I15), the bureau's extension (R7, I7) and
its declaration of the enterprise's breach (I15)."""
from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import ConflictError, DomainError, TransitionNotAllowed
from core.money import format_cny
from core.notices import Notice
from core.permissions import require
from core.services import audit_record, notify, users_with_role
from escrow.selectors import account_balance

from ..choices import MilestoneState as M
from ..choices import ProjectState
from ..models import Milestone, Project
from ..services._common import (
    enterprise_users,
    milestone_url,
    party_users,
    require_reason,
    require_state,
)
from ..services.validation import add_months
from . import permissions as perms
from .common import (
    CANCELLABLE,
    MILESTONE_PURPOSES,
    audit,
    custody_code,
    label_msg,
    lock_all,
    lock_milestone,
    refuse_if_pending,
)
from .lifecycle import repayment


@transaction.atomic
def milestone_declare_breach(*, milestone: Milestone, actor, reason: str, repaid_amount=None) -> Milestone:
    """The bureau declares the enterprise in breach of a balance-overdue milestone: balance_overdue → breached (I15).

    The bureau fixes here what the platform repays of the pool advance (I2; blank: all of it). Nothing
    moves yet: the custodian's forfeiture then pays D to the platform, refunds the rest, cancels the later
    milestones and terminates the project with that repayment, in the one transaction that completes it.
    """
    require(perms.can_declare_breach(actor, milestone))
    project, rows = lock_all(milestone.project_id)
    milestone = rows[milestone.pk]
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，其里程碑不能再办理") % {"s": project.get_state_display()},
                                   code="project_not_active")
    if milestone.state != M.BALANCE_OVERDUE:
        raise TransitionNotAllowed(
            _("只有尾款逾期的里程碑才能认定企业违约，该里程碑当前状态为“%(s)s”")
            % {"s": milestone.get_state_display()}, code="not_balance_overdue", rule="I15")
    reason = require_reason(reason, action=_("认定企业违约"), rule="I15")
    refuse_if_pending(milestone, MILESTONE_PURPOSES)  # a balance being confirmed is not a breach
    for later in (m for m in rows.values() if m.seq > milestone.seq):
        if later.state not in CANCELLABLE or later.paid_in or account_balance(custody_code(later)):
            raise ConflictError(_("第%(seq)s个里程碑已开始或持有资金，请先处理") % {"seq": later.seq},
                                code="later_milestone_open", rule="R7")
    _advanced, repaid = repayment(project, repaid_amount)
    milestone.declare_breach(by=actor, reason=reason, repaid_amount=repaid)
    milestone.save(update_fields=["state", "breached_at", "breached_by", "breach_reason", "breach_repaid_amount"])
    audit(actor, milestone, "declare_breach", M.BALANCE_OVERDUE, reason, repaid_amount=repaid,
           balance_unpaid=milestone.amount - milestone.paid_in,
          notices=[Notice(users=users_with_role(Role.CUSTODIAN), verb="milestone_breached",
                 msg=gettext_noop("%(m)s 企业违约，请执行保证金罚没与退还，项目随之终止"),
                 params={"m": label_msg(milestone)},
                 url=milestone_url(milestone)),
          Notice(users=party_users(project), verb="milestone_breached",
                 msg=gettext_noop("%(m)s 尾款逾期未缴，已认定企业违约：%(r)s"),
                 params={"m": label_msg(milestone), "r": reason},
                 url=milestone_url(milestone))])
    return milestone



def _cycle_end(milestone: Milestone, project: Project) -> date:
    # the same R7 cycle end that submission checks
    return add_months(milestone.start_date, project.scheme.max_milestone_months)


@transaction.atomic
def milestone_extend(*, milestone: Milestone, actor, due_date: date, reason: str = "") -> Milestone:
    """The bureau extends an overdue milestone; the whole cycle stays within the scheme's maximum (R7, I7).
    A balance-overdue milestone gets a new balance due date instead, with a reason (I15)."""
    require(perms.can_extend(actor, milestone))
    project, milestone = lock_milestone(milestone)
    if milestone.state == M.BALANCE_OVERDUE:
        return _extend_balance(project, milestone, actor=actor, balance_due_date=due_date, reason=reason)
    require_state(milestone, _("延期"), M.OVERDUE)
    limit = _cycle_end(milestone, project)
    if due_date > limit:
        raise DomainError(_("单个里程碑最长 %(n)s 个月，新截止日期不得晚于 %(d)s")
                          % {"n": project.scheme.max_milestone_months, "d": limit.isoformat()},
                          code="milestone_too_long", rule="R7", fields={"due_date": [_("超过一年")]})
    if due_date <= timezone.localdate():
        raise DomainError(_("新截止日期须晚于今天"), code="due_date_past", rule="I7",
                          fields={"due_date": [_("须晚于今天")]})
    old = milestone.due_date
    milestone.extend(due_date=due_date)
    milestone.reminded_at = None
    milestone.save(update_fields=["state", "due_date", "reminded_at"])
    audit(actor, milestone, "extend", M.OVERDUE, reason, old_due_date=old, due_date=due_date,
          notices=[Notice(users=party_users(project), verb="milestone_extended",
                 msg=gettext_noop("%(m)s 已延期至 %(d)s"),
                 params={"m": label_msg(milestone), "d": due_date.isoformat()},
                 url=milestone_url(milestone))])
    return milestone


def _extend_balance(project: Project, milestone: Milestone, *, actor, balance_due_date: date, reason: str) -> Milestone:
    """balance_overdue → balance_due with a new balance due date, later than today (I15)."""
    reason = require_reason(reason, action=_("延长尾款缴纳期限"), rule="I15")
    if balance_due_date is None or balance_due_date <= timezone.localdate():
        raise DomainError(_("新的尾款缴纳截止日期须晚于今天"), code="due_date_past", rule="I15",
                          fields={"due_date": [_("须晚于今天")]})
    old = milestone.balance_due_date
    milestone.extend_balance(balance_due_date=balance_due_date)
    milestone.save(update_fields=["state", "balance_due_date"])
    audit(actor, milestone, "extend", M.BALANCE_OVERDUE, reason, old_balance_due_date=old or "",
           balance_due_date=balance_due_date,
          notices=[Notice(users=party_users(project), verb="milestone_extended",
                 msg=gettext_noop("%(m)s 尾款缴纳期限已延长至 %(d)s"),
                 params={"m": label_msg(milestone), "d": balance_due_date.isoformat()},
                 url=milestone_url(milestone))])
    return milestone


def balance_deadline(milestone: Milestone) -> date | None:
    """The day by which the balance must be confirmed (I15); for rows decided before the field existed, the
    decision's date plus the scheme's grace days."""
    if milestone.balance_due_date:
        return milestone.balance_due_date
    if milestone.decided_at is None:
        return None
    return timezone.localdate(milestone.decided_at) + timedelta(days=milestone.project.scheme.balance_grace_days)


def milestones_mark_balance_overdue(*, today: date | None = None) -> list[int]:
    """I15: balance_due milestones past their balance due date become balance_overdue (one transaction each)."""
    today = today or timezone.localdate()
    done = []
    for m in Milestone.objects.filter(state=M.BALANCE_DUE).select_related("project__scheme"):
        deadline = balance_deadline(m)
        if deadline is None or deadline >= today:
            continue
        with transaction.atomic():
            project, milestone = lock_milestone(m, require_active=False)
            if milestone.state != M.BALANCE_DUE:
                continue
            milestone.mark_balance_overdue()
            milestone.balance_due_date = deadline
            milestone.save(update_fields=["state", "balance_due_date", "overdue_at"])
            audit(None, milestone, "mark_balance_overdue", M.BALANCE_DUE, _("尾款缴纳期限已过"),
                   balance_due_date=deadline, balance_unpaid=milestone.amount - milestone.paid_in,
                  notices=[Notice(users=list(users_with_role(Role.REVIEWER)) + list(enterprise_users(project)),
                         verb="balance_overdue",
                         msg=gettext_noop("%(m)s 尾款 %(b)s 逾期未缴（期限 %(d)s），请科技局延长期限或认定企业违约"),
                         params={"m": label_msg(milestone), "b": format_cny(milestone.amount - milestone.paid_in),
                                 "d": deadline.isoformat()}, url=milestone_url(milestone))])
            done.append(milestone.pk)
    return done


def milestones_mark_overdue(*, today: date | None = None) -> list[int]:
    """I7: in_progress milestones past their due date become overdue (one transaction each)."""
    today = today or timezone.localdate()
    done = []
    for m in Milestone.objects.filter(state=M.IN_PROGRESS, due_date__lt=today).only("pk", "project_id"):
        with transaction.atomic():
            project, milestone = lock_milestone(m, require_active=False)
            if milestone.state != M.IN_PROGRESS or milestone.due_date >= today:
                continue
            milestone.mark_overdue()
            milestone.save(update_fields=["state", "overdue_at"])
            audit(None, milestone, "mark_overdue", M.IN_PROGRESS, _("截止日期已过"),
                   due_date=milestone.due_date,
                  notices=[Notice(users=list(users_with_role(Role.REVIEWER)) + party_users(project),
                         verb="milestone_overdue",
                         msg=gettext_noop("%(m)s 已逾期（截止 %(d)s），请科技局延期或认定未达标"),
                         params={"m": label_msg(milestone), "d": milestone.due_date.isoformat()},
                         url=milestone_url(milestone))])
            done.append(milestone.pk)
    return done


def milestones_remind(*, today: date | None = None, days: int = 14) -> list[int]:
    """Remind enterprise and platform N days before a milestone falls due (once per due date)."""
    today = today or timezone.localdate()
    done = []
    qs = Milestone.objects.filter(state=M.IN_PROGRESS, due_date__gte=today, due_date__lte=today + timedelta(days=days),
                                  reminded_at__isnull=True).only("pk", "project_id")
    for m in qs:
        with transaction.atomic():
            project, milestone = lock_milestone(m, require_active=False)
            if milestone.reminded_at is not None or milestone.state != M.IN_PROGRESS:
                continue
            milestone.reminded_at = timezone.now()
            milestone.save(update_fields=["reminded_at"])
            audit_record(actor=None, target=milestone, action="remind", data={"due_date": str(milestone.due_date)})
            notify(users=party_users(project), verb="milestone_due_soon",
                   msg=gettext_noop("%(m)s 将于 %(d)s 到期，请及时报告完成"),
                   params={"m": label_msg(milestone), "d": milestone.due_date.isoformat()}, url=milestone_url(milestone))
            done.append(milestone.pk)
    return done

