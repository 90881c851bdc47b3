from django.contrib import admin
from django.db import models

from .models import (
    AdAccount,
    AttentionItem,
    BusinessProfile,
    Competitor,
    Contact,
    CooperationDetail,
    CooperationStatusMapping,
    Customer,
    DeviceSeries,
    DictionaryItem,
    FollowUpNote,
    GradeThresholds,
    HiddenField,
    ImportedPrice,
    IssueCategory,
    LifecycleChange,
    LifecycleRule,
    Project,
    QualityIssue,
    Renewal,
    SavedFilter,
    Tag,
    WebsiteInfo,
)
from .selectors import scoped_customers


@admin.register(DictionaryItem)
class DictionaryItemAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "sort_order", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(CooperationStatusMapping)
class CooperationStatusMappingAdmin(admin.ModelAdmin):
    list_display = ("note_text", "status")
    list_filter = ("status",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(GradeThresholds)
class GradeThresholdsAdmin(admin.ModelAdmin):
    list_display = ("s_min", "a_min", "b_min", "c_min", "updated_at")

    def has_add_permission(self, request):
        # A single settings-like row.
        return not GradeThresholds.objects.exists() and super().has_add_permission(request)


# Web addresses typed without a scheme are read as https (Django 6's default, said now).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class ScopedChildAdmin(admin.ModelAdmin):
    """Detail-section rows, limited to customers in the admin user's scope."""

    formfield_overrides = HTTPS_URLS
    raw_id_fields = ("customer",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(customer__in=scoped_customers(request.user, include_deleted=True))
        )


for _model in (
    Contact,
    Competitor,
    AttentionItem,
    QualityIssue,
    Renewal,
    FollowUpNote,
    CooperationDetail,
    LifecycleChange,
    BusinessProfile,
    WebsiteInfo,
    Project,
    AdAccount,
):
    admin.site.register(_model, ScopedChildAdmin)


@admin.register(IssueCategory)
class IssueCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "sort_order", "is_active")


@admin.register(HiddenField)
class HiddenFieldAdmin(admin.ModelAdmin):
    list_display = ("role", "field")


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ("company_id", "name", "level", "lifecycle_status", "sales_owner", "is_deleted")
    list_filter = ("lifecycle_status", "level", "billing_enabled", "is_deleted")
    # ILIKE: answered by the name's trigram index (opcms/lookups.py).
    search_fields = ("name__ilike_contains", "=company_id")
    autocomplete_fields = ("sales_owner",)
    filter_horizontal = ("ops_owners", "tags")

    def get_changeform_initial_data(self, request):
        # Django pre-fills the add form from the query string; "?tags=abc" then fails
        # while rendering the many-to-many widget (a 500). Nothing here links with it.
        return {}

    inlines = [ContactInline]

    def get_queryset(self, request):
        return scoped_customers(request.user, include_deleted=True)


@admin.register(ImportedPrice)
class ImportedPriceAdmin(admin.ModelAdmin):
    """Staged workbook price cells: read-only, written by the import and consumed by billing.

    Editing here would bypass both (and the plan import's warnings), so the
    admin only shows them, scoped like every other customer row.
    """

    list_display = (
        "customer",
        "series_code",
        "method_raw",
        "single_raw",
        "multi_raw",
        "row_number",
        "imported_at",
        "consumed",
    )
    list_filter = ("series_code", "consumed")
    search_fields = ("customer__name__ilike_contains", "=customer__company_id")
    list_select_related = ("customer",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(customer__in=scoped_customers(request.user, include_deleted=True))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeviceSeries)
class DeviceSeriesAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "sort_order")


@admin.register(LifecycleRule)
class LifecycleRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "from_status",
        "to_status",
        "condition",
        "days",
        "manual_hold_days",
        "enabled",
        "sort_order",
    )
    list_editable = ("enabled", "sort_order")
