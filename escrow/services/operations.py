"""Money operations: a row first, then a worker executes it exactly once.

The order and the operation row commit together; the Celery task is
dispatched on commit. Execution is idempotent: a second delivery finds the
operation done and changes nothing. Maker–checker: above the scheme's
threshold an operation waits in ``awaiting_confirmation`` until a second,
different custodian operator confirms it.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.choices import Role
from core.exceptions import ConflictError, DomainError, PermissionDeniedError
from core.money import money
from core.permissions import require
from core.services import audit_record, notify, users_with_role

from .. import permissions as perms
from ..choices import OperationKind, OperationState
from ..models import MoneyOperation
from .ledger import normalise_lines, post_entry

log = logging.getLogger(__name__)

Hook = Callable[[MoneyOperation], None]
_done_hooks: dict[str, list[Hook]] = defaultdict(list)
_failed_hooks: dict[str, list[Hook]] = defaultdict(list)

# Kinds that pay money out of custody or the pool on a person's order: these
# are subject to maker–checker above the threshold.
DUAL_CONTROL_KINDS = {OperationKind.RELEASE, OperationKind.FORFEIT, OperationKind.REFUND,
                      OperationKind.WRITE_OFF}


def register_completion_hook(purpose: str, *, on_done: Hook | None = None, on_failed: Hook | None = None) -> None:
    """Let another app react, in the same transaction, when an operation of ``purpose`` ends."""
    if on_done and on_done not in _done_hooks[purpose]:
        _done_hooks[purpose].append(on_done)
    if on_failed and on_failed not in _failed_hooks[purpose]:
        _failed_hooks[purpose].append(on_failed)


def _send(operation_id: int) -> None:
    """Hand the operation to the broker (the only line that talks to Celery)."""
    from ..tasks import execute_operation

    execute_operation.delay(operation_id)


def _dispatch(operation: MoneyOperation) -> None:
    pk = operation.pk
    MoneyOperation.objects.filter(pk=pk).update(dispatched_at=timezone.now())
    transaction.on_commit(lambda: _send(pk))


def _threshold() -> Decimal:
    from core.models import SchemeVersion

    scheme = SchemeVersion.current()
    if scheme is None:  # R19: parameters come from a scheme version, never from code
        raise DomainError(_("没有政策版本，无法确定双人复核金额阈值"), code="no_scheme", rule="R19")
    return scheme.dual_control_threshold


# Kinds that only a custodian operator may order (separation of duties: the
# bureau decides, the custodian moves the money).
CUSTODIAN_KINDS = {OperationKind.RELEASE, OperationKind.FORFEIT, OperationKind.REFUND}


def _same_order(op: MoneyOperation, *, kind: str, amount: Decimal, lines: list[list[str]]) -> bool:
    return op.kind == kind and op.amount == amount and sorted(map(tuple, op.lines)) == sorted(map(tuple, lines))


@transaction.atomic
def operation_request(*, kind: str, amount: Decimal, lines: Iterable[tuple[str, Decimal]], memo: str,
                      idempotency_key: str, ordered_by=None, executed_by=None, purpose: str = "",
                      context: dict | None = None, reference: str = "", bank_ref: str = "",
                      inline: bool = False) -> MoneyOperation:
    """Record an operation and dispatch its execution on commit.

    ``inline`` executes it in the caller's transaction instead (used where the
    order and the movement must stand or fall together, e.g. the approval
    advance of I2); a failure then raises. Calling twice with the same key and
    the same order returns the first operation; the same key with another
    order is a conflict.
    """
    if kind not in OperationKind.values:
        raise DomainError(_("未知的资金操作类型: %(k)s") % {"k": kind}, code="invalid_kind")
    amount = money(amount)
    if amount <= 0:
        raise DomainError(_("金额必须大于零"), code="invalid_amount")
    if not idempotency_key or len(idempotency_key) > 200:
        raise DomainError(_("资金操作必须带幂等键（不超过 200 个字符）"), code="idempotency_key_required")
    merged = normalise_lines(lines)  # balanced, two decimals: refused now rather than failing later
    stored_lines = [[code, str(money(a))] for code, a in merged.items()]
    if kind in CUSTODIAN_KINDS:
        require(perms.can_operate(ordered_by))

    existing = MoneyOperation.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        context = context or {}
        try:
            with transaction.atomic():
                op = MoneyOperation.objects.create(
                    kind=kind, amount=amount, memo=memo[:300], idempotency_key=idempotency_key,
                    lines=stored_lines, purpose=purpose, context=context,
                    project_ref=context.get("project") if isinstance(context.get("project"), int) else None,
                    reference=reference, bank_ref=bank_ref, ordered_by=ordered_by, executed_by=executed_by,
                )
        except IntegrityError:
            # A concurrent twin committed the same key first (the insert waited for it).
            existing = MoneyOperation.objects.get(idempotency_key=idempotency_key)
    if existing is not None:
        if not _same_order(existing, kind=kind, amount=amount, lines=stored_lines):
            raise ConflictError(_("幂等键 %(k)s 已用于另一笔不同的资金操作") % {"k": idempotency_key},
                                code="idempotency_key_reused")
        return existing

    audit_record(actor=ordered_by, target=op, action="request", to_state=op.state,
                 data={"kind": kind, "amount": str(amount)})
    if kind in DUAL_CONTROL_KINDS and amount > _threshold() and not inline:
        op.await_confirmation()
        op.save(update_fields=["state", "requires_confirmation"])
        audit_record(actor=ordered_by, target=op, action="await_confirmation",
                     from_state=OperationState.REQUESTED, to_state=op.state)
        return op
    if inline:
        _start(op, actor=executed_by or ordered_by)
        return _complete(op, actor=executed_by or ordered_by, raise_on_failure=True)
    _dispatch(op)
    return op


@transaction.atomic
def operation_confirm(*, operation: MoneyOperation, actor) -> MoneyOperation:
    """The second custodian operator's confirmation (maker–checker)."""
    require(perms.can_operate(actor))
    op = MoneyOperation.objects.select_for_update().get(pk=operation.pk)
    if op.state != OperationState.AWAITING_CONFIRMATION:
        raise ConflictError(_("该操作当前状态为“%(s)s”，无需复核") % {"s": op.get_state_display()},
                            code="transition_not_allowed")
    makers = {op.ordered_by_id, op.executed_by_id} - {None}
    if actor.pk in makers:
        raise PermissionDeniedError(_("双人复核：发起人不能复核自己发起的操作，须由另一名监管账户操作员确认"),
                                    code="maker_checker", rule="maker-checker")
    op.confirm(by=actor)
    op.save(update_fields=["state", "confirmed_by", "executed_by"])
    audit_record(actor=actor, target=op, action="confirm", from_state=OperationState.AWAITING_CONFIRMATION,
                 to_state=op.state)
    _dispatch(op)
    return op


REJECT_REASON_MAX = 2000


@transaction.atomic
def operation_reject(*, operation: MoneyOperation, actor, reason: str) -> MoneyOperation:
    """The second custodian operator refuses an order awaiting confirmation, saying why (maker–checker).

    Nothing was posted, so nothing is reversed: the operation ends failed with the checker and the reason, the
    maker is told, and the failure hooks of its purpose run (the order may then be placed again). Same
    permission as ``operation_confirm``; the maker may not reject their own order.
    """
    require(perms.can_operate(actor))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("驳回须填写理由"), code="reason_required", fields={"reason": [_("必填")]})
    if len(reason) > REJECT_REASON_MAX:
        raise DomainError(_("驳回理由最多 %(n)s 个字符") % {"n": REJECT_REASON_MAX}, code="invalid",
                          fields={"reason": [_("过长")]})
    op = MoneyOperation.objects.select_for_update().get(pk=operation.pk)
    if op.state != OperationState.AWAITING_CONFIRMATION:
        raise ConflictError(_("该操作当前状态为“%(s)s”，不能驳回") % {"s": op.get_state_display()},
                            code="transition_not_allowed")
    if actor.pk in {op.ordered_by_id, op.executed_by_id} - {None}:
        raise PermissionDeniedError(_("双人复核：发起人不能驳回自己发起的操作，须由另一名监管账户操作员复核"),
                                    code="maker_checker", rule="maker-checker")
    op.reject(by=actor, reason=reason)
    op.save(update_fields=["state", "rejected_by", "failure_reason", "finished_at"])
    audit_record(actor=actor, target=op, action="reject", from_state=OperationState.AWAITING_CONFIRMATION,
                 to_state=op.state, reason=reason)
    notify(users=[u for u in (op.ordered_by,) if u is not None], verb="operation_rejected",  # a system order: nobody
           msg=gettext_noop("资金操作 #%(id)s（%(memo)s）被复核人驳回，未记账，资金未动。理由：%(reason)s"),
           params={"id": op.pk, "memo": op.memo, "reason": reason}, url=reverse("escrow:desk") + f"#op-{op.pk}")
    for hook in _failed_hooks.get(op.purpose, []):
        hook(op)
    return op


@transaction.atomic
def operation_redispatch(*, operation: MoneyOperation, actor) -> MoneyOperation:
    """A custodian operator sends a requested or executing operation to the workers again (the desk's button).

    Harmless if the first message is still on its way: execution is idempotent.
    """
    require(perms.can_operate(actor))
    op = MoneyOperation.objects.select_for_update().get(pk=operation.pk)
    if op.state not in (OperationState.REQUESTED, OperationState.EXECUTING):
        raise ConflictError(_("该操作当前状态为“%(s)s”，不能重新派发") % {"s": op.get_state_display()},
                            code="transition_not_allowed")
    audit_record(actor=actor, target=op, action="redispatch", from_state=op.state, to_state=op.state)
    _dispatch(op)
    return op


def _start(op: MoneyOperation, *, actor=None) -> None:
    op.start()
    op.save(update_fields=["state", "attempts"])
    audit_record(actor=actor, target=op, action="start", from_state=OperationState.REQUESTED, to_state=op.state)


def _complete(op: MoneyOperation, *, actor=None, raise_on_failure: bool = False) -> MoneyOperation:
    """Post the entry and run the completion hooks, all or nothing.

    A domain error (insufficient funds, or a hook refusing because the other
    side has moved on) rolls back to the savepoint: no posting is left behind
    and the operation fails with the rule named.
    """
    try:
        with transaction.atomic():
            entry = post_entry(memo=op.memo, idempotency_key=f"op:{op.idempotency_key}",
                               lines=[(code, Decimal(a)) for code, a in op.lines], actor=actor)
            op.finish(entry=entry)
            op.save(update_fields=["state", "entry", "finished_at", "failure_reason"])
            audit_record(actor=actor, target=op, action="finish", from_state=OperationState.EXECUTING,
                         to_state=op.state, data={"entry": entry.pk})
            for hook in _done_hooks.get(op.purpose, []):
                hook(op)
    except DomainError as exc:
        if raise_on_failure:
            raise
        # The savepoint is gone; reload the row (still locked by this transaction).
        op = MoneyOperation.objects.get(pk=op.pk)
        op.fail(reason=str(exc))
        op.save(update_fields=["state", "failure_reason", "finished_at"])
        audit_record(actor=actor, target=op, action="fail", from_state=OperationState.EXECUTING,
                     to_state=op.state, reason=str(exc))
        log.warning("operation %s failed: %s", op.pk, exc)
        for hook in _failed_hooks.get(op.purpose, []):
            hook(op)
    return op


def operation_execute(*, operation_id: int) -> MoneyOperation | None:
    """Execute one operation; safe to call any number of times (idempotent).

    An error that is not a domain error (a bug in a completion hook, say) rolls the posting back and
    leaves the operation executing; it is counted and recorded on the operation and in the audit trail,
    and after ``ANXINBAO_OPERATION_MAX_ATTEMPTS`` such errors the sweep stops re-sending it and the
    custodian operators are told (``_execution_error``). Database connection errors are left to Celery's
    retry. The error is recorded in its own transaction, which commits when a worker calls this (no outer
    transaction); inside a caller's atomic block it is a savepoint that the propagating exception rolls
    back with the rest.
    """
    with transaction.atomic():
        op = MoneyOperation.objects.select_for_update().filter(pk=operation_id).first()
        if op is None or op.state not in (OperationState.REQUESTED, OperationState.EXECUTING):
            return op
        if op.state == OperationState.REQUESTED:
            _start(op)
    try:
        with transaction.atomic():
            op = MoneyOperation.objects.select_for_update().get(pk=operation_id)
            if op.state != OperationState.EXECUTING:
                return op
            # The entry's actor is the person on whose order the worker moves the money.
            return _complete(op, actor=op.executed_by or op.confirmed_by or op.ordered_by)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        _execution_error(operation_id, exc)
        raise


def _max_attempts() -> int:
    return settings.ANXINBAO_OPERATION_MAX_ATTEMPTS


@transaction.atomic
def _execution_error(operation_id: int, exc: Exception) -> None:
    """Record an unexpected error on the executing operation; at the last attempt, alert the custodians."""
    op = MoneyOperation.objects.select_for_update().get(pk=operation_id)
    op.execution_errors += 1
    reason = _("第 %(n)s 次执行出错：%(e)s") % {"n": op.execution_errors, "e": f"{type(exc).__name__}: {exc}"}
    op.failure_reason = reason[:2000]
    op.save(update_fields=["execution_errors", "failure_reason"])
    audit_record(actor=None, target=op, action="execution_error", from_state=op.state, to_state=op.state,
                 reason=op.failure_reason, data={"errors": op.execution_errors})
    log.error("operation %s: execution error %s: %r", op.pk, op.execution_errors, exc)
    if op.execution_errors >= _max_attempts():  # the sweep has stopped (or a person's redispatch failed again)
        notify(users=users_with_role(Role.CUSTODIAN), verb="operation_stuck",
               msg=gettext_noop("资金操作 #%(id)s（%(memo)s）已 %(n)s 次执行出错，定时巡检不再自动重发；"
                                "未记账，资金未动。请技术人员排查后在监管操作台重新派发。"),
               params={"id": op.pk, "memo": op.memo, "n": op.execution_errors},
               url=reverse("escrow:desk") + f"#op-{op.pk}")


def operations_stuck(*, older_than) -> list[int]:
    """Operations still requested or executing ``older_than`` after their last dispatch.

    Those that raised ``ANXINBAO_OPERATION_MAX_ATTEMPTS`` unexpected errors are left for a person (see
    ``operation_execute``).
    """
    cutoff = timezone.now() - older_than
    return list(MoneyOperation.objects.filter(state__in=[OperationState.REQUESTED, OperationState.EXECUTING])
                .filter(Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True, created_at__lt=cutoff))
                .filter(execution_errors__lt=_max_attempts())
                .values_list("pk", flat=True))


def operations_redispatch(ids: list[int]) -> int:
    MoneyOperation.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())  # one query, then the sends
    for pk in ids:
        _send(pk)
    return len(ids)
