"""Insurance, annual evaluation and the two subsidies (R9, R11, R15, R17, R20, I4–I6, I8).

Figures are never edited: a recomputation that gives another figure is a new
version; an approved or paid version stays as it was (see services.py).
Transition methods change fields in memory only; services lock, save and audit.
"""
from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.models import Organization, SchemeVersion
from core.money import MoneyField, money
from projects.models import Milestone, Project

from .choices import ComputationState, InsuredParty, PolicyType, RunKind

CS = ComputationState


class InsurancePolicy(models.Model):
    """R9: tailored R&D insurance bought by the enterprise or the platform for one project."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="insurance_policies",
                                verbose_name=_("合作项目"))
    insurer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="policies_written",
                                verbose_name=_("保险公司"))
    insured = models.CharField(_("被保险人"), max_length=16, choices=InsuredParty.choices,
                               default=InsuredParty.ENTERPRISE)
    type = models.CharField(_("险种"), max_length=16, choices=PolicyType.choices)
    policy_number = models.CharField(_("保单号"), max_length=64, blank=True)
    premium = MoneyField(_("保费"))
    cover = MoneyField(_("保险金额"))
    start_date = models.DateField(_("保险起期"))
    end_date = models.DateField(_("保险止期"))
    document = models.FileField(_("保单文件"), upload_to="insurance/%Y/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("科创保险保单")
        verbose_name_plural = _("科创保险保单")
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(premium__gt=0), name="policy_premium_positive"),
            models.CheckConstraint(condition=Q(cover__gt=0), name="policy_cover_positive"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="policy_period"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.policy_number or self.pk}"

    @property
    def year(self) -> int:
        """The policy's year is that of its start date (api.md)."""
        return self.start_date.year


class InsuranceClaim(models.Model):
    """R9: the insurer's loss assessment and what it actually paid (reduces the grant, R11)."""

    policy = models.ForeignKey(InsurancePolicy, on_delete=models.PROTECT, related_name="claims",
                               verbose_name=_("保单"))
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="insurance_claims", verbose_name=_("所涉里程碑"))
    description = models.TextField(_("出险情况"), blank=True)
    assessed_loss = MoneyField(_("核定损失"))
    paid_amount = MoneyField(_("实际赔付"), default=0)
    paid_on = models.DateField(_("赔付日期"), null=True, blank=True)
    # I10: the year of the input it compensates (counts against that year's grant, not the year paid).
    loss_year = models.PositiveSmallIntegerField(_("损失所属年度"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("保险理赔")
        verbose_name_plural = _("保险理赔")
        ordering = ["paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(assessed_loss__gte=0), name="claim_loss_not_negative"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="claim_paid_not_negative"),
            models.CheckConstraint(condition=Q(paid_amount=0) | Q(paid_on__isnull=False),
                                   name="claim_paid_has_date"),
        ]


class AnnualAudit(models.Model):
    """R15, I5: the yearly third-party evaluation and audited actual input of one project."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="annual_audits",
                                verbose_name=_("合作项目"))
    year = models.PositiveSmallIntegerField(_("年度"))
    ledger_input = MoneyField(_("账户记录的实际投入"), default=0, editable=False)
    audited_input = MoneyField(_("审计确认的实际投入"))
    reason = models.TextField(_("差异原因"), blank=True)
    expert_evaluation = models.TextField(_("专家组评价"), blank=True)
    report = models.FileField(_("专项审计报告"), upload_to="audits/%Y/", blank=True)
    opinion = models.TextField(_("企业验收意见"), blank=True)
    opinion_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    opinion_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年度评价与专项审计")
        verbose_name_plural = _("年度评价与专项审计")
        ordering = ["-year", "project_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="audit_project_year"),
            models.CheckConstraint(condition=Q(audited_input__gte=0), name="audit_input_not_negative"),
            # I5: an audited figure that differs from the ledger's carries a reason.
            models.CheckConstraint(condition=Q(audited_input=models.F("ledger_input")) | ~Q(reason=""),
                                   name="audit_difference_has_reason"),
        ]

    @property
    def differs(self) -> bool:
        return self.audited_input != self.ledger_input


class OtherPolicySubsidy(models.Model):
    """R20, I8: a same-type premium subsidy another district or level already paid."""

    enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="other_subsidies",
                                   verbose_name=_("企业"))
    policy_name = models.CharField(_("政策名称"), max_length=200)
    issuer = models.CharField(_("发放地区或层级"), max_length=100)
    type = models.CharField(_("险种"), max_length=16, choices=PolicyType.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = MoneyField(_("已获补助金额"))
    premium_covered = MoneyField(_("所补保费"), default=0)
    policy = models.ForeignKey(InsurancePolicy, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="other_subsidies", verbose_name=_("对应保单"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("其他政策同类补助")
        verbose_name_plural = _("其他政策同类补助")
        ordering = ["-year", "enterprise_id", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="other_subsidy_positive")]


def _recovery_constraints(prefix: str) -> list:
    """I10: a recovery is never negative and never recovered beyond itself; netting is never negative."""
    return [
        models.CheckConstraint(condition=Q(recovery__gte=0) & Q(recovered__gte=0)
                               & Q(recovered__lte=models.F("recovery")), name=f"{prefix}_recovery_range"),
        models.CheckConstraint(condition=Q(netted__gte=0), name=f"{prefix}_netted_not_negative"),
    ]


# Trace keys that describe the run rather than the figure: two runs giving the same figure differ only there.
VOLATILE_TRACE_KEYS = ("supersedes", "previously_paid", "scheme")


def trace_digest(trace: dict) -> str:
    """SHA-256 of a trace without its volatile keys (canonical JSON): equal digests, equal figures' workings.

    A recomputation compares this instead of reading and decoding every stored trace (issue 13: a rerun of
    10,000 enterprises read 20,000 JSON documents to find that nothing had changed).
    """
    body = {k: v for k, v in trace.items() if k not in VOLATILE_TRACE_KEYS}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SubsidyFigure(models.Model):
    """Common shape of a versioned, traced figure per enterprise and year."""

    enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("企业"))
    year = models.PositiveSmallIntegerField(_("年度"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    amount = MoneyField(_("金额"))
    uncapped_amount = MoneyField(_("封顶前金额"))
    capped = models.BooleanField(_("触及上限"), default=False)
    trace = models.JSONField(_("计算过程"), default=dict)
    trace_digest = models.CharField(max_length=64, blank=True, editable=False)  # trace_digest(trace)
    scheme = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("适用政策版本"))
    state = FSMField(_("状态"), default=CS.COMPUTED, choices=CS.choices, protected=True)
    computed_at = models.DateTimeField(_("测算时间"), default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("审定人"))
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_amount = MoneyField(_("拨付金额"), null=True, blank=True)
    paid_on = models.DateField(_("拨付日期"), null=True, blank=True)
    voucher = models.CharField(_("凭证号"), max_length=64, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("拨付登记人"))
    # I10: what had been paid for the year above this version when it was computed or approved (追回),
    # how much of it was netted from later payments so far, and what this payment netted (listed in
    # ``netted_from``). A payment's value to the enterprise is paid_amount + netted − recovered.
    recovery = MoneyField(_("追回金额"), default=0)
    recovered = MoneyField(_("已追回金额"), default=0)
    netted = MoneyField(_("本次拨付抵扣的追回款"), default=0)
    netted_from = models.JSONField(_("抵扣明细"), default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["year", "enterprise_id", "version"]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year} v{self.version}"

    @property
    def settled_value(self):
        """I10: what this version has given the enterprise: cash paid plus recovery netted from the
        payment, less what was recovered on it."""
        return money(self.paid_amount or 0) + self.netted - self.recovered

    @property
    def due(self):
        """What this version still asks to pay: its amount less what the other versions of the same
        enterprise and year have given the enterprise. Read from the rows now, never from the trace (which
        records what had been paid when the figure was computed: a version paid later counts too).
        Negative when more was paid than this version's amount: a recovery (I10)."""
        others = type(self).objects.filter(enterprise_id=self.enterprise_id, year=self.year).exclude(pk=self.pk)
        return self.amount - sum((r.settled_value for r in others.only(
            "paid_amount", "netted", "recovered")), money(0))

    @property
    def recovery_outstanding(self):
        """I10: what of this version's recovery is still owed (only an approved version is owed)."""
        if self.state != CS.APPROVED:
            return money(0)
        return self.recovery - self.recovered

    @transition(field=state, source=CS.COMPUTED, target=CS.APPROVED)
    def approve(self, *, by) -> None:
        self.approved_by = by
        self.approved_at = timezone.now()

    @transition(field=state, source=CS.APPROVED, target=CS.PAID)
    def pay(self, *, by, amount, on, voucher: str) -> None:
        self.paid_by = by
        self.paid_amount = amount
        self.paid_on = on
        self.voucher = voucher

    @transition(field=state, source=[CS.COMPUTED, CS.APPROVED], target=CS.SUPERSEDED)
    def supersede(self) -> None:
        pass


class GrantComputation(SubsidyFigure):
    """R11, I5: 30 % of the audited input less claims paid, per project, summed, capped per year."""

    class Meta(SubsidyFigure.Meta):
        verbose_name = _("研发投入资助测算")
        verbose_name_plural = _("研发投入资助测算")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year", "version"], name="grant_enterprise_year_version"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(amount__lte=models.F("uncapped_amount")),
                                   name="grant_amount_range"),
            *_recovery_constraints("grant"),
        ]


class PremiumSubsidy(SubsidyFigure):
    """R9, I6, I8: 80 % of the premium, capped per year, less same-type subsidies paid elsewhere."""

    class Meta(SubsidyFigure.Meta):
        verbose_name = _("保费补助测算")
        verbose_name_plural = _("保费补助测算")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year", "version"],
                                    name="premium_enterprise_year_version"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="premium_amount_not_negative"),
            *_recovery_constraints("premium"),
        ]


class SubsidyRun(models.Model):
    """One run of a yearly computation: what it created, left unchanged and excluded (R17)."""

    kind = models.CharField(max_length=16, choices=RunKind.choices)
    year = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-pk"]
