from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import DocumentCounter, Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only: reports change only through their services and the rendering task."""

    list_display = ["pk", "kind", "number", "state", "progress", "requested_by", "organization", "created_at",
                    "finished_at", "pages", "size"]
    list_filter = ["kind", "state"]
    search_fields = ["number", "requested_by__username"]
    readonly_fields = [f.name for f in Report._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    """Read-only: a counter edited by hand would skip or repeat document numbers."""

    list_display = ["prefix", "year", "last"]
    list_filter = ["prefix", "year"]
