"""The ledger's single entry point (workflow.md, invariants 1, 2 and 5)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import ZERO, format_amount, has_at_most_two_places

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
            raise LedgerError(_("金额不得使用浮点数: %(a)r") % {"a": amount}, code="invalid_amount", rule="I4")
        try:
            amount = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError):
            raise LedgerError(_("金额无效: %(a)r") % {"a": amount}, code="invalid_amount") from None
        if not amount.is_finite() or not has_at_most_two_places(amount):
            raise LedgerError(_("金额最多两位小数: %(a)s") % {"a": amount}, code="invalid_amount", rule="I4")
        try:
            codes.kind_of(code)
            codes.owner_id_of(code)
            codes.project_id_of(code)
        except (ValueError, IndexError, AttributeError):
            raise LedgerError(_("未知的科目代码: %(c)s") % {"c": code}, code="unknown_account") from None
        merged[code] += amount
    merged = {code: amount for code, amount in merged.items() if amount != 0}
    if len(merged) < 2:
        raise LedgerError(_("一笔分录至少需要两个非零过账"), code="invalid_entry", rule="invariant 1")
    if sum(merged.values()) != 0:
        raise LedgerError(_("分录借贷不平衡，合计 %(s)s") % {"s": sum(merged.values())},
                          code="unbalanced_entry", rule="invariant 1")
    return merged


def _lock(merged: dict[str, Decimal]) -> list[Account]:
    """Lock the entry's accounts in primary-key order (one order for everybody: no deadlock)."""
    return list(Account.objects.select_for_update(no_key=True).filter(code__in=list(merged)).order_by("pk"))


def _replay(existing: JournalEntry, merged: dict[str, Decimal]) -> JournalEntry:
    posted = {code: amount for code, amount in existing.postings.values_list("account__code", "amount")}
    if posted != merged:
        raise _key_reused(existing.idempotency_key)
    return existing


def _insufficient(code: str, balance: Decimal, need: Decimal) -> InsufficientFunds:
    return InsufficientFunds(
        _("%(account)s余额不足：余额 ¥%(bal)s，需 ¥%(need)s")
        % {"account": codes.account_name(code), "bal": format_amount(balance), "need": format_amount(need)},
        rule="invariant 2",
    )


def _key_reused(key: str) -> LedgerError:
    return LedgerError(_("幂等键 %(k)s 已用于另一笔不同的分录") % {"k": key}, code="idempotency_key_reused")


def uses_sql_path() -> bool:
    """PostgreSQL posts through the installed function (one round trip); SQLite through Python."""
    return connection.vendor == "postgresql" and getattr(settings, "ANXINBAO_LEDGER_SQL", True)


def post_entry(*, memo: str, idempotency_key: str, lines: Iterable[Line], actor=None,
               reverses: JournalEntry | None = None) -> JournalEntry:
    """Post one balanced journal entry, exactly once per idempotency key.

    Accounts are locked in primary-key order (no deadlock between two entries
    touching the same accounts in any order); balances are updated under the
    lock; a guarded account that would go below zero refuses the whole entry.
    A second call with the same key and the same lines returns the first entry
    and changes nothing; the same key with other lines is refused.

    On PostgreSQL all of this is one call of ``anxinbao_post_entry`` (escrow/sql/post_entry.sql):
    one round trip, and no savepoint inside a caller's transaction (the function returns its
    refusals instead of raising, so the caller's transaction stays usable). SQLite runs the same
    steps in Python.
    """
    if not idempotency_key:
        raise LedgerError(_("分录必须带幂等键"), code="idempotency_key_required")
    merged = normalise_lines(lines)
    actor = actor if getattr(actor, "pk", None) else None
    if not uses_sql_path():
        return _post_python(memo=memo[:300], key=idempotency_key, merged=merged, actor=actor, reverses=reverses)
    # Outside a transaction the one statement is its own transaction (the function is all or nothing);
    # inside one it joins it, without a savepoint.
    return _post_sql(memo=memo[:300], key=idempotency_key, merged=merged, actor=actor, reverses=reverses)


_SQL = ("SELECT status, entry_id, account_code, balance, need FROM anxinbao_post_entry("
        "%s, %s, %s, %s, %s, %s::text[], %s::numeric[], %s::text[], %s::bigint[], %s::bigint[], %s::text[])")


def _post_sql(*, memo: str, key: str, merged: dict[str, Decimal], actor, reverses) -> JournalEntry:
    account_codes = list(merged)
    created = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [
            memo, key, actor.pk if actor else None, reverses.pk if reverses else None, created,
            account_codes, [merged[c] for c in account_codes], [str(codes.kind_of(c)) for c in account_codes],
            [codes.owner_id_of(c) for c in account_codes], [codes.project_id_of(c) for c in account_codes],
            [str(k) for k in NON_NEGATIVE_KINDS],
        ])
        status, entry_id, account_code, balance, need = cursor.fetchone()
    if status == "ok":
        entry = JournalEntry(pk=entry_id, memo=memo, idempotency_key=key, actor=actor, created_at=created,
                             reverses=reverses)
        entry._state.adding = False
        entry._state.db = connection.alias
        return entry
    if status == "replay":
        return JournalEntry.objects.get(pk=entry_id)
    if status == "key_reused":
        raise _key_reused(key)
    if status == "insufficient":
        raise _insufficient(account_code, balance, need)
    if status == "unknown_owner":
        raise LedgerError(_("外部账户所属组织不存在: %(ids)s") % {"ids": account_code}, code="unknown_account")
    raise LedgerError(f"anxinbao_post_entry: {status}", code="ledger_error")  # pragma: no cover


@transaction.atomic
def _post_python(*, memo: str, key: str, merged: dict[str, Decimal], actor, reverses) -> JournalEntry:
    locked = _lock(merged)
    if len(locked) < len(merged):  # first posting to some account: create it, then lock again
        _ensure_accounts(merged)
        locked = _lock(merged)
    # Checked under the locks: a concurrent twin with the same key, which locked
    # the same accounts, has committed by now and is visible (READ COMMITTED).
    existing = next(iter(JournalEntry.objects.filter(idempotency_key=key).order_by()[:1]), None)
    if existing is not None:
        return _replay(existing, merged)

    for account in locked:
        new_balance = account.balance + merged[account.code]
        if account.kind in NON_NEGATIVE_KINDS and new_balance < 0:
            raise _insufficient(account.code, account.balance, -merged[account.code])
        account.balance = new_balance

    entry = JournalEntry.objects.create(memo=memo, idempotency_key=key, actor=actor, reverses=reverses)
    Posting.objects.bulk_create([Posting(entry=entry, account=a, amount=merged[a.code]) for a in locked])
    Account.objects.bulk_update(locked, ["balance"])
    return entry


@transaction.atomic
def reverse_entry(*, entry: JournalEntry, actor, memo: str) -> JournalEntry:
    """Correct a mistake with an opposite entry; postings are never edited."""
    lines = [(p.account.code, -p.amount) for p in entry.postings.select_related("account")]
    return post_entry(memo=memo, idempotency_key=f"reverse:{entry.pk}", lines=lines, actor=actor, reverses=entry)
