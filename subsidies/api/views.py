"""The subsidies part of the API (api.md): each view validates input and calls one service."""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.files import file_response
from core.idempotency import idempotent

from .. import selectors, services
from . import serializers as s


class _Scoped:
    selector = None

    def get_queryset(self):
        return type(self).selector(self.request.user)


class _CreatedByService(mixins.CreateModelMixin):
    """POST: the serializer reads the input, ``create_service`` writes it as the user, the new row is answered."""

    create_service = None

    @idempotent
    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        row = type(self).create_service(actor=request.user, **ser.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class _Entries(_Scoped, _CreatedByService, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The rows the user may see (list, detail) and new ones through the service."""


class PolicyViewSet(_Scoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    selector = staticmethod(selectors.policies_visible)
    serializer_class = s.PolicySerializer
    filterset_fields = ["project", "type", "insured"]

    @extend_schema(request={"application/json": s.PolicySerializer, "multipart/form-data": s.PolicyWriteSerializer},
                   responses={201: s.PolicySerializer})
    @idempotent
    def create(self, request, *args, **kwargs):
        ser = s.PolicyWriteSerializer(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        policy = services.policy_create(actor=request.user, **ser.validated_data)
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @extend_schema(methods=["POST"], request={"multipart/form-data": s.PolicyDocumentSerializer},
                   responses={200: s.PolicySerializer})
    @action(detail=True, methods=["get", "post"])
    def document(self, request, pk=None):
        """R12: GET the policy document, for those who may see the policy (another enterprise's: 404);
        POST (multipart ``document``) adds or replaces it."""
        if request.method == "POST":
            return self._attach_document(request)
        return file_response(self.get_object().document)

    @idempotent
    def _attach_document(self, request):
        policy = self.get_object()
        ser = s.PolicyDocumentSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        policy = services.policy_attach_document(actor=request.user, policy=policy, document=ser.validated_data["document"])
        return Response(self.get_serializer(policy).data)


class ClaimViewSet(_Entries):
    selector = staticmethod(selectors.claims_visible)
    serializer_class = s.ClaimSerializer
    create_service = staticmethod(services.claim_create)
    filterset_fields = ["policy", "milestone"]

    def get_serializer(self, *args, **kwargs):
        ser = super().get_serializer(*args, **kwargs)
        if "policy" in getattr(ser, "fields", {}):
            ser.fields["policy"].queryset = selectors.policies_visible(self.request.user)
        return ser


class AuditViewSet(_Entries):
    selector = staticmethod(selectors.audits_visible)
    serializer_class = s.AuditSerializer
    create_service = staticmethod(services.audit_save)
    filterset_fields = ["project", "year"]

    @action(detail=True, methods=["post"], serializer_class=s.OpinionSerializer)
    @idempotent
    def opinion(self, request, pk=None):
        audit = self.get_object()
        ser = s.OpinionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        audit = services.audit_opinion(actor=request.user, audit=audit, opinion=ser.validated_data["opinion"])
        return Response(s.AuditSerializer(audit, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """R12: the audit report, for those who may see the audit (another enterprise's: 404)."""
        return file_response(self.get_object().report)


class OtherSubsidyViewSet(_Entries):
    selector = staticmethod(selectors.other_subsidies_visible)
    serializer_class = s.OtherSubsidySerializer
    create_service = staticmethod(services.other_subsidy_create)
    filterset_fields = ["enterprise", "year", "type"]


class _FigureViewSet(_Scoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_fields = ["year", "enterprise", "state", "version"]
    compute_service = None

    @action(detail=False, methods=["post"], serializer_class=s.ComputeSerializer)
    @idempotent
    def compute(self, request):
        ser = s.ComputeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        result = type(self).compute_service(year=ser.validated_data["year"], actor=request.user)
        return Response(result.as_dict(), status=status.HTTP_200_OK)

    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, pk=None):
        figure = services.figure_approve(figure=self.get_object(), actor=request.user)
        return Response(self.figure_serializer(figure).data)

    @action(detail=True, methods=["post"], serializer_class=s.PaySerializer)
    @idempotent
    def pay(self, request, pk=None):
        ser = s.PaySerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        figure = services.figure_pay(figure=self.get_object(), actor=request.user, **ser.validated_data)
        return Response(self.figure_serializer(figure).data)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, TypeError) as exc:
            raise Http404 from exc


class GrantViewSet(_FigureViewSet):
    selector = staticmethod(selectors.grants_visible)
    serializer_class = figure_serializer = s.GrantSerializer
    compute_service = staticmethod(services.grant_compute)


class PremiumViewSet(_FigureViewSet):
    selector = staticmethod(selectors.premiums_visible)
    serializer_class = figure_serializer = s.PremiumSerializer
    compute_service = staticmethod(services.premium_compute)
