from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, PermissionDeniedError
from core.files import file_response

from . import permissions, selectors, services
from .choices import KIND_PARAMS, ReportKind, ReportState
from .forms import ReportRequestForm


@login_required
def index(request):
    form = ReportRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        params = {k: v for k, v in form.params().items() if k in KIND_PARAMS[kind]}
        try:
            report = services.report_request(actor=request.user, kind=kind, params=params)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.detail) from exc
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            return redirect("reports:detail", pk=report.pk)
    reports = list(selectors.reports_visible_to(request.user).order_by("-pk")[:100])
    # One at a time: while the user's last report renders, its progress shows live and 生成 waits for it.
    running = next((r for r in reports if r.requested_by_id == request.user.pk
                    and r.state in (ReportState.QUEUED, ReportState.RUNNING)), None)
    return render(request, "reports/index.html", {"form": form, "reports": reports, "running": running})


@login_required
def detail(request, pk):
    report = permissions.report_for(request.user, pk)
    return render(request, "reports/detail.html", {"report": report})


@login_required
def progress(request, pk):
    """The polled fragment: keeps polling (htmx) while the report is queued or running."""
    report = permissions.report_for(request.user, pk)
    return render(request, "reports/_progress.html", {"report": report, "on_index": "index" in request.GET})


@login_required
def download(request, pk):
    report = permissions.report_for(request.user, pk)
    if report.state != "done" or not report.file:
        return redirect("reports:detail", pk=report.pk)
    return file_response(report.file, filename=report.filename, content_type=report.content_type)


@login_required
@require_POST
def project_export(request, project_id):
    """The dossier export of one project (zip), rendered by a worker like every report."""
    try:
        report = services.report_request(actor=request.user, kind=ReportKind.DOSSIER_EXPORT,
                                         params={"project": project_id})
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("reports:index")
    return redirect("reports:detail", pk=report.pk)
