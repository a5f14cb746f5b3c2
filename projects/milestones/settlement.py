"""Settlement: the custodian releases a met milestone's tranche to the platform (R7) or forfeits a failed or
breached one's deposit (R8, I3, I15); the escrow completion hooks move the milestone when the money has moved.

The hooks (registered in ``projects/hooks.py``) run in the transaction that completes the operation, so the
milestone's state and the ledger can never disagree.
"""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import DomainError
from core.money import format_cny, money
from core.notices import Notice
from core.permissions import require
from core.services import audit_record, notify, users_with_role
from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.models import MoneyOperation
from escrow.services import operation_request

from ..choices import MilestoneState as M
from ..models import Milestone, Project
from ..services._common import (
    enterprise_users,
    lock_milestones,
    milestone_url,
    party_users,
    platform_users,
    require_state,
)
from . import permissions as perms
from .common import (
    P_BALANCE,
    P_DEPOSIT,
    P_FORFEIT,
    P_RELEASE,
    audit,
    ctx,
    custody_code,
    label_msg,
    lock_all,
    lock_milestone,
    open_deposit,
    refuse_if_pending,
)
from .lifecycle import end_after_breach


@transaction.atomic
def milestone_release(*, milestone: Milestone, actor) -> tuple[Milestone, MoneyOperation]:
    """Release deposit and balance together, T, to the platform (R7), after review_met and full payment."""
    require(perms.can_release(actor, milestone))
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("拨付"), M.RELEASABLE)
    require(perms.can_release(actor, milestone))  # again on the locked row: its decider is known now
    refuse_if_pending(milestone, [P_RELEASE, P_FORFEIT, P_BALANCE])
    if milestone.paid_in != milestone.amount:
        raise DomainError(_("尚未全额缴入（已缴 %(p)s / 应缴 %(t)s），不能拨付")
                          % {"p": format_cny(milestone.paid_in), "t": format_cny(milestone.amount)},
                          code="not_fully_paid", rule="R7")
    n = MoneyOperation.objects.filter(purpose=P_RELEASE, context__milestone=milestone.pk).count() + 1
    op = operation_request(
        kind=OperationKind.RELEASE, amount=milestone.amount, purpose=P_RELEASE, context=ctx(milestone),
        lines=[(custody_code(milestone), -milestone.amount), (codes.ext_platform(project.platform_id),
                                                               milestone.amount)],
        memo=f"{project.title} 第{milestone.seq}里程碑 拨付平台",
        idempotency_key=f"milestone:{milestone.pk}:release:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference)
    audit_record(actor=actor, target=milestone, action="order_release",
                 data={"operation": op.pk, "amount": str(milestone.amount), "operation_state": op.state})
    if op.state == OperationState.AWAITING_CONFIRMATION:
        notify(users=users_with_role(Role.CUSTODIAN).exclude(pk=actor.pk), verb="operation_confirm",
               msg=gettext_noop("%(m)s 拨付 %(t)s 超过双人复核阈值，请另一名操作员复核"),
               params={"m": label_msg(milestone), "t": format_cny(milestone.amount)}, url=milestone_url(milestone))
    return milestone, op


def forfeit_split(milestone: Milestone) -> tuple:
    """R8, I3: what a forfeiture takes out of custody, the part the platform receives (the deposit D, or what was
    paid in if less) and the part refunded to the enterprise."""
    paid = milestone.paid_in
    forfeit = min(milestone.deposit_amount, paid)
    return paid, forfeit, paid - forfeit


@transaction.atomic
def milestone_forfeit(*, milestone: Milestone, actor) -> tuple[Milestone, MoneyOperation]:
    """After review_not_met or declare_breach (I15): D to the platform, the rest paid in back to the enterprise
    (R8, I3), one operation. A breached milestone's completion also ends its project (``on_forfeit_done``)."""
    require(perms.can_forfeit(actor, milestone))
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("罚没保证金"), M.FAILED, M.BREACHED)
    require(perms.can_forfeit(actor, milestone))  # again on the locked row: its decider is known now
    refuse_if_pending(milestone, [P_RELEASE, P_FORFEIT, P_BALANCE, P_DEPOSIT])
    paid, forfeit, refund = forfeit_split(milestone)
    if paid <= 0:
        raise DomainError(_("该里程碑没有缴入资金，无需罚没"), code="nothing_paid_in", rule="R8")
    lines = [(custody_code(milestone), -paid), (codes.ext_platform(project.platform_id), forfeit)]
    if refund > 0:
        lines.append((codes.ext_enterprise(project.enterprise_id), refund))
    n = MoneyOperation.objects.filter(purpose=P_FORFEIT, context__milestone=milestone.pk).count() + 1
    op = operation_request(
        kind=OperationKind.FORFEIT, amount=paid, purpose=P_FORFEIT,
        context={**ctx(milestone), "forfeit": str(forfeit), "refund": str(refund)}, lines=lines,
        memo=f"{project.title} 第{milestone.seq}里程碑 保证金罚没 {forfeit} / 退还企业 {refund}",
        idempotency_key=f"milestone:{milestone.pk}:forfeit:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference)
    audit_record(actor=actor, target=milestone, action="order_forfeit",
                 data={"operation": op.pk, "forfeit": str(forfeit), "refund": str(refund),
                       "operation_state": op.state})
    if op.state == OperationState.AWAITING_CONFIRMATION:
        notify(users=users_with_role(Role.CUSTODIAN).exclude(pk=actor.pk), verb="operation_confirm",
               msg=gettext_noop("%(m)s 罚没/退还 %(t)s 超过双人复核阈值，请另一名操作员复核"),
               params={"m": label_msg(milestone), "t": format_cny(paid)}, url=milestone_url(milestone))
    return milestone, op



def _hook_target(op: MoneyOperation) -> Milestone | None:
    """The milestone an operation of ours moves, or None for an operation this app did not order
    (escrow may run operations of these purposes on its own, e.g. in its tests)."""
    ctx = op.context if isinstance(op.context, dict) else {}
    m = (Milestone.objects.filter(pk=ctx.get("milestone"), project_id=ctx.get("project"))
         .only("pk", "project_id", "seq").first()) if ctx.get("milestone") else None
    if m is None or custody_code(m) not in {code for code, _a in op.lines}:
        return None
    return m


def _hook_milestone(op: MoneyOperation) -> tuple[Project, Milestone] | tuple[None, None]:
    m = _hook_target(op)
    return lock_milestone(m, require_active=False) if m is not None else (None, None)


def on_receipt_done(op: MoneyOperation) -> None:
    """A deposit or balance is in custody: paid_in grows; the milestone moves on."""
    project, milestone = _hook_milestone(op)
    if milestone is None:
        return
    amount = money(op.amount)
    milestone.paid_in = money(milestone.paid_in + amount)
    from_state = milestone.state
    fields = ["paid_in"]
    if op.purpose == P_DEPOSIT and milestone.state == M.DEPOSIT_DUE:
        milestone.confirm_deposit()
        fields += ["state", "started_at"]
        notify(users=platform_users(project), verb="milestone_started",
               msg=gettext_noop("%(m)s 保证金 %(a)s 已到账，可以开始研发"),
               params={"m": label_msg(milestone), "a": format_cny(amount)},
               url=milestone_url(milestone))
    elif (op.purpose == P_BALANCE and milestone.state in (M.BALANCE_DUE, M.BALANCE_OVERDUE)
          and milestone.paid_in == milestone.amount):
        milestone.confirm_balance()
        fields.append("state")
        notify(users=users_with_role(Role.CUSTODIAN), verb="milestone_releasable",
               msg=gettext_noop("%(m)s 尾款已全额到账，请拨付 %(t)s 给平台"),
               params={"m": label_msg(milestone), "t": format_cny(milestone.amount)}, url=milestone_url(milestone))
    milestone.save(update_fields=fields)
    audit(op.executed_by or op.ordered_by, milestone, "confirm_deposit" if op.purpose == P_DEPOSIT
           else "confirm_balance", from_state, operation=op.pk, amount=amount, bank_ref=op.bank_ref,
          notices=[Notice(users=enterprise_users(project), verb="payment_received",
                 msg=gettext_noop("%(m)s 已确认到账 %(a)s（银行流水 %(ref)s）"),
                 params={"m": label_msg(milestone), "a": format_cny(amount), "ref": op.bank_ref},
                 url=milestone_url(milestone))])


def on_release_done(op: MoneyOperation) -> None:
    """Released: milestone k → released and milestone k+1 → deposit_due (R7)."""
    target = _hook_target(op)
    if target is None:
        return
    nxt = Milestone.objects.filter(project_id=target.project_id, seq__gt=target.seq).order_by("seq").first()
    ids = [op.context["milestone"]] + ([nxt.pk] if nxt else [])
    project, rows = lock_milestones(op.context["project"], *ids)
    milestone = rows[op.context["milestone"]]
    if milestone.state != M.RELEASABLE:
        return  # nothing to do: a twin delivery already moved it
    milestone.release()
    milestone.released_amount = money(op.amount)
    milestone.save(update_fields=["state", "settled_at", "released_amount"])
    actor = op.confirmed_by or op.ordered_by
    audit(actor, milestone, "release", M.RELEASABLE, operation=op.pk, amount=op.amount,
          notices=[Notice(users=platform_users(project), verb="milestone_released",
                 msg=gettext_noop("%(m)s 已拨付 %(t)s"),
                 params={"m": label_msg(milestone), "t": format_cny(op.amount)}, url=milestone_url(milestone))])
    if nxt is not None:
        nxt = rows[nxt.pk]
        if nxt.state == M.PLANNED:
            open_deposit(nxt, actor=actor, reason=_("上一里程碑已拨付"))
    else:
        notify(users=users_with_role(Role.REVIEWER), verb="project_closable",
               msg=gettext_noop("“%(p)s”最后一个里程碑已拨付，可以结项并登记风险池垫付归还"),
               params={"p": project.title},
               url=milestone_url(milestone))


def on_forfeit_done(op: MoneyOperation) -> None:
    target = _hook_target(op)
    if target is None:
        return
    project, rows = lock_all(target.project_id)  # all of them: a breach cancels the later ones (I15)
    milestone = rows[target.pk]
    from_state = milestone.state
    if from_state not in (M.FAILED, M.BREACHED):
        return
    milestone.forfeit()
    milestone.forfeited_amount = money(op.context["forfeit"])
    milestone.refunded_amount = money(op.context["refund"])
    milestone.save(update_fields=["state", "settled_at", "forfeited_amount", "refunded_amount"])
    audit(op.confirmed_by or op.ordered_by, milestone, "forfeit", from_state, operation=op.pk,
           forfeit=milestone.forfeited_amount, refund=milestone.refunded_amount)
    if from_state == M.BREACHED:
        end_after_breach(project, milestone, [m for m in rows.values() if m.seq > milestone.seq])
        return
    notify(users=party_users(project), verb="milestone_forfeited",
           msg=gettext_noop("%(m)s 保证金 %(f)s 已支付给平台，退还企业 %(r)s"),
           params={"m": label_msg(milestone), "f": format_cny(milestone.forfeited_amount),
                   "r": format_cny(milestone.refunded_amount)}, url=milestone_url(milestone))
    notify(users=users_with_role(Role.REVIEWER), verb="project_decide",
           msg=gettext_noop("%(m)s 已罚没，请决定继续下一里程碑或终止项目"), params={"m": label_msg(milestone)},
           url=milestone_url(milestone))

