"""OpenAPI pieces shared by every API module: the error body and its documented answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="机器可读的错误代码，如 invalid、not_found"),
        "message": serializers.CharField(help_text="中文错误说明"),
        "fields": serializers.DictField(
            child=serializers.JSONField(),
            help_text="字段 → 错误信息列表；无字段错误时为空对象",
        ),
    },
)

_DESCRIPTIONS = {
    400: (
        "提交的数据有误",
        "invalid",
        "提交的数据有误，请检查各字段",
        {"name": ["该字段是必填项。"]},
    ),
    401: ("未登录或令牌无效", "token_not_valid", "令牌无效或已过期，请重新获取", {}),
    403: ("没有权限", "permission_denied", "没有权限执行此操作", {}),
    404: ("不存在或不在数据范围内", "not_found", "对象不存在或不在您的数据范围内", {}),
    413: ("请求体过大", "payload_too_large", "请求体过大：上限为 10 MB，请分批提交", {}),
    429: ("请求过于频繁", "throttled", "请求过于频繁，请在 12 秒后重试", {}),
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Documented error answers for an operation; 401 and 429 apply to every one."""
    wanted = sorted({401, 429, *statuses})
    out: dict[int, OpenApiResponse] = {}
    for status in wanted:
        description, code, message, fields = _DESCRIPTIONS[status]
        out[status] = OpenApiResponse(
            response=ErrorSerializer,
            description=description,
            examples=[
                OpenApiExample(
                    f"错误 {status}",
                    value={"code": code, "message": message, "fields": fields},
                    status_codes=[str(status)],
                    response_only=True,
                )
            ],
        )
    return out
