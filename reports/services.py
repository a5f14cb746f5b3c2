"""Writes of the reports app: request a report, render it (called by the task)."""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.exceptions import DomainError
from core.services import audit_record, lock_or_create

from . import selectors
from .choices import NUMBER_PREFIX, ReportKind, ReportState
from .models import DocumentCounter, Report
from .permissions import report_authorise

log = logging.getLogger(__name__)


def _precheck(kind: str, params: dict) -> None:
    """Refuse at once what cannot be rendered, rather than failing later in the worker."""
    if kind == ReportKind.APPROVAL_NOTICE:
        from projects.models import Project

        if not Project.objects.filter(pk=params["project"], notice_number__isnull=False).exists():
            raise DomainError(_("项目尚未立项，没有准予立项通知书"), code="not_approved", rule="R13")
    if kind == ReportKind.SUBSIDY_DECISION:
        figures = selectors.subsidy_figures(year=params["year"], enterprise_id=params["enterprise"],
                                            decided_only=True)
        if not (figures.grants or figures.premiums):
            raise DomainError(_("该企业本年度尚无经审定的资助或保费补助，不能出具决定书"),
                              code="subsidy_not_approved", rule="R11")


@transaction.atomic
def report_request(*, actor, kind: str, params: dict) -> Report:
    """Record the request (queued) and dispatch the rendering task after commit."""
    clean = report_authorise(user=actor, kind=kind, params=params)
    _precheck(kind, clean)
    report = Report.objects.create(kind=kind, params=clean, requested_by=actor, organization=actor.organization,
                                   title=ReportKind(kind).label)
    audit_record(actor=actor, target=report, action="request", to_state=ReportState.QUEUED,
                 data={"kind": kind, "params": clean})
    _dispatch(report.pk)
    return report


def _dispatch(report_id: int) -> None:
    from .tasks import render_report

    Report.objects.filter(pk=report_id).update(dispatched_at=timezone.now())
    transaction.on_commit(lambda: render_report.delay(report_id))


def reports_stuck(*, now=None) -> list[int]:
    """Reports no worker finished: queued and sent too long ago (message lost), or running on a dead worker."""
    now = now or timezone.now()
    resend = getattr(settings, "REPORTS_REDISPATCH_AFTER", timedelta(minutes=10))
    from django.db.models import Q

    return list(Report.objects.filter(
        Q(state=ReportState.QUEUED) & (Q(dispatched_at__lt=now - resend) | Q(dispatched_at__isnull=True))
        | Q(state=ReportState.RUNNING, started_at__lt=now - _stale_after())
        & (Q(dispatched_at__lt=now - resend) | Q(dispatched_at__isnull=True))
    ).values_list("pk", flat=True))


def reports_redispatch(ids: list[int]) -> int:
    for pk in ids:
        with transaction.atomic():
            _dispatch(pk)
    return len(ids)


def document_number(report: Report) -> str:
    """The document's number, printed on it: the approval notice's own 萧科安〔YYYY〕N号; for the other kinds
    the next number of the prefix's sequence for the year the report was requested in.

    Called once per report, in the transaction that claims it for rendering (``_claim``): if that
    transaction rolls back, so does the counter, so numbers have no gap. A report whose rendering fails
    keeps its number, and its retry prints the same one.
    """
    if report.kind == ReportKind.APPROVAL_NOTICE:
        from projects.models import Project

        return Project.objects.values_list("notice_number", flat=True).get(pk=report.params["project"])
    prefix = NUMBER_PREFIX[report.kind]
    year = timezone.localdate(report.created_at).year
    counter = lock_or_create(DocumentCounter, prefix=prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}〔{year}〕{counter.last}号"


def _stale_after() -> timedelta:
    return getattr(settings, "REPORTS_STALE_AFTER", timedelta(minutes=30))


def _set_progress(report_id: int, percent: int) -> None:
    # Outside any transaction on purpose: the page polling the report sees it at once.
    Report.objects.filter(pk=report_id, state=ReportState.RUNNING).update(progress=max(0, min(99, percent)))


def _claim(report_id: int) -> Report | None:
    """queued → running under the row lock; None when there is nothing to do (idempotent)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.state in (ReportState.DONE, ReportState.FAILED):
            return None
        if report.state == ReportState.RUNNING and report.started_at and \
                timezone.now() - report.started_at < _stale_after():
            return None  # another worker is on it; a redelivery after a crash comes later than this
        from_state = report.state
        report.start()
        if not report.number:
            report.number = document_number(report)
        report.save(update_fields=["state", "attempts", "progress", "error", "started_at", "number"])
        audit_record(actor=None, target=report, action="start", from_state=from_state, to_state=report.state)
        return report


def report_render(*, report_id: int) -> Report | None:
    """Render the report's file. A second delivery finds it done (or being rendered) and does nothing."""
    from . import documents

    report = _claim(report_id)
    if report is None:
        return Report.objects.filter(pk=report_id).first()
    try:
        output = documents.build(report.kind, report.params, number=report.number,
                                 issued_on=timezone.localdate(report.created_at),
                                 progress=lambda p: _set_progress(report.pk, p))
    except Exception as exc:  # the report records why; the worker stays up
        log.exception("report %s failed", report.pk)
        detail = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            if report.state == ReportState.RUNNING:
                report.fail(error=str(detail)[:2000])
                report.save(update_fields=["state", "error", "finished_at"])
                audit_record(actor=None, target=report, action="fail", from_state=ReportState.RUNNING,
                             to_state=report.state, reason=report.error)
        return report
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.state != ReportState.RUNNING:
            return report
        report.file.save(output.filename.rsplit("/", 1)[-1], ContentFile(output.content), save=False)
        report.filename = output.filename
        report.title = output.title
        report.pages = output.pages
        report.size = len(output.content)
        report.finish()
        report.save(update_fields=["file", "filename", "title", "pages", "size", "state", "progress", "finished_at"])
        audit_record(actor=None, target=report, action="finish", from_state=ReportState.RUNNING,
                     to_state=report.state, data={"sha256": hashlib.sha256(output.content).hexdigest(),
                                                  "pages": output.pages})
    from core.services import notify

    notify(users=[report.requested_by], verb="report_done", msg=gettext_noop("%(title)s %(number)s 已生成"),
           params={"title": report.title, "number": report.number},
           url=reverse("reports:detail", args=[report.pk]))
    return report


@transaction.atomic
def report_retry(*, actor, report: Report) -> Report:
    """failed → queued, by whoever may see it; the task renders it again."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    report_authorise(user=actor, kind=report.kind, params=report.params)
    if report.state != ReportState.FAILED:
        from core.exceptions import TransitionNotAllowed

        raise TransitionNotAllowed(_("只有失败的报告可以重新生成"))
    report.retry()
    report.save(update_fields=["state", "progress", "error"])
    audit_record(actor=actor, target=report, action="retry", from_state=ReportState.FAILED, to_state=report.state)
    _dispatch(report.pk)
    return report
