"""Input and output serializers of the billing API: plans, usage, bills, payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import (
    Bill,
    BillLine,
    DeviceSeries,
    Payment,
    PaymentAllocation,
    PricePlan,
    UsageRecord,
)
from billing.plans.services import PLAN_FIELDS
from customers.models import Customer
from customers.selectors import scoped_customers
from opcms.months import month_format, month_parse

MAX_INGEST_RECORDS = 10_000
# Ids beyond a 64-bit integer cannot exist; refusing them early keeps the
# database driver from overflowing on an IN (...) lookup.
MAX_ID = 2**63 - 1


# --- price plans --------------------------------------------------------------


class PricePlanOutputSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(source="customer.company_id")
    series_code = serializers.CharField(source="series.code")
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = PricePlan
        fields = [
            "id",
            "customer",
            "company_id",
            "series",
            "series_code",
            "kind_display",
            "version",
            *PricePlan.TERMS_FIELDS,
            "source",
            "is_locked",
            "supersedes",
            "created_at",
        ]
        read_only_fields = fields


# --- usage --------------------------------------------------------------------


class UsageRecordInputSerializer(serializers.Serializer):
    """One shoot record as the scanning platform sends it (documentation of `records` items)."""

    company_id = serializers.IntegerField(help_text="公司id（客户在平台中的编号）")
    series = serializers.CharField(help_text="设备系列代码：X、N 或 L")
    shot_date = serializers.DateField(help_text="拍摄日期 YYYY-MM-DD")
    floors = serializers.IntegerField(min_value=1, default=1, help_text="每次拍摄的楼层数")
    shots = serializers.IntegerField(min_value=1, default=1, help_text="拍摄次数")
    area = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text="总面积（m²），按面积计价时必填",
    )
    source_ref = serializers.CharField(
        max_length=100, required=False, allow_null=True, help_text="来源单号；同一单号只计一次"
    )


@extend_schema_field(UsageRecordInputSerializer(many=True))
class RecordListField(serializers.Field):
    """A list of up to 10,000 JSON objects, checked for shape only.

    Each record's fields are validated by billing.usage.services.usage_ingest, which
    reports errors per record; validating 10,000 nested serializers here as
    well would cost more than the whole ingest.
    """

    default_error_messages = {
        "not_a_list": "records 应为对象数组",
        "empty": "records 不能为空",
        "too_many": f"单次最多提交 {MAX_INGEST_RECORDS:,} 条记录，请分批提交",
        "not_an_object": "第 {n} 条不是对象",
    }

    def to_internal_value(self, data: Any) -> list[dict]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if not data:
            self.fail("empty")
        if len(data) > MAX_INGEST_RECORDS:
            self.fail("too_many")
        for index, record in enumerate(data):
            if not isinstance(record, dict):
                self.fail("not_an_object", n=index + 1)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class UsageIngestInputSerializer(serializers.Serializer):
    records = RecordListField(help_text="用量记录，单次最多 10,000 条")


class UsageIngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="记录在 records 中的下标（从 0 开始）")
    field = serializers.CharField(help_text="出错的字段")
    message = serializers.CharField(help_text="中文错误说明")


class UsageIngestOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="新建的记录数")
    duplicates = serializers.IntegerField(help_text="来源单号已存在而跳过的记录数")
    errors = UsageIngestErrorSerializer(many=True, help_text="有误而未导入的记录")


class UsageRecordOutputSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(source="customer.company_id")
    series_code = serializers.CharField(source="series.code")

    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "customer",
            "company_id",
            "series_code",
            "shot_date",
            "floors",
            "shots",
            "area",
            "source_ref",
            "source",
            "note",
            "created_at",
        ]
        read_only_fields = fields


# --- bills --------------------------------------------------------------------


class MonthField(serializers.Field):
    """A month as "2025-10" (a full date is accepted and means its month)."""

    default_error_messages = {"invalid": "账期应为 YYYY-MM 格式，例如 2025-10"}

    def to_internal_value(self, data: Any) -> date:
        try:
            return month_parse(str(data))
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return month_format(value)


extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-10"})(
    MonthField
)


class BillGenerateInputSerializer(serializers.Serializer):
    period = MonthField(help_text="账期月份，如 2025-10")
    customer_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_null=True,
        max_length=10_000,
        help_text="只为这些客户（客户 id）生成；不填则为全部客户",
    )


class BillLineOutputSerializer(serializers.ModelSerializer):
    series_code = serializers.CharField(source="series.code", default=None)
    line_type_display = serializers.CharField(source="get_line_type_display")

    class Meta:
        model = BillLine
        fields = [
            "position",
            "series_code",
            "line_type",
            "line_type_display",
            "band",
            "quantity",
            "unit_price",
            "amount",
            "explanation",
            "reason",
        ]
        read_only_fields = fields


class AllocationOutputSerializer(serializers.ModelSerializer):
    bill_number = serializers.CharField(source="bill.number")
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = PaymentAllocation
        fields = [
            "id",
            "payment",
            "bill",
            "bill_number",
            "amount",
            "created_at",
            "is_active",
            "undone_at",
            "undo_reason",
        ]
        read_only_fields = fields

    def get_is_active(self, allocation: PaymentAllocation) -> bool:
        return allocation.undone_at is None


class BillOutputSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(source="customer.company_id")
    customer_name = serializers.CharField(source="customer.name")
    status_display = serializers.CharField(source="get_status_display")
    period = MonthField()
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Bill
        fields = [
            "id",
            "number",
            "kind",
            "customer",
            "company_id",
            "customer_name",
            "period",
            "status",
            "status_display",
            "total",
            "amount_paid",
            "balance",
            "is_overdue",
            "due_date",
            "issued_at",
            "reverses",
            "reason",
            "anomalies",
            "generated_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, bill: Bill) -> bool:
        # The shared rule (BRIEF): issued or partially paid, past due, balance left.
        return (
            bill.status in (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID)
            and bill.due_date is not None
            and bill.due_date < timezone.localdate()
            and bill.balance > 0
        )


class BillDetailOutputSerializer(BillOutputSerializer):
    lines = BillLineOutputSerializer(many=True)
    allocations = AllocationOutputSerializer(many=True)

    class Meta(BillOutputSerializer.Meta):
        fields = [*BillOutputSerializer.Meta.fields, "lines", "allocations"]
        read_only_fields = fields


# --- payments -----------------------------------------------------------------


class ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id resolved only within the caller's scope: others read as "does not exist"."""

    def get_queryset(self) -> Any:
        return scoped_customers(self.context["request"].user)


class PaymentInputSerializer(serializers.Serializer):
    customer = ScopedCustomerField(
        queryset=Customer.objects.all(), help_text="客户 id（须在数据范围内）"
    )
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="收款金额（元）"
    )
    received_on = serializers.DateField(help_text="收款日期")
    method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.BANK)
    bank_ref = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    payer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PaymentOutputSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(source="customer.company_id")
    customer_name = serializers.CharField(source="customer.name")
    method_display = serializers.CharField(source="get_method_display")
    unallocated = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Payment
        fields = [
            "id",
            "customer",
            "company_id",
            "customer_name",
            "amount",
            "allocated",
            "unallocated",
            "received_on",
            "method",
            "method_display",
            "bank_ref",
            "payer",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class PaymentDetailOutputSerializer(PaymentOutputSerializer):
    allocations = AllocationOutputSerializer(many=True)

    class Meta(PaymentOutputSerializer.Meta):
        fields = [*PaymentOutputSerializer.Meta.fields, "allocations"]
        read_only_fields = fields


class AllocationItemInputSerializer(serializers.Serializer):
    bill = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="账单 id")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="核销金额（元）"
    )


class PaymentAllocateInputSerializer(serializers.Serializer):
    allocations = AllocationItemInputSerializer(many=True, help_text="要核销的账单与金额")

    def validate_allocations(self, value: list) -> list:
        if not value:
            raise serializers.ValidationError("请至少核销一张账单")
        if len(value) > 500:
            raise serializers.ValidationError("单次最多核销 500 张账单")
        return value


class AllocationUndoInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="撤销原因（必填，记入审计）")


# --- price plan writes ----------------------------------------------------------

# The plan terms a client may write: billing.plans.services.PLAN_FIELDS less the import's own
# bookkeeping (source and the workbook's raw price text).
PLAN_INPUT_FIELDS = [f for f in PLAN_FIELDS if f not in ("source", "raw_single", "raw_multi")]


class BandSerializer(serializers.Serializer):
    """One price band: up to `up_to` units (inclusive; null for the open last band) at `price`."""

    up_to = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, allow_null=True, required=False, default=None
    )
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        # Stored as JSON the way the plan form stores it: the price as a decimal string.
        return {"up_to": values.get("up_to"), "price": str(values["price"])}


class PricePlanTermsSerializer(serializers.ModelSerializer):
    """Types and choices of the plan terms; the pricing rules are plan_create/plan_update's."""

    bands_shared = BandSerializer(many=True, required=False, help_text="共用阶梯")
    bands_single = BandSerializer(many=True, required=False, help_text="单层阶梯")
    bands_multi = BandSerializer(many=True, required=False, help_text="多层阶梯")

    class Meta:
        model = PricePlan
        fields = PLAN_INPUT_FIELDS


class PricePlanCreateInputSerializer(PricePlanTermsSerializer):
    customer = ScopedCustomerField(
        queryset=Customer.objects.all(), help_text="客户 id（须在数据范围内）"
    )
    series = serializers.SlugRelatedField(
        slug_field="code",
        queryset=DeviceSeries.objects.filter(is_active=True),
        help_text="设备系列代码：X、N 或 L",
    )

    class Meta(PricePlanTermsSerializer.Meta):
        fields = ["customer", "series", *PLAN_INPUT_FIELDS]


class PricePlanNewVersionInputSerializer(PricePlanTermsSerializer):
    """The new version's start date; any terms given replace the old version's."""

    valid_from = serializers.DateField(help_text="新版本生效日期（原版本截止到前一天）")

    class Meta(PricePlanTermsSerializer.Meta):
        extra_kwargs = {name: {"required": False} for name in PLAN_INPUT_FIELDS}
