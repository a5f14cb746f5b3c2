"""Reads of the subsidies app, scoped by role and organisation.

Enterprise staff see their own enterprise's policies, audits and figures;
the oversight roles (reviewer, auditor, finance, custodian, pool manager) see
all; everybody else sees nothing. Another organisation's object is therefore
simply not found (404).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

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

def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year in Asia/Shanghai (I5), as aware datetimes [start, end)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def ledger_inputs(year: int, project_ids: list[int] | None = None) -> dict[int, Decimal]:
    """I5: per project, the enterprise's money released or forfeited to the platform in ``year``.

    The sum of positive postings to ``ext:platform:*`` accounts in journal
    entries whose money operation is a release or forfeit with context
    project P (``MoneyOperation.project_ref``), dated in the calendar year
    (Asia/Shanghai). One grouped query.
    """
    from escrow.choices import OperationKind
    from escrow.models import Posting

    start, end = year_bounds(year)
    qs = Posting.objects.filter(
        amount__gt=0, account__code__startswith="ext:platform:",
        entry__created_at__gte=start, entry__created_at__lt=end,
        entry__operation__kind__in=[OperationKind.RELEASE, OperationKind.FORFEIT],
    )
    if project_ids is not None:
        qs = qs.filter(entry__operation__project_ref__in=project_ids)
    rows = (qs.order_by().values_list("entry__operation__project_ref")
            .annotate(total=Sum("amount")).values_list("entry__operation__project_ref", "total"))
    return {int(project): total for project, total in rows if project is not None}


def ledger_input(project_id: int, year: int) -> Decimal:
    return ledger_inputs(year, [project_id]).get(project_id, ZERO)


def projects_awaiting_audit(user, year: int) -> list[tuple]:
    """R15, I5: projects with money released or forfeited to the platform in ``year`` and no audit yet,
    with the ledger's figure (what the auditor starts from)."""
    inputs = {pid: amount for pid, amount in ledger_inputs(year).items() if amount > 0}
    if not inputs:
        return []
    audited = set(models.AnnualAudit.objects.filter(year=year, project_id__in=list(inputs)).values_list("project_id",
                                                                                                   flat=True))
    projects = projects_for_entry(user).filter(pk__in=[p for p in inputs if p not in audited])
    return [(p, inputs[p.pk]) for p in projects]
