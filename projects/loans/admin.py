from django.contrib import admin

from .models import GuaranteeLoan


@admin.register(GuaranteeLoan)
class GuaranteeLoanAdmin(admin.ModelAdmin):
    """Read-only: loans are recorded and moved only through the services (audit rows, notices)."""

    list_display = ["pk", "project", "lender", "guarantor", "amount", "rate", "term_months", "state"]
    list_filter = ["state"]
    search_fields = ["lender", "guarantor", "project__title"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
