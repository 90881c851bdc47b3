"""The API's one error format: {"code", "message", "fields"} with Chinese messages.

Every failure an integrator can meet (bad JSON, invalid fields, a service's
ValidationError, missing or expired token, no permission, an out-of-scope id,
throttling, an oversized body, an unknown URL) answers in this shape, so a
client needs one error path. Unexpected exceptions are logged and answer a
generic 500 in the same shape, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "请求体过大"


# code → Chinese message for the exceptions whose DRF text is English or vague.
MESSAGES: dict[str, str] = {
    "invalid": "提交的数据有误，请检查各字段",
    "parse_error": "请求体不是有效的 JSON",
    "not_authenticated": "未登录：请在 Authorization 头中携带有效的访问令牌（Bearer）",
    "authentication_failed": "身份验证失败",
    "token_not_valid": "令牌无效或已过期，请重新获取",
    "no_active_account": "用户名或密码错误，或账号已停用",
    "user_inactive": "账号已停用",
    "user_not_found": "令牌对应的用户不存在",
    "permission_denied": "没有权限执行此操作",
    "not_found": "对象不存在或不在您的数据范围内",
    "method_not_allowed": "不支持该请求方法",
    "not_acceptable": "无法按请求的格式返回，请接受 application/json",
    "unsupported_media_type": "不支持的请求体格式，请使用 application/json",
    "throttled": "请求过于频繁，请稍后再试",
    "payload_too_large": "请求体过大",
    "server_error": "系统内部错误，已记录日志，请联系管理员",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _fields_from(detail: Any) -> dict[str, Any]:
    """DRF's nested error detail as plain {field: [messages]}; non-dict detail under non_field_errors."""
    data = _plain(detail)
    if isinstance(data, dict):
        return data
    return {"non_field_errors": data if isinstance(data, list) else [data]}


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def _as_drf(exc: Exception) -> Exception:
    """Django's exceptions (raised by services and get_object_or_404) as their DRF equivalents."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = dict(exc.message_dict)
            if NON_FIELD_ERRORS in fields:
                fields["non_field_errors"] = fields.pop(NON_FIELD_ERRORS)
            return exceptions.ValidationError(fields)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, TokenError):
        return InvalidToken(exc.args[0] if exc.args else None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    exc = _as_drf(exc)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled API error", exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", MESSAGES["server_error"]),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", MESSAGES["invalid"], _fields_from(exc.detail))
    else:
        code = _code_of(exc)
        body = error_body(code, _message_of(exc, code))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc, InvalidToken):
        return "token_not_valid"
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        return str(exc.detail["code"])  # simplejwt puts its reason in detail["code"]
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


# Codes whose DRF/simplejwt detail is English or technical: always our message.
_OVERRIDDEN = {
    "token_not_valid",
    "no_active_account",
    "authentication_failed",
    "not_authenticated",
    "parse_error",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
}


def _message_of(exc: exceptions.APIException, code: str) -> str:
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        return f"请求过于频繁，请在 {int(exc.wait) + 1} 秒后重试"
    if code in _OVERRIDDEN:
        return MESSAGES[code]
    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
        # simplejwt's reasons (user_inactive, password changed, …) arrive in English.
        return MESSAGES.get(code, MESSAGES["authentication_failed"])
    detail = exc.detail if isinstance(exc.detail, str) else None
    if detail is not None and detail != str(exc.default_detail):
        return str(detail)  # a specific message the view raised on purpose
    return MESSAGES.get(code, str(exc.detail))


@csrf_exempt  # an unknown URL must answer 404 in our format, not the CSRF failure page
def api_not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ answer in the error format, not with the HTML 404 page."""
    return JsonResponse(error_body("not_found", "接口不存在，请查看 /api/docs/"), status=404)
