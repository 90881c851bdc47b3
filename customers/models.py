from __future__ import annotations

from django.conf import settings
from django.db import models


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

    is_deleted = models.BooleanField("已删除", default=False, db_index=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "客户"
        verbose_name_plural = "客户"
        ordering = ["company_id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.company_id}）"

    @property
    def sales_owner_display(self) -> str:
        if self.sales_owner_id:
            return self.sales_owner.display_name
        return self.sales_owner_raw


class Contact(models.Model):
    """STAND-IN (issue 8): a customer's contact person, fields per the issue-3 contract."""

    customer = models.ForeignKey(
        Customer, verbose_name="客户", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField("姓名", max_length=50)
    position = models.CharField("职位", max_length=50, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    email = models.EmailField("邮箱", blank=True)
    is_primary = models.BooleanField("主要联系人", default=False)

    class Meta:
        verbose_name = "联系人"
        verbose_name_plural = "联系人"
        ordering = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return self.name
