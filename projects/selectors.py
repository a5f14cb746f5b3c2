"""Reads of the projects app. Every page and endpoint starts from ``projects_visible_to``.

Scoping by role and organisation means another organisation's project is
simply not found (404), in pages and API alike.
"""
from __future__ import annotations

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from core.choices import Role
from core.permissions import is_oversight

from .choices import ProjectState
from .models import Attachment, ExpertAssignment, Milestone, Project

ACTIVE_ASSIGNMENT = [ExpertAssignment.Status.ASSIGNED, ExpertAssignment.Status.SCORED]


def projects_visible_to(user) -> QuerySet[Project]:
    """The projects ``user`` may see.

    - oversight roles (bureau reviewer, custodian, pool manager, auditor, finance) and superusers: all;
    - enterprise staff: their own enterprise's projects, drafts included;
    - platform staff: projects addressed to their platform, except drafts (a draft is the enterprise's alone);
    - experts: only the projects they are assigned to (and did not withdraw from).
    A person with several roles sees the union.
    """
    base = Project.objects.select_related("enterprise", "platform", "scheme")
    if not getattr(user, "is_authenticated", False):
        return base.none()
    if is_oversight(user):
        return base.all()
    org_id = user.organization_id
    cond = Q(pk__in=[])
    if user.has_role(Role.ENTERPRISE) and org_id:
        cond |= Q(enterprise_id=org_id)
    if user.has_role(Role.PLATFORM) and org_id:
        cond |= Q(platform_id=org_id) & ~Q(state=ProjectState.DRAFT)
    if user.has_role(Role.EXPERT):
        assigned = ExpertAssignment.objects.filter(expert=user, status__in=ACTIVE_ASSIGNMENT).values("project_id")
        cond |= Q(pk__in=assigned)
    return base.filter(cond)


def party_project_ids(user):
    """The projects the user's organisation is party to, as enterprise and as platform (by role): pk
    subqueries for escrow's scoping of accounts and operations (registered in ProjectsConfig.ready)."""
    none = Project.objects.none().values("pk")
    org = getattr(user, "organization", None)
    if org is None or not user.has_role(Role.ENTERPRISE, Role.PLATFORM):
        return none, none
    as_enterprise = Project.objects.filter(enterprise=org).values("pk") if user.has_role(Role.ENTERPRISE) else none
    as_platform = Project.objects.filter(platform=org).values("pk") if user.has_role(Role.PLATFORM) else none
    return as_enterprise, as_platform


def project_get_visible(user, pk) -> Project:
    """One project, or 404 when unknown or not visible to ``user``."""
    project = projects_visible_to(user).filter(pk=pk).first()
    if project is None:
        raise Http404("project not found")
    return project


def project_list(user, *, state: str | None = None, enterprise: int | None = None,
                 platform: int | None = None) -> QuerySet[Project]:
    qs = projects_visible_to(user)
    if state:
        qs = qs.filter(state=state)
    if enterprise:
        qs = qs.filter(enterprise_id=enterprise)
    if platform:
        qs = qs.filter(platform_id=platform)
    # A correlated count, not Count("milestones") over a join: with a join every page (and the paginator's
    # count) groups all visible projects first — 170 ms at page 300 of 10,000 projects; this stays flat.
    milestones = (Milestone.objects.filter(project=OuterRef("pk")).order_by().values("project")
                  .annotate(n=Count("pk")).values("n"))
    return qs.annotate(milestone_count=Coalesce(Subquery(milestones), 0)).order_by("-pk")


def project_detail_queryset(user) -> QuerySet[Project]:
    return projects_visible_to(user).prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("seq")),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by", "milestone")),
        Prefetch("assignments", queryset=ExpertAssignment.objects.filter(milestone__isnull=True)
                 .select_related("expert")),
    )


def attachment_get_visible(user, pk) -> Attachment:
    attachment = (Attachment.objects.select_related("project")
                  .filter(pk=pk, project__in=projects_visible_to(user)).first())
    if attachment is None:
        raise Http404("attachment not found")
    return attachment


def proposal_documents_on_file(project: Project | None) -> dict[str, list[Attachment]]:
    """The proposal's documents already filed (R12), by kind (plan, agreement, policy), oldest first."""
    if project is None or project.pk is None:
        return {}
    on_file: dict[str, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(project=project, milestone__isnull=True).order_by("uploaded_at", "pk"):
        on_file.setdefault(attachment.kind, []).append(attachment)
    return on_file


def project_reviews(project: Project) -> QuerySet[ExpertAssignment]:
    """The approval reviews of a project (R13), withdrawn ones included for the record."""
    return (ExpertAssignment.objects.filter(project=project, milestone__isnull=True)
            .select_related("expert").order_by("assigned_at", "pk"))


def reviews_visible_to(user, project: Project) -> QuerySet[ExpertAssignment]:
    """Experts see their own review only; the parties and oversight see all (with the mean)."""
    qs = project_reviews(project)
    if is_oversight(user) or project.enterprise_id == user.organization_id or project.platform_id == user.organization_id:
        return qs
    return qs.filter(expert=user)


def assignments_for_expert(user) -> QuerySet[ExpertAssignment]:
    """An expert's approval reviews and milestone acceptances (R16, I17): what waits on them first."""
    return (ExpertAssignment.objects.filter(expert=user)
            .select_related("project", "project__enterprise", "project__platform", "milestone")
            .order_by("status", "-assigned_at"))


def review_mean(project: Project):
    """Mean of the scored reviews' own means (R13) in the current review round (I13), or None."""
    from decimal import Decimal

    scores = [a.score for a in project_reviews(project).filter(round=project.review_round)
              if a.status == ExpertAssignment.Status.SCORED]
    scores = [s for s in scores if s is not None]
    if not scores:
        return None
    return (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))


def waitlist_ranked() -> QuerySet[Project]:
    """Competitive selection (R13, I2): the waitlist, best mean score first, then the earliest filed."""
    return (Project.objects.filter(state=ProjectState.WAITLISTED)
            .select_related("enterprise", "platform")
            .order_by(F("mean_score").desc(nulls_last=True), "submitted_at", "pk"))


def reviewer_queue() -> QuerySet[Project]:
    """What waits on the bureau: signed (to accept), accepted (to start review), under review, waitlisted."""
    return (Project.objects.filter(state__in=[ProjectState.SIGNED, ProjectState.ACCEPTED,
                                              ProjectState.UNDER_REVIEW, ProjectState.WAITLISTED])
            .select_related("enterprise", "platform")
            .annotate(scored=Count("assignments", filter=Q(assignments__milestone__isnull=True,
                                                            assignments__status=ExpertAssignment.Status.SCORED)))
            .order_by("state", F("mean_score").desc(nulls_last=True), "submitted_at", "pk"))
