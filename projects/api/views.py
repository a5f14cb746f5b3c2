"""The proposal API: ``projects/``, ``projects/{id}/``, ``projects/{id}/{action}/``, ``reviews/``, ``history/``,
``approval_outcome/`` (I14 preview).

Each view scopes through ``projects_visible_to`` (404 for what the user may not
see) and calls one service; services check roles (403), states (409) and rules (400).
"""
from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import DomainError
from core.idempotency import run_idempotently as idempotent
from core.params import YEAR_MAX, YEAR_MIN
from core.permissions import require
from core.services import audit_history

from .. import permissions as perms
from .. import selectors, services
from ..choices import ProjectState
from ..models import Attachment, Milestone, Project
from ..registry import PROJECT, run_action
from .serializers import (
    ActionInputSerializer,
    ApprovalOutcomeSerializer,
    HistorySerializer,
    ProjectSerializer,
    ProjectWriteSerializer,
    ReasonInputSerializer,
    ReviewInputSerializer,
    ReviewSerializer,
)


def _int_param(request, name: str, *, low: int = 1, high: int = 2**63 - 1) -> int | None:
    """A query parameter of ASCII digits in [low, high] ("²" and "١" are digits to str.isdigit, not to us)."""
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        raise DomainError(_("参数 %(n)s 须为整数") % {"n": name}, code="invalid", fields={name: [_("须为整数")]})
    if not low <= int(value) <= high:
        raise DomainError(_("参数 %(n)s 须在 %(low)s 至 %(high)s 之间") % {"n": name, "low": low, "high": high},
                          code="invalid", fields={name: [_("超出范围")]})
    return int(value)


def custody_balances(projects) -> dict:
    from escrow import accounts
    from escrow.models import Account

    codes = [accounts.custody(p.pk, m.seq) for p in projects for m in p.milestones.all()]
    if not codes:
        return {}
    return dict(Account.objects.filter(code__in=codes).values_list("code", "balance"))


class ProjectViewSet(viewsets.GenericViewSet):
    serializer_class = ProjectSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.projects_visible_to(self.request.user).prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("seq")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "pk")),
        )

    def _render(self, projects, *, many: bool = False):
        items = list(projects) if many else [projects]
        context = {**self.get_serializer_context(), "custody_balances": custody_balances(items)}
        return ProjectSerializer(items if many else items[0], many=many, context=context).data

    def _fresh(self, pk: int) -> Project:
        return self.get_queryset().get(pk=pk)

    @extend_schema(parameters=[
        OpenApiParameter("state", str, enum=list(ProjectState.values)),
        OpenApiParameter("enterprise", int), OpenApiParameter("platform", int),
        OpenApiParameter("year", int, description=f"Projects whose cooperation period overlaps this calendar year "
                                                  f"({YEAR_MIN}–{YEAR_MAX})")])
    def list(self, request):
        qs = self.get_queryset()
        state = request.query_params.get("state")
        if state:
            if state not in ProjectState.values:
                raise DomainError(_("未知状态：%(s)s") % {"s": state}, code="invalid", fields={"state": [_("未知状态")]})
            qs = qs.filter(state=state)
        for name in ("enterprise", "platform"):
            value = _int_param(request, name)
            if value is not None:
                qs = qs.filter(**{f"{name}_id": value})
        year = _int_param(request, "year", low=YEAR_MIN, high=YEAR_MAX)
        if year is not None:
            qs = qs.filter(start_date__year__lte=year, end_date__year__gte=year)
        page = self.paginate_queryset(qs.order_by("-pk"))
        return self.get_paginated_response(self._render(page, many=True))

    @extend_schema(request=ProjectWriteSerializer, responses={201: ProjectSerializer})
    def create(self, request):
        serializer = ProjectWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def handler():
            project = services.project_create(actor=request.user, **serializer.validated_data)
            return Response(self._render(self._fresh(project.pk)), status=status.HTTP_201_CREATED)

        return idempotent(request, handler)

    def retrieve(self, request, pk=None):
        return Response(self._render(self._get(pk)))

    @extend_schema(request=ProjectWriteSerializer, responses={200: ProjectSerializer})
    def partial_update(self, request, pk=None):
        project = self._get(pk)
        serializer = ProjectWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        milestones = data.pop("milestones", None)
        services.project_update(project=project, actor=request.user, milestones=milestones, **data)
        return Response(self._render(self._fresh(project.pk)))

    def _get(self, pk) -> Project:
        project = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if project is None:
            raise Http404
        return project

    @extend_schema(responses={200: HistorySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=viewsets.ModelViewSet.pagination_class)
    def history(self, request, pk=None):
        project = self._get(pk)
        events = [e for e in audit_history(project) if e.to_state]
        page = self.paginate_queryset(events)
        return self.get_paginated_response(HistorySerializer(page, many=True).data)

    @extend_schema(responses={200: ApprovalOutcomeSerializer})
    @action(detail=True, methods=["get"], url_path="approval_outcome")
    def approval_outcome(self, request, pk=None):
        """I14 preview for the bureau's reviewers: would 立项 approve, waitlist or be refused now, and which
        higher-ranked waitlisted projects it would pass over. Nothing changes."""
        project = self._get(pk)
        require(perms.can_review_act(request.user, project))
        return Response(ApprovalOutcomeSerializer((project, services.approval_outcome(project))).data)

    @extend_schema(request=ReviewInputSerializer, responses={200: ReviewSerializer(many=True), 201: ReviewSerializer})
    @action(detail=True, methods=["get", "post"])
    def reviews(self, request, pk=None):
        project = self._get(pk)
        if request.method == "GET":
            reviews = selectors.reviews_visible_to(request.user, project)
            page = self.paginate_queryset(reviews)
            response = self.get_paginated_response(ReviewSerializer(page, many=True,
                                                                    context={"request": request}).data)
            response.data["mean_score"] = f"{project.mean_score:.2f}" if project.mean_score is not None else None
            return response
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def handler():
            if data["conflict_of_interest"]:
                replacement = services.review_declare_conflict(project=project, expert=request.user,
                                                               reason=data["reason"], conflict_with=data["conflict_with"])
                mine = project.assignments.get(expert=request.user, milestone__isnull=True)
                body = ReviewSerializer(mine, context={"request": request}).data
                body["replacement_drawn"] = replacement is not None
                return Response(body, status=status.HTTP_200_OK)
            scores = data.get("scores")
            if scores is None:
                raise DomainError(_("须给出可行性、条款合理性、研发成本三项评分"), code="invalid_review", rule="R13",
                                  fields={"scores": [_("必填")]})
            assignment = services.review_submit(project=project, expert=request.user, opinion=data["opinion"],
                                                **scores)
            body = ReviewSerializer(assignment, context={"request": request}).data
            body["mean_score"] = str(Project.objects.get(pk=project.pk).mean_score)
            return Response(body, status=status.HTTP_201_CREATED)

        return idempotent(request, handler)


class ProjectActionView(APIView):
    """POST ``projects/{id}/{action}/`` with an optional ``reason``; the actions and their input are
    ``projects.registry.PROJECT``'s."""

    @extend_schema(operation_id="projects_action", request=ActionInputSerializer, responses={200: ProjectSerializer},
                   parameters=[OpenApiParameter("action_name", str, OpenApiParameter.PATH, enum=PROJECT.names())])
    def post(self, request, pk: int, action_name: str):
        if action_name not in PROJECT:
            raise Http404
        project = selectors.projects_visible_to(request.user).filter(pk=pk).first()
        if project is None:
            raise Http404
        serializer = (PROJECT.get(action_name).serializer or ReasonInputSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        extra = {k: v for k, v in serializer.validated_data.items() if k != "reason"}  # typed, never a float

        def handler():
            result = run_action(project=project, action=action_name, actor=request.user,
                                reason=serializer.validated_data.get("reason", ""), data=extra)
            viewset = ProjectViewSet(request=request, format_kwarg=None)
            fresh = viewset.get_queryset().filter(pk=project.pk).first() or Project.objects.get(pk=project.pk)
            body = dict(viewset._render(fresh))
            if action_name == "approve" and fresh.state == ProjectState.WAITLISTED:
                body["queued"] = True
                body["detail"] = fresh.state_reason
            operation = getattr(result, "operation", None)
            if operation is not None and hasattr(operation, "state"):
                body["operation"] = {"id": operation.pk, "state": operation.state}
            return Response(body)

        return idempotent(request, handler)
