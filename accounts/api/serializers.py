"""Input and output serializers of the accounts API: tokens and background jobs."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Job


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField(
        help_text="访问令牌，有效期 10 分钟；请求头 Authorization: Bearer <access>"
    )
    refresh = serializers.CharField(
        help_text="刷新令牌，自登录起最长 12 小时；每次刷新后旧的刷新令牌作废"
    )


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="刷新令牌")


class JobOutputSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="进度百分比 0–100")
    result_file_url = serializers.SerializerMethodField()
    error_file_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "status_display",
            "progress_done",
            "progress_total",
            "percent",
            "params",
            "result",
            "message",
            "result_file_url",
            "error_file_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_result_file_url(self, job: Job) -> str | None:
        return reverse("accounts:job-file", args=[job.pk, "result"]) if job.result_file else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_file_url(self, job: Job) -> str | None:
        return reverse("accounts:job-file", args=[job.pk, "errors"]) if job.error_file else None
