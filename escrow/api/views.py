"""The escrow part of the API (api.md): ledger, pool, money operations."""
from __future__ import annotations

import uuid

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import PermissionDeniedError
from core.idempotency import idempotent
from core.permissions import require
from escrow import selectors
from escrow.choices import AccountKind, OperationKind, OperationState
from escrow.permissions import can_operate
from escrow.services import operation_confirm, operation_reject, pool_top_up

from .serializers import (
    AccountSerializer,
    EntrySerializer,
    OperationSerializer,
    PoolPointSerializer,
    PoolSerializer,
    RejectSerializer,
    TopUpSerializer,
)


class ScopedViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only list and detail of what ``scope(user)`` (an escrow selector) lets the user see."""

    scope = staticmethod(selectors.accounts_visible_to)

    def get_queryset(self):
        return self.scope(self.request.user)


class ProjectFilter(django_filters.FilterSet):
    project = django_filters.NumberFilter(field_name="project_ref")


class AccountFilter(ProjectFilter):
    kind = django_filters.ChoiceFilter(choices=AccountKind.choices)
    code = django_filters.CharFilter(field_name="code", lookup_expr="startswith")


class AccountViewSet(ScopedViewSet):
    """`ledger/accounts/`: code and balance (kept on the account row), scoped by organisation."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilter


class EntryFilter(django_filters.FilterSet):
    account = django_filters.CharFilter(field_name="postings__account__code", distinct=True)
    since = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")


class EntryViewSet(ScopedViewSet):
    """`ledger/entries/`: the journal with its postings."""

    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    scope = staticmethod(selectors.entries_visible_to)


class OperationFilter(ProjectFilter):
    state = django_filters.MultipleChoiceFilter(choices=OperationState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=OperationKind.choices)
    purpose = django_filters.CharFilter()


class OperationViewSet(ScopedViewSet):
    """`operations/`: money operations; `operations/{id}/confirm/`: the second operator's confirmation;
    `operations/{id}/reject/`: the second operator's refusal, with a reason (maker–checker)."""

    serializer_class = OperationSerializer
    filterset_class = OperationFilter
    scope = staticmethod(selectors.operations_visible_to)

    @extend_schema(request=None, responses=OperationSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, pk=None):
        op = get_object_or_404(self.get_queryset(), pk=pk)  # another organisation's operation: 404
        operation_confirm(operation=op, actor=request.user)
        return Response(OperationSerializer(selectors.operations_list().get(pk=op.pk)).data)

    @extend_schema(request=RejectSerializer, responses=OperationSerializer,
                   description="The second custodian operator refuses an order awaiting confirmation: nothing is "
                               "posted, the operation ends failed with who refused and why, the maker is told and "
                               "the order may be placed again. The maker may not reject their own order (403); "
                               "an operation no longer awaiting confirmation answers 409.")
    @action(detail=True, methods=["post"], serializer_class=RejectSerializer)
    @idempotent
    def reject(self, request, pk=None):
        op = get_object_or_404(self.get_queryset(), pk=pk)  # another organisation's operation: 404
        require(can_operate(request.user))  # who may, before what was sent (the service asks again)
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        operation_reject(operation=op, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(OperationSerializer(selectors.operations_list().get(pk=op.pk)).data)


def _require_pool_reader(user) -> None:
    if not selectors.can_see_pool(user):
        raise PermissionDeniedError(_("风险池数据仅限科技局、监管、风险池管理、审计和财政人员查看"))


class PoolView(APIView):
    """`pool/`: funding, available, advanced, losses and utilisation (0–1)."""

    @extend_schema(responses=PoolSerializer)
    def get(self, request):
        _require_pool_reader(request.user)
        s = selectors.pool_summary()
        return Response(PoolSerializer({"funding": s.funding, "available": s.available, "advanced": s.advanced,
                                        "losses": s.losses, "utilisation": s.utilisation}).data)


class PoolHistoryView(APIView):
    """`pool/history/`: the pool's figures after each pool entry."""

    @extend_schema(responses=PoolPointSerializer(many=True))
    def get(self, request):
        _require_pool_reader(request.user)
        return Response(PoolPointSerializer(selectors.pool_history(), many=True).data)


class TopUpViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """`pool/topups/`: tranches and top-ups (POST by the pool manager)."""

    serializer_class = TopUpSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return selectors.pool_tranches().none()
        _require_pool_reader(self.request.user)
        return selectors.pool_tranches()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        tranche = pool_top_up(
            amount=serializer.validated_data["amount"], decided_on=serializer.validated_data["decided_on"],
            decision_ref=serializer.validated_data.get("decision_ref", ""),
            note=serializer.validated_data.get("note", ""), actor=request.user,
            idempotency_key=f"api:topup:{request.user.pk}:{key}" if key else f"api:topup:{uuid.uuid4().hex}")
        return Response(TopUpSerializer(tranche).data, status=status.HTTP_201_CREATED)
