"""Reads of the subsidies app, scoped by role and organisation.

Enterprise staff see their own enterprise's policies, audits and figures;
the oversight roles (reviewer, auditor, finance, custodian, pool manager) see
all; everybody else sees nothing. Another organisation's object is therefore
simply not found (404).
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet

from core.caching import cached
from core.choices import Role
from core.models import BlacklistEntry, Organization
from core.money import ZERO
from core.permissions import has_role, is_oversight

from . import models


def _enterprise_filter(user, path: str) -> Q | None:
    """None: everything; Q: the user's own enterprise; Q(pk__in=[]): nothing."""
    if is_oversight(user):
        return None
    if has_role(user, Role.ENTERPRISE) and user.organization_id:
        return Q(**{path: user.organization_id})
    return Q(pk__in=[])


def _scoped(qs: QuerySet, user, path: str) -> QuerySet:
    q = _enterprise_filter(user, path)
    return qs if q is None else qs.filter(q)


def policies_visible(user) -> QuerySet[models.InsurancePolicy]:
    qs = models.InsurancePolicy.objects.select_related("project", "project__enterprise", "insurer")
    return _scoped(qs, user, "project__enterprise_id").order_by("-start_date", "-pk")


def claims_visible(user) -> QuerySet[models.InsuranceClaim]:
    qs = models.InsuranceClaim.objects.select_related("policy", "policy__project", "policy__insurer", "milestone")
    return _scoped(qs, user, "policy__project__enterprise_id").order_by("-pk")


def audits_visible(user) -> QuerySet[models.AnnualAudit]:
    qs = models.AnnualAudit.objects.select_related("project", "project__enterprise", "recorded_by", "opinion_by")
    return _scoped(qs, user, "project__enterprise_id")


def other_subsidies_visible(user) -> QuerySet[models.OtherPolicySubsidy]:
    qs = models.OtherPolicySubsidy.objects.select_related("enterprise", "policy")
    return _scoped(qs, user, "enterprise_id")


def grants_visible(user) -> QuerySet[models.GrantComputation]:
    qs = models.GrantComputation.objects.select_related("enterprise", "scheme", "approved_by", "paid_by")
    return _scoped(qs, user, "enterprise_id").order_by("-year", "enterprise__name", "-version")


def premiums_visible(user) -> QuerySet[models.PremiumSubsidy]:
    qs = models.PremiumSubsidy.objects.select_related("enterprise", "scheme", "approved_by", "paid_by")
    return _scoped(qs, user, "enterprise_id").order_by("-year", "enterprise__name", "-version")


def projects_for_entry(user):
    """Projects the user may attach a policy or audit to."""
    from projects.models import Project

    qs = Project.objects.select_related("enterprise").order_by("-pk")
    return _scoped(qs, user, "enterprise_id")


def runs(kind: str, year: int):
    return models.SubsidyRun.objects.filter(kind=kind, year=year)


def blacklist_history():
    return BlacklistEntry.objects.select_related("organization", "actor").order_by("-at", "-pk")


def blacklist_evidence_visible(user) -> QuerySet[BlacklistEntry]:
    """R17: the bureau's reviewers and the auditors see the evidence; nobody else (404)."""
    if getattr(user, "is_superuser", False) or has_role(user, Role.REVIEWER, Role.AUDITOR):
        return BlacklistEntry.objects.all()
    return BlacklistEntry.objects.none()


def enterprises():
    return Organization.objects.filter(kind="enterprise").order_by("name")


# -- ledger input (I5) -------------------------------------------------------

def ledger_inputs(year: int, project_ids: list[int] | None = None) -> dict[int, Decimal]:
    """I5: per project, the enterprise's money released or forfeited to the platform in ``year``
    (``escrow.selectors.platform_receipts``: the ledger's figure, one grouped query)."""
    from escrow.selectors import platform_receipts

    return platform_receipts(by="project", year=year, project_ids=project_ids)


def ledger_input(project_id: int, year: int) -> Decimal:
    return ledger_inputs(year, [project_id]).get(project_id, ZERO)


def projects_awaiting_audit(user, year: int, limit: int | None = None) -> list[tuple]:
    """R15, I5: projects with money released or forfeited to the platform in ``year`` and no audit yet,
    with the ledger's figure (what the auditor starts from); the first ``limit`` of them by id.

    The year's per-project figures are kept in the shared cache under the journal's mark (entries are never
    changed, so a new entry is a new key): a home page read again does not add up the year's postings again.
    """
    from escrow.selectors import ledger_mark

    inputs = {pid: amount for pid, amount in cached(f"ledger-inputs:{year}:{ledger_mark()}",
                                                    lambda: ledger_inputs(year)).items() if amount > 0}
    if not inputs:
        return []
    audited = set(models.AnnualAudit.objects.filter(year=year).values_list("project_id", flat=True))
    projects = projects_for_entry(user).filter(pk__in=[p for p in inputs if p not in audited]).order_by("pk")
    return [(p, inputs[p.pk]) for p in (projects[:limit] if limit is not None else projects)]
