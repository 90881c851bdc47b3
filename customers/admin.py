from django.contrib import admin

from .models import CooperationStatusMapping, Customer, DictionaryItem
from .selectors import scoped_customers


@admin.register(DictionaryItem)
class DictionaryItemAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "sort_order", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(CooperationStatusMapping)
class CooperationStatusMappingAdmin(admin.ModelAdmin):
    list_display = ("note_text", "status")
    list_filter = ("status",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("company_id", "name", "level", "lifecycle_status", "sales_owner", "is_deleted")
    list_filter = ("lifecycle_status", "level", "billing_enabled", "is_deleted")
    search_fields = ("name", "=company_id")
    autocomplete_fields = ("sales_owner",)
    filter_horizontal = ("ops_owners",)

    def get_queryset(self, request):
        return scoped_customers(request.user, include_deleted=True)
