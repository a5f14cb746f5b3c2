"""Reads of the reports app: who sees what, and the figures each document prints.

Figures come from the same places as the pages: the ledger's balances and
postings (escrow), ``escrow.selectors.pool_summary`` for the pool, the
project's own fields, ``core.services.audit_history`` and the milestone
events for transitions, the subsidies app's latest figure versions (as its
pages list them) for grants and premium subsidies.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from core.choices import OrgKind, Role
from core.models import Organization
from core.money import ZERO, format_cny
from core.periods import year_bounds
from core.permissions import has_role, is_oversight
from escrow import selectors as ledger
from escrow.selectors import Flows, pool_summary
from projects.choices import MilestoneState, ProjectState
from projects.models import ExpertAssignment, Milestone, Project

from .models import Report

# -- visibility -----------------------------------------------------------


def projects_visible_to(user) -> QuerySet[Project]:
    """The same scoping as the project pages (projects.selectors)."""
    from projects.selectors import projects_visible_to as projects_selector

    return projects_selector(user)


def one_or_404(qs: QuerySet, pk):
    """The row of ``qs`` with primary key ``pk`` (any text of digits), or 404: not a number, not there, or
    not the user's to see all answer alike."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def project_visible(user, project_id) -> Project:
    """The project, or 404 when it does not exist or belongs to another organisation."""
    return one_or_404(projects_visible_to(user), project_id)


def enterprise_visible(user, enterprise_id) -> Organization:
    """An enterprise's subsidy documents: its own staff and the oversight roles; others get 404."""
    org = one_or_404(Organization.objects.filter(kind=OrgKind.ENTERPRISE), enterprise_id)
    if is_oversight(user):
        return org
    if has_role(user, Role.ENTERPRISE) and user.organization_id == org.pk:
        return org
    raise Http404


def reports_visible_to(user) -> QuerySet[Report]:
    """Oversight roles see every report; others the reports their own organisation requested."""
    qs = Report.objects.select_related("requested_by", "organization")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_oversight(user):
        return qs
    if user.organization_id is None:
        return qs.filter(requested_by=user)
    return qs.filter(organization_id=user.organization_id)


# -- ledger figures -------------------------------------------------------


def custody_flows(*, project_ids=None, year: int | None = None, by_month: bool = False):
    """``escrow.selectors.custody_flows`` for ``year``: {project_id: Flows}, or with ``by_month``
    {month: Flows} for the whole scheme."""
    start, end = year_bounds(year) if year is not None else (None, None)
    return ledger.custody_flows(project_ids=project_ids, start=start, end=end,
                                by="month" if by_month else "project")


@dataclass
class StatementLine:
    at: datetime
    entry_id: int
    account: str
    memo: str
    amount: Decimal
    balance: Decimal          # running balance of this account
    total_balance: Decimal    # running balance of all the project's custody accounts
    kind: str = ""


def custody_statement(project: Project) -> tuple[list[StatementLine], dict[str, Decimal]]:
    """Postings of custody:P:* in order, with each account's running balance (``escrow.selectors.
    account_statement``, as on the account pages) and the running total of all of them."""
    accounts = ledger.custody_accounts(project.pk)
    merged = []
    for account in accounts:
        for row in ledger.account_statement(account).rows:
            merged.append((row.entry_id, account.code, row))
    merged.sort(key=lambda item: (item[0], item[1]))
    total = ZERO
    lines = []
    for _entry_id, code, row in merged:
        total += row.amount
        lines.append(StatementLine(at=row.at, entry_id=row.entry_id, account=code, memo=row.memo, amount=row.amount,
                                   balance=row.balance, total_balance=total, kind=row.operation_kind))
    return lines, {a.code: a.balance for a in accounts}


def project_postings(project: Project) -> list:
    """Every posting of every entry that touches the project's custody or pool-advance accounts."""
    return ledger.project_postings(project.pk)


# -- documents' data ------------------------------------------------------


def project_detail(project_id: int) -> Project:
    """The project with its milestones (each with ``custody_balance``, as on the milestone pages)."""
    from projects.milestones.selectors import with_custody_balance

    return (Project.objects.select_related("enterprise", "platform", "scheme", "created_by")
            .prefetch_related(
                Prefetch("milestones", queryset=with_custody_balance(Milestone.objects.order_by("seq"))),
                Prefetch("assignments", queryset=ExpertAssignment.objects.select_related("expert", "milestone")
                         .order_by("assigned_at", "pk")),
                "attachments",
            ).get(pk=project_id))


def project_history(project: Project) -> list:
    """Every transition of the project and of its milestones, in time order."""
    from core.services import audit_history
    from projects.milestones.selectors import milestone_events

    events = list(audit_history(project))
    for milestone_list in milestone_events([m.pk for m in project.milestones.all()]).values():
        events.extend(milestone_list)
    events.sort(key=lambda e: (e.at, e.pk))
    return events


def projects_of_year(year: int) -> QuerySet[Project]:
    """Every project the scheme carried in ``year``: approved by its end, not closed before its start."""
    start, end = year_bounds(year)
    live = (Q(approved_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))
            & ~Q(state__in=[ProjectState.DRAFT, ProjectState.REJECTED]))
    flow_ids = ledger.custody_project_ids(year=year)
    return (Project.objects.filter(live | Q(pk__in=sorted(flow_ids)))
            .select_related("enterprise", "platform").order_by("notice_year", "notice_seq", "pk"))


@dataclass
class SubsidyFigures:
    """The subsidies app's figures of one year (one enterprise or all), the latest version of each."""

    grants: list = field(default_factory=list)     # dicts: enterprise, amount, uncapped, capped, state, trace …
    premiums: list = field(default_factory=list)
    claims_paid: dict = field(default_factory=dict)  # project id → Decimal
    audits: list = field(default_factory=list)       # dicts: project, audited, ledger, reason, opinion

    @property
    def grant_total(self) -> Decimal:
        return sum((g["amount"] for g in self.grants), ZERO)

    @property
    def premium_total(self) -> Decimal:
        return sum((p["amount"] for p in self.premiums), ZERO)


def _figure_rows(qs) -> list[dict]:
    from subsidies.documents import latest_per_enterprise

    return [{"enterprise": row.enterprise, "amount": row.amount, "uncapped": row.uncapped_amount,
             "capped": row.capped, "state": row.get_state_display(), "state_code": row.state,
             "trace": row.trace or {}, "version": row.version,
             "recovery": row.recovery, "recovery_outstanding": row.recovery_outstanding, "netted": row.netted}
            for row in latest_per_enterprise(qs)]


def subsidy_figures(*, year: int, enterprise_id: int | None = None, project_ids=None,
                    decided_only: bool = False) -> SubsidyFigures:
    """Grants (R11, I5) and premium subsidies (R9, I6, I8) as the subsidies pages show them: the latest
    version per enterprise, superseded ones left out; with ``decided_only`` only approved or paid ones."""
    from subsidies.choices import ComputationState as CS
    from subsidies.models import AnnualAudit, GrantComputation, InsuranceClaim, PremiumSubsidy

    states = [CS.APPROVED, CS.PAID] if decided_only else [CS.COMPUTED, CS.APPROVED, CS.PAID]
    figures = SubsidyFigures()
    for model, target in ((GrantComputation, figures.grants), (PremiumSubsidy, figures.premiums)):
        # The newest version among those in the wanted states: an approved figure stays the decision
        # while a newer computation waits for approval; superseded versions never count.
        qs = model.objects.filter(year=year, state__in=states).select_related("enterprise")
        if enterprise_id is not None:
            qs = qs.filter(enterprise_id=enterprise_id)
        target.extend(_figure_rows(qs))
    claims = InsuranceClaim.objects.filter(paid_on__year=year, paid_amount__gt=0).select_related("policy")
    audits = AnnualAudit.objects.filter(year=year).select_related("project")
    if project_ids is not None:
        claims = claims.filter(policy__project_id__in=list(project_ids))
        audits = audits.filter(project_id__in=list(project_ids))
    if enterprise_id is not None:
        claims = claims.filter(policy__project__enterprise_id=enterprise_id)
        audits = audits.filter(project__enterprise_id=enterprise_id)
    for claim in claims:
        pid = claim.policy.project_id
        figures.claims_paid[pid] = figures.claims_paid.get(pid, ZERO) + claim.paid_amount
    for a in audits.order_by("project_id"):
        figures.audits.append({"project": a.project, "audited": a.audited_input, "ledger": a.ledger_input,
                               "reason": a.reason, "opinion": a.opinion})
    return figures


@dataclass
class AuditRow:
    project: Project
    flows: Flows
    milestones: list
    claims_paid: Decimal = ZERO
    audited_input: Decimal | None = None


def annual_audit_rows(project_ids: list[int], year: int, figures: SubsidyFigures | None = None) -> list[AuditRow]:
    """One chunk of the annual audit report: the projects, their milestones and their year's flows."""
    projects = (Project.objects.filter(pk__in=project_ids).select_related("enterprise", "platform")
                .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("seq")))
                .order_by("notice_year", "notice_seq", "pk"))
    flows = custody_flows(project_ids=project_ids, year=year) if project_ids else {}
    audited = {a["project"].pk: a["audited"] for a in (figures.audits if figures else [])}
    claims = figures.claims_paid if figures else {}
    return [AuditRow(project=p, flows=flows.get(p.pk, Flows()), milestones=list(p.milestones.all()),
                     claims_paid=claims.get(p.pk, ZERO), audited_input=audited.get(p.pk)) for p in projects]


def annual_exceptions(year: int, project_ids: list[int], figures: SubsidyFigures) -> list[dict]:
    """Exceptions of the year: milestones not met / forfeited / overdue, terminations, audit differences."""
    start, end = year_bounds(year)
    out = []
    for m in (Milestone.objects.filter(project_id__in=project_ids,
                                       state__in=[MilestoneState.FAILED, MilestoneState.FORFEITED,
                                                  MilestoneState.OVERDUE, MilestoneState.BALANCE_OVERDUE,
                                                  MilestoneState.BREACHED])  # I15
              .select_related("project").order_by("project_id", "seq")):
        out.append({"project": m.project, "what": f"里程碑 {m.seq}「{m.title}」{m.get_state_display()}",
                    "reason": m.breach_reason or m.decision_reason})
    for p in Project.objects.filter(pk__in=project_ids, state=ProjectState.TERMINATED,
                                    closed_at__gte=start, closed_at__lt=end).order_by("pk"):
        out.append({"project": p, "what": "项目终止", "reason": p.state_reason})
    for a in figures.audits:
        if a["audited"] != a["ledger"]:
            out.append({"project": a["project"],
                        "what": f"审计投入 {format_cny(a['audited'])} 与账面投入 {format_cny(a['ledger'])} 不一致"
                                "（政策依据：I5 资助按经审计的投入计算）",
                        "reason": a["reason"]})
    return out


def pool_year(year: int) -> dict:
    """The pool's state now (pool_summary, as on the pool page) and its movements during ``year``."""
    return {"summary": pool_summary(), "moves": ledger.pool_moves(year=year)}
