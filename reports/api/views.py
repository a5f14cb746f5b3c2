from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.files import file_response
from core.idempotency import idempotent

from .. import permissions, selectors, services
from .serializers import ReportRequestSerializer, ReportSerializer


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POST {kind, params} → 202 {id}; GET reports/{id}/ → state, progress, download once done."""

    serializer_class = ReportSerializer
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        return selectors.reports_visible_to(self.request.user).order_by("-pk")

    def get_object(self):
        report = permissions.report_for(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, report)
        return report

    @idempotent
    def create(self, request, *args, **kwargs):
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_request(actor=request.user, kind=data.validated_data["kind"],
                                         params=data.validated_data["params"])
        report = permissions.report_for(request.user, report.pk)
        body = ReportSerializer(report, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": request.build_absolute_uri(f"{report.pk}/")})

    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        report = self.get_object()
        if report.state != "done" or not report.file:
            return Response({"code": "not_ready", "detail": _("报告尚未生成完成")}, status=status.HTTP_409_CONFLICT)
        return file_response(report.file, filename=report.filename, content_type=report.content_type)

    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, pk=None):
        report = services.report_retry(actor=request.user, report=self.get_object())
        return Response(ReportSerializer(report, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
