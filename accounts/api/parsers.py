"""JSON parsing with a body-size limit checked before anything is read or decoded."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .errors import PayloadTooLarge


def _limit_message(limit: int) -> str:
    return f"请求体过大：上限为 {limit // (1024 * 1024)} MB，请分批提交"


class LimitedJSONParser(JSONParser):
    """Refuses bodies over OPCMS_API_MAX_BODY_BYTES with a 413 in the API error format.

    The declared Content-Length is checked first, so an oversized upload is
    refused without reading it; the read itself is bounded too, for clients
    that send no length.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.OPCMS_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdecimal() and int(declared) > limit:
            raise PayloadTooLarge(_limit_message(limit))
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(_limit_message(limit))
        if b"\\u0000" in body:
            # PostgreSQL cannot store or compare text holding NUL: refuse it at the door
            # rather than fail (500) in whichever query first meets it.
            raise ParseError("请求体包含 NUL 字符（\\u0000），请删除后再提交")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            # json.loads recurses once per nesting level: thousands of "[" exhaust the stack.
            raise ParseError("请求体的 JSON 嵌套层数过多") from None
