"""Accounts API: JWT obtain/refresh/logout and background-job status. Thin adapters only."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer

from accounts.filters import JobFilter
from accounts.models import User
from accounts.selectors import jobs_visible_to

from .schema import error_responses
from .serializers import JobOutputSerializer, RefreshInputSerializer, TokenPairOutputSerializer


class LockedOut(Throttled):
    default_code = "locked_out"
    default_detail = "密码错误次数过多，该账号在此地址已被锁定 15 分钟，请稍后再试或联系管理员"


TOKEN_PAIR_EXAMPLE = OpenApiExample(
    "令牌对",
    value={"access": "eyJhbGciOiJIUzI1NiIs…", "refresh": "eyJhbGciOiJIUzI1NiIs…"},
    response_only=True,
)


@extend_schema(
    tags=["认证"],
    summary="获取令牌",
    description=(
        "用网页登录的同一账号换取访问令牌（10 分钟）和刷新令牌（自登录起最长 12 小时）。"
        "角色与数据范围与网页一致。连续 5 次密码错误将锁定该账号在该地址 15 分钟。"
    ),
    responses={200: TokenPairOutputSerializer, **error_responses(400)},
    examples=[
        OpenApiExample(
            "登录", value={"username": "ops1", "password": "••••••••"}, request_only=True
        ),
        TOKEN_PAIR_EXAMPLE,
    ],
)
class TokenObtainView(jwt_views.TokenObtainPairView):
    """simplejwt's obtain view, made to behave like the web login towards django-axes.

    simplejwt passes the request to authenticate(), so AxesStandaloneBackend
    counts failures and refuses locked-out users; but it never sends
    user_logged_in, so a success would not reset the failure count, and a
    lockout would read as a wrong password. Both are added here.
    """

    def post(self, request, *args, **kwargs):
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise LockedOut() from None
            raise
        user = User.objects.filter(username=request.data.get("username")).first()
        if user is not None:
            user_logged_in.send(sender=User, request=request, user=user)
        return response


@extend_schema(
    tags=["认证"],
    summary="刷新令牌",
    description="用刷新令牌换取新的访问令牌和新的刷新令牌；旧的刷新令牌随即作废（加入黑名单），再次使用将被拒绝。",
    responses={200: TokenPairOutputSerializer, **error_responses(400)},
    examples=[
        OpenApiExample("刷新", value={"refresh": "eyJhbGciOiJIUzI1NiIs…"}, request_only=True),
        TOKEN_PAIR_EXAMPLE,
    ],
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    pass


class LogoutView(APIView):
    """Blacklists the refresh token; holding it is the proof, so no access token is needed."""

    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        tags=["认证"],
        summary="退出登录",
        description="使刷新令牌立即作废。访问令牌在其剩余有效期（最长 10 分钟）内仍可使用。",
        request=RefreshInputSerializer,
        responses={204: None, **error_responses(400)},
        examples=[
            OpenApiExample("退出", value={"refresh": "eyJhbGciOiJIUzI1NiIs…"}, request_only=True)
        ],
    )
    def post(self, request):
        serializer = TokenBlacklistSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["任务"],
    summary="任务列表",
    description="本人发起的后台任务（管理员可见全部），最新的在前。",
    responses={200: JobOutputSerializer(many=True), **error_responses(403)},
)
class JobListView(generics.ListAPIView):
    serializer_class = JobOutputSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        return jobs_visible_to(self.request.user).order_by("-created_at", "-pk")


@extend_schema(
    tags=["任务"],
    summary="任务状态与进度",
    description="轮询此接口查看生成账单等后台任务的状态、进度（percent）、结果与错误说明。",
    responses={200: JobOutputSerializer, **error_responses(403, 404)},
    examples=[
        OpenApiExample(
            "进行中",
            value={
                "id": 42,
                "kind": "bills_generate",
                "title": "生成 2025-10 账单",
                "status": "running",
                "status_display": "进行中",
                "progress_done": 300,
                "progress_total": 1320,
                "percent": 22,
                "params": {"period": "2025-10-01"},
                "result": {},
                "message": "",
                "result_file_url": None,
                "error_file_url": None,
                "created_at": "2025-11-01T09:00:00+08:00",
                "started_at": "2025-11-01T09:00:01+08:00",
                "finished_at": None,
            },
            response_only=True,
        )
    ],
)
class JobDetailView(generics.RetrieveAPIView):
    serializer_class = JobOutputSerializer

    def get_object(self):
        return get_object_or_404(jobs_visible_to(self.request.user), pk=self.kwargs["pk"])
