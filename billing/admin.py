from django import forms
from django.contrib import admin

from customers.selectors import scoped_customers

from .close.lock import closed_months, period_assert_open, plan_assert_open
from .models import Bill, BillLine, Payment, PaymentAllocation, PricePlan, UsageRecord


def _usage_month(record: UsageRecord):
    if record.billed_in_period:
        return record.billed_in_period
    return record.shot_date.replace(day=1) if record.shot_date else None


class PeriodLockedForm(forms.ModelForm):
    """The period lock (月结) in the admin: a clear form error instead of the trigger's refusal."""

    def clean(self):
        data = super().clean()
        instance = self.instance
        model = type(instance)
        if model is PricePlan:
            before = None
            if instance.pk:
                before = PricePlan.objects.values_list("valid_from", "valid_to").get(pk=instance.pk)
            plan_assert_open(before=before, after=(data.get("valid_from"), data.get("valid_to")))
            return data
        months = []
        if instance.pk:
            old = model.objects.get(pk=instance.pk)
            months.append(_usage_month(old) if model is UsageRecord else old.period)
        if model is UsageRecord and data.get("shot_date"):
            months.append(data.get("billed_in_period") or data["shot_date"].replace(day=1))
        if model is Bill and data.get("period"):
            months.append(data["period"])
        period_assert_open(months=[m for m in months if m], what="修改该月的数据")
        return data


def _in_closed_month(month) -> bool:
    return bool(month) and month.replace(day=1) in closed_months([month.replace(day=1)])


class ScopedByCustomerAdmin(admin.ModelAdmin):
    """Rows reach the admin only through the customer scope."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(customer__in=scoped_customers(request.user))


@admin.register(PricePlan)
class PricePlanAdmin(ScopedByCustomerAdmin):
    form = PeriodLockedForm
    list_display = ("customer", "series", "kind", "version", "valid_from", "valid_to", "is_locked")
    list_filter = ("kind", "series", "is_locked")
    raw_id_fields = ("customer", "supersedes")

    def has_change_permission(self, request, obj=None):
        # A plan that priced an issued bill is never edited, not even here: new version instead.
        from billing.plans.selectors import plan_is_locked

        if obj is not None and plan_is_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        from billing.plans.selectors import plan_is_locked

        if obj is not None and plan_is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(UsageRecord)
class UsageRecordAdmin(ScopedByCustomerAdmin):
    form = PeriodLockedForm
    list_display = ("customer", "series", "shot_date", "shots", "floors", "source_ref", "source")
    list_filter = ("series", "source")
    raw_id_fields = ("customer",)
    date_hierarchy = "shot_date"

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _in_closed_month(_usage_month(obj)):
            return False
        return super().has_delete_permission(request, obj)


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    raw_id_fields = ("plan",)

    # Lines of an issued bill are frozen (the database refuses changes too).
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.is_frozen)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_frozen)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_frozen)


@admin.register(Bill)
class BillAdmin(ScopedByCustomerAdmin):
    form = PeriodLockedForm
    list_display = ("number", "customer", "period", "status", "total", "amount_paid", "due_date")
    list_filter = ("status", "kind", "period")
    search_fields = ("number",)
    raw_id_fields = ("customer", "reverses")
    inlines = [BillLineInline]

    def has_change_permission(self, request, obj=None):
        # Issued bills change only through bill_reverse / allocations, never by hand.
        return super().has_change_permission(request, obj) and not (obj and obj.is_frozen)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _in_closed_month(obj.period):
            return False
        return super().has_delete_permission(request, obj) and not (obj and obj.is_frozen)


@admin.register(Payment)
class PaymentAdmin(ScopedByCustomerAdmin):
    list_display = ("customer", "amount", "allocated", "received_on", "method", "bank_ref", "payer")
    list_filter = ("method",)
    search_fields = ("bank_ref", "payer")
    raw_id_fields = ("customer",)
    # Kept by payment_allocate / allocation_undo; editing it here would break the sums.
    readonly_fields = ("allocated", "idempotency_key")


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(admin.ModelAdmin):
    list_display = ("payment", "bill", "amount", "created_at", "undone_at")
    raw_id_fields = ("payment", "bill")

    # Allocations move money between payments and bills: only the services create or undo them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(bill__customer__in=scoped_customers(request.user))
        )
