"""JWT authentication that also tells django-auditlog who the caller is.

AuditlogMiddleware records the actor from request.user before the view runs,
but a JWT is only read inside the DRF view, so without this every change made
through the API would be logged with no actor.
"""

from __future__ import annotations

from typing import Any

from auditlog.context import auditlog_value
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from .tokens import token_is_current


class AuditedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        # A password change, a deactivation or an explicit revocation ends every
        # token issued before it, access tokens included (accounts.api.tokens).
        if not token_is_current(user=user, token=validated_token):
            raise AuthenticationFailed("令牌无效或已过期，请重新获取", code="token_not_valid")
        return user

    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)
        if result is not None:
            try:
                context = auditlog_value.get()
            except LookupError:  # no AuditlogMiddleware around this request
                return result
            context["actor"] = result[0]
        return result


class AuditedJWTScheme(SimpleJWTScheme):
    """Documents AuditedJWTAuthentication in OpenAPI exactly as simplejwt's bearer scheme."""

    target_class = AuditedJWTAuthentication
