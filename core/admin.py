from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, BlacklistEntry, ChainHead, IdempotencyRecord, Notification, Organization, SchemeVersion, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district", "uscc", "district_platform", "blacklisted"]
    list_filter = ["kind", "district_platform", "blacklisted"]
    search_fields = ["name", "uscc"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("组织"), {"fields": ("organization", "expert_category")}))
    list_display = ["username", "first_name", "organization", "expert_category", "is_active"]
    list_filter = ["groups", "organization__kind", "expert_category"]


@admin.register(SchemeVersion)
class SchemeVersionAdmin(admin.ModelAdmin):
    """Edits are kept in the admin's history (LogEntry) of each version."""

    list_display = ["name", "valid_from", "valid_to", "grant_rate", "grant_cap", "premium_rate", "premium_cap"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "content_type", "object_id", "from_state", "to_state"]
    list_filter = ["action", "content_type"]


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "organization", "action", "actor"]


admin.site.register(Notification)
admin.site.register(IdempotencyRecord, ReadOnlyAdmin)
admin.site.register(ChainHead, ReadOnlyAdmin)  # moved only by sealing (core.chain, docs/trail.md)
