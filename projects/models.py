"""Cooperation projects and their milestones: fields, constraints and the FSMs of workflow.md.

Transition methods change fields in memory only; services in
``projects/services`` lock rows, check the rules, save, post to the ledger
and write the audit row.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.models import Organization, SchemeVersion
from core.money import MoneyField

from .choices import AttachmentKind, MilestoneState, Mode, ProjectState

S = ProjectState
M = MilestoneState


class Project(models.Model):
    enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="projects_as_enterprise",
                                   verbose_name=_("企业"))
    platform = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="projects_as_platform",
                                 verbose_name=_("科创平台"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("填报人"))
    scheme = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="projects",
                               verbose_name=_("适用政策版本"))
    mode = models.CharField(_("合作方式"), max_length=32, choices=Mode.choices)  # R1
    title = models.CharField(_("项目名称"), max_length=200)
    summary = models.TextField(_("项目简介"), blank=True)
    total_amount = MoneyField(_("协议总合作经费"))  # R2
    equipment_amount = MoneyField(_("归属企业固定资产的设备购置费"), default=0)  # R2
    budget = MoneyField(_("平台立项预算 B"))  # R6, I2
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    ip_terms = models.TextField(_("各阶段知识产权归属"), blank=True)  # R4
    profit_sharing = models.TextField(_("后续盈利分成"), blank=True)  # R4
    # R9, R12: the parties insure the cooperation; an insured proposal is filed with its policy.
    insured = models.BooleanField(_("投保科创保险"), default=False)
    state = FSMField(_("状态"), default=S.DRAFT, choices=S.choices, protected=True)
    notice_number = models.CharField(_("立项通知书编号"), max_length=40, unique=True, null=True, blank=True)
    notice_year = models.PositiveSmallIntegerField(null=True, blank=True)
    notice_seq = models.PositiveIntegerField(null=True, blank=True)
    mean_score = models.DecimalField(_("专家平均分"), max_digits=5, decimal_places=2, null=True, blank=True)
    # I13: the version of the proposal under review; returning it for changes opens the next round.
    review_round = models.PositiveSmallIntegerField(_("评审轮次"), default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.TextField(_("最近一次状态变更原因"), blank=True)
    exemplary = models.BooleanField(_("典型案例"), default=False)
    public_summary = models.TextField(_("公开摘要"), blank=True)
    public_amounts = models.BooleanField(_("公开金额"), default=False)  # R18: amounts published only if marked
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("合作项目")
        verbose_name_plural = _("合作项目")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="project_total_positive"),
            models.CheckConstraint(condition=Q(equipment_amount__gte=0), name="project_equipment_not_negative"),
            models.CheckConstraint(condition=Q(budget__gt=0), name="project_budget_positive"),
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="project_dates_ordered"),
            models.UniqueConstraint(fields=["notice_year", "notice_seq"], name="project_notice_year_seq"),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.title

    @property
    def eligible_amount(self):
        """Net cooperation funding (R2, I9): what flows through the Anxinbao account."""
        return self.total_amount - self.equipment_amount

    # -- transitions (workflow.md) --------------------------------------
    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=state, source=S.SUBMITTED, target=S.SIGNED)
    def platform_sign(self) -> None:
        pass

    @transition(field=state, source=S.SUBMITTED, target=S.DRAFT)
    def platform_decline(self) -> None:
        pass

    @transition(field=state, source=S.SIGNED, target=S.ACCEPTED)
    def accept(self) -> None:
        pass

    # From signed too: a proposal that 受理 refuses (R12: a document missing) goes back to the enterprise.
    @transition(field=state, source=[S.SIGNED, S.ACCEPTED, S.UNDER_REVIEW], target=S.DRAFT)
    def return_for_changes(self) -> None:
        pass

    @transition(field=state, source=S.ACCEPTED, target=S.UNDER_REVIEW)
    def start_review(self) -> None:
        pass

    @transition(field=state, source=S.UNDER_REVIEW, target=S.WAITLISTED)
    def queue(self) -> None:
        pass

    @transition(field=state, source=[S.UNDER_REVIEW, S.WAITLISTED], target=S.APPROVED)
    def approve(self, *, year: int, seq: int) -> None:
        self.notice_year = year
        self.notice_seq = seq
        self.notice_number = f"萧科安〔{year}〕{seq}号"
        self.approved_at = timezone.now()

    @transition(field=state, source=[S.UNDER_REVIEW, S.WAITLISTED], target=S.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=S.APPROVED, target=S.ACTIVE)
    def open_escrow(self) -> None:
        pass

    @transition(field=state, source=[S.APPROVED, S.ACTIVE], target=S.TERMINATED)
    def terminate(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=state, source=S.ACTIVE, target=S.COMPLETED)
    def close(self) -> None:
        self.closed_at = timezone.now()


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    seq = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("里程碑名称"), max_length=200)
    targets = models.TextField(_("目标"), blank=True)
    deliverables = models.TextField(_("交付成果"), blank=True)
    amount = MoneyField(_("阶段合作经费 T"))
    deposit_amount = MoneyField(_("约定保证金 D"))  # R5, R7
    start_date = models.DateField(_("开始日期"))
    due_date = models.DateField(_("截止日期"))
    state = FSMField(_("状态"), default=M.PLANNED, choices=M.choices, protected=True)
    paid_in = MoneyField(_("已缴入"), default=0)
    released_amount = MoneyField(_("已拨付平台"), default=0)
    forfeited_amount = MoneyField(_("已罚没"), default=0)
    refunded_amount = MoneyField(_("已退还企业"), default=0)
    completion_report = models.TextField(_("完成情况说明"), blank=True)
    started_at = models.DateTimeField(_("保证金到账时间"), null=True, blank=True)  # R7: work starts
    reported_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # who found the milestone met or not met: never the one who moves its money (separation of duties)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    overdue_at = models.DateTimeField(_("首次逾期时间"), null=True, blank=True)  # I7, I15
    decision_reason = models.TextField(_("审核意见"), blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    balance_due_date = models.DateField(_("尾款缴纳截止日期"), null=True, blank=True)  # I15
    breached_at = models.DateTimeField(_("认定违约时间"), null=True, blank=True)  # I15
    breached_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("违约认定人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")  # I15
    breach_reason = models.TextField(_("违约认定理由"), blank=True)  # I15
    breach_repaid_amount = MoneyField(_("违约终止时平台归还垫付金额"), null=True, blank=True)  # I15, I2

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")
        ordering = ["project_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="milestone_project_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(condition=Q(deposit_amount__gt=0) & Q(deposit_amount__lte=models.F("amount")),
                                   name="milestone_deposit_in_range"),
            models.CheckConstraint(condition=Q(due_date__gt=models.F("start_date")), name="milestone_dates_ordered"),
        ]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self) -> str:
        return f"{self.project} · {self.seq}. {self.title}"

    @property
    def payment_reference(self) -> str:
        """The reference the enterprise quotes on its bank transfer for this milestone."""
        return f"AXB-{self.project_id}-{self.seq}"

    @property
    def balance_due(self):
        return max(self.amount - self.paid_in, 0)

    @transition(field=state, source=M.PLANNED, target=M.DEPOSIT_DUE)
    def request_deposit(self) -> None:
        pass

    @transition(field=state, source=M.DEPOSIT_DUE, target=M.IN_PROGRESS)
    def confirm_deposit(self) -> None:
        self.started_at = timezone.now()

    @transition(field=state, source=M.IN_PROGRESS, target=M.REPORTED)
    def report_completion(self) -> None:
        self.reported_at = timezone.now()

    @transition(field=state, source=M.REPORTED, target=M.BALANCE_DUE)
    def review_met(self, *, by, balance_due_date=None) -> None:
        self._decided(by)
        self.balance_due_date = balance_due_date

    @transition(field=state, source=M.REPORTED, target=M.RELEASABLE)
    def review_met_fully_paid(self, *, by) -> None:
        """review_met when the whole tranche is already paid in (balance 0)."""
        self._decided(by)

    def _decided(self, by) -> None:
        self.decided_at = timezone.now()
        self.decided_by = by

    @transition(field=state, source=[M.BALANCE_DUE, M.BALANCE_OVERDUE], target=M.RELEASABLE)
    def confirm_balance(self) -> None:
        pass

    @transition(field=state, source=M.RELEASABLE, target=M.RELEASED)
    def release(self) -> None:
        self.settled_at = timezone.now()

    @transition(field=state, source=[M.REPORTED, M.IN_PROGRESS, M.OVERDUE], target=M.FAILED)
    def review_not_met(self, *, by) -> None:
        self._decided(by)

    @transition(field=state, source=[M.FAILED, M.BREACHED], target=M.FORFEITED)
    def forfeit(self) -> None:
        self.settled_at = timezone.now()

    @transition(field=state, source=M.IN_PROGRESS, target=M.OVERDUE)
    def mark_overdue(self) -> None:
        self.overdue_at = self.overdue_at or timezone.now()

    @transition(field=state, source=M.OVERDUE, target=M.IN_PROGRESS)
    def extend(self, *, due_date) -> None:
        self.due_date = due_date

    @transition(field=state, source=M.BALANCE_DUE, target=M.BALANCE_OVERDUE)
    def mark_balance_overdue(self) -> None:
        """I15: the balance was not confirmed within the scheme's balance_grace_days of review_met."""
        self.overdue_at = self.overdue_at or timezone.now()

    @transition(field=state, source=M.BALANCE_OVERDUE, target=M.BALANCE_DUE)
    def extend_balance(self, *, balance_due_date) -> None:
        self.balance_due_date = balance_due_date

    @transition(field=state, source=M.BALANCE_OVERDUE, target=M.BREACHED)
    def declare_breach(self, *, by, reason: str, repaid_amount) -> None:
        self.breached_at = timezone.now()
        self.breached_by = by
        self.breach_reason = reason
        self.breach_repaid_amount = repaid_amount

    @transition(field=state, source=[M.PLANNED, M.DEPOSIT_DUE], target=M.CANCELLED)
    def cancel(self) -> None:
        """I15: a milestone holding no money whose project ended before it started."""
        self.settled_at = timezone.now()


def attachment_path(instance: Attachment, filename: str) -> str:
    import uuid

    return f"projects/{instance.project_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file of a project, stored outside the web root, served only after a permission check."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attachments")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="attachments")
    kind = models.CharField(_("类型"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "pk"]


class ExpertAssignment(models.Model):
    """An expert drawn for a project's approval review (R13) or a milestone's acceptance (R16)."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("待评审")
        SCORED = "scored", _("已评分")
        WITHDRAWN = "withdrawn", _("回避")
        VOIDED = "voided", _("已作废（退回修改）")  # I13: scores of an earlier version of the proposal

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASSIGNED)
    round = models.PositiveSmallIntegerField(_("评审轮次"), default=1)  # I13: the project's review_round when drawn
    feasibility = models.PositiveSmallIntegerField(_("可行性"), null=True, blank=True)
    terms = models.PositiveSmallIntegerField(_("协议条款合理性"), null=True, blank=True)
    cost = models.PositiveSmallIntegerField(_("研发成本"), null=True, blank=True)
    opinion = models.TextField(_("评审意见"), blank=True)
    conflict_reason = models.TextField(_("回避原因"), blank=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("专家评审")
        verbose_name_plural = _("专家评审")
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "milestone", "expert", "round"],
                                    name="assignment_unique_expert_round", nulls_distinct=False),
            models.CheckConstraint(condition=Q(feasibility__isnull=True) | Q(feasibility__lte=100),
                                   name="assignment_feasibility_range"),
            models.CheckConstraint(condition=Q(terms__isnull=True) | Q(terms__lte=100), name="assignment_terms_range"),
            models.CheckConstraint(condition=Q(cost__isnull=True) | Q(cost__lte=100), name="assignment_cost_range"),
        ]

    @property
    def score(self):
        from decimal import Decimal

        if None in (self.feasibility, self.terms, self.cost):
            return None
        return (Decimal(self.feasibility + self.terms + self.cost) / 3).quantize(Decimal("0.01"))


class ConflictDeclaration(models.Model):
    """An expert's standing declaration of a conflict with an organisation (回避)."""

    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expert", "organization"], name="conflict_unique")]


class NoticeCounter(models.Model):
    """One row per year, locked to hand out 萧科安〔YYYY〕N号 with no gap and no duplicate."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


from .loans.models import GuaranteeLoan  # noqa: E402,F401  (R10; its own module, registered with this app)
