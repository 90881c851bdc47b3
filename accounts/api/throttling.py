"""Per-user request throttling; anonymous callers (token obtain) are limited by address."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LiveRates:
    """Read the rate when asked, not at import, so settings overrides (tests) take effect."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(_LiveRates, UserRateThrottle):
    scope = "user"


class AnonThrottle(_LiveRates, AnonRateThrottle):
    scope = "anon"
