"""Who may do what in the subsidies app, with the reason when not (pages show it, the API's 403 says it).

Visibility (404) comes first, from ``selectors`` (another enterprise's policy, audit or figure is
simply not found); these decisions answer the role/organisation question (403); the state question
(409) is the services'. The services enforce every write decision here, so the API and the pages
refuse alike; the pages ask the same functions which forms and buttons to show.

The system administrator may run the computations and record insurance, other-policy subsidies and
audits, as the services have always let it; it never approves or pays a figure, gives an
enterprise's acceptance opinion or manages the blacklist.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.choices import Role
from core.models import Organization
from core.permissions import Decision, decide, has_role, is_oversight, role_decision
from projects.models import Project

from .models import AnnualAudit, InsurancePolicy


def _is_admin(user) -> bool:
    return bool(getattr(user, "is_superuser", False))


def can_view_subsidies(user) -> Decision:
    """The subsidy pages: enterprise staff (their own enterprise's rows, by the selectors) and oversight."""
    return decide((is_oversight(user) or has_role(user, Role.ENTERPRISE), _("资助与补助页面仅向企业人员和监管部门开放")))


def can_export_year(user) -> Decision:
    """The year's table of every enterprise's figures (Excel)."""
    return decide((is_oversight(user), _("年度汇总表仅向监管部门开放")))


def records_for_every_enterprise(user) -> bool:
    """The bureau's reviewers (and the administrator) record insurance and other subsidies for any enterprise."""
    return _is_admin(user) or has_role(user, Role.REVIEWER)


def _records_for(user, enterprise_id: int | None) -> bool:
    """Enterprise staff record for their own enterprise; ``None`` asks whether for some enterprise at all."""
    if records_for_every_enterprise(user):
        return True
    return has_role(user, Role.ENTERPRISE) and (enterprise_id is None or user.organization_id == enterprise_id)


def _may_record(user, enterprise_id: int | None, *, anything: str, this: str) -> Decision:
    """Record for ``enterprise_id``; ``None`` asks whether for some enterprise at all (the page's form)."""
    return decide((_records_for(user, enterprise_id), this if enterprise_id is not None else anything))


def can_record_policy(user, project: Project | None = None) -> Decision:
    """R9: register an insurance policy of ``project`` (``None``: of some project, for the page's form)."""
    return _may_record(user, project and project.enterprise_id, anything=_("无权登记保单"),
                       this=_("只有本企业人员或科技局审核人员可以登记该项目的保险信息"))


def can_record_claim(user, policy: InsurancePolicy) -> Decision:
    """R9, R11: register a claim on ``policy``: as for the policy itself."""
    return can_record_policy(user, policy.project)


def can_record_other_subsidy(user, enterprise: Organization | None = None) -> Decision:
    """R20: register a same-type subsidy another policy paid ``enterprise`` (``None``: some enterprise)."""
    return _may_record(user, enterprise and enterprise.pk, anything=_("无权登记"),
                       this=_("只有本企业人员或科技局审核人员可以登记其他政策补助"))


def can_record_audit(user) -> Decision:
    """R15: record or correct a project's annual evaluation and audited input."""
    return decide((_is_admin(user) or has_role(user, Role.AUDITOR), _("只有第三方审计人员可以登记年度评价与审计")))


def can_give_acceptance_opinion(user, audit: AnnualAudit) -> Decision:
    """R15: the acceptance opinion on a year's evaluation, by the project's own enterprise."""
    own = has_role(user, Role.ENTERPRISE) and user.organization_id == audit.project.enterprise_id
    return decide((own, _("只有本项目企业人员可以填写验收意见")))


def can_compute(user) -> Decision:
    """R9, R11: run a year's grant or premium computation (the yearly job runs it without a user)."""
    return decide((_is_admin(user) or has_role(user, Role.REVIEWER), _("只有科技局审核人员可以发起测算")))


def can_approve_figure(user) -> Decision:
    """The bureau approves a computed grant or premium subsidy."""
    return role_decision(user, Role.REVIEWER)


def can_pay_figure(user) -> Decision:
    """The finance bureau records the payment of an approved figure."""
    return role_decision(user, Role.FINANCE)


def can_manage_blacklist(user) -> Decision:
    """R17: list and lift enterprises (the core services check the same role)."""
    return decide((has_role(user, Role.REVIEWER), _("黑名单仅由科技局审核人员管理")))
