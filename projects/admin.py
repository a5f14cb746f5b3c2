from django.contrib import admin

from .models import Attachment, ConflictDeclaration, ExpertAssignment, Milestone, NoticeCounter, Project


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    readonly_fields = ["state"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """State fields are protected: transitions happen only through services."""

    list_display = ["pk", "title", "enterprise", "platform", "state", "notice_number"]
    list_filter = ["state", "mode"]
    search_fields = ["title", "notice_number"]
    readonly_fields = ["state", "notice_number", "notice_year", "notice_seq"]
    inlines = [MilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["project", "seq", "title", "amount", "deposit_amount", "state", "due_date"]
    readonly_fields = ["state"]


admin.site.register(Attachment)
admin.site.register(ExpertAssignment)
admin.site.register(ConflictDeclaration)
admin.site.register(NoticeCounter)


from .loans import admin as loans_admin  # noqa: E402,F401  (R10: registers GuaranteeLoan)
