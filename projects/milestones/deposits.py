"""Deposits and balances: the bureau asks for a deposit, the enterprise uploads its bank receipt, the custodian
confirms what arrived (R5, R7, I15). The money moves in a money operation; ``settlement.on_receipt_done``
moves the milestone when it is in custody."""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import DomainError, TransitionNotAllowed
from core.money import format_cny, parse_money
from core.permissions import require
from core.services import audit_record, notify, users_with_role
from escrow import accounts as codes
from escrow.choices import OperationKind, OperationState
from escrow.models import MoneyOperation
from escrow.services import operation_request

from ..choices import AttachmentKind, ProjectState
from ..choices import MilestoneState as M
from ..models import Attachment, Milestone, Project
from ..services._common import lock_milestones, milestone_url, require_state
from . import permissions as perms
from .common import (
    BALANCE_PAYABLE,
    P_BALANCE,
    P_DEPOSIT,
    attach,
    ctx,
    custody_code,
    label_msg,
    lock_milestone,
    open_deposit,
    refuse_if_pending,
    unsettled_before,
)


@transaction.atomic
def milestone_request_deposit(*, milestone: Milestone, actor, reason: str = "") -> Milestone:
    """planned → deposit_due, once the milestone before it is settled (R7)."""
    require(perms.can_request_deposit(actor, milestone))
    ids = list(Milestone.objects.filter(project_id=milestone.project_id, seq__lte=milestone.seq)
               .values_list("pk", flat=True))
    project, rows = lock_milestones(milestone.project_id, *ids)
    milestone = rows[milestone.pk]
    if project.state != ProjectState.ACTIVE:
        raise TransitionNotAllowed(_("项目尚未开通保证金通道"), rule="R14")
    require_state(milestone, _("通知缴纳保证金"), M.PLANNED)
    unsettled = unsettled_before(milestone, rows.values())
    if unsettled:
        raise DomainError(_("第%(seq)s个里程碑尚未拨付或处理完毕，下一里程碑仍为计划中")
                          % {"seq": unsettled[-1].seq}, code="previous_milestone_open", rule="R7")
    return open_deposit(milestone, actor=actor, reason=reason)




@transaction.atomic
def milestone_upload_receipt(*, milestone: Milestone, actor, file) -> Attachment:
    """The enterprise's bank receipt for a deposit or balance (PDF or image)."""
    require(perms.can_upload_receipt(actor, milestone))
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("上传银行回单"), M.DEPOSIT_DUE, *BALANCE_PAYABLE)
    if milestone.state != M.DEPOSIT_DUE and milestone.paid_in >= milestone.amount:
        raise DomainError(_("本阶段合作经费已全额缴入，无需再上传回单"), code="fully_paid", rule="I15")
    att = attach(project=project, milestone=milestone, kind=AttachmentKind.RECEIPT, upload=file, actor=actor)
    audit_record(actor=actor, target=milestone, action="upload_receipt", data={"attachment": att.pk,
                                                                              "sha256": att.sha256})
    notify(users=users_with_role(Role.CUSTODIAN), verb="receipt_uploaded",
           msg=gettext_noop("%(m)s 企业已上传银行回单，请核对到账（附言 %(ref)s）"),
           params={"m": label_msg(milestone), "ref": milestone.payment_reference}, url=milestone_url(milestone))
    return att


BANK_REF_MAX = MoneyOperation._meta.get_field("bank_ref").max_length


def check_bank_ref(bank_ref: str) -> str:
    bank_ref = (bank_ref or "").strip()
    if not bank_ref:
        raise DomainError(_("须填写银行流水号"), code="bank_ref_required", fields={"bank_ref": [_("必填")]})
    if len(bank_ref) > BANK_REF_MAX:  # the column's length: checked here, for every caller
        raise DomainError(_("银行流水号最多 100 个字符"), code="invalid", fields={"bank_ref": [_("过长")]})
    if MoneyOperation.objects.filter(bank_ref=bank_ref, kind__in=[OperationKind.DEPOSIT, OperationKind.BALANCE]) \
            .exclude(state=OperationState.FAILED).exists():
        raise DomainError(_("银行流水号 %(ref)s 已登记过一笔到账") % {"ref": bank_ref}, code="bank_ref_used",
                          fields={"bank_ref": [_("已使用")]})
    return bank_ref


def _order_receipt(*, milestone: Milestone, project: Project, actor, amount: Decimal, bank_ref: str,
                   kind: str, purpose: str, action: str) -> MoneyOperation:
    """The money operation that brings a deposit or balance into custody, with its audit row."""
    bank_ref = check_bank_ref(bank_ref)
    n = MoneyOperation.objects.filter(purpose=purpose, context__milestone=milestone.pk).count() + 1
    op = operation_request(
        kind=kind, amount=amount, purpose=purpose, context=ctx(milestone),
        lines=[(codes.ext_enterprise(project.enterprise_id), -amount), (custody_code(milestone), amount)],
        memo=f"{project.title} 第{milestone.seq}里程碑 {OperationKind(kind).label} {milestone.payment_reference}",
        idempotency_key=f"milestone:{milestone.pk}:{purpose}:{n}", ordered_by=actor, executed_by=actor,
        reference=milestone.payment_reference, bank_ref=bank_ref)
    audit_record(actor=actor, target=milestone, action=action,
                 data={"operation": op.pk, "amount": str(amount), "bank_ref": bank_ref})
    return op


@transaction.atomic
def milestone_confirm_deposit(*, milestone: Milestone, actor, amount, bank_ref: str) -> MoneyOperation:
    """The custodian confirms the deposit received: D ≤ amount ≤ T (R5 for milestone 1, R7 after)."""
    require(perms.can_confirm_receipt(actor, milestone))
    amount = parse_money(amount)  # as the bank shows it: a third decimal is refused (I4), never rounded
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("确认保证金到账"), M.DEPOSIT_DUE)
    refuse_if_pending(milestone, [P_DEPOSIT])
    rule = "R5" if milestone.seq == 1 else "R7"
    if amount < milestone.deposit_amount:
        raise DomainError(_("到账金额 %(a)s 低于约定保证金 %(d)s")
                          % {"a": format_cny(amount), "d": format_cny(milestone.deposit_amount)},
                          code="deposit_too_low", rule=rule, fields={"amount": [_("低于约定保证金")]})
    if amount > milestone.amount:
        raise DomainError(_("到账金额 %(a)s 超过本阶段合作经费 %(t)s")
                          % {"a": format_cny(amount), "t": format_cny(milestone.amount)},
                          code="deposit_too_high", rule="R7", fields={"amount": [_("超过阶段经费")]})
    return _order_receipt(milestone=milestone, project=project, actor=actor, amount=amount, bank_ref=bank_ref,
                          kind=OperationKind.DEPOSIT, purpose=P_DEPOSIT, action="order_deposit")


@transaction.atomic
def milestone_confirm_balance(*, milestone: Milestone, actor, amount, bank_ref: str) -> MoneyOperation:
    """The custodian confirms (part of) the balance T − paid_in received (R7), from the deposit's confirmation
    on (I15): in progress, overdue, reported, balance due or balance overdue. Never more than the tranche."""
    require(perms.can_confirm_receipt(actor, milestone))
    amount = parse_money(amount)
    project, milestone = lock_milestone(milestone)
    require_state(milestone, _("确认尾款到账"), *BALANCE_PAYABLE)
    refuse_if_pending(milestone, [P_BALANCE, P_DEPOSIT])
    due = milestone.amount - milestone.paid_in
    if amount <= 0 or amount > due:
        raise DomainError(_("尾款到账金额须大于零且不超过应付尾款 %(due)s") % {"due": format_cny(due)},
                          code="balance_amount", rule="R7", fields={"amount": [_("超出应付尾款")]})
    return _order_receipt(milestone=milestone, project=project, actor=actor, amount=amount, bank_ref=bank_ref,
                          kind=OperationKind.BALANCE, purpose=P_BALANCE, action="order_balance")

