"""Who may have which document about which object: the decision the service, the pages and the API share."""
from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from core.choices import Role
from core.exceptions import DomainError, PermissionDeniedError
from core.permissions import deny, has_role, is_oversight, require

from . import selectors
from .choices import KIND_PARAMS, ReportKind
from .models import Report


def _int_param(params: dict, name: str) -> int:
    value = params.get(name)
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(_("参数 %(name)s 必须是整数") % {"name": name}, code="invalid",
                          fields={f"params.{name}": [_("必须是整数")]}) from None


def report_authorise(*, user, kind: str, params: dict) -> dict:
    """Check who may have which document about which object; return the cleaned parameters.

    Enterprise staff: their own projects and their own enterprise's subsidies; platform staff:
    their own projects; oversight roles (bureau, custodian, pool manager, auditor, finance):
    everything. Another organisation's object is not found (404); a kind the role may not
    have at all is forbidden (403).
    """
    if kind not in ReportKind.values:
        raise DomainError(_("未知的报告类型：%(kind)s") % {"kind": kind}, code="invalid",
                          fields={"kind": [_("可选：%(k)s") % {"k": "、".join(KIND_PARAMS)}]})
    if not isinstance(params, dict):
        raise DomainError(_("params 必须是对象"), code="invalid", fields={"params": [_("必须是对象")]})
    clean = {name: _int_param(params, name) for name in KIND_PARAMS[kind]}
    if "project" in clean:
        selectors.project_visible(user, clean["project"])  # 404 for another organisation's project
        if not (is_oversight(user) or has_role(user, Role.ENTERPRISE, Role.PLATFORM)):
            # An expert sees the projects assigned to them, but their documents belong to the parties.
            require(deny(_("项目文书仅限项目双方及监管、审计等人员导出")))
    if kind == ReportKind.ANNUAL_AUDIT and not is_oversight(user):
        require(deny(_("年度专项审计报告仅限科技局、审计、财政、监管和风险池人员")))
    if kind == ReportKind.SUBSIDY_DECISION:
        selectors.enterprise_visible(user, clean["enterprise"])  # 404 for another enterprise
    if "year" in clean and not 2000 <= clean["year"] <= 2100:
        raise DomainError(_("年份无效"), code="invalid", fields={"params.year": [_("年份无效")]})
    return clean


def report_for(user, report_id) -> Report:
    """A report the user may read, or 404: scoped by organisation, and its subject still visible to them."""
    report = selectors.one_or_404(selectors.reports_visible_to(user), report_id)
    try:
        report_authorise(user=user, kind=report.kind, params=report.params)
    except PermissionDeniedError:
        raise Http404 from None
    return report
