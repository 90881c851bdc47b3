"""The client's address as login throttling sees it, trusting only the configured proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    """REMOTE_ADDR, or with N trusted proxies in front the N-th address from the right of
    X-Forwarded-For: each proxy appends the address it received the request from, so
    entries further left were written by the client and prove nothing. Anyone could
    otherwise pick their own address, or lock a user out from everyone's.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.OPCMS_TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < trusted:
        return remote
    candidate = entries[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
