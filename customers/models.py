from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import (
    EmailValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DictionaryItem(models.Model):
    """Admin-editable vocabularies of the workbook: account type, industry, ERP."""

    class Kind(models.TextChoices):
        ACCOUNT_TYPE = "account_type", "账号类型"
        INDUSTRY = "industry", "行业类型"
        ERP = "erp", "所属ERP"
        REGION = "region", "地区"

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
    # Indexed in Meta (a plain btree: no LIKE 'prefix%' is ever asked of a name).
    name = models.CharField("公司名称", max_length=200)
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
        db_index=False,  # a partial index in Meta: most customers belong to no group
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
    # 客户所有地区 (specification 4.3): several regions from the admin's dictionary.
    regions = models.ManyToManyField(
        DictionaryItem,
        verbose_name="地区",
        blank=True,
        related_name="+",
        limit_choices_to={"kind": DictionaryItem.Kind.REGION},
    )

    is_deleted = models.BooleanField("已删除", default=False)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "客户"
        verbose_name_plural = "客户"
        ordering = ["company_id"]
        # Every index here is maintained by each write, and a 100,000-row import writes
        # 100,000 rows at once: each one is asked for by a query (DESIGN, issue 17).
        indexes = [
            models.Index(fields=["created_at"], name="customer_created_at_idx"),
            # The list's default sort reads 25 rows from this index at 100k customers;
            # pk breaks ties so a descending sort walks it backwards.
            models.Index(
                fields=["name_pinyin", "id"],
                name="customer_name_pinyin_idx",
                condition=models.Q(is_deleted=False),
            ),
            # Exact names: the import's and the wizard's same-name checks. A plain btree,
            # without the varchar_pattern_ops twin `db_index=True` adds for LIKE 'x%'.
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["lifecycle_status"], name="customer_lifecycle_status_idx"),
            # The few soft-deleted customers (the admin's filter); live rows are not in it.
            models.Index(
                fields=["id"], name="customer_deleted_idx", condition=models.Q(is_deleted=True)
            ),
            # A group's members; the customers of no group (nearly all) are not in it.
            models.Index(
                fields=["group"], name="customer_group_idx", condition=models.Q(group__isnull=False)
            ),
            # Trigram indexes for the search box's LIKE '%term%' (Chinese and digits) and
            # ILIKE '%term%' (Latin letters, the `ilike_contains` lookup of opcms/lookups.py):
            # pg_trgm answers both from one index, so no UPPER() index is kept beside it.
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="customer_name_trgm"),
            # Only the rows with an unmatched owner's name (the search adds the condition).
            GinIndex(
                fields=["sales_owner_raw"],
                opclasses=["gin_trgm_ops"],
                name="customer_sales_raw_trgm",
                condition=~models.Q(sales_owner_raw=""),
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


class CustomerAuditMixin:
    """Rows of a customer's sections put its id into their audit entries (its page's history)."""

    def get_additional_data(self) -> dict:
        return {"customer_id": self.customer_id}


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


class CooperationDetail(CustomerAuditMixin, models.Model):
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
        # Specification 3.2.2: a contract cannot start in the future.
        if self.contract_start and self.contract_start > timezone.localdate():
            raise ValidationError({"contract_start": "合作开始时间不能晚于今天"})
        # Service cannot begin before the contract does.
        if self.contract_start and self.service_start and self.service_start < self.contract_start:
            raise ValidationError({"service_start": "服务开始时间不能早于合作开始时间"})


class Contact(CustomerAuditMixin, models.Model):
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
            # LIKE and ILIKE (opcms/lookups.py) alike: see Customer's trigram indexes.
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="contact_name_trgm"),
            GinIndex(fields=["phone"], opclasses=["gin_trgm_ops"], name="contact_phone_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.phone and not self.email:
            raise ValidationError({"phone": "电话和邮箱至少填写一项"})


class Competitor(CustomerAuditMixin, models.Model):
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


class AttentionItem(CustomerAuditMixin, models.Model):
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


class QualityIssue(CustomerAuditMixin, models.Model):
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
    lessons_learned = models.TextField("经验教训", blank=True)

    class Meta:
        verbose_name = "问题与纠正措施"
        verbose_name_plural = "问题与纠正措施"
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return self.description[:30]

    def clean(self) -> None:
        if self.completed_on and self.completed_on < self.occurred_on:
            raise ValidationError({"completed_on": "完成日期不能早于问题日期"})


class Renewal(CustomerAuditMixin, models.Model):
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


class FollowUpNote(CustomerAuditMixin, models.Model):
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


class LifecycleChange(CustomerAuditMixin, models.Model):
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


# --- Archive depth (issue 18): profile sections, projects, ad accounts, Q&A extras ---


def money_field(label: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **kwargs,
    )


class BusinessProfile(CustomerAuditMixin, models.Model):
    """商业概况 (specification 4.3): how the customer does business, one per customer."""

    class BusinessModel(models.TextChoices):
        B2B_FACTORY = "b2b_factory", "工贸一体化的B2B外贸工厂"
        MARKETPLACE = "marketplace", "平台精品卖家"
        BRAND = "brand", "中国本土品牌出海"
        OTHER = "other", "其他"

    customer = models.OneToOneField(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="business_profile"
    )
    business_model = models.CharField(
        "商业及生产模式", max_length=16, choices=BusinessModel.choices, blank=True
    )
    overseas_sales = money_field("海外销售额（元/年）")
    overseas_sales_ratio = models.DecimalField(
        "海外销售占比（%）",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    overseas_sales_target = money_field("三年内海外目标销售额（元）")
    main_sales_channel = models.CharField("最重要的海外销售渠道", max_length=100, blank=True)
    has_tech_team = models.BooleanField("有网站技术及素材制作团队", default=False)
    has_operations_team = models.BooleanField("有投放或运营团队", default=False)
    has_brand_team = models.BooleanField("有品牌及内容团队", default=False)
    cooperation_transfer = models.CharField(
        "服务商转移还是内部团队转移", max_length=100, blank=True
    )

    class Meta:
        verbose_name = "商业概况"
        verbose_name_plural = "商业概况"

    def __str__(self) -> str:
        return f"{self.customer_id} 商业概况"


class WebsiteInfo(CustomerAuditMixin, models.Model):
    """独立站情况及目标 (specification 4.4), one per customer."""

    class Platform(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WORDPRESS = "wordpress", "WordPress / WooCommerce"
        MAGENTO = "magento", "Magento"
        CUSTOM = "custom", "自建"
        OTHER = "other", "其他"

    class BuildStatus(models.TextChoices):
        PLANNING = "planning", "规划中"
        BUILDING = "building", "建设中"
        LIVE = "live", "已上线"
        PAUSED = "paused", "暂停"

    class Pricing(models.TextChoices):
        SAME = "same", "同价"
        SITE_HIGHER = "site_higher", "独立站价格更高"
        MARKETPLACE_HIGHER = "marketplace_higher", "第三方平台价格更高"
        PER_PRODUCT = "per_product", "不同产品不同定价策略"

    customer = models.OneToOneField(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="website_info"
    )
    site_url = models.URLField("独立站网址", blank=True)
    platform = models.CharField("建站平台", max_length=16, choices=Platform.choices, blank=True)
    build_status = models.CharField(
        "建设状态", max_length=16, choices=BuildStatus.choices, blank=True
    )
    launched_on = models.DateField("上线时间", null=True, blank=True)
    target_markets = models.CharField("主要目标市场", max_length=200, blank=True)
    main_products = models.TextField("主要推广产品", blank=True)
    pricing_strategy = models.CharField(
        "价格定位", max_length=20, choices=Pricing.choices, blank=True
    )
    monthly_traffic_target = models.PositiveIntegerField("月访问量目标", null=True, blank=True)
    last_year_sales = money_field("过去一年独立站销售额（元）")
    annual_sales_target = money_field("年度销售目标（元）")

    class Meta:
        verbose_name = "独立站情况"
        verbose_name_plural = "独立站情况"

    def __str__(self) -> str:
        return self.site_url or f"{self.customer_id} 独立站"


class Project(CustomerAuditMixin, models.Model):
    """A project run for a customer (specification 6.3)."""

    class Kind(models.TextChoices):
        SHOOTING = "shooting", "拍摄"
        OPERATIONS = "operations", "代运营"
        CONSULTING = "consulting", "咨询服务"
        WEBSITE = "website", "建站"
        ADVERTISING = "advertising", "广告投放"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        PLANNED = "planned", "未开始"
        IN_PROGRESS = "in_progress", "进行中"
        PAUSED = "paused", "暂停"
        DONE = "done", "已完成"
        CANCELLED = "cancelled", "已取消"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField("项目名称", max_length=100)
    kind = models.CharField("项目类型", max_length=16, choices=Kind.choices)
    status = models.CharField(
        "项目状态", max_length=16, choices=Status.choices, default=Status.IN_PROGRESS
    )
    start_on = models.DateField("开始日期", null=True, blank=True)
    end_on = models.DateField("结束日期", null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "项目"
        verbose_name_plural = "项目"
        ordering = ["-start_on", "-id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_on and self.end_on and self.end_on < self.start_on:
            raise ValidationError({"end_on": "结束日期不能早于开始日期"})


class AdAccount(CustomerAuditMixin, models.Model):
    """An advertising account bound to a customer (specification 6.5)."""

    class Platform(models.TextChoices):
        GOOGLE = "google", "Google Ads"
        FACEBOOK = "facebook", "Facebook Ads"
        MICROSOFT = "microsoft", "Microsoft Ads"
        TIKTOK = "tiktok", "TikTok Ads"
        OTHER = "other", "其他平台"

    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        PAUSED = "paused", "暂停"
        CLOSED = "closed", "已关闭"

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="ad_accounts"
    )
    platform = models.CharField("广告平台", max_length=16, choices=Platform.choices)
    account_id = models.CharField("账户ID", max_length=64)
    status = models.CharField("账户状态", max_length=10, choices=Status.choices, default="active")
    monthly_spend = money_field("月消耗（元）")
    notes = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "广告账户"
        verbose_name_plural = "广告账户"
        ordering = ["platform", "account_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account_id"], name="ad_account_platform_id_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.account_id}"


class IssueCategory(models.Model):
    """The admin-maintained list of Q&A categories (specification 4.7.2 / 6.2.2)."""

    name = models.CharField("分类名称", max_length=50, unique=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "问题分类"
        verbose_name_plural = "问题分类"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class IssueAction(models.Model):
    """A follow-up action of one Q&A entry, with its owner and due date."""

    issue = models.ForeignKey(
        QualityIssue, verbose_name="问题", on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField("后续行动", max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField("截止日期", null=True, blank=True)
    done_on = models.DateField("完成日期", null=True, blank=True)

    class Meta:
        verbose_name = "后续行动"
        verbose_name_plural = "后续行动"
        ordering = ["done_on", "due_on", "id"]

    def __str__(self) -> str:
        return self.description[:30]

    def get_additional_data(self) -> dict:
        return {"customer_id": self.issue.customer_id}


class IssueAttachment(models.Model):
    """A file attached to one Q&A entry, stored as media after the attachment checks."""

    issue = models.ForeignKey(
        QualityIssue, verbose_name="问题", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("附件", upload_to="issue-attachments/%Y/%m/")
    original_name = models.CharField("文件名", max_length=200)
    size_bytes = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "问题附件"
        verbose_name_plural = "问题附件"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name

    def get_additional_data(self) -> dict:
        return {"customer_id": self.issue.customer_id}


class RecentSearch(models.Model):
    """One of a user's last customer-list searches (the query string; ten are kept)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+"
    )
    query = models.TextField("筛选条件")
    label = models.CharField("摘要", max_length=200)
    searched_at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "最近搜索"
        verbose_name_plural = "最近搜索"
        ordering = ["-searched_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "query"], name="recent_search_owner_query")
        ]

    def __str__(self) -> str:
        return self.label


class HiddenField(models.Model):
    """A sensitive field the admin hides from one role (absent from pages, exports and API)."""

    class Field(models.TextChoices):
        CONTACT_PHONE = "contact_phone", "联系人电话"
        CONTACT_EMAIL = "contact_email", "联系人邮箱"
        MONEY = "money", "金额（续约金额、广告月消耗、销售额与目标）"

    role = models.CharField("角色", max_length=16)
    field = models.CharField("字段", max_length=20, choices=Field.choices)

    class Meta:
        verbose_name = "隐藏字段"
        verbose_name_plural = "隐藏字段"
        ordering = ["role", "field"]
        constraints = [
            models.UniqueConstraint(fields=["role", "field"], name="hidden_field_role_field")
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.get_field_display()}"


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
