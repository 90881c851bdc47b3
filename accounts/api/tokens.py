"""JWT validity rules on top of simplejwt: revocation per user and a capped refresh chain.

A token is current only while its user is active, its password is the one the
token was issued under (simplejwt's CHECK_REVOKE_TOKEN claim) and it was issued
after the user's `tokens_valid_after` mark (set by `user_tokens_revoke`). A
refresh chain carries its first issue time (`auth_time`) through every rotation
and ends SESSION_ABSOLUTE_MAX_SECONDS after it, as a web session does: rotation
alone would let a stolen refresh token live for ever.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User

AUTH_TIME_CLAIM = "auth_time"


def token_is_current(*, user: User, token: Token) -> bool:
    if not user.is_active:
        return False
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        return False
    if user.tokens_valid_after is not None:
        # JWT times are whole seconds: a token from the revoking second itself still
        # counts, so a client that logs in again at once is not refused. Password
        # changes and deactivations are caught exactly by the two checks above.
        return int(token.get("iat", 0)) >= int(user.tokens_valid_after.timestamp())
    return True


def _refused() -> AuthenticationFailed:
    return AuthenticationFailed("令牌无效或已过期，请重新获取", code="token_not_valid")


class CappedTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's rotation, refused for revoked tokens and past the chain's absolute end."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])  # signature, expiry, blacklist
        user = User.objects.filter(pk=refresh.get(api_settings.USER_ID_CLAIM)).first()
        if user is None or not token_is_current(user=user, token=refresh):
            raise _refused()
        auth_time = int(refresh.get(AUTH_TIME_CLAIM, refresh["iat"]))
        chain_end = auth_time + settings.SESSION_ABSOLUTE_MAX_SECONDS
        if time.time() >= chain_end:
            raise _refused()
        refresh.blacklist()
        refresh.set_jti()
        refresh.set_iat()
        refresh.set_exp()
        refresh[AUTH_TIME_CLAIM] = auth_time
        refresh["exp"] = min(int(refresh["exp"]), chain_end)
        refresh.outstand()
        access = refresh.access_token
        access["exp"] = min(int(access["exp"]), chain_end)
        return {"access": str(access), "refresh": str(refresh)}


__all__ = ["CappedTokenRefreshSerializer", "RefreshToken", "token_is_current"]
