"""The work list on the home page: what waits on this person today, oldest first, each with its action.

One source per kind of work, each one or two queries capped at ``LIMIT`` whatever the number of projects.
Where a role's dashboard already read the rows (the reviewer's queues, the custodian's confirmations, the
enterprise's payments and drafts, the finance officer's figures), the work list reuses them and costs nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import Role
from core.money import format_cny
from core.permissions import has_role
from projects.choices import AttachmentKind
from projects.choices import MilestoneState as M
from projects.choices import ProjectState as S
from projects.models import ExpertAssignment, Milestone
from projects.selectors import projects_visible_to, waitlist_ranked

LIMIT = 10
# Operations that still wait on someone: a milestone with one of them is not waiting on the custodian again.
PENDING = ("requested", "awaiting_confirmation", "executing")
BALANCE_PAYABLE = (M.IN_PROGRESS, M.OVERDUE, M.REPORTED, M.BALANCE_DUE, M.BALANCE_OVERDUE)  # I15
ACCEPTANCE_SCORING = (M.REPORTED, M.IN_PROGRESS, M.OVERDUE)  # R16: an acceptance expert may score
POOL_ALERT = Decimal("0.8")  # the pool manager is shown the pool from four fifths used


@dataclass
class WorkItem:
    when: date          # waiting since (or, for a deadline, the day it falls due): the list is oldest first
    what: str           # the kind of work, in words
    title: str          # the project (and milestone) it concerns
    url: str            # where the action is
    action: str         # the button's words
    detail: str = ""    # an amount, a score, a reason


def _day(moment) -> date:
    if isinstance(moment, datetime):
        return timezone.localdate(moment)
    return moment or timezone.localdate()


def _milestone_title(m) -> str:
    return f"{m.project.title} · {_('里程碑')} {m.seq}「{m.title}」"


def _milestone_url(m) -> str:
    return reverse("milestones:project", args=[m.project_id]) + f"#m{m.seq}"


# -- expert -------------------------------------------------------------------
def expert_work(user, _data=None) -> list[WorkItem]:
    """Approval reviews (R13) and milestone acceptances (R16) assigned and not yet scored."""
    qs = (ExpertAssignment.objects.filter(expert=user, status=ExpertAssignment.Status.ASSIGNED)
          .filter(Q(milestone__isnull=True, project__state=S.UNDER_REVIEW, round=F("project__review_round"))
                  | Q(milestone__isnull=False, milestone__state__in=ACCEPTANCE_SCORING))
          .select_related("project", "milestone").order_by("assigned_at", "pk")[:LIMIT])
    items = []
    for a in qs:
        if a.milestone_id:
            a.milestone.project = a.project
            items.append(WorkItem(_day(a.assigned_at), str(_("里程碑验收评分")), _milestone_title(a.milestone),
                                  _milestone_url(a.milestone), str(_("去评分"))))
        else:
            items.append(WorkItem(_day(a.assigned_at), str(_("立项评审评分")), a.project.title,
                                  reverse("projects:review", args=[a.project_id]), str(_("去评分"))))
    return items


# -- platform -----------------------------------------------------------------
def platform_work(user, _data=None) -> list[WorkItem]:
    """Proposals addressed to this platform to sign (揭榜), milestones in progress to report."""
    mine = projects_visible_to(user).filter(platform_id=user.organization_id)
    items = [WorkItem(_day(p.submitted_at), str(_("待揭榜")), p.title, reverse("projects:detail", args=[p.pk]),
                      str(_("去揭榜")), p.enterprise.name)
             for p in mine.filter(state=S.SUBMITTED).order_by("submitted_at", "pk")[:LIMIT]]
    running = (Milestone.objects.filter(project__in=mine.filter(state=S.ACTIVE).values("pk"), state=M.IN_PROGRESS)
               .select_related("project").order_by("due_date", "pk")[:LIMIT])
    for m in running:
        items.append(WorkItem(m.due_date, str(_("待报告完成")), _milestone_title(m), _milestone_url(m),
                              str(_("报告完成")), str(_("截止 %(d)s") % {"d": f"{m.due_date:%Y-%m-%d}"})))
    return items


# -- custodian ----------------------------------------------------------------
def custodian_work(user, data: dict) -> list[WorkItem]:
    """Bank receipts uploaded and not yet confirmed, operations waiting for a second operator, releases and
    forfeitures to order. Two queries (the milestones, then their operations)."""
    from projects.milestones.selectors import milestone_operations

    items = [WorkItem(_day(op.created_at), str(_("待第二操作员复核")), op.memo or op.get_kind_display(),
                      reverse("escrow:desk") + f"#op-{op.pk}", str(_("去复核")), format_cny(op.amount))
             for op in data.get("awaiting", []) if op.can_confirm]
    active = Milestone.objects.filter(project__state=S.ACTIVE)
    receipts = (active.filter(Q(state=M.DEPOSIT_DUE) | Q(state__in=BALANCE_PAYABLE, paid_in__lt=F("amount")),
                              attachments__kind=AttachmentKind.RECEIPT)
                .annotate(receipt_at=Max("attachments__uploaded_at")).select_related("project")
                .order_by("receipt_at", "pk")[:LIMIT])
    to_order = (active.filter(state__in=[M.RELEASABLE, M.FAILED, M.BREACHED]).select_related("project")
                .order_by("decided_at", "pk")[:LIMIT])
    receipts, to_order = list(receipts), list(to_order)
    # [0] when there is nothing: an empty list would skip the query, and the count is to stay the same.
    ops = milestone_operations([m.pk for m in receipts + to_order] or [0])
    for m in receipts:
        done = [o.created_at for o in ops.get(m.pk, []) if o.kind in ("deposit", "balance")]
        if any(o.state in PENDING for o in ops.get(m.pk, [])) or (done and max(done) >= m.receipt_at):
            continue  # confirmed after this receipt, or a confirmation is on its way
        what = _("核对保证金到账") if m.state == M.DEPOSIT_DUE else _("核对尾款到账")
        items.append(WorkItem(_day(m.receipt_at), str(what), _milestone_title(m), _milestone_url(m),
                              str(_("确认到账")), str(_("附言 %(ref)s") % {"ref": m.payment_reference})))
    for m in to_order:
        if any(o.state in PENDING for o in ops.get(m.pk, [])):
            continue
        if m.state == M.RELEASABLE:
            what, action, amount = _("待拨付平台"), _("发起拨付"), m.amount - m.released_amount
        else:
            what, action, amount = _("待罚没保证金"), _("发起罚没"), m.paid_in - m.forfeited_amount - m.refunded_amount
        items.append(WorkItem(_day(m.decided_at), str(what), _milestone_title(m), _milestone_url(m), str(action),
                              format_cny(amount)))
    return items


# -- finance --------------------------------------------------------------------
def finance_work(user, data: dict) -> list[WorkItem]:
    """Approved grants and premium subsidies to pay (read by the finance dashboard already)."""
    items = []
    for key, what in (("grants", _("待拨付研发投入资助")), ("premiums", _("待拨付保费补助"))):
        kind = "grant" if key == "grants" else "premium"
        for fig in data.get(key, []):
            items.append(WorkItem(_day(fig.approved_at), str(what), f"{fig.enterprise.name} · {fig.year}",
                                  reverse("subsidies:figure", args=[kind, fig.pk]), str(_("登记拨付")),
                                  format_cny(fig.amount)))
    return items


# -- pool manager -----------------------------------------------------------------
def pool_work(user, data: dict) -> list[WorkItem]:
    """Projects waiting for the pool (R13, I2, I14) and the pool's use when it runs high."""
    items = [WorkItem(_day(p.approved_at or p.submitted_at), str(_("择优排队待垫付")), p.title,
                      reverse("projects:detail", args=[p.pk]), str(_("查看")),
                      str(_("预算 %(b)s") % {"b": format_cny(p.budget)}))
             for p in waitlist_ranked()[:LIMIT]]
    summary = data.get("summary")
    rate = getattr(summary, "utilisation", None)
    if rate is not None and rate >= POOL_ALERT:
        items.append(WorkItem(timezone.localdate(), str(_("风险池使用率偏高")), str(_("科创风险池")),
                              reverse("escrow:pool"), str(_("查看风险池")),
                              str(_("已用 %(p)s%%，可用 %(a)s") % {"p": f"{rate * 100:.1f}",
                                                                "a": format_cny(summary.available)})))
    return items


# -- reviewer (the bureau) ---------------------------------------------------------
REVIEWER_QUEUES = {
    S.SIGNED: (_("待受理"), _("去受理")),
    S.ACCEPTED: (_("待启动专家评审"), _("启动评审")),
    "reported": (_("待验收里程碑"), _("去验收")),
    "overdue": (_("逾期里程碑"), _("去处理")),
}


def reviewer_work(user, data: dict) -> list[WorkItem]:
    """The bureau's queues read by its dashboard (to accept, to review, to approve once every score is in,
    reported and overdue milestones) and the subsidy figures computed and not yet approved."""
    from subsidies.choices import ComputationState as CS
    from subsidies.models import GrantComputation, PremiumSubsidy

    items = []
    for q in data.get("queues", []):
        if q.key in ("reported", "overdue"):
            what, action = REVIEWER_QUEUES[q.key]
            since = "reported_at" if q.key == "reported" else "due_date"
            items += [WorkItem(_day(getattr(m, since)), str(what), _milestone_title(m), _milestone_url(m),
                               str(action)) for m in q.items]
        elif q.key in REVIEWER_QUEUES:
            what, action = REVIEWER_QUEUES[q.key]
            items += [WorkItem(_day(p.submitted_at), str(what), p.title, reverse("projects:detail", args=[p.pk]),
                               str(action)) for p in q.items]
        elif q.key == S.UNDER_REVIEW:
            items += [WorkItem(_day(p.submitted_at), str(_("评分已齐，待立项决定")), p.title,
                               reverse("projects:detail", args=[p.pk]), str(_("去决定")),
                               f"{p.scored}/{p.assigned}")
                      for p in q.items if p.assigned and p.scored >= p.assigned]
    for model, kind, what in ((GrantComputation, "grant", _("待审定研发投入资助")),
                              (PremiumSubsidy, "premium", _("待审定保费补助"))):
        for fig in (model.objects.filter(state=CS.COMPUTED).select_related("enterprise")
                    .order_by("computed_at", "pk")[:LIMIT]):
            items.append(WorkItem(_day(fig.computed_at), str(what), f"{fig.enterprise.name} · {fig.year}",
                                  reverse("subsidies:figure", args=[kind, fig.pk]), str(_("去审定")),
                                  format_cny(fig.amount)))
    return items


# -- enterprise -------------------------------------------------------------------
def enterprise_work(user, data: dict) -> list[WorkItem]:
    """Deposits and balances due, drafts not yet submitted, acceptance opinions on a year's audit (R15)."""
    from subsidies.selectors import audits_visible

    items = []
    for m in data.get("due", []):
        what = _("待缴保证金") if m.state == M.DEPOSIT_DUE else _("待付尾款")
        # A deposit is due from the milestone's start, a balance by its own date (I15), never the end date.
        when = m.start_date if m.state == M.DEPOSIT_DUE else (m.balance_due_date or _day(m.decided_at))
        items.append(WorkItem(when, str(what), _milestone_title(m), _milestone_url(m), str(_("查看付款说明")),
                              format_cny(m.owed)))
    for p in data.get("drafts", []):
        items.append(WorkItem(_day(p.created_at), str(_("草稿待提交")), p.title,
                              reverse("projects:edit", args=[p.pk]), str(_("继续填写"))))
    audits = (audits_visible(user).filter(opinion="", project__enterprise_id=user.organization_id)
              .order_by("recorded_at", "pk")[:LIMIT])
    for a in audits:
        items.append(WorkItem(_day(a.recorded_at), str(_("待填写验收意见")), f"{a.project.title} · {a.year}",
                              reverse("subsidies:audit", args=[a.pk]), str(_("填写意见"))))
    return items


# -- auditor ------------------------------------------------------------------
def auditor_work(user, data: dict) -> list[WorkItem]:
    """Projects whose money reached the platform this year and have no annual audit yet (R15, I5)."""
    from subsidies.selectors import projects_awaiting_audit

    year = data.get("year") or timezone.localdate().year
    url = reverse("subsidies:audits") + f"?year={year}"
    return [WorkItem(date(year, 1, 1), str(_("待录入年度专项审计")), f"{p.title} · {year}", url, str(_("去录入")),
                     str(_("账户记录投入 %(a)s") % {"a": format_cny(amount)}))
            for p, amount in projects_awaiting_audit(user, year, limit=LIMIT)]


SOURCES = [
    (Role.EXPERT, expert_work),
    (Role.PLATFORM, platform_work),
    (Role.CUSTODIAN, custodian_work),
    (Role.FINANCE, finance_work),
    (Role.POOL_MANAGER, pool_work),
    (Role.REVIEWER, reviewer_work),
    (Role.ENTERPRISE, enterprise_work),
    (Role.AUDITOR, auditor_work),
]


def work_list(user, data_by_role: dict[str, dict]) -> list[WorkItem]:
    """Every item waiting on ``user`` in the roles they hold, oldest first."""
    items: list[WorkItem] = []
    for role, source in SOURCES:
        if has_role(user, role):
            items += source(user, data_by_role.get(role, {}))
    return sorted(items, key=lambda it: it.when)
