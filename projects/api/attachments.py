"""`projects/{id}/attachments/` (api.md): list a project's files, upload one (multipart), download one.

The upload goes through the same service as the page (``attachment_add``): the
same permission (the project's parties, ``permissions.can_upload``), the same
check of the bytes (R12: PDF or image, at most 20 MB, ``core.files``), the same
audit row. Downloads are served after the same visibility check as the page,
with token auth, so an outside program can read back what it filed.
"""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.files import file_response
from core.idempotency import run_idempotently

from .. import selectors, services
from ..choices import AttachmentKind
from ..models import Attachment
from .serializers import AttachmentSerializer


class AttachmentDownloadSerializer(AttachmentSerializer):
    download = serializers.SerializerMethodField()

    class Meta(AttachmentSerializer.Meta):
        fields = [*AttachmentSerializer.Meta.fields, "download"]

    def get_download(self, obj: Attachment) -> str:
        url = reverse("attachment-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    # The type is judged by the service from the bytes (R12), never from the name or the declared type.
    file = serializers.FileField(allow_empty_file=True)


class ProjectAttachmentsView(generics.GenericAPIView):
    """GET the project's files; POST (multipart ``kind``, ``file``) adds one — the project's parties only."""

    serializer_class = AttachmentDownloadSerializer
    parser_classes = [MultiPartParser, FormParser]
    queryset = Attachment.objects.none()  # for the schema; every request scopes through the project

    @extend_schema(operation_id="projects_attachments_list", responses=AttachmentDownloadSerializer(many=True))
    def get(self, request, pk: int):
        project = selectors.project_get_visible(request.user, pk)
        page = self.paginate_queryset(project.attachments.order_by("uploaded_at", "pk"))
        return self.get_paginated_response(AttachmentDownloadSerializer(page, many=True,
                                                                        context={"request": request}).data)

    @extend_schema(operation_id="projects_attachments_create", request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={201: AttachmentDownloadSerializer})
    def post(self, request, pk: int):
        project = selectors.project_get_visible(request.user, pk)
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def handler():
            attachment = services.attachment_add(project=project, actor=request.user, **data.validated_data)
            body = AttachmentDownloadSerializer(attachment, context={"request": request}).data
            return Response(body, status=status.HTTP_201_CREATED)

        return run_idempotently(request, handler)


class AttachmentDownloadView(generics.GenericAPIView):
    """GET the stored file (404 when the project is not visible to the user, as on the page)."""

    serializer_class = AttachmentDownloadSerializer

    @extend_schema(operation_id="attachments_download", responses={(200, "application/octet-stream"): bytes})
    def get(self, request, pk: int):
        attachment = selectors.attachment_get_visible(request.user, pk)
        return file_response(attachment.file, filename=attachment.original_name, content_type=attachment.content_type)
