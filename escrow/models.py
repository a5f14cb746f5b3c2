"""The double-entry ledger, and money operations executed by workers.

escrow knows accounts, entries and operations, never proposals or milestones.
"""
from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.chain import Sealed, seal_once_trigger, sealed_constraints, sealed_indexes
from core.models import Organization
from core.money import MoneyField

from .choices import NON_NEGATIVE_KINDS, AccountKind, OperationKind, OperationState


class Account(models.Model):
    code = models.CharField(_("科目代码"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=AccountKind.choices)
    name = models.CharField(_("名称"), max_length=200, blank=True)
    owner = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="accounts", verbose_name=_("所属组织"))
    currency = models.CharField(max_length=3, default="CNY", editable=False)
    # Maintained under the account's row lock in the same transaction as its postings.
    balance = MoneyField(_("余额"), default=0, editable=False)
    # The project of a custody:P:k or pool:advanced:P account (a plain id: escrow
    # does not know projects); used to scope what an organisation may see.
    project_ref = models.PositiveBigIntegerField(null=True, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=list(NON_NEGATIVE_KINDS)) | Q(balance__gte=0),
                name="account_balance_not_negative",
                violation_error_message="invariant 2: balance below zero",
            ),
            models.CheckConstraint(condition=Q(currency="CNY"), name="account_currency_cny"),
        ]

    def __str__(self) -> str:
        return self.code


class JournalEntry(Sealed):
    """One balanced movement; its seal (chain_seq, prev_hash, hash) is set later by escrow.services.seal."""

    memo = models.CharField(_("摘要"), max_length=300)
    # Room for the "op:" prefix put before an operation's own key (max 200).
    idempotency_key = models.CharField(max_length=255, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by", verbose_name=_("冲正分录"))

    class Meta:
        verbose_name = _("记账分录")
        verbose_name_plural = _("记账分录")
        ordering = ["pk"]
        indexes = sealed_indexes("journal_entry")
        constraints = sealed_constraints("journal_entry")
        # Append-only; the seal may be set once (core.chain.seal_once_trigger).
        triggers = [seal_once_trigger("journal_entry_append_only")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.memo}"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = MoneyField(_("金额"))  # signed: positive = into the account

    class Meta:
        verbose_name = _("过账")
        verbose_name_plural = _("过账")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]
        triggers = [
            pgtrigger.Protect(name="posting_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # Invariant 1, checked by PostgreSQL at commit: every entry sums to zero.
            pgtrigger.Trigger(
                name="posting_entry_balances",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred,
                func="""
                IF (SELECT COALESCE(SUM(amount), 0) FROM escrow_posting WHERE entry_id = NEW.entry_id) <> 0 THEN
                    RAISE EXCEPTION 'invariant 1: journal entry % does not balance', NEW.entry_id
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NULL;
                """,
            ),
        ]


class MoneyOperation(models.Model):
    """A money movement ordered by someone and executed exactly once by a worker.

    ``lines`` holds the postings to make: [[account_code, "amount"], …].
    ``purpose`` and ``context`` let another app's completion hook recognise it
    (e.g. purpose "milestone_release", context {"milestone": 7}).
    """

    kind = models.CharField(_("类型"), max_length=16, choices=OperationKind.choices)
    amount = MoneyField(_("金额"))
    state = FSMField(_("状态"), default=OperationState.REQUESTED, choices=OperationState.choices, protected=True)
    memo = models.CharField(_("摘要"), max_length=300)
    lines = models.JSONField(default=list)
    purpose = models.CharField(max_length=64, blank=True, db_index=True)
    context = models.JSONField(default=dict, blank=True)
    # context["project"], copied to an indexed column for scoping by organisation.
    project_ref = models.PositiveBigIntegerField(null=True, blank=True, db_index=True, editable=False)
    bank_ref = models.CharField(_("银行流水号"), max_length=100, blank=True, db_index=True)
    reference = models.CharField(_("付款附言"), max_length=100, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    requires_confirmation = models.BooleanField(_("需双人复核"), default=False)
    failure_reason = models.TextField(_("失败原因"), blank=True)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("发起人"))
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("执行人"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("复核人"))
    # The second operator who refused to confirm it (maker–checker); the reason is in failure_reason.
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("驳回人"))
    entry = models.OneToOneField(JournalEntry, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="operation")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Unexpected errors while executing (not domain refusals); the sweep stops at
    # ANXINBAO_OPERATION_MAX_ATTEMPTS and a person redispatches (docs/escrow.md, "The sweep").
    execution_errors = models.PositiveIntegerField(_("执行出错次数"), default=0)

    class Meta:
        verbose_name = _("资金操作")
        verbose_name_plural = _("资金操作")
        ordering = ["-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="operation_amount_positive")]
        indexes = [models.Index(fields=["state", "dispatched_at"], name="operation_state_dispatched")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ¥{self.amount}"

    # Transitions change fields in memory only; services lock, save and audit.
    @transition(field=state, source=OperationState.REQUESTED, target=OperationState.AWAITING_CONFIRMATION)
    def await_confirmation(self) -> None:
        self.requires_confirmation = True

    @transition(field=state, source=OperationState.AWAITING_CONFIRMATION, target=OperationState.REQUESTED)
    def confirm(self, *, by) -> None:
        self.confirmed_by = by
        self.executed_by = by  # the second operator's confirmation is what sets the money moving

    @transition(field=state, source=OperationState.AWAITING_CONFIRMATION, target=OperationState.FAILED)
    def reject(self, *, by, reason: str) -> None:
        """The second operator refuses: nothing was posted, the order ends failed with who refused and why."""
        self.rejected_by = by
        self.failure_reason = reason
        self.finished_at = timezone.now()

    @transition(field=state, source=OperationState.REQUESTED, target=OperationState.EXECUTING)
    def start(self) -> None:
        self.attempts += 1

    @transition(field=state, source=OperationState.EXECUTING, target=OperationState.DONE)
    def finish(self, *, entry: JournalEntry) -> None:
        self.entry = entry
        self.finished_at = timezone.now()
        self.failure_reason = ""  # an earlier attempt's error (its audit row stays) no longer describes it

    @transition(field=state, source=[OperationState.REQUESTED, OperationState.EXECUTING,
                                     OperationState.AWAITING_CONFIRMATION], target=OperationState.FAILED)
    def fail(self, *, reason: str) -> None:
        self.failure_reason = reason
        self.finished_at = timezone.now()


class PoolTranche(models.Model):
    """A tranche or top-up of the risk pool (R3, I1), recorded by the pool manager."""

    amount = MoneyField(_("金额"))
    decided_on = models.DateField(_("决定日期"))
    decision_ref = models.CharField(_("决定文号"), max_length=100, blank=True)
    note = models.TextField(_("说明"), blank=True)
    operation = models.OneToOneField(MoneyOperation, on_delete=models.PROTECT, related_name="tranche")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("风险池注资")
        verbose_name_plural = _("风险池注资")
        ordering = ["decided_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="tranche_amount_positive")]


class PoolDay(models.Model):
    """The pool's figures at the end of one closed day with pool entries: the stored daily series of its chart.

    Written by ``escrow.selectors.pool_days`` the first time a closed day is read (postings are append-only,
    so a closed day never changes); today's figures are read live from the account balances.
    """

    day = models.DateField(_("日期"), unique=True)
    funding = MoneyField(_("注资累计"))
    available = MoneyField(_("可用"))
    advanced = MoneyField(_("已垫付"))
    losses = MoneyField(_("损失"))
    entries = models.PositiveIntegerField(_("当日分录数"))

    class Meta:
        verbose_name = _("风险池日终数")
        verbose_name_plural = _("风险池日终数")
        ordering = ["day"]


class BankStatement(models.Model):
    """A bank statement of the Anxinbao account uploaded by a custodian operator (reconciliation)."""

    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    period_start = models.DateField(_("起始日期"), null=True, blank=True)
    period_end = models.DateField(_("截止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("银行对账单")
        verbose_name_plural = _("银行对账单")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d})"


class BankStatementLine(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("收入")
        OUT = "out", _("支出")

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("行号"))
    date = models.DateField(_("日期"))
    amount = MoneyField(_("金额"))
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    bank_ref = models.CharField(_("银行流水号"), max_length=100)
    counterparty = models.CharField(_("对方户名"), max_length=200, blank=True)
    operation = models.ForeignKey(MoneyOperation, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="statement_lines", verbose_name=_("匹配的资金操作"))

    class Meta:
        verbose_name = _("对账单明细")
        verbose_name_plural = _("对账单明细")
        ordering = ["statement_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "line_no"], name="statement_line_no"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="statement_line_amount_positive"),
        ]
