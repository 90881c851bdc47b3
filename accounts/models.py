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
