"""The ledger's single entry point (workflow.md, invariants 1, 2 and 5)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.money import ZERO, has_at_most_two_places

from .. import accounts as codes
from ..choices import NON_NEGATIVE_KINDS
from ..exceptions import InsufficientFunds, LedgerError
from ..models import Account, JournalEntry, Posting

Line = tuple[str, Decimal]


def _ensure_accounts(account_codes: Iterable[str]) -> None:
    account_codes = list(account_codes)
    existing = set(Account.objects.filter(code__in=account_codes).values_list("code", flat=True))
    # Created in code order, so two entries creating the same new accounts queue up
    # on the first one rather than deadlocking on each other's unique-index entries.
    missing = sorted(set(account_codes) - existing)
    owners = {codes.owner_id_of(code) for code in missing} - {None}
    if owners:
        from core.models import Organization

        unknown = owners - set(Organization.objects.filter(pk__in=owners).values_list("pk", flat=True))
        if unknown:
            raise LedgerError(_("外部账户所属组织不存在: %(ids)s") % {"ids": ", ".join(map(str, sorted(unknown)))},
                              code="unknown_account")
    for code in missing:
        try:
            with transaction.atomic():
                Account.objects.create(code=code, kind=codes.kind_of(code), owner_id=codes.owner_id_of(code),
                                       project_ref=codes.project_id_of(code))
        except IntegrityError:
            pass  # created concurrently by another transaction: fine


def normalise_lines(lines: Iterable[Line]) -> dict[str, Decimal]:
    """Validate and merge lines: Decimal with at most two places (I4), balanced (invariant 1)."""
    merged: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for code, amount in lines:
        if isinstance(amount, float):
            raise LedgerError(_("金额不得使用浮点数（I4）: %(a)r") % {"a": amount}, code="invalid_amount", rule="I4")
        try:
            amount = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise LedgerError(_("金额无效: %(a)r") % {"a": amount}, code="invalid_amount") from None
        if not amount.is_finite() or not has_at_most_two_places(amount):
            raise LedgerError(_("金额最多两位小数（I4）: %(a)s") % {"a": amount}, code="invalid_amount", rule="I4")
        try:
            codes.kind_of(code)
            codes.owner_id_of(code)
            codes.project_id_of(code)
        except (ValueError, IndexError, AttributeError):
            raise LedgerError(_("未知的科目代码: %(c)s") % {"c": code}, code="unknown_account") from None
        merged[code] += amount
    merged = {code: amount for code, amount in merged.items() if amount != 0}
    if len(merged) < 2:
        raise LedgerError(_("一笔分录至少需要两个非零过账（不变量 1）"), code="invalid_entry", rule="invariant 1")
    if sum(merged.values()) != 0:
        raise LedgerError(_("分录借贷不平衡，合计 %(s)s（不变量 1）") % {"s": sum(merged.values())},
                          code="unbalanced_entry", rule="invariant 1")
    return merged


def _lock(merged: dict[str, Decimal]) -> list[Account]:
    """Lock the entry's accounts in primary-key order (one order for everybody: no deadlock)."""
    return list(Account.objects.select_for_update(no_key=True).filter(code__in=list(merged)).order_by("pk"))


def _replay(existing: JournalEntry, merged: dict[str, Decimal]) -> JournalEntry:
    posted = {code: amount for code, amount in existing.postings.values_list("account__code", "amount")}
    if posted != merged:
        raise LedgerError(_("幂等键 %(k)s 已用于另一笔不同的分录") % {"k": existing.idempotency_key},
                          code="idempotency_key_reused")
    return existing


@transaction.atomic
def post_entry(*, memo: str, idempotency_key: str, lines: Iterable[Line], actor=None,
               reverses: JournalEntry | None = None) -> JournalEntry:
    """Post one balanced journal entry, exactly once per idempotency key.

    Accounts are locked in primary-key order (no deadlock between two entries
    touching the same accounts in any order); balances are updated under the
    lock; a guarded account that would go below zero refuses the whole entry.
    A second call with the same key and the same lines returns the first entry
    and changes nothing; the same key with other lines is refused.
    """
    if not idempotency_key:
        raise LedgerError(_("分录必须带幂等键"), code="idempotency_key_required")
    merged = normalise_lines(lines)

    locked = _lock(merged)
    if len(locked) < len(merged):  # first posting to some account: create it, then lock again
        _ensure_accounts(merged)
        locked = _lock(merged)
    # Checked under the locks: a concurrent twin with the same key, which locked
    # the same accounts, has committed by now and is visible (READ COMMITTED).
    existing = next(iter(JournalEntry.objects.filter(idempotency_key=idempotency_key).order_by()[:1]), None)
    if existing is not None:
        return _replay(existing, merged)

    for account in locked:
        new_balance = account.balance + merged[account.code]
        if account.kind in NON_NEGATIVE_KINDS and new_balance < 0:
            raise InsufficientFunds(
                _("账户 %(code)s 余额不足：余额 ¥%(bal)s，需 ¥%(need)s（不变量 2）")
                % {"code": account.code, "bal": f"{account.balance:,.2f}", "need": f"{-merged[account.code]:,.2f}"},
                rule="invariant 2",
            )
        account.balance = new_balance

    entry = JournalEntry.objects.create(memo=memo[:300], idempotency_key=idempotency_key,
                                        actor=actor if getattr(actor, "pk", None) else None, reverses=reverses)
    Posting.objects.bulk_create([Posting(entry=entry, account=a, amount=merged[a.code]) for a in locked])
    Account.objects.bulk_update(locked, ["balance"])
    return entry


@transaction.atomic
def reverse_entry(*, entry: JournalEntry, actor, memo: str) -> JournalEntry:
    """Correct a mistake with an opposite entry; postings are never edited."""
    lines = [(p.account.code, -p.amount) for p in entry.postings.select_related("account")]
    return post_entry(memo=memo, idempotency_key=f"reverse:{entry.pk}", lines=lines, actor=actor, reverses=entry)
