"""`projects/{id}/loans/` and `loans/{id}/{action}/` (api.md, R10). Views validate shapes and call one service."""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from core.api.fields import MoneyField
from core.idempotency import run_idempotently

from ..selectors import project_get_visible
from . import services
from .models import GuaranteeLoan
from .selectors import loans_visible_to
from .services import LOAN


class LoanSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = GuaranteeLoan
        fields = ["id", "project", "lender", "guarantor", "amount", "rate", "term_months", "purpose", "state",
                  "state_display", "state_reason", "created_at", "updated_at"]
        read_only_fields = fields


class LoanWriteSerializer(serializers.Serializer):
    lender = serializers.CharField(max_length=200)
    guarantor = serializers.CharField(max_length=200)
    # Text read by the one money parser (a third decimal names I4); the service refuses 0 (R10), naming `amount`.
    amount = MoneyField()
    # Text, read by the service (range, then two decimals, naming `rate`): "1e100" or 30 digits are a 400, not a 500.
    rate = serializers.CharField(max_length=20, help_text="percent a year, e.g. \"3.85\"")
    term_months = serializers.IntegerField(help_text="1–120")
    purpose = serializers.CharField()


class LoanActionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="required for decline and default")


class ProjectLoansView(generics.GenericAPIView):
    """GET the project's policy guarantee loans; POST records one (the project's enterprise, R10)."""

    serializer_class = LoanSerializer
    queryset = GuaranteeLoan.objects.none()  # for the schema; every request scopes through the project

    @extend_schema(operation_id="projects_loans_list", responses=LoanSerializer(many=True))
    def get(self, request, pk: int):
        project = project_get_visible(request.user, pk)
        loans = loans_visible_to(request.user).filter(project=project).order_by("pk")
        page = self.paginate_queryset(loans)
        return self.get_paginated_response(LoanSerializer(page, many=True).data)

    @extend_schema(operation_id="projects_loans_create", request=LoanWriteSerializer, responses={201: LoanSerializer})
    def post(self, request, pk: int):
        project = project_get_visible(request.user, pk)
        data = LoanWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def handler():
            loan = services.loan_create(project=project, actor=request.user, **data.validated_data)
            return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, handler)


class LoanDetailView(generics.GenericAPIView):
    serializer_class = LoanSerializer

    @extend_schema(operation_id="loans_retrieve", responses=LoanSerializer)
    def get(self, request, pk: int):
        loan = loans_visible_to(request.user).filter(pk=pk).first()
        if loan is None:
            raise Http404
        return Response(LoanSerializer(loan).data)


class LoanActionView(generics.GenericAPIView):
    """POST ``loans/{id}/{action}/``: recommend (bureau), grant, decline, repay, default (enterprise or bureau)."""

    serializer_class = LoanActionSerializer

    @extend_schema(operation_id="loans_action", request=LoanActionSerializer, responses=LoanSerializer,
                   parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=LOAN.names())])
    def post(self, request, pk: int, action: str):
        if action not in LOAN:
            raise Http404
        loan = loans_visible_to(request.user).filter(pk=pk).first()
        if loan is None:
            raise Http404
        data = LoanActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def handler():
            moved = services.loan_act(loan=loan, actor=request.user, action=action,
                                      reason=data.validated_data["reason"])
            return Response(LoanSerializer(moved).data)

        return run_idempotently(request, handler)
