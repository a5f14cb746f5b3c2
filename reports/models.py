"""A report is a row first (kind, parameters, state, progress), then a worker renders its file."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.models import Organization

from .choices import ReportKind, ReportState

S = ReportState


def report_path(instance: Report, filename: str) -> str:
    import uuid

    ext = filename.rsplit(".", 1)[-1] if "." in filename else "pdf"
    return f"reports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Report(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=ReportKind.choices)
    params = models.JSONField(_("参数"), default=dict)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports",
                                     verbose_name=_("申请人"))
    # The requester's organisation at request time: reports are scoped by it.
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="reports")
    state = FSMField(_("状态"), default=S.QUEUED, choices=S.choices, protected=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    number = models.CharField(_("文号"), max_length=60, blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    file = models.FileField(upload_to=report_path, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)  # last time the task was sent
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("报告")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=100), name="report_progress_range"),
            # A number is issued once; approval notices print their project's notice number each time.
            models.UniqueConstraint(fields=["number"], condition=~Q(number="") & ~Q(kind="approval_notice"),
                                    name="report_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def content_type(self) -> str:
        """Every report is a PDF but the dossier export, a zip of the dossier and its attachments."""
        return "application/zip" if self.kind == ReportKind.DOSSIER_EXPORT else "application/pdf"

    # Transitions change fields in memory only; services lock, save and audit.
    @transition(field=state, source=[S.QUEUED, S.RUNNING], target=S.RUNNING)
    def start(self) -> None:
        """queued → running; running → running when a redelivered task takes over a dead worker's job."""
        self.attempts += 1
        self.progress = 0
        self.error = ""
        self.started_at = timezone.now()

    @transition(field=state, source=S.RUNNING, target=S.DONE)
    def finish(self) -> None:
        self.progress = 100
        self.finished_at = timezone.now()

    @transition(field=state, source=[S.QUEUED, S.RUNNING], target=S.FAILED)
    def fail(self, *, error: str) -> None:
        self.error = error
        self.finished_at = timezone.now()

    @transition(field=state, source=S.FAILED, target=S.QUEUED)
    def retry(self) -> None:
        self.progress = 0
        self.error = ""


class DocumentCounter(models.Model):
    """One row per document prefix and year, locked to number documents 萧科安审〔YYYY〕N号 with no gap and
    no duplicate (the approval notice has its own counter in projects). Kinds that share a prefix share a
    sequence."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="document_counter_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.last}"

