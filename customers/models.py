from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class DictionaryItem(models.Model):
    """Admin-editable vocabularies of the workbook: account type, industry, ERP."""

    class Kind(models.TextChoices):
        ACCOUNT_TYPE = "account_type", "账号类型"
        INDUSTRY = "industry", "行业类型"
        ERP = "erp", "所属ERP"

    kind = models.CharField("字典", max_length=20, choices=Kind.choices)
    value = models.CharField("取值", max_length=50)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "字典项"
        verbose_name_plural = "字典项"
        ordering = ["kind", "sort_order", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"], name="dictionary_item_kind_value_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.value


class LifecycleStatus(models.TextChoices):
    POTENTIAL = "potential", "潜在"
    NEGOTIATING = "negotiating", "商务洽谈"
    CONTRACTED = "contracted", "已签约"
    ACTIVE = "active", "活跃"
    DORMANT = "dormant", "休眠"
    SUSPENDED = "suspended", "暂停"
    RENEWAL = "renewal", "续约中"
    CHURNED = "churned", "流失"
    REACTIVATED = "reactivated", "重新激活"


class CooperationStatusMapping(models.Model):
    """Maps the workbook's free-text 合作状态 to a lifecycle status (admin-editable)."""

    note_text = models.CharField("合作状态原文", max_length=100, unique=True)
    status = models.CharField("生命周期状态", max_length=16, choices=LifecycleStatus.choices)

    class Meta:
        verbose_name = "合作状态映射"
        verbose_name_plural = "合作状态映射"
        ordering = ["note_text"]

    def __str__(self) -> str:
        return f"{self.note_text} → {self.get_status_display()}"


class Customer(models.Model):
    class Level(models.TextChoices):
        S = "S", "S"
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"

    class BillingEnabled(models.TextChoices):
        YES = "yes", "是"
        NO = "no", "否"
        PENDING = "pending", "待确认"

    class SettlementMethod(models.TextChoices):
        PER_SHOOT = "per_shoot", "定价结算"
        ANNUAL = "annual", "包年套餐"
        ANNUAL_LIMITED = "annual_limited", "包年限量套餐"
        PENDING = "pending", "待确认"

    class ConsumptionLevel(models.TextChoices):
        C1 = "C1", "C1"
        C2 = "C2", "C2"
        C3 = "C3", "C3"
        C4 = "C4", "C4"
        C5 = "C5", "C5"
        C6 = "C6", "C6"

    class Half(models.IntegerChoices):
        FIRST = 1, "上半年"
        SECOND = 2, "下半年"

    company_id = models.BigIntegerField("公司id", unique=True)
    name = models.CharField("公司名称", max_length=200, db_index=True)
    # The list sorts names by this pinyin key (customers/pinyin.py); every write path sets it.
    name_pinyin = models.CharField(
        "名称拼音", max_length=400, blank=True, default="", editable=False
    )
    account_type = models.ForeignKey(
        DictionaryItem,
        verbose_name="账号类型",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictionaryItem.Kind.ACCOUNT_TYPE},
    )
    industry = models.ForeignKey(
        DictionaryItem,
        verbose_name="行业类型",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictionaryItem.Kind.INDUSTRY},
    )
    erp = models.ForeignKey(
        DictionaryItem,
        verbose_name="所属ERP",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictionaryItem.Kind.ERP},
    )
    onboarded_raw = models.CharField("接入时间（原文）", max_length=30, blank=True)
    onboarded_year = models.PositiveSmallIntegerField("接入年份", null=True, blank=True)
    onboarded_half = models.PositiveSmallIntegerField(
        "接入半年", choices=Half.choices, null=True, blank=True
    )
    level = models.CharField("客户等级", max_length=1, choices=Level.choices, blank=True)
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="销售负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_customers",
    )
    # Head-office groups (集团): the group's head office may pay members' bills.
    group = models.ForeignKey(
        "CustomerGroup",
        verbose_name="所属集团",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    # A name from the workbook that matches no user is kept here, never dropped.
    sales_owner_raw = models.CharField("销售负责人（原文）", max_length=50, blank=True)
    ops_owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name="运营负责人",
        blank=True,
        related_name="ops_customers",
    )
    ops_owners_raw = models.CharField("运营负责人（原文）", max_length=200, blank=True)
    cooperation_note = models.CharField("合作状态（原文）", max_length=200, blank=True)
    lifecycle_status = models.CharField(
        "生命周期状态",
        max_length=16,
        choices=LifecycleStatus.choices,
        default=LifecycleStatus.POTENTIAL,
        db_index=True,
    )
    billing_enabled = models.CharField(
        "是否结算", max_length=8, choices=BillingEnabled.choices, blank=True
    )
    disabled = models.BooleanField("是否停用", null=True, blank=True)
    remarks = models.TextField("备注", blank=True)
    settlement_method = models.CharField(
        "结算方式", max_length=16, choices=SettlementMethod.choices, blank=True
    )
    consumption_level = models.CharField(
        "客户消费等级", max_length=2, choices=ConsumptionLevel.choices, blank=True
    )
    monthly_avg_shots = models.PositiveIntegerField("月均拍摄量", null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField("账期（天）", default=30)
    # Business/website information (wizard step 3).
    website = models.URLField("官网", blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    business_scope = models.TextField("业务介绍", blank=True)
    tags = models.ManyToManyField(
        "customers.Tag", verbose_name="标签", blank=True, related_name="customers"
    )

    is_deleted = models.BooleanField("已删除", default=False, db_index=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "客户"
        verbose_name_plural = "客户"
        ordering = ["company_id"]
        indexes = [
            models.Index(fields=["created_at"], name="customer_created_at_idx"),
            # The list's default sort reads 25 rows from this index at 100k customers;
            # pk breaks ties so a descending sort walks it backwards.
            models.Index(
                fields=["name_pinyin", "id"],
                name="customer_name_pinyin_idx",
                condition=models.Q(is_deleted=False),
            ),
            # Trigram indexes for the search box's LIKE '%term%' (plain for Chinese and
            # digits, UPPER() for Latin letters, as Django's icontains writes it).
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="customer_name_trgm"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="customer_name_upper_trgm"),
            GinIndex(
                fields=["sales_owner_raw"],
                opclasses=["gin_trgm_ops"],
                name="customer_sales_raw_trgm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.company_id}）"

    @property
    def sales_owner_display(self) -> str:
        if self.sales_owner_id:
            return self.sales_owner.display_name
        return self.sales_owner_raw


# --- Detail sections, lifecycle history, grading, list preferences (issue 3) ---


def parse_onboarded(raw: str) -> tuple[int | None, int | None]:
    """The workbook's 接入时间: `25上半年` / `26年下半年` / `2025下半年` → (2025, 1|2), else (None, None)."""
    m = re.match(r"^\s*(\d{2}|\d{4})\s*年?\s*([上下])半年\s*$", raw or "")
    if not m:
        return None, None
    year = int(m.group(1))
    return (year + 2000 if year < 100 else year), (1 if m.group(2) == "上" else 2)


phone_validator = RegexValidator(
    r"^(\+?\d{1,4}[- ]?)?(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{3,4}-?\d{7,8})$",
    "请输入有效的电话号码，如 13800138000 或 010-12345678",
)


class CustomerGroup(models.Model):
    """A group of customers (集团) whose head office (总部) pays its members' bills."""

    name = models.CharField("集团名称", max_length=100, unique=True)
    head_office = models.ForeignKey(
        Customer,
        verbose_name="总部（付款方）",
        on_delete=models.PROTECT,
        related_name="headed_groups",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "集团"
        verbose_name_plural = "集团"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField("标签", max_length=30, unique=True)

    class Meta:
        verbose_name = "标签"
        verbose_name_plural = "标签"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CooperationDetail(models.Model):
    """合作详情: how and since when the customer works with us (one per customer)."""

    customer = models.OneToOneField(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="cooperation"
    )
    mode = models.CharField("合作方式", max_length=100, blank=True)
    contract_start = models.DateField("合作开始时间", null=True, blank=True)
    service_start = models.DateField("服务开始时间", null=True, blank=True)
    special_conditions = models.TextField("特殊条件", blank=True)

    class Meta:
        verbose_name = "合作详情"
        verbose_name_plural = "合作详情"

    def __str__(self) -> str:
        return f"{self.customer_id} 合作详情"

    def clean(self) -> None:
        # Service cannot begin before the contract does.
        if self.contract_start and self.service_start and self.service_start < self.contract_start:
            raise ValidationError({"service_start": "服务开始时间不能早于合作开始时间"})


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField("姓名", max_length=50)
    position = models.CharField("职位", max_length=50, blank=True)
    phone = models.CharField(
        "电话", max_length=30, blank=True, validators=[phone_validator], db_index=True
    )
    email = models.EmailField(
        "邮箱", blank=True, validators=[EmailValidator("请输入有效的邮箱地址")]
    )
    is_primary = models.BooleanField("主要联系人", default=False)

    class Meta:
        verbose_name = "联系人"
        verbose_name_plural = "联系人"
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary=True), name="contact_one_primary"
            )
        ]
        indexes = [
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="contact_name_trgm"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="contact_name_upper_trgm"),
            GinIndex(fields=["phone"], opclasses=["gin_trgm_ops"], name="contact_phone_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.phone and not self.email:
            raise ValidationError({"phone": "电话和邮箱至少填写一项"})


class Competitor(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="competitors"
    )
    url = models.URLField("网址", blank=True)
    company = models.CharField("竞品公司", max_length=100)
    notes = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "竞品"
        verbose_name_plural = "竞品"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.company


class Priority(models.TextChoices):
    HIGH = "high", "高"
    MEDIUM = "medium", "中"
    LOW = "low", "低"


class AttentionItem(models.Model):
    class Category(models.TextChoices):
        COMMUNICATION = "communication", "沟通"
        SERVICE = "service", "服务"
        COMMERCIAL = "commercial", "商务"
        TECHNICAL = "technical", "技术"
        CULTURAL = "cultural", "文化"
        RISK = "risk", "风险"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="attention_items"
    )
    category = models.CharField("类别", max_length=16, choices=Category.choices)
    priority = models.CharField(
        "优先级", max_length=8, choices=Priority.choices, default=Priority.MEDIUM
    )
    text = models.TextField("内容")
    remind_on = models.DateField("提醒日期", null=True, blank=True)

    class Meta:
        verbose_name = "特别关注事项"
        verbose_name_plural = "特别关注事项"
        ordering = ["remind_on", "id"]

    def __str__(self) -> str:
        return self.text[:30]


class QualityIssue(models.Model):
    """Q&A and corrective measures (问题与纠正措施)."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        IN_PROGRESS = "in_progress", "处理中"
        DONE = "done", "已完成"
        CLOSED = "closed", "已关闭"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="quality_issues"
    )
    occurred_on = models.DateField("日期")
    category = models.CharField("类别", max_length=50)
    description = models.TextField("问题描述")
    impact = models.TextField("影响", blank=True)
    root_cause = models.TextField("根本原因", blank=True)
    immediate_fix = models.TextField("立即处理", blank=True)
    corrective_action = models.TextField("纠正措施", blank=True)
    preventive_action = models.TextField("预防措施", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField("截止日期", null=True, blank=True)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN)

    class Meta:
        verbose_name = "问题与纠正措施"
        verbose_name_plural = "问题与纠正措施"
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return self.description[:30]

    def clean(self) -> None:
        if self.completed_on and self.completed_on < self.occurred_on:
            raise ValidationError({"completed_on": "完成日期不能早于问题日期"})


class Renewal(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", "新签"
        RENEWAL = "renewal", "续约"
        UPGRADE = "upgrade", "升级"

    class Status(models.TextChoices):
        PENDING = "pending", "待续约"
        RENEWED = "renewed", "已续约"
        LOST = "lost", "未续约"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="renewals"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.RENEWAL)
    amount = models.DecimalField(
        "金额",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
    )
    period_months = models.PositiveSmallIntegerField("周期（月）", default=12)
    renewed_on = models.DateField("续约日期", null=True, blank=True)
    expires_on = models.DateField("到期日期", db_index=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    remind_days_before = models.PositiveSmallIntegerField("提前提醒（天）", default=30)
    notes = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "续约"
        verbose_name_plural = "续约"
        ordering = ["-expires_on"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.expires_on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.renewed_on and self.expires_on and self.expires_on < self.renewed_on:
            raise ValidationError({"expires_on": "到期日期不能早于续约日期"})

    def needs_reminder(self, today) -> bool:
        """Pending and within `remind_days_before` days of expiry (or already expired)."""
        if self.status != self.Status.PENDING:
            return False
        return (self.expires_on - today).days <= self.remind_days_before


class FollowUpNote(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="follow_ups"
    )
    body = models.TextField("跟进内容")
    next_follow_up_on = models.DateField("下次跟进", null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "跟进记录"
        verbose_name_plural = "跟进记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.body[:30]


class LifecycleChange(models.Model):
    """One row per lifecycle status change: who, when, from, to, why."""

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="lifecycle_changes"
    )
    # Blank for a customer's first status (recorded when an import creates it).
    from_status = models.CharField(
        "原状态", max_length=16, choices=LifecycleStatus.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=16, choices=LifecycleStatus.choices)
    reason = models.TextField("原因", blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "生命周期变更"
        verbose_name_plural = "生命周期变更"
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        if not self.from_status:
            return f"初始状态：{self.get_to_status_display()}"
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class GradeThresholds(models.Model):
    """Admin-set minimum 12-month billed amounts for grades S/A/B/C (below C is D). One row."""

    s_min = models.DecimalField(
        "S 级下限（元）", max_digits=14, decimal_places=2, default=Decimal("500000")
    )
    a_min = models.DecimalField(
        "A 级下限（元）", max_digits=14, decimal_places=2, default=Decimal("200000")
    )
    b_min = models.DecimalField(
        "B 级下限（元）", max_digits=14, decimal_places=2, default=Decimal("50000")
    )
    c_min = models.DecimalField(
        "C 级下限（元）", max_digits=14, decimal_places=2, default=Decimal("10000")
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "客户等级阈值"
        verbose_name_plural = "客户等级阈值"

    def __str__(self) -> str:
        return "客户等级阈值"

    def clean(self) -> None:
        if not (self.s_min >= self.a_min >= self.b_min >= self.c_min >= 0):
            raise ValidationError("阈值须满足 S ≥ A ≥ B ≥ C ≥ 0")


class SavedFilter(models.Model):
    """A user's named customer-list filter (the query string) and chosen columns."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField("名称", max_length=50)
    query = models.TextField("筛选条件", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "保存的筛选"
        verbose_name_plural = "保存的筛选"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_filter_owner_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerDraft(models.Model):
    """The create wizard's autosaved draft: raw step data, one per user."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+"
    )
    step = models.PositiveSmallIntegerField("当前步骤", default=1)
    data = models.JSONField("草稿数据", default=dict, blank=True)
    updated_at = models.DateTimeField("保存时间", auto_now=True)

    class Meta:
        verbose_name = "客户草稿"
        verbose_name_plural = "客户草稿"

    def __str__(self) -> str:
        return f"草稿（{self.owner_id}）"


class DeviceSeries(models.Model):
    """A device series (X, N, L): a dictionary customers are filtered by and billing prices by.

    It lives here, below billing, so the customer filter can read it directly.
    """

    code = models.CharField("代码", max_length=8, unique=True)
    name = models.CharField("名称", max_length=50)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "设备系列"
        verbose_name_plural = "设备系列"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.code


class ImportedPrice(models.Model):
    """The raw price cells of one workbook row, staged for billing to turn into price plans.

    The customer import never interprets prices (billing owns that); it keeps
    the three cells exactly as written so nothing is lost between the import
    and `billing.plans.imports.plans_from_imported_prices`, which marks them consumed.
    """

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="imported_prices"
    )
    series_code = models.CharField("设备系列", max_length=8, blank=True)
    method_raw = models.CharField("结算方式（原文）", max_length=50, blank=True)
    single_raw = models.CharField("单层定价（原文）", max_length=50, blank=True)
    multi_raw = models.CharField("多层定价（原文）", max_length=50, blank=True)
    row_number = models.PositiveIntegerField("行号")
    imported_at = models.DateTimeField("导入时间", db_index=True)
    consumed = models.BooleanField("已生成价格方案", default=False, db_index=True)

    class Meta:
        verbose_name = "导入价格（暂存）"
        verbose_name_plural = "导入价格（暂存）"
        ordering = ["-imported_at", "row_number"]
        indexes = [models.Index(fields=["customer", "series_code"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.series_code} {self.single_raw}/{self.multi_raw}"


class LifecycleRule(models.Model):
    """An admin-edited rule the nightly run applies: move customers in `from_status` to
    `to_status` when the condition holds, unless someone set the status by hand recently."""

    class Condition(models.TextChoices):
        NO_USAGE_DAYS = "no_usage_days", "连续 N 天无用量"
        CONTRACT_ENDED = "contract_ended", "合同（续约）到期未续"
        IN_STATUS_DAYS = "in_status_days", "处于原状态满 N 天"

    name = models.CharField("规则名称", max_length=100)
    from_status = models.CharField("原状态", max_length=16, choices=LifecycleStatus.choices)
    to_status = models.CharField("新状态", max_length=16, choices=LifecycleStatus.choices)
    condition = models.CharField("条件", max_length=20, choices=Condition.choices)
    days = models.PositiveIntegerField("天数 N", default=90)
    manual_hold_days = models.PositiveIntegerField(
        "人工设置保护期（天）",
        default=30,
        help_text="状态被人工修改后的这段时间内，本规则不自动改动该客户。",
    )
    enabled = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("执行顺序", default=0)

    class Meta:
        verbose_name = "生命周期规则"
        verbose_name_plural = "生命周期规则"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .lifecycle import can_transition

        if (
            self.from_status
            and self.to_status
            and not can_transition(self.from_status, self.to_status)
        ):
            raise ValidationError(
                {
                    "to_status": f"生命周期不允许从“{self.get_from_status_display()}”"
                    f"变更为“{self.get_to_status_display()}”"
                }
            )
