"""What the milestone services share: operation purposes, state groups, locks, labels and the audit row.

Rows are locked project first, then milestones in primary-key order
(``projects.services._common.lock_milestones``), so two services (or a
service and a completion hook) never wait on each other in opposite orders.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.exceptions import ConflictError, TransitionNotAllowed
from core.money import format_cny, money
from core.notices import Notice, message
from core.services import record_event
from escrow import accounts as codes
from escrow.choices import OperationState
from escrow.models import MoneyOperation

from ..choices import MilestoneState as M
from ..choices import ProjectState
from ..models import Attachment, Milestone, Project
from ..services._common import enterprise_users, lock_milestones, milestone_url

P_DEPOSIT = "milestone_deposit"
P_BALANCE = "milestone_balance"
P_RELEASE = "milestone_release"
P_FORFEIT = "milestone_forfeit"
P_REPAYMENT = "project_repayment"
P_WRITE_OFF = "project_write_off"
MILESTONE_PURPOSES = (P_DEPOSIT, P_BALANCE, P_RELEASE, P_FORFEIT)

PENDING_STATES = (OperationState.REQUESTED, OperationState.AWAITING_CONFIRMATION, OperationState.EXECUTING)

# I15: the enterprise may pay the balance from the deposit's confirmation on, until the milestone is settled.
BALANCE_PAYABLE = (M.IN_PROGRESS, M.OVERDUE, M.REPORTED, M.BALANCE_DUE, M.BALANCE_OVERDUE)
# I15: a later milestone that holds no money is cancelled when its project ends early.
CANCELLABLE = (M.PLANNED, M.DEPOSIT_DUE)
# R16: an acceptance expert may be assigned
EXPERT_DRAW_STATES = (M.REPORTED, M.IN_PROGRESS, M.OVERDUE)
SETTLED = (M.RELEASED, M.FORFEITED)


def lock_milestone(milestone: Milestone, *, require_active: bool = True) -> tuple[Project, Milestone]:
    """Lock the project and the milestone. A person's milestone action needs the project in implementation:
    after it is completed or terminated, a milestone left waiting for its deposit takes no more money."""
    project, rows = lock_milestones(milestone.project_id, milestone.pk)
    if require_active and project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，其里程碑不能再办理") % {"s": project.get_state_display()},
                                   code="project_not_active")
    return project, rows[milestone.pk]


def lock_all(project: Project | int) -> tuple[Project, dict[int, Milestone]]:
    """The project and every milestone of it, locked."""
    pk = project.pk if isinstance(project, Project) else project
    return lock_milestones(pk, *Milestone.objects.filter(project_id=pk).values_list("pk", flat=True))


def pending_operation(milestone: Milestone, purposes: Iterable[str]) -> MoneyOperation | None:
    return (MoneyOperation.objects.filter(purpose__in=list(purposes), context__milestone=milestone.pk,
                                          state__in=PENDING_STATES).order_by("pk").first())


def refuse_if_pending(milestone: Milestone, purposes: Iterable[str]) -> None:
    op = pending_operation(milestone, purposes)
    if op is not None:
        raise ConflictError(_("该里程碑已有一笔“%(kind)s”资金操作（#%(id)s，%(state)s）正在处理，请勿重复提交")
                            % {"kind": op.get_kind_display(), "id": op.pk, "state": op.get_state_display()},
                            code="operation_pending")


def decided_by_id(milestone: Milestone) -> int | None:
    """Who took the decision whose money the milestone awaits (separation of duties): the bureau's
    breach declaration for a breached milestone, its met / not met finding otherwise. Read from the
    milestone's own fields, never from the audit trail."""
    return milestone.breached_by_id if milestone.state == M.BREACHED else milestone.decided_by_id


def ctx(milestone: Milestone) -> dict:
    return {"project": milestone.project_id, "milestone": milestone.pk}


def unsettled_before(milestone: Milestone, rows) -> list[Milestone]:
    """The project's milestones before this one not yet released or forfeited: while any is, the next one stays
    planned (R7). ``rows`` are the project's milestones (locked, in a service)."""
    return [m for m in rows if m.seq < milestone.seq and m.state not in SETTLED]


def label(milestone: Milestone) -> str:
    return _("“%(project)s”第%(seq)s个里程碑") % {"project": milestone.project.title, "seq": milestone.seq}


def label_msg(milestone: Milestone) -> dict:
    """The milestone's label as a notice parameter: rendered in the reader's language when read."""
    return message(gettext_noop("“%(project)s”第%(seq)s个里程碑"), project=milestone.project.title,
                   seq=milestone.seq)


def audit(actor, milestone: Milestone, action: str, from_state: str, reason: str = "",
          notices: Iterable[Notice] = (), **data) -> None:
    """The milestone step's audit row and the notices it sends, written together (both or neither)."""
    record_event(actor=actor, target=milestone, action=action, from_state=from_state, to_state=milestone.state,
                 reason=reason, data={"project": milestone.project_id, **{k: str(v) for k, v in data.items()}},
                 notices=notices)


def custody_code(milestone: Milestone) -> str:
    return codes.custody(milestone.project_id, milestone.seq)


def attach(*, project: Project, milestone: Milestone, kind: str, upload, actor) -> Attachment:
    from ..services.attachments import store_attachment

    return store_attachment(project=project, milestone=milestone, kind=kind, file=upload, actor=actor)


def target_list(milestone: Milestone) -> list[str]:
    return [line.strip(" -•\t") for line in (milestone.targets or "").splitlines() if line.strip(" -•\t")]


def open_deposit(milestone: Milestone, *, actor, reason: str = "") -> Milestone:
    """planned → deposit_due on a locked milestone, with its audit row; the enterprise is told what to pay."""
    milestone.request_deposit()
    milestone.save(update_fields=["state"])
    audit(actor, milestone, "request_deposit", M.PLANNED, reason, notices=[deposit_due_notice(milestone)])
    return milestone


def deposit_due_notice(milestone: Milestone) -> Notice:
    """The enterprise is told what to pay, quoting which reference (R5/R7)."""
    return Notice(users=enterprise_users(milestone.project), verb="deposit_due",
                  msg=gettext_noop("%(m)s 待缴保证金：至少 %(d)s，至多 %(t)s，付款附言 %(ref)s"),
                  params={"m": label_msg(milestone), "d": format_cny(milestone.deposit_amount),
                          "t": format_cny(milestone.amount), "ref": milestone.payment_reference},
                  url=milestone_url(milestone))


def payment_instructions(milestone: Milestone) -> dict:
    """What the enterprise quotes on its transfer into the Anxinbao account."""
    account = getattr(settings, "ANXINBAO_CUSTODY_ACCOUNT", {}) or {}
    due = milestone.amount - milestone.paid_in
    minimum = milestone.deposit_amount if milestone.state == M.DEPOSIT_DUE else due
    return {
        "account_name": account.get("name", "科创安心宝监管账户"),
        "bank": account.get("bank", "杭州萧山农村商业银行营业部"),
        "account_number": account.get("number", "2010 0001 2345 6789 012"),
        "reference": milestone.payment_reference,
        "minimum": money(minimum),
        "maximum": money(due),
    }
