"""A project's life around its milestones: the bureau opens the deposit channel (R14), lets the project go on
after a forfeiture, closes it after the last release or terminates it, settling the pool advance (I2)."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.exceptions import ConflictError, DomainError, TransitionNotAllowed
from core.money import format_cny, parse_money
from core.permissions import require
from core.services import audit_record, notify
from escrow import accounts as codes
from escrow.choices import OperationKind
from escrow.selectors import account_balance
from escrow.services import operation_request

from ..choices import MilestoneState as M
from ..choices import ProjectState
from ..models import Milestone, Project
from ..services._common import lock_milestones, not_allowed, party_users
from . import permissions as perms
from .common import (
    CANCELLABLE,
    MILESTONE_PURPOSES,
    P_REPAYMENT,
    P_WRITE_OFF,
    SETTLED,
    audit,
    custody_code,
    lock_all,
    open_deposit,
    pending_operation,
)


@transaction.atomic
def project_open_escrow(*, project: Project, actor, reason: str = "") -> Project:
    """approved → active; milestone 1 → deposit_due: the deposit channel opens (R14)."""
    require(perms.can_open_escrow(actor, project))
    first = Milestone.objects.filter(project_id=project.pk).order_by("seq").first()
    if first is None:
        raise DomainError(_("项目没有里程碑，无法开通保证金通道"), code="no_milestones", rule="R4")
    project, rows = lock_milestones(project.pk, first.pk)
    first = rows[first.pk]
    if project.state != ProjectState.APPROVED:
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，只有已立项的项目可以开通保证金通道")
                                   % {"s": project.get_state_display()}, rule="R14")
    if first.state != M.PLANNED:
        raise not_allowed(first, _("通知缴纳保证金"))
    project.open_escrow()
    project.state_reason = reason
    project.save(update_fields=["state", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="open_escrow", from_state=ProjectState.APPROVED,
                 to_state=project.state, reason=reason)
    open_deposit(first, actor=actor, reason=reason)
    return project




def continue_refusal(project: Project, milestones: Iterable[Milestone]) -> DomainError | None:
    """Why the project cannot go on to its next milestone after a forfeiture (None: it can). The service raises
    it; the page shows the button only when there is none."""
    if project.state != ProjectState.ACTIVE:
        return TransitionNotAllowed(_("项目当前状态为“%(s)s”") % {"s": project.get_state_display()})
    ordered = sorted(milestones, key=lambda m: m.seq)
    open_ = [m for m in ordered if m.state not in (M.PLANNED, *SETTLED)]
    if open_:
        return not_allowed(open_[0], _("继续下一里程碑"))
    last_settled = [m for m in ordered if m.state in SETTLED]
    if (not any(m.state == M.PLANNED for m in ordered) or not last_settled
            or last_settled[-1].state != M.FORFEITED):
        return ConflictError(_("只有在里程碑被罚没后且仍有后续里程碑时才能继续"), code="nothing_to_continue",
                             rule="R8")
    return None


def close_refusal(project: Project, milestones: Iterable[Milestone]) -> DomainError | None:
    """Why the project cannot be closed (None: it can): every milestone settled, the last one released (R7)."""
    if project.state != ProjectState.ACTIVE:
        return TransitionNotAllowed(_("项目当前状态为“%(s)s”，不能结项") % {"s": project.get_state_display()})
    ordered = sorted(milestones, key=lambda m: m.seq)
    if any(m.state not in SETTLED for m in ordered) or not ordered or ordered[-1].state != M.RELEASED:
        return ConflictError(_("最后一个里程碑拨付后才能结项；否则请终止项目"), code="milestones_open", rule="R7")
    return None


@transaction.atomic
def project_continue(*, project: Project, actor, reason: str = "") -> Milestone:
    """After a forfeiture the bureau lets the project go on: milestone k+1 → deposit_due."""
    require(perms.can_continue(actor, project))
    project, rows = lock_all(project)
    refusal = continue_refusal(project, rows.values())
    if refusal is not None:
        raise refusal
    nxt = next(m for m in sorted(rows.values(), key=lambda m: m.seq) if m.state == M.PLANNED)
    open_deposit(nxt, actor=actor, reason=reason or _("罚没后继续下一里程碑"))
    audit_record(actor=actor, target=project, action="continue", from_state=project.state, to_state=project.state,
                 reason=reason)
    return nxt


def repayment(project: Project, repaid_amount) -> tuple[Decimal, Decimal]:
    """The project's outstanding advance and what the bureau says the platform repays (blank: all of it, I2)."""
    advanced = account_balance(codes.pool_advanced(project.pk))
    repaid = advanced if repaid_amount in (None, "") else parse_money(repaid_amount, field="repaid_amount")
    if repaid < 0 or repaid > advanced:
        raise DomainError(_("归还金额须在 0 与垫付余额 %(b)s 之间") % {"b": format_cny(advanced)},
                          code="repayment_amount", rule="I2", fields={"repaid_amount": [_("超出垫付余额")]})
    return advanced, repaid


def _settle_advance(*, project: Project, actor, repaid_amount, reason: str) -> dict:
    """I2: what the platform repaid → pool:available; the shortfall → pool:losses, with its reason."""

    advanced, repaid = repayment(project, repaid_amount)
    shortfall = advanced - repaid
    if shortfall > 0 and not (reason or "").strip():
        raise DomainError(_("垫付未全额归还，核销损失 %(s)s 须说明原因") % {"s": format_cny(shortfall)},
                          code="reason_required", rule="I2", fields={"reason": [_("必填")]})
    ops = {}
    ctx = {"project": project.pk}
    if repaid > 0:
        ops["repayment"] = operation_request(
            kind=OperationKind.REPAYMENT, amount=repaid, purpose=P_REPAYMENT, context=ctx,
            lines=[(codes.pool_advanced(project.pk), -repaid), (codes.POOL_AVAILABLE, repaid)],
            memo=f"{project.title} 平台归还风险池垫付", idempotency_key=f"project:{project.pk}:repayment",
            ordered_by=actor, executed_by=actor, inline=True)
    if shortfall > 0:
        ops["write_off"] = operation_request(
            kind=OperationKind.WRITE_OFF, amount=shortfall, purpose=P_WRITE_OFF, context={**ctx, "reason": reason},
            lines=[(codes.pool_advanced(project.pk), -shortfall), (codes.POOL_LOSSES, shortfall)],
            memo=f"{project.title} 垫付核销损失：{reason}"[:300], idempotency_key=f"project:{project.pk}:write_off",
            ordered_by=actor, executed_by=actor, inline=True)
    return {"advanced": advanced, "repaid": repaid, "shortfall": shortfall, "operations": ops}


@transaction.atomic
def project_close(*, project: Project, actor, repaid_amount=None, reason: str = "") -> Project:
    """After the last release: active → completed, and the pool advance is repaid (or written off) (I2)."""
    require(perms.can_close(actor, project))
    project, rows = lock_all(project)
    refusal = close_refusal(project, rows.values())
    if refusal is not None:
        raise refusal
    settled = _settle_advance(project=project, actor=actor, repaid_amount=repaid_amount, reason=reason)
    project.close()
    project.state_reason = reason
    project.save(update_fields=["state", "closed_at", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="close", from_state=ProjectState.ACTIVE, to_state=project.state,
                 reason=reason, data={k: str(v) for k, v in settled.items() if k != "operations"})
    notify(users=party_users(project), verb="project_closed",
           msg=gettext_noop("“%(p)s”已结项"), params={"p": project.title})
    return project


@transaction.atomic
def project_terminate(*, project: Project, actor, reason: str, repaid_amount=None) -> Project:
    """approved|active → terminated; custody must be settled first; the advance is settled as at close (I2)."""
    require(perms.can_terminate(actor, project))
    if not (reason or "").strip():
        raise DomainError(_("终止项目须说明原因"), code="reason_required", fields={"reason": [_("必填")]})
    project, rows = lock_all(project)
    from_state = project.state
    if from_state not in (ProjectState.APPROVED, ProjectState.ACTIVE):
        raise TransitionNotAllowed(_("项目当前状态为“%(s)s”，不能终止") % {"s": project.get_state_display()})
    for m in sorted(rows.values(), key=lambda m: m.seq):
        if account_balance(custody_code(m)) != 0 or pending_operation(m, MILESTONE_PURPOSES):
            raise ConflictError(_("第%(seq)s个里程碑的监管资金尚未处理（先认定未达标并罚没/退还），不能终止")
                                % {"seq": m.seq}, code="custody_not_settled", rule="I3")
    return _terminate(project, rows.values(), actor=actor, reason=reason, repaid_amount=repaid_amount)


def _terminate(project: Project, milestones: Iterable[Milestone], *, actor, reason: str, repaid_amount) -> Project:
    """Locked project, custody settled: cancel the milestones that never started, settle the advance (I2),
    approved|active → terminated. Shared by the bureau's termination and the end of a breach (I15)."""
    from_state = project.state
    cancelled = _cancel_unstarted(milestones, actor=actor, reason=reason)
    settled = _settle_advance(project=project, actor=actor, repaid_amount=repaid_amount, reason=reason)
    project.terminate()
    project.state_reason = reason
    project.save(update_fields=["state", "closed_at", "state_reason", "updated_at"])
    audit_record(actor=actor, target=project, action="terminate", from_state=from_state, to_state=project.state,
                 reason=reason, data={**{k: str(v) for k, v in settled.items() if k != "operations"},
                                      "cancelled": [m.seq for m in cancelled]})
    notify(users=party_users(project), verb="project_terminated",
           msg=gettext_noop("“%(p)s”已终止：%(r)s"), params={"p": project.title, "r": reason})
    return project


def _cancel_unstarted(milestones: Iterable[Milestone], *, actor, reason: str) -> list[Milestone]:
    """I15: planned or deposit-due milestones (they hold no money: R7, checked by the caller) → cancelled."""
    done = []
    for m in sorted(milestones, key=lambda m: m.seq):
        if m.state in CANCELLABLE:
            from_state = m.state
            m.cancel()
            m.save(update_fields=["state", "settled_at"])
            audit(actor, m, "cancel", from_state, reason)
            done.append(m)
    return done




def end_after_breach(project: Project, milestone: Milestone, later: list[Milestone]) -> None:
    """In the forfeiture's transaction: later milestones cancelled, the project terminated, its advance settled
    with the repayment the bureau fixed when it declared the breach (I15, I2)."""
    decider = milestone.breached_by
    reason = _("第%(seq)s个里程碑企业违约：%(r)s") % {"seq": milestone.seq, "r": milestone.breach_reason}
    _terminate(project, later, actor=decider, reason=reason, repaid_amount=milestone.breach_repaid_amount)

