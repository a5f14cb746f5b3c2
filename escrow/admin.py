from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Account, BankStatement, BankStatementLine, JournalEntry, MoneyOperation, PoolDay, PoolTranche, Posting


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "owner", "balance"]
    list_filter = ["kind"]
    search_fields = ["code"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "memo", "actor"]
    inlines = [PostingInline]


@admin.register(MoneyOperation)
class MoneyOperationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "amount", "state", "created_at", "ordered_by", "confirmed_by"]
    list_filter = ["kind", "state"]


admin.site.register(PoolTranche, ReadOnlyAdmin)
admin.site.register(PoolDay, ReadOnlyAdmin)
admin.site.register(Posting, ReadOnlyAdmin)
admin.site.register(BankStatement, ReadOnlyAdmin)
admin.site.register(BankStatementLine, ReadOnlyAdmin)
