"""Reads of the dashboards: one function per role, each a fixed number of queries.

Every figure starts from the scoping selectors of the apps below
(``projects_visible_to``, ``accounts_visible_to``, ``operations_visible_to``,
the subsidies selectors), so a user sees only what their role and
organisation allow. Lists are capped (``LIMIT``) and counted separately, and
totals are aggregated in the database, so the number of queries does not grow
with the number of projects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Avg, Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.caching import cached
from core.money import ZERO
from core.periods import year_bounds
from escrow.choices import AccountKind, OperationKind, OperationState
from escrow.models import BankStatementLine
from escrow.selectors import (
    accounts_visible_to,
    custody_flows,
    ledger_mark,
    operations_visible_to,
    platform_receipts,
    pool_days,
    pool_summary,
)
from projects.choices import MilestoneState as M
from projects.choices import ProjectState as S
from projects.models import ExpertAssignment, Milestone, Project
from projects.selectors import projects_visible_to, waitlist_ranked

LIMIT = 10
MET = [M.BALANCE_DUE, M.BALANCE_OVERDUE, M.BREACHED, M.RELEASABLE, M.RELEASED]
NOT_MET = [M.FAILED, M.FORFEITED]
# I15: a milestone forfeited for the enterprise's breach was met by the platform.
MET_Q = Q(state__in=MET) | Q(state=M.FORFEITED, breached_at__isnull=False)
NOT_MET_Q = Q(state__in=NOT_MET, breached_at__isnull=True)


def _state_counts(qs, choices) -> list[tuple[str, int]]:
    """(label, count) for every state with at least one row — one query."""
    counts = dict(qs.order_by().values_list("state").annotate(n=Count("pk")))
    return [(str(label), counts[value]) for value, label in choices.choices if counts.get(value)]


def _age_days(moment) -> int | None:
    if moment is None:
        return None
    if hasattr(moment, "hour"):
        moment = timezone.localdate(moment)
    return (timezone.localdate() - moment).days


# -- enterprise ---------------------------------------------------------------
def enterprise_dashboard(user) -> dict:
    projects = projects_visible_to(user).filter(enterprise_id=user.organization_id)
    ids = projects.values("pk")
    by_state = _state_counts(projects, S)
    recent = list(projects.order_by("-pk")[:LIMIT])
    # Only projects in implementation ask for money: a terminated project's waiting milestone takes none.
    due = (Milestone.objects.filter(project__in=projects.filter(state=S.ACTIVE).values("pk"),
                                    state__in=[M.DEPOSIT_DUE, M.BALANCE_DUE, M.BALANCE_OVERDUE])
           .select_related("project").order_by("due_date", "pk"))
    due_list = list(due[:LIMIT])
    for m in due_list:
        m.owed = (m.deposit_amount - m.paid_in) if m.state == M.DEPOSIT_DUE else m.balance_due
    drafts_qs = projects.filter(state=S.DRAFT).order_by("-pk")
    drafts = list(drafts_qs[:LIMIT])
    custody = (accounts_visible_to(user).filter(kind=AccountKind.CUSTODY, project_ref__in=ids)
               .aggregate(s=Sum("balance"), n=Count("pk", filter=~Q(balance=0))))
    return {
        "project_count": sum(n for _, n in by_state), "by_state": by_state, "recent": recent,
        "due": due_list, "due_count": due.count(), "drafts": drafts,
        "draft_count": dict(by_state).get(str(S.DRAFT.label), 0),
        "custody_total": custody["s"] or ZERO, "custody_accounts": custody["n"] or 0,
    }


# -- platform -----------------------------------------------------------------
RECEIVED_KINDS = [OperationKind.ADVANCE, OperationKind.RELEASE, OperationKind.FORFEIT]


def platform_dashboard(user) -> dict:
    projects = projects_visible_to(user).filter(platform_id=user.organization_id)
    by_state = _state_counts(projects, S)
    recent = list(projects.order_by("-pk")[:LIMIT])
    running = Milestone.objects.filter(project__in=projects.filter(state=S.ACTIVE).values("pk"),
                                       state__in=[M.DEPOSIT_DUE, M.IN_PROGRESS, M.OVERDUE, M.REPORTED])
    upcoming = list(running.select_related("project").order_by("due_date", "pk")[:LIMIT])
    for m in upcoming:
        m.days_left = (m.due_date - timezone.localdate()).days
    received = platform_receipts(by="kind", kinds=RECEIVED_KINDS, platform_id=user.organization_id or 0)
    received_rows = [(str(OperationKind(k).label), received.get(k, ZERO)) for k in RECEIVED_KINDS]
    return {
        "project_count": sum(n for _, n in by_state), "by_state": by_state, "recent": recent,
        "upcoming": upcoming, "upcoming_count": running.count(),
        "received_rows": received_rows, "received_total": sum((v for _, v in received_rows), ZERO),
    }


# -- reviewer (the bureau) ----------------------------------------------------
@dataclass
class Queue:
    key: str
    label: str
    count: int
    oldest_days: int | None
    items: list = field(default_factory=list)


def _milestone_queue(key: str, label, since: str, milestones) -> Queue:
    """A queue of milestones waiting since ``since``: its size and oldest age (2 queries), the first items."""
    stats = milestones.aggregate(n=Count("pk"), oldest=Min(since))
    items = list(milestones.select_related("project").order_by(since, "pk")[:LIMIT])
    for m in items:
        m.age_days = _age_days(getattr(m, since))
    return Queue(key, label, stats["n"], _age_days(stats["oldest"]), items)


def reviewer_dashboard(user) -> dict:
    projects = projects_visible_to(user)
    states = [S.SUBMITTED, S.SIGNED, S.ACCEPTED, S.UNDER_REVIEW]
    stats = {row["state"]: row for row in projects.filter(state__in=states).order_by().values("state")
             .annotate(n=Count("pk"), oldest=Min("submitted_at"))}
    queues = []
    labels = {S.SUBMITTED: _("待平台揭榜"), S.SIGNED: _("待受理"), S.ACCEPTED: _("待启动评审"),
              S.UNDER_REVIEW: _("专家评审中")}
    scored = Count("assignments", filter=Q(assignments__milestone__isnull=True,
                                            assignments__status=ExpertAssignment.Status.SCORED), distinct=True)
    assigned = Count("assignments", filter=Q(assignments__milestone__isnull=True,
                                              assignments__status__in=[ExpertAssignment.Status.ASSIGNED,
                                                                       ExpertAssignment.Status.SCORED]),
                     distinct=True)
    for state in states:
        row = stats.get(state, {})
        qs = projects.filter(state=state).order_by("submitted_at", "pk")
        if state == S.UNDER_REVIEW:
            qs = qs.annotate(scored=scored, assigned=assigned)
        items = list(qs[:LIMIT]) if row else []
        for p in items:
            p.age_days = _age_days(p.submitted_at)
        queues.append(Queue(str(state), labels[state], row.get("n", 0), _age_days(row.get("oldest")), items))
    visible = projects.values("pk")
    queues.append(_milestone_queue("reported", _("待验收里程碑"), "reported_at",
                                   Milestone.objects.filter(project__in=visible, state=M.REPORTED)))
    queues.append(_milestone_queue("overdue", _("逾期里程碑"), "due_date", Milestone.objects.filter(
        project__in=visible).filter(Q(state__in=[M.OVERDUE, M.BALANCE_OVERDUE])  # I15: the balance too
                                    | Q(state=M.IN_PROGRESS, due_date__lt=timezone.localdate()))))
    waitlist = waitlist_ranked().filter(pk__in=visible)
    return {"queues": queues, "queue_rows": [(q.label, q.count) for q in queues],
            "waitlist": list(waitlist[:LIMIT]), "waitlist_count": waitlist.count()}


# -- custodian ----------------------------------------------------------------
def custodian_dashboard(user) -> dict:
    ops = operations_visible_to(user)
    counts = dict(ops.order_by().values_list("state").annotate(n=Count("pk")))
    awaiting = list(ops.filter(state=OperationState.AWAITING_CONFIRMATION).order_by("created_at", "pk")[:LIMIT])
    for op in awaiting:
        op.can_confirm = op.ordered_by_id != user.pk
        op.age_days = _age_days(op.created_at)
    pending = list(ops.filter(state__in=[OperationState.REQUESTED, OperationState.EXECUTING])
                   .order_by("created_at", "pk")[:LIMIT])
    for op in pending:
        op.age_days = _age_days(op.created_at)
    failed = list(ops.filter(state=OperationState.FAILED).order_by("-finished_at", "-pk")[:LIMIT])
    lines = BankStatementLine.objects.filter(operation__isnull=True)
    unmatched = list(lines.select_related("statement").order_by("date", "pk")[:LIMIT])
    rows = [(str(OperationState(s).label), counts.get(s, 0)) for s in
            (OperationState.REQUESTED, OperationState.AWAITING_CONFIRMATION, OperationState.EXECUTING,
             OperationState.FAILED)]
    return {"awaiting": awaiting, "awaiting_count": counts.get(OperationState.AWAITING_CONFIRMATION, 0),
            "pending": pending,
            "pending_count": counts.get(OperationState.REQUESTED, 0) + counts.get(OperationState.EXECUTING, 0),
            "failed": failed, "failed_count": counts.get(OperationState.FAILED, 0),
            "unmatched": unmatched, "unmatched_count": lines.count(), "state_rows": rows}


# -- pool manager -------------------------------------------------------------
def pool_dashboard(user) -> dict:
    from escrow.charts import pool_chart

    summary = pool_summary()
    return {"summary": summary, "chart": pool_chart(pool_days(summary))}


# -- auditor ------------------------------------------------------------------
def year_at_a_glance(year: int) -> dict:
    """Inputs (I5), releases, forfeitures, refunds of ``year`` from the ledger, and the year's grants."""
    from subsidies.choices import ComputationState as CS
    from subsidies.models import GrantComputation, PremiumSubsidy

    def from_ledger():
        start, end = year_bounds(year)
        return custody_flows(start=start, end=end, by=None), sum(platform_receipts(by="project", year=year).values(),
                                                                 ZERO)

    flows, inputs = cached(f"ledger-year:{year}:{ledger_mark()}", from_ledger)
    grants, premiums = _year_figures(GrantComputation, year, CS), _year_figures(PremiumSubsidy, year, CS)
    rows = [(_("研发投入"), inputs),
            (_("拨付平台"), flows.releases),
            (_("保证金罚没"), flows.forfeitures),
            (_("退还企业"), flows.refunds),
            (_("研发投入资助"), grants[0]),
            (_("保费补助"), premiums[0])]
    return {"year": year, "rows": rows, "grants_paid": grants[1] + premiums[1]}


def _year_figures(model, year: int, CS) -> tuple[Decimal, Decimal]:
    """A subsidy's year: the amount of each enterprise's latest approved or paid version (a recomputed version
    replaces the one before it, I10), and what the enterprise was given over all versions (cash plus
    recoveries netted from later payments, less what was recovered: ``settled_value``)."""
    latest: dict[int, tuple[int, Decimal]] = {}
    given = ZERO
    for ent, version, state, amount, paid, netted, recovered in model.objects.filter(year=year).values_list(
            "enterprise_id", "version", "state", "amount", "paid_amount", "netted", "recovered"):
        given += (paid or ZERO) + netted - recovered
        if state in (CS.APPROVED, CS.PAID) and version > latest.get(ent, (0, ZERO))[0]:
            latest[ent] = (version, amount)
    return sum((amount for _v, amount in latest.values()), ZERO), given


def auditor_dashboard(user, year: int | None = None) -> dict:
    year = year or timezone.localdate().year
    return year_at_a_glance(year)


# -- finance officer ----------------------------------------------------------
def finance_dashboard(user) -> dict:
    from subsidies.choices import ComputationState as CS
    from subsidies.selectors import grants_visible, premiums_visible

    out = {}
    for key, qs in (("grants", grants_visible(user)), ("premiums", premiums_visible(user))):
        approved = qs.filter(state=CS.APPROVED)
        agg = approved.aggregate(n=Count("pk"), s=Sum("amount"))
        out[key] = list(approved.order_by("approved_at", "pk")[:LIMIT])
        out[f"{key}_count"] = agg["n"]
        out[f"{key}_total"] = agg["s"] or ZERO
    return out


# -- platform performance (R17) ---------------------------------------------
@dataclass
class PlatformYear:
    platform_id: int
    platform: str
    projects: int = 0
    met: int = 0
    not_met: int = 0
    on_time: int = 0
    received: Decimal = ZERO
    forfeitures: Decimal = ZERO
    mean_score: Decimal | None = None

    @property
    def decided(self) -> int:
        return self.met + self.not_met

    @property
    def on_time_rate(self) -> Decimal | None:
        """Milestones met by their due date (reported on or before it), over the milestones decided."""
        if not self.decided:
            return None
        return (Decimal(self.on_time) / Decimal(self.decided)).quantize(Decimal("0.0001"))


def platform_performance(year: int) -> list[PlatformYear]:
    """R17: each platform's cooperation record in ``year`` (Asia/Shanghai calendar year). Four queries.

    - projects: approved in the year (立项通知书 numbered that year);
    - milestones met / not met: acceptance decided in the year (met = balance due, releasable or released;
      not met = failed or forfeited); on time = met and reported no later than the due date;
    - money received: releases to the platform in the year; forfeitures: forfeited deposits paid to it;
    - mean review score: mean of the expert means (R13) of the projects approved in the year.
    """
    from core.models import Organization

    start, end = year_bounds(year)
    rows: dict[int, PlatformYear] = {}
    for org in Organization.objects.filter(kind="platform").order_by("name"):
        rows[org.pk] = PlatformYear(org.pk, org.name)
    for r in (Project.objects.filter(notice_year=year).order_by().values("platform_id")
              .annotate(n=Count("pk"), score=Avg("mean_score"))):
        row = rows.setdefault(r["platform_id"], PlatformYear(r["platform_id"], str(r["platform_id"])))
        row.projects = r["n"]
        row.mean_score = Decimal(r["score"]).quantize(Decimal("0.01")) if r["score"] is not None else None
    for r in (Milestone.objects.filter(decided_at__gte=start, decided_at__lt=end).order_by()
              .values("project__platform_id")
              .annotate(met=Count("pk", filter=MET_Q), not_met=Count("pk", filter=NOT_MET_Q),
                        on_time=Count("pk", filter=MET_Q & Q(reported_at__date__lte=F("due_date"))))):
        row = rows.setdefault(r["project__platform_id"], PlatformYear(r["project__platform_id"], ""))
        row.met, row.not_met, row.on_time = r["met"], r["not_met"], r["on_time"]
    for (owner, kind), total in platform_receipts(by="platform", year=year).items():
        row = rows.setdefault(owner, PlatformYear(owner, ""))
        if kind == OperationKind.RELEASE:
            row.received = total
        else:
            row.forfeitures = total
    return list(rows.values())


# -- publicity (R18) ----------------------------------------------------------
def exemplary_cases():
    """Published cases, for everyone (no login): only what the bureau approved for publication."""
    return (Project.objects.filter(exemplary=True).exclude(public_summary="")
            .select_related("enterprise", "platform").order_by("-approved_at", "-pk"))


def publicity_candidates(user):
    """Projects the bureau may publish: approved, in progress or completed."""
    return (projects_visible_to(user).filter(state__in=[S.APPROVED, S.ACTIVE, S.COMPLETED])
            .order_by("-exemplary", "-pk"))


def today() -> date:
    return timezone.localdate()
