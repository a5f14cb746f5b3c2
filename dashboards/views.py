"""The home page per role, platform performance (R17) and the public cases (R18)."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.choices import Role
from core.exceptions import DomainError
from core.files import xlsx_response
from core.permissions import has_role

from . import charts, selectors, worklist
from .documents import performance_xlsx
from .services import project_publish_case, project_withdraw_case

# role, template, selector — in the order the sections appear on the home page
SECTIONS = [
    (Role.ENTERPRISE, "dashboards/_enterprise.html", selectors.enterprise_dashboard),
    (Role.PLATFORM, "dashboards/_platform.html", selectors.platform_dashboard),
    (Role.REVIEWER, "dashboards/_reviewer.html", selectors.reviewer_dashboard),
    (Role.CUSTODIAN, "dashboards/_custodian.html", selectors.custodian_dashboard),
    (Role.POOL_MANAGER, "dashboards/_pool.html", selectors.pool_dashboard),
    (Role.AUDITOR, "dashboards/_auditor.html", selectors.auditor_dashboard),
    (Role.FINANCE, "dashboards/_finance.html", selectors.finance_dashboard),
]


def _decorate(role: str, data: dict) -> dict:
    """Add the pictures: a figure where a picture reads faster than a table."""
    if "by_state" in data:
        data["state_donut"] = charts.donut(data["by_state"], chart_id=f"{role}-states")
        data["state_legend"] = charts.legend(data["by_state"])
    if role == Role.PLATFORM:
        data["received_chart"] = charts.bar_chart(data["received_rows"], chart_id="platform-received-chart")
    if role == Role.REVIEWER:
        data["queue_chart"] = charts.bar_chart(data["queue_rows"], chart_id="reviewer-queues")
    if role == Role.CUSTODIAN:
        data["state_chart"] = charts.bar_chart(data["state_rows"], chart_id="custodian-operations")
    if role == Role.FINANCE:
        data["to_pay_chart"] = charts.bar_chart([(_("研发投入资助"), data["grants_total"]),
                                                 (_("保费补助"), data["premiums_total"])], chart_id="finance-to-pay")
    if role == Role.AUDITOR:
        data["year_chart"] = charts.bar_chart(data["rows"], chart_id="auditor-year")
    return data


@login_required
def home(request):
    """The home page: one section per role the user holds, each a fixed number of queries."""
    sections = []
    for role, template, selector in SECTIONS:
        if has_role(request.user, role):
            sections.append({"role": role, "label": Role(role).label, "template": template,
                             "data": _decorate(role, selector(request.user))})
    items = worklist.work_list(request.user, {s["role"]: s["data"] for s in sections})
    has_any_role = has_role(request.user, *Role.values)
    return render(request, "dashboards/home.html", {"sections": sections, "today": selectors.today(),
                                                    "worklist": items, "has_any_role": has_any_role})


def _require_performance_reader(user) -> None:
    if not (user.is_superuser or has_role(user, Role.REVIEWER, Role.AUDITOR)):
        raise PermissionDenied(_("平台绩效仅限科技局审核员和审计人员查看"))


def _year(request) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404("bad year") from None
    if not 2000 <= year <= 2100:
        raise Http404("bad year")
    return year


@login_required
def performance(request):
    _require_performance_reader(request.user)
    year = _year(request)
    rows = selectors.platform_performance(year)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(performance_xlsx(year, rows), f"platform-performance-{year}.xlsx")
    chart = charts.bar_chart([(r.platform, r.received) for r in rows], chart_id="performance-received")
    return render(request, "dashboards/performance.html",
                  {"year": year, "rows": rows, "chart": chart, "years": range(year - 2, year + 2)})


def cases(request):
    """R18: exemplary cases, public (no login); amounts only where the bureau marked them public."""
    items = list(selectors.exemplary_cases()[:200])
    return render(request, "dashboards/cases.html", {"items": items})


class CaseForm(forms.Form):
    summary = forms.CharField(label=gettext_lazy("公开摘要"), widget=forms.Textarea(attrs={"rows": 5}),
                              max_length=5000)
    public_amounts = forms.BooleanField(label=gettext_lazy("公开金额"), required=False)


@login_required
def case_manage(request):
    """The bureau's list of publishable projects (R18)."""
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied(_("典型案例由科技局审核员公开"))
    items = list(selectors.publicity_candidates(request.user)[:200])
    return render(request, "dashboards/case_manage.html", {"items": items})


@login_required
def case_edit(request, pk: int):
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied(_("典型案例由科技局审核员公开"))
    project = selectors.publicity_candidates(request.user).filter(pk=pk).first()
    if project is None:
        raise Http404("project not found")
    form = CaseForm(initial={"summary": project.public_summary or project.summary,
                             "public_amounts": project.public_amounts})
    if request.method == "POST":
        if request.POST.get("withdraw"):
            project_withdraw_case(project=project, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("已撤下典型案例"))
            return redirect("dashboards:case_manage")
        form = CaseForm(request.POST)
        if form.is_valid():
            try:
                project_publish_case(project=project, actor=request.user, summary=form.cleaned_data["summary"],
                                     public_amounts=form.cleaned_data["public_amounts"])
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("已公开为典型案例"))
                return redirect("dashboards:case_manage")
    return render(request, "dashboards/case_edit.html", {"project": project, "form": form})
