from django.urls import reverse
from rest_framework import serializers

from ..choices import ReportKind
from ..models import Report


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    params = serializers.DictField()


class ReportSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)

    class Meta:
        model = Report
        fields = ["id", "kind", "params", "state", "progress", "number", "title", "pages", "size", "error",
                  "requested_by", "created_at", "started_at", "finished_at", "download"]
        read_only_fields = fields

    def get_download(self, obj: Report) -> str | None:
        if obj.state != "done" or not obj.file:
            return None
        url = reverse("reports-api:report-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
