from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Deferrable, F, Func, Q, Value
from django.utils import timezone

from customers.models import Customer, DeviceSeries

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class PricePlan(models.Model):
    """One version of a customer's price for one device series, valid over a date range.

    A plan that priced an issued bill is locked and never edited: a change
    creates a new version valid from a later date.
    """

    class Kind(models.TextChoices):
        PER_SHOOT = "per_shoot", "定价结算"
        TIERED = "tiered", "阶梯结算"
        ANNUAL = "annual", "包年套餐"

    class MultiRule(models.TextChoices):
        UNIFIED = "unified", "统一价"
        INCREMENTAL = "incremental", "逐层递增"

    class TierMode(models.TextChoices):
        GRADUATED = "graduated", "分段累进"
        VOLUME = "volume", "整体适用"

    class TierUnit(models.TextChoices):
        SHOOTS = "shoots", "按拍摄量"
        FLOORS = "floors", "按楼层数"

    class FeeSchedule(models.TextChoices):
        UPFRONT = "upfront", "一次性预收"
        MONTHLY = "monthly", "按月分期"

    class DiscountKind(models.TextChoices):
        NONE = "", "无"
        PERCENT = "percent", "百分比"
        AMOUNT = "amount", "固定金额"

    class Source(models.TextChoices):
        MANUAL = "manual", "手工"
        IMPORT = "import", "导入"

    # The terms each kind of plan reads (the form shows only the chosen kind's; the
    # workbook's price columns set the per-shoot ones).
    KIND_TERMS = {
        "per_shoot": (
            "single_price",
            "multi_rule",
            "multi_price",
            "multi_base",
            "multi_step",
            "per_area",
            "area_price",
        ),
        "tiered": ("tier_mode", "tier_unit", "bands_shared", "bands_single", "bands_multi"),
        "annual": ("annual_fee", "annual_quota", "overage_price", "fee_schedule", "contract_start"),
    }
    # The terms a person sets on a plan, in form order: forms, services, the API
    # and the import all use this one list.
    TERMS_FIELDS = (
        "kind",
        "valid_from",
        "valid_to",
        *KIND_TERMS["per_shoot"],
        *KIND_TERMS["tiered"],
        *KIND_TERMS["annual"],
        "minimum_charge",
        "discount_kind",
        "discount_value",
        "discount_reason",
    )

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="price_plans"
    )
    series = models.ForeignKey(
        DeviceSeries, verbose_name="设备系列", on_delete=models.PROTECT, related_name="price_plans"
    )
    kind = models.CharField("计价方式", max_length=12, choices=Kind.choices)
    version = models.PositiveIntegerField("版本", default=1)
    valid_from = models.DateField("生效日期", null=True, blank=True)
    valid_to = models.DateField("截止日期", null=True, blank=True)

    # per-shoot
    single_price = models.DecimalField("单层单价", null=True, blank=True, **MONEY)
    multi_rule = models.CharField(
        "多层规则", max_length=12, choices=MultiRule.choices, default=MultiRule.UNIFIED
    )
    multi_price = models.DecimalField(
        "多层单价", null=True, blank=True, help_text="留空或 0 表示与单层相同", **MONEY
    )
    multi_base = models.DecimalField("多层首层价", null=True, blank=True, **MONEY)
    multi_step = models.DecimalField("多层每增一层", null=True, blank=True, **MONEY)
    per_area = models.BooleanField("按面积计价", default=False)
    area_price = models.DecimalField("每平方米单价", null=True, blank=True, **MONEY)

    # tiered: bands are [{"up_to": 100 | null, "price": "10.00"}, ...], up_to inclusive
    tier_mode = models.CharField(
        "阶梯方式", max_length=10, choices=TierMode.choices, default=TierMode.GRADUATED
    )
    tier_unit = models.CharField(
        "阶梯计量", max_length=8, choices=TierUnit.choices, default=TierUnit.SHOOTS
    )
    bands_shared = models.JSONField("共用阶梯", default=list, blank=True)
    bands_single = models.JSONField("单层阶梯", default=list, blank=True)
    bands_multi = models.JSONField("多层阶梯", default=list, blank=True)

    # annual package
    annual_fee = models.DecimalField("年费", null=True, blank=True, **MONEY)
    annual_quota = models.PositiveIntegerField("年度限量（拍摄量）", null=True, blank=True)
    overage_price = models.DecimalField("超量单价", null=True, blank=True, **MONEY)
    fee_schedule = models.CharField(
        "年费收取", max_length=8, choices=FeeSchedule.choices, default=FeeSchedule.UPFRONT
    )
    contract_start = models.DateField("合同年度开始", null=True, blank=True)

    minimum_charge = models.DecimalField("月最低消费", null=True, blank=True, **MONEY)
    discount_kind = models.CharField(
        "折扣方式", max_length=8, choices=DiscountKind.choices, default="", blank=True
    )
    discount_value = models.DecimalField("折扣值", null=True, blank=True, **MONEY)
    discount_reason = models.CharField("折扣原因", max_length=200, blank=True)

    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.MANUAL)
    raw_single = models.CharField("单层定价（原文）", max_length=50, blank=True)
    raw_multi = models.CharField("多层定价（原文）", max_length=50, blank=True)
    is_locked = models.BooleanField("已锁定", default=False, help_text="已用于已出账账单，不可修改")
    supersedes = models.ForeignKey(
        "self",
        verbose_name="取代版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "价格方案"
        verbose_name_plural = "价格方案"
        ordering = ["customer_id", "series_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "series", "version"], name="price_plan_version_uniq"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="price_plan_valid_range",
            ),
            # One plan per (customer, series) in force on any day. The services refuse an
            # overlap with a clerk's message first; this is the lock for every other path.
            # Deferred to commit, so one transaction may end a version and start the next
            # in either order (the workbook import inserts first, then closes).
            ExclusionConstraint(
                name="price_plan_no_overlap",
                expressions=[
                    ("customer", RangeOperators.EQUAL),
                    ("series", RangeOperators.EQUAL),
                    (
                        Func(
                            F("valid_from"),
                            F("valid_to"),
                            Value("[]"),
                            function="daterange",
                            output_field=DateRangeField(),
                        ),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                deferrable=Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.series_id} v{self.version} {self.get_kind_display()}"


class UsageRecord(models.Model):
    """Shoots of one customer and series on one day, all with the same floor count.

    `shots` shoots of `floors` floors each; `area` is the total area in m² when
    the plan prices by area. A source reference (来源单号) never counts twice.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "手工录入"
        IMPORT = "import", "表格导入"
        API = "api", "接口"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="usage_records"
    )
    series = models.ForeignKey(
        DeviceSeries,
        verbose_name="设备系列",
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    shot_date = models.DateField("拍摄日期", db_index=True)
    shots = models.PositiveIntegerField("拍摄量", default=1, validators=[MinValueValidator(1)])
    floors = models.PositiveIntegerField("楼层数", default=1, validators=[MinValueValidator(1)])
    area = models.DecimalField("面积（m²）", null=True, blank=True, max_digits=14, decimal_places=2)
    source_ref = models.CharField("来源单号", max_length=100, null=True, blank=True, unique=True)
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    # Usage that arrives after its month was closed (月结) keeps its real shot_date and is
    # billed in the next open month as an adjustment line naming the original month.
    billed_in_period = models.DateField(
        "补计入账期",
        null=True,
        blank=True,
        help_text="所属月份已关账时，补计到的账期（当月第一天）",
    )

    class Meta:
        verbose_name = "用量记录"
        verbose_name_plural = "用量记录"
        ordering = ["-shot_date", "-pk"]
        indexes = [
            # Reports sum a customer's shots by date (churn warnings, the shots trend): with
            # shots and floors in the index a salesperson's customers are read from it alone.
            models.Index(
                fields=["customer", "series", "shot_date"],
                include=["shots", "floors"],
                name="billing_usage_customer_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(shots__gte=1), name="usage_shots_positive"),
            models.CheckConstraint(condition=Q(floors__gte=1), name="usage_floors_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.series_id} {self.shot_date} ×{self.shots}"


class Bill(models.Model):
    """One customer's settlement for one month (or a credit note reversing one)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ISSUED = "issued", "已出账"
        PARTIALLY_PAID = "partially_paid", "部分收款"
        PAID = "paid", "已结清"
        REVERSED = "reversed", "已冲正"

    class Kind(models.TextChoices):
        BILL = "bill", "账单"
        CREDIT_NOTE = "credit_note", "冲正单"

    number = models.CharField("账单号", max_length=40, unique=True)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.BILL)
    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="bills"
    )
    period = models.DateField("账期月份", help_text="当月第一天", db_index=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    total = models.DecimalField("金额", default=ZERO, **MONEY)
    amount_paid = models.DecimalField("已核销", default=ZERO, **MONEY)
    reverses = models.ForeignKey(
        "self",
        verbose_name="冲正的账单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        db_index=False,  # billing_bill_reverses_idx: credit notes only
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    anomalies = models.JSONField("异常", default=list, blank=True)
    due_date = models.DateField("到期日", null=True, blank=True)
    issued_at = models.DateTimeField("出账时间", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="出账人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # billing_bill_issuer_idx: issued bills only
    )
    generated_at = models.DateTimeField("生成时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "账单"
        verbose_name_plural = "账单"
        ordering = ["-period", "customer_id"]
        indexes = [
            # The receivables reports read live bills by customer and month and need only
            # these columns: INCLUDE answers them from the index alone.
            models.Index(
                fields=["customer", "period"],
                include=["status", "due_date", "total", "amount_paid"],
                condition=Q(kind="bill"),
                name="billing_bill_receivables_idx",
            ),
            # Overdue lists (a sales user's home) walk open bills by due date, oldest first,
            # and check the scope and the balance from the index.
            models.Index(
                fields=["due_date", "customer"],
                include=["total", "amount_paid"],
                condition=Q(kind="bill", status__in=["issued", "partially_paid"]),
                name="billing_bill_open_due_idx",
            ),
            # Issue 17: what drafting 100,000 bills maintains, only where a query asks for it.
            # The status without the varchar_pattern_ops twin db_index=True adds (no query
            # asks LIKE 'x%' of a status); the credit notes' original and the issuer on the
            # rows that have one (the foreign-key checks of a deleted bill or user look up
            # non-null values), not on 100,000 drafts' NULLs.
            models.Index(fields=["status"], name="billing_bill_status_idx"),
            models.Index(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="billing_bill_reverses_idx",
            ),
            models.Index(
                fields=["issued_by"],
                condition=Q(issued_by__isnull=False),
                name="billing_bill_issuer_idx",
            ),
        ]
        constraints = [
            # One live bill per customer and month; concurrency-safe idempotency.
            models.UniqueConstraint(
                fields=["customer", "period"],
                condition=Q(kind="bill") & ~Q(status="reversed"),
                name="bill_one_live_per_customer_period",
            ),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="bill_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="credit_note") | Q(amount_paid__lte=F("total")),
                name="bill_paid_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def is_overdue(self) -> bool:
        """Derived like `billing.bills.selectors.overdue_q`: open, past due, something still owed."""
        return (
            self.kind == self.Kind.BILL
            and self.status in (self.Status.ISSUED, self.Status.PARTIALLY_PAID)
            and self.due_date is not None
            and self.due_date < timezone.localdate()
            and self.balance > 0
        )

    @property
    def is_frozen(self) -> bool:
        """Issued bills are immutable (the database refuses changes too, see migration 0002)."""
        return self.status != self.Status.DRAFT


class BillLine(models.Model):
    class LineType(models.TextChoices):
        SINGLE = "single", "单层"
        MULTI = "multi", "多层"
        ALL = "all", "全部"
        AREA = "area", "按面积"
        ANNUAL_FEE = "annual_fee", "年费"
        OVERAGE = "overage", "超量"
        MINIMUM = "minimum", "最低消费补足"
        DISCOUNT = "discount", "折扣"
        MANUAL = "manual", "手工调整"
        CREDIT = "credit", "冲正"

    bill = models.ForeignKey(
        Bill, verbose_name="账单", on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField("序号", default=0)
    series = models.ForeignKey(
        DeviceSeries, verbose_name="设备系列", null=True, blank=True, on_delete=models.PROTECT
    )
    plan = models.ForeignKey(
        PricePlan, verbose_name="价格方案", null=True, blank=True, on_delete=models.PROTECT
    )
    line_type = models.CharField("类型", max_length=12, choices=LineType.choices)
    band = models.CharField("阶梯", max_length=50, blank=True)
    quantity = models.DecimalField("数量", max_digits=14, decimal_places=2, default=ZERO)
    unit_price = models.DecimalField("单价", default=ZERO, **MONEY)
    amount = models.DecimalField("金额", **MONEY)
    explanation = models.CharField("计算说明", max_length=500)
    # Which usage stands behind the line (single/multi-floor shoots, or all of the series):
    # the bill page drills down to exactly those usage records.
    floor_type = models.CharField("楼层类型", max_length=8, blank=True)
    reason = models.CharField("调整原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="添加人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,  # billing_line_created_by_idx: manual lines only
    )

    class Meta:
        verbose_name = "账单明细"
        verbose_name_plural = "账单明细"
        ordering = ["bill_id", "position"]
        indexes = [
            # Only the clerks' manual lines have an author: generated lines (185,000 a month
            # at 100,000 customers) keep no NULL entry (a deleted user's check looks up its id).
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="billing_line_created_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.explanation


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK = "bank", "银行转账"
        ALIPAY = "alipay", "支付宝"
        WECHAT = "wechat", "微信"
        CASH = "cash", "现金"
        OTHER = "other", "其他"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField("金额", **MONEY)
    allocated = models.DecimalField("已核销", default=ZERO, **MONEY)
    received_on = models.DateField("收款日期", db_index=True)
    method = models.CharField("方式", max_length=8, choices=Method.choices, default=Method.BANK)
    bank_ref = models.CharField("银行流水号", max_length=100, blank=True)
    payer = models.CharField("付款人", max_length=200, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    # A replayed form or API request (double click, retry) carries the same key.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "收款"
        verbose_name_plural = "收款"
        ordering = ["-received_on", "-pk"]
        indexes = [
            # The payment summary sums each customer's payments: read from this index in
            # customer order, grouped as it is read (no hash of 100,000 customers).
            models.Index(
                fields=["customer"],
                include=["amount", "allocated", "received_on"],
                name="billing_payment_customer_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["method", "bank_ref"],
                condition=~Q(bank_ref=""),
                name="payment_bank_ref_uniq_per_method",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("amount")),
                name="payment_allocated_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_on} ¥{self.amount}"

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.allocated


class PaymentAllocation(models.Model):
    """Part of a payment applied to a bill (核销). Undone allocations are kept, marked undone."""

    payment = models.ForeignKey(
        Payment, verbose_name="收款", on_delete=models.PROTECT, related_name="allocations"
    )
    bill = models.ForeignKey(
        Bill, verbose_name="账单", on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField("金额", **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("核销时间", auto_now_add=True)
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undo_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "核销记录"
        verbose_name_plural = "核销记录"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.bill_id} ¥{self.amount}"


# --- collections desk (issue 15) -------------------------------------------------


class CollectionContact(models.Model):
    """One follow-up of an overdue customer: a call, visit, message or email, and its outcome."""

    class Channel(models.TextChoices):
        CALL = "call", "电话"
        VISIT = "visit", "拜访"
        MESSAGE = "message", "消息"
        EMAIL = "email", "邮件"

    class Outcome(models.TextChoices):
        REACHED = "reached", "已联系上"
        PROMISED = "promised", "承诺付款"
        NO_ANSWER = "no_answer", "未接通"
        DISPUTE = "dispute", "有异议"
        STATEMENT_SENT = "statement_sent", "已发送对账单"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="collection_contacts"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="跟进人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField("跟进时间", default=timezone.now, db_index=True)
    channel = models.CharField("方式", max_length=8, choices=Channel.choices)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    note = models.CharField("备注", max_length=500, blank=True)

    class Meta:
        verbose_name = "催收跟进"
        verbose_name_plural = "催收跟进"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.get_channel_display()} {self.at:%Y-%m-%d %H:%M}"


class PaymentPromise(models.Model):
    """A customer's promise to pay an amount by a date; broken when the date passes unpaid."""

    class Status(models.TextChoices):
        OPEN = "open", "待兑现"
        KEPT = "kept", "已兑现"
        BROKEN = "broken", "已违约"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="payment_promises"
    )
    amount = models.DecimalField(
        "承诺金额", validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    promised_date = models.DateField("承诺付款日期")
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    broken_at = models.DateTimeField("标记违约时间", null=True, blank=True)
    kept_at = models.DateTimeField("兑现时间", null=True, blank=True)
    contact = models.ForeignKey(
        CollectionContact,
        verbose_name="来自跟进",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promises",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "付款承诺"
        verbose_name_plural = "付款承诺"
        ordering = ["-promised_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ¥{self.amount} @ {self.promised_date}"


class RenewalStage(models.Model):
    """Where a renewal stands in the pipeline: an annual package (plan) or a customer's
    Renewal record, moved by the salesperson through 待联系 / 洽谈中 / 已续约 / 流失 (audited)."""

    class Stage(models.TextChoices):
        TO_CONTACT = "to_contact", "待联系"
        NEGOTIATING = "negotiating", "洽谈中"
        RENEWED = "renewed", "已续约"
        LOST = "lost", "流失"

    plan = models.OneToOneField(
        PricePlan,
        verbose_name="包年套餐",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="renewal_stage",
    )
    renewal = models.OneToOneField(
        "customers.Renewal",
        verbose_name="续约记录",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pipeline_stage",
    )
    stage = models.CharField("阶段", max_length=12, choices=Stage.choices, default=Stage.TO_CONTACT)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="更新人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "续约阶段"
        verbose_name_plural = "续约阶段"
        constraints = [
            models.CheckConstraint(
                condition=Q(plan__isnull=False, renewal__isnull=True)
                | Q(plan__isnull=True, renewal__isnull=False),
                name="renewal_stage_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.get_stage_display()


# --- month-end close (月结) -------------------------------------------------------------


class Period(models.Model):
    """One billing month's close state. A month without a row is open.

    The database triggers of billing/close/lock.py read this table: once a month
    is closed, nothing dated in it changes, whatever path the write takes.
    """

    class Status(models.TextChoices):
        OPEN = "open", "未关账"
        CLOSED = "closed", "已关账"

    month = models.DateField("账期月份", unique=True, help_text="当月第一天")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField("关账时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="关账人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopened_at = models.DateTimeField("重开时间", null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="重开人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopen_reason = models.CharField("重开原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "账期"
        verbose_name_plural = "账期"
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_status_display()}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class PeriodGateOverride(models.Model):
    """An admin let a red gate pass for one month, with a reason (audited)."""

    period = models.ForeignKey(
        Period, verbose_name="账期", on_delete=models.CASCADE, related_name="overrides"
    )
    gate = models.CharField("检查项", max_length=20)
    reason = models.CharField("原因", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "关账检查豁免"
        verbose_name_plural = "关账检查豁免"
        constraints = [
            models.UniqueConstraint(fields=["period", "gate"], name="period_gate_override_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.gate}"


class NoUsageConfirmation(models.Model):
    """A clerk confirmed that a billable customer really had no usage in a month (本月无用量)."""

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.PROTECT, related_name="no_usage_months"
    )
    month = models.DateField("账期月份")
    reason = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("确认时间", auto_now_add=True)

    class Meta:
        verbose_name = "无用量确认"
        verbose_name_plural = "无用量确认"
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="no_usage_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class ReceiptExplanation(models.Model):
    """Why a receipt of a month is (partly) unallocated, e.g. an advance payment (预收)."""

    payment = models.OneToOneField(
        Payment, verbose_name="收款", on_delete=models.CASCADE, related_name="explanation"
    )
    reason = models.CharField("说明", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="说明人", null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "未核销收款说明"
        verbose_name_plural = "未核销收款说明"

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.reason}"


# --- money totals kept on write (issue 17) -------------------------------------------
# Reports sum a million bills and payments at 100,000 customers. These tables hold the same
# sums per reporting key, kept exactly by database triggers in the transaction of every
# write (billing/money_totals.py), so a report sums thousands of rows instead. The rows are
# derived: `rebuild_money_totals` recomputes them from the bills and payments.


class BillTotal(models.Model):
    """Live, issued bills (kind bill; issued, partially paid or paid) summed per customer
    owner, grade and group (the customer's at the time) and per month, status and due date."""

    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    level = models.CharField(max_length=1, blank=True)
    group = models.ForeignKey(
        "customers.CustomerGroup",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    period = models.DateField()
    status = models.CharField(max_length=16)
    due_date = models.DateField(null=True)
    bills = models.IntegerField()
    open_bills = models.IntegerField()  # bills with total > amount_paid
    total = models.DecimalField(**MONEY)  # sum of the bills' total
    amount_paid = models.DecimalField(**MONEY)  # sum of the bills' amount_paid

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sales_owner", "level", "group", "period", "status", "due_date"],
                nulls_distinct=False,
                name="billing_billtotal_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.status}: {self.bills} ¥{self.total}"


class PaymentTotal(models.Model):
    """Payments summed per customer owner and grade (the customer's at the time) and month of
    receipt."""

    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    level = models.CharField(max_length=1, blank=True)
    month = models.DateField()
    payments = models.IntegerField()
    amount = models.DecimalField(**MONEY)  # sum of the payments' amount
    allocated = models.DecimalField(**MONEY)  # sum of the payments' allocated

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sales_owner", "level", "month"],
                nulls_distinct=False,
                name="billing_paymenttotal_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.payments} ¥{self.amount}"


class CustomerPaymentTotal(models.Model):
    """All of one customer's payments summed (the payment summary's rows, ranked by amount)."""

    customer = models.OneToOneField(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    payments = models.IntegerField()
    amount = models.DecimalField(**MONEY)
    allocated = models.DecimalField(**MONEY)

    class Meta:
        # The payment summary pages customers by amount received, largest first.
        indexes = [models.Index(fields=["-amount", "customer"], name="billing_custpay_rank_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.payments} ¥{self.amount}"


class BillMeasureFact(models.Model):
    """One bill the 24-hour measure counts (kind bill; issued, partially paid or paid), with
    what was paid on it before it fell overdue and what was collected in the 30 days after
    (billing/collections/facts.py keeps the rows by triggers)."""

    bill = models.OneToOneField(
        Bill, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # the customer's, kept by the customers' trigger: the measure is scoped without a join
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    customer_deleted = models.BooleanField()
    due_date = models.DateField()
    start = models.DateTimeField()  # the moment the bill fell overdue
    total = models.DecimalField(**MONEY)
    paid_before = models.DecimalField(**MONEY)  # live allocations made before `start`
    collected = models.DecimalField(**MONEY)  # live allocations in the 30 days from `start`

    class Meta:
        # The measure reads the bills falling due in a period, with every column it sums.
        indexes = [
            models.Index(
                fields=["due_date"],
                include=[
                    "customer",
                    "sales_owner",
                    "customer_deleted",
                    "start",
                    "total",
                    "paid_before",
                    "collected",
                ],
                name="billing_measurefact_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.due_date}: ¥{self.paid_before} / ¥{self.collected}"


class MeasureCase(models.Model):
    """One case of the 24-hour measure: a customer's counted bills falling due on one day, their
    BillMeasureFact rows summed (billing/collections/facts.py keeps the rows by triggers). It is
    a case while it owed something when it fell overdue (owed > 0)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    due_date = models.DateField()
    start = models.DateTimeField()  # the moment its bills fell overdue
    # the customer's, kept by the customers' trigger: the measure is scoped without a join
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    customer_deleted = models.BooleanField()
    bills = models.IntegerField()
    owed = models.DecimalField(**MONEY)  # sum of the bills' total − paid before
    collected = models.DecimalField(**MONEY)  # sum of the bills' collected in 30 days

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "due_date"], name="billing_measurecase_key")
        ]
        # The measure reads the cases of a period, with every column it sums.
        indexes = [
            models.Index(
                fields=["due_date"],
                include=[
                    "customer",
                    "sales_owner",
                    "customer_deleted",
                    "start",
                    "owed",
                    "collected",
                ],
                name="billing_measurecase_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.due_date}: ¥{self.owed} / ¥{self.collected}"


class CustomerBilledTotal(models.Model):
    """One customer's live, issued bills summed over the months of billing_billed_window()
    (the cockpit's twelve: its top customers)."""

    customer = models.OneToOneField(
        Customer, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    bills = models.IntegerField()
    revenue = models.DecimalField(**MONEY)  # sum of the bills' total
    received = models.DecimalField(**MONEY)  # sum of the bills' amount_paid

    class Meta:
        # The cockpit ranks customers by what they were billed, largest first.
        indexes = [
            models.Index(fields=["-revenue", "customer"], name="billing_custbilled_rank_idx")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.bills} ¥{self.revenue}"


class UsageDayTotal(models.Model):
    """Usage records summed per customer owner, whether the customer is deleted, and day (the
    cockpit's shots trend)."""

    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    deleted = models.BooleanField()  # the customer is soft-deleted
    day = models.DateField()
    records = models.IntegerField()
    shots = models.BigIntegerField()
    floor_shots = models.BigIntegerField()  # sum of shots x floors

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sales_owner", "deleted", "day"],
                nulls_distinct=False,
                name="billing_usagedaytotal_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.records} / {self.shots}"
