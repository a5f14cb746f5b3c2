from django.contrib import admin

from .models import (
    AnnualAudit,
    GrantComputation,
    InsuranceClaim,
    InsurancePolicy,
    OtherPolicySubsidy,
    PremiumSubsidy,
    SubsidyRun,
)


class ReadOnly(admin.ModelAdmin):
    """Figures and records change only through services (versions, audit rows)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GrantComputation, PremiumSubsidy)
class FigureAdmin(ReadOnly):
    list_display = ["enterprise", "year", "version", "amount", "uncapped_amount", "capped", "state"]
    list_filter = ["year", "state", "capped"]


for model in (InsurancePolicy, InsuranceClaim, AnnualAudit, OtherPolicySubsidy, SubsidyRun):
    admin.site.register(model, ReadOnly)
