from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import Role, Scope


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=50, blank=True, db_index=True)
    role = models.CharField("角色", max_length=16, choices=Role.choices, blank=True)
    data_scope = models.CharField(
        "数据范围",
        max_length=8,
        choices=Scope.choices,
        blank=True,
        help_text="留空则按角色默认：销售看本人客户，销售主管看团队客户，其他角色看全部。",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name="所属团队",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    phone = models.CharField("电话", max_length=30, blank=True)
    # API tokens issued before this moment are refused (accounts.api.tokens).
    tokens_valid_after = models.DateTimeField("令牌失效时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Team(models.Model):
    name = models.CharField("团队名称", max_length=50, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="主管",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "团队"
        verbose_name_plural = "团队"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    """A background job (import, export, batch billing) as its user sees it.

    This table, not Celery's result backend, is the record of what happened:
    progress, a summary of the result and an optional error workbook.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务类型", max_length=40, db_index=True)
    title = models.CharField("标题", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress_done = models.PositiveIntegerField("已处理", default=0)
    progress_total = models.PositiveIntegerField("总数", default=0)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    message = models.TextField("说明", blank=True)
    input_file = models.FileField("输入文件", upload_to="jobs/input/%Y/%m/", blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/result/%Y/%m/", blank=True)
    error_file = models.FileField("错误文件", upload_to="jobs/errors/%Y/%m/", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    # When the person who started the job was told it failed on its own (stuck job sweeper).
    owner_notified_at = models.DateTimeField("已通知发起人", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title or self.kind} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))


# --- notifications, channels and schedule runs (issue 13) -----------------------


class NotificationKind(models.TextChoices):
    BILL_OVERDUE = "bill_overdue", "账单逾期"
    PAYMENT = "payment", "收款与核销"
    RENEWAL_DUE = "renewal_due", "续约到期"
    ATTENTION_DUE = "attention_due", "特别关注提醒"
    LIFECYCLE_CHANGED = "lifecycle_changed", "生命周期变更"
    DRAFTS_READY = "drafts_ready", "月度草稿账单已生成"
    JOB_DONE = "job_done", "后台任务完成或失败"
    PROMISE_BROKEN = "promise_broken", "付款承诺违约"
    PERIOD_REOPENED = "period_reopened", "已关账月份被重开"


class EmailMode(models.TextChoices):
    OFF = "off", "不发邮件"
    IMMEDIATE = "immediate", "立即发送"
    DIGEST = "digest", "每日汇总"


class Notification(models.Model):
    """One event told to one person. The (recipient, event_key) pair is unique: sent once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("类型", max_length=24, choices=NotificationKind.choices)
    event_key = models.CharField("事件标识", max_length=120)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    object_type = models.CharField("对象类型", max_length=40, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    in_inbox = models.BooleanField("站内显示", default=True)
    email_mode = models.CharField(
        "邮件", max_length=10, choices=EmailMode.choices, default=EmailMode.OFF
    )
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="notification_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True, in_inbox=True),
                name="notification_unread_idx",
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A user's choice for one kind; without a row the kind's defaults apply."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField("类型", max_length=24, choices=NotificationKind.choices)
    in_app = models.BooleanField("站内通知", default=True)
    email = models.CharField(
        "邮件", max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )

    class Meta:
        verbose_name = "通知偏好"
        verbose_name_plural = "通知偏好"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


class TeamChannel(models.Model):
    """A team's group robot: its members' notifications are also posted there."""

    class Provider(models.TextChoices):
        DINGTALK = "dingtalk", "钉钉群机器人"
        WECOM = "wecom", "企业微信群机器人"

    team = models.ForeignKey(
        Team, verbose_name="团队", on_delete=models.CASCADE, related_name="channels"
    )
    provider = models.CharField("类型", max_length=10, choices=Provider.choices)
    webhook_url = models.URLField("Webhook 地址", max_length=500)
    secret = models.CharField("加签密钥", max_length=200, blank=True, help_text="钉钉加签时填写")
    kinds = models.JSONField("推送的通知类型", default=list, blank=True, help_text="留空表示全部")
    enabled = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "团队群机器人"
        verbose_name_plural = "团队群机器人"

    def __str__(self) -> str:
        return f"{self.team} · {self.get_provider_display()}"


class WebhookEvent(models.TextChoices):
    BILL_ISSUED = "bill.issued", "账单出账"
    PAYMENT_RECORDED = "payment.recorded", "收款登记"
    PERIOD_CLOSED = "period.closed", "月结完成"


class WebhookSubscription(models.Model):
    """An outside system that receives signed event posts (HMAC-SHA256 over the body)."""

    name = models.CharField("名称", max_length=100)
    url = models.URLField("接收地址", max_length=500)
    secret = models.CharField("签名密钥", max_length=200)
    events = models.JSONField("订阅的事件", default=list)
    enabled = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "Webhook 订阅"
        verbose_name_plural = "Webhook 订阅"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One message to one subscription or team robot, with its attempts' outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"

    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name="订阅",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.ForeignKey(
        TeamChannel,
        verbose_name="群机器人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField("事件", max_length=40)
    body = models.TextField("内容")
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    response_code = models.PositiveIntegerField("响应码", null=True, blank=True)
    last_error = models.CharField("错误", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "Webhook 投递"
        verbose_name_plural = "Webhook 投递"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"


class ScheduleRun(models.Model):
    """One run of a scheduled duty for one day (or one period's day): never twice."""

    schedule = models.CharField("计划", max_length=40)
    day = models.DateField("日期")
    job = models.ForeignKey(
        Job, verbose_name="任务", null=True, blank=True, on_delete=models.SET_NULL
    )
    summary = models.JSONField("结果", default=dict, blank=True)
    created_at = models.DateTimeField("运行时间", auto_now_add=True)

    class Meta:
        verbose_name = "计划运行"
        verbose_name_plural = "计划运行"
        ordering = ["-day", "schedule"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "day"], name="schedule_run_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} {self.day:%Y-%m-%d}"
