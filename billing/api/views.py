"""Billing API: price plans, usage ingest, bills, payments and allocations.

One view per operation. Every queryset starts from scoped_customers, so an
id outside the caller's scope answers 404; every write calls one contracted
service of its domain (billing.plans, billing.usage, billing.bills, billing.payments),
and every read one selector of that domain: HTML pages and the API share both.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.errors import error_body
from accounts.api.permissions import HasRole, predicate_permission
from accounts.api.schema import ErrorSerializer, error_responses
from accounts.api.serializers import JobOutputSerializer
from accounts.roles import can_manage_billing, can_manage_plans
from billing.bills.filters import BillFilter
from billing.bills.selectors import scoped_bills
from billing.bills.services import bills_generate_job_start
from billing.models import BillLine, Payment, PaymentAllocation, PricePlan
from billing.payments.filters import PaymentFilter
from billing.payments.selectors import scoped_allocations, scoped_payments
from billing.payments.services import (
    allocation_undo,
    payment_allocate,
    payment_allocate_oldest_first,
    payment_record,
)
from billing.plans.filters import PricePlanFilter
from billing.plans.selectors import scoped_plans
from billing.plans.services import plan_create, plan_new_version, plan_update
from billing.usage.filters import UsageFilter
from billing.usage.selectors import scoped_usage
from billing.usage.services import usage_ingest
from customers.selectors import scoped_customers

from .serializers import (
    AllocationOutputSerializer,
    AllocationUndoInputSerializer,
    BillDetailOutputSerializer,
    BillGenerateInputSerializer,
    BillOutputSerializer,
    PaymentAllocateInputSerializer,
    PaymentDetailOutputSerializer,
    PaymentInputSerializer,
    PaymentOutputSerializer,
    PricePlanCreateInputSerializer,
    PricePlanNewVersionInputSerializer,
    PricePlanOutputSerializer,
    PricePlanTermsSerializer,
    UsageIngestInputSerializer,
    UsageIngestOutputSerializer,
    UsageRecordOutputSerializer,
)

CanManageBilling = predicate_permission(can_manage_billing, name="CanManageBilling")
BILLING_WRITE = [HasRole, CanManageBilling]
CanManagePlans = predicate_permission(can_manage_plans, name="CanManagePlans")
PLAN_WRITE = [HasRole, CanManagePlans]


# --- price plans --------------------------------------------------------------

PLAN_EXAMPLE = {
    "id": 11,
    "customer": 7,
    "company_id": 100231,
    "series": 3,
    "series_code": "L",
    "kind": "per_shoot",
    "kind_display": "定价结算",
    "version": 2,
    "valid_from": "2025-07-01",
    "valid_to": None,
    "single_price": "12.50",
    "multi_rule": "incremental",
    "multi_price": None,
    "multi_base": "14.00",
    "multi_step": "10.00",
    "per_area": False,
    "area_price": None,
    "tier_mode": "graduated",
    "tier_unit": "shoots",
    "bands_shared": [],
    "bands_single": [],
    "bands_multi": [],
    "annual_fee": None,
    "annual_quota": None,
    "overage_price": None,
    "fee_schedule": "upfront",
    "contract_start": None,
    "minimum_charge": None,
    "discount_kind": "",
    "discount_value": None,
    "discount_reason": "",
    "source": "import",
    "is_locked": False,
    "supersedes": 10,
    "created_at": "2025-07-01T10:00:00+08:00",
}


@extend_schema(
    tags=["价格方案"],
    summary="价格方案列表",
    description="数据范围内客户的价格方案（含历史版本）。in_force_on=日期 只返回当天生效的版本。",
    responses={200: PricePlanOutputSerializer(many=True), **error_responses(403)},
    examples=[OpenApiExample("方案", value=PLAN_EXAMPLE, response_only=True)],
)
class PricePlanListView(generics.ListAPIView):
    serializer_class = PricePlanOutputSerializer
    filterset_class = PricePlanFilter

    def get_queryset(self):
        return (
            scoped_plans(self.request.user)
            .select_related("customer", "series")
            .order_by("customer_id", "series_id", "-version")
        )


@extend_schema(
    tags=["价格方案"],
    summary="价格方案详情",
    responses={200: PricePlanOutputSerializer, **error_responses(403, 404)},
    examples=[OpenApiExample("方案", value=PLAN_EXAMPLE, response_only=True)],
)
class PricePlanDetailView(generics.RetrieveAPIView):
    serializer_class = PricePlanOutputSerializer

    def get_object(self):
        return get_object_or_404(scoped_plans(self.request.user), pk=self.kwargs["pk"])


PLAN_REQUEST_EXAMPLE = {
    "customer": 7,
    "series": "L",
    "kind": "per_shoot",
    "valid_from": "2025-07-01",
    "single_price": "12.50",
    "multi_rule": "incremental",
    "multi_base": "14.00",
    "multi_step": "10.00",
}


def _plan_answer(request, plan: PricePlan, code: int) -> Response:
    plan = get_object_or_404(scoped_plans(request.user), pk=plan.pk)
    return Response(PricePlanOutputSerializer(plan).data, status=code)


class PricePlanCreateView(APIView):
    permission_classes = PLAN_WRITE

    @extend_schema(
        tags=["价格方案"],
        summary="新建价格方案",
        description=(
            "为数据范围内的客户新建某设备系列的价格方案（版本号自动递增）。"
            "校验规则与网页相同：同一客户同一系列同一天只能有一个方案生效。需要运营或管理员角色。"
        ),
        request=PricePlanCreateInputSerializer,
        responses={201: PricePlanOutputSerializer, **error_responses(400, 403)},
        examples=[
            OpenApiExample("定价结算", value=PLAN_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "阶梯结算",
                value={
                    "customer": 7,
                    "series": "X",
                    "kind": "tiered",
                    "valid_from": "2025-07-01",
                    "tier_mode": "graduated",
                    "bands_shared": [
                        {"up_to": 100, "price": "10.00"},
                        {"up_to": None, "price": "8.00"},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample("已创建", value=PLAN_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request):
        serializer = PricePlanCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plan = plan_create(
            user=request.user, customer=data.pop("customer"), series=data.pop("series"), data=data
        )
        return _plan_answer(request, plan, status.HTTP_201_CREATED)


class PricePlanUpdateView(APIView):
    permission_classes = PLAN_WRITE

    @extend_schema(
        tags=["价格方案"],
        summary="修改价格方案",
        description=(
            "只需提交要修改的字段。已用于已出账账单的方案不能修改，请改用新建版本。"
            "需要运营或管理员角色。"
        ),
        request=PricePlanTermsSerializer(partial=True),
        responses={200: PricePlanOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample("改单价", value={"single_price": "11.00"}, request_only=True),
            OpenApiExample("已修改", value=PLAN_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, pk: int):
        plan = get_object_or_404(scoped_plans(request.user), pk=pk)
        serializer = PricePlanTermsSerializer(plan, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        plan = plan_update(user=request.user, plan=plan, data=dict(serializer.validated_data))
        return _plan_answer(request, plan, status.HTTP_200_OK)


class PricePlanNewVersionView(APIView):
    permission_classes = PLAN_WRITE

    @extend_schema(
        tags=["价格方案"],
        summary="新建价格方案版本",
        description=(
            "从 valid_from 起生效的新版本，原版本截止到前一天并保持不变；未提交的条款沿用原版本。"
            "已出账月份之内不能生效。需要运营或管理员角色。"
        ),
        request=PricePlanNewVersionInputSerializer,
        responses={201: PricePlanOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "调价",
                value={"valid_from": "2026-01-01", "single_price": "13.00"},
                request_only=True,
            ),
            OpenApiExample("新版本", value=PLAN_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request, pk: int):
        plan = get_object_or_404(scoped_plans(request.user), pk=pk)
        serializer = PricePlanNewVersionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new = plan_new_version(
            user=request.user, plan=plan, valid_from=data.pop("valid_from"), data=data
        )
        return _plan_answer(request, new, status.HTTP_201_CREATED)


# --- usage --------------------------------------------------------------------

INGEST_REQUEST_EXAMPLE = {
    "records": [
        {
            "company_id": 100231,
            "series": "L",
            "shot_date": "2025-10-16",
            "floors": 1,
            "shots": 1,
            "area": None,
            "source_ref": "SO100001",
        },
        {
            "company_id": 100231,
            "series": "L",
            "shot_date": "2025-10-16",
            "floors": 3,
            "shots": 2,
            "area": "260.5",
            "source_ref": "SO100002",
        },
    ]
}


@extend_schema(
    tags=["用量"],
    summary="用量记录列表",
    responses={200: UsageRecordOutputSerializer(many=True), **error_responses(403)},
)
class UsageListView(generics.ListAPIView):
    serializer_class = UsageRecordOutputSerializer
    filterset_class = UsageFilter

    def get_queryset(self):
        return (
            scoped_usage(self.request.user)
            .select_related("customer", "series")
            .order_by("-shot_date", "-pk")
        )


class UsageIngestView(APIView):
    """Bulk usage push from the scanning platform: validation and writing are usage_ingest's."""

    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["用量"],
        summary="批量上报用量",
        description=(
            "一次最多 10,000 条。按来源单号（source_ref）幂等：重复提交同一批不会重复记账，"
            "已存在的单号计入 duplicates。默认逐条校验：有误的记录在 errors 中列出（index 为下标），"
            "其余照常导入；加 `?atomic=true` 则只要有一条有误，整批都不导入并返回 400。"
            "公司id 须在调用者的数据范围内。需要运营或管理员角色。"
        ),
        parameters=[
            OpenApiParameter(
                "atomic",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="true：全部成功或全部不导入",
                default=False,
            )
        ],
        request=UsageIngestInputSerializer,
        responses={
            200: UsageIngestOutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="请求格式有误；或 atomic=true 时有记录出错（整批未导入）",
                examples=[
                    OpenApiExample(
                        "整批拒绝",
                        value={
                            "code": "invalid_records",
                            "message": "共 1 条记录有误，整批未导入",
                            "fields": {"records[1].floors": ["第 2 条：楼层数应为正整数"]},
                            "created": 0,
                            "duplicates": 0,
                            "errors": [
                                {
                                    "index": 1,
                                    "field": "floors",
                                    "message": "第 2 条：楼层数应为正整数",
                                }
                            ],
                        },
                        status_codes=["400"],
                        response_only=True,
                    )
                ],
            ),
            **error_responses(403, 413),
        },
        examples=[
            OpenApiExample("两条用量", value=INGEST_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "部分有误",
                value={
                    "created": 1,
                    "duplicates": 0,
                    "errors": [
                        {
                            "index": 1,
                            "field": "company_id",
                            "message": "第 2 条：公司id 999 不存在或不在数据范围内",
                        }
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        serializer = UsageIngestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        atomic = str(request.query_params.get("atomic", "")).lower() in ("1", "true", "yes")
        result = usage_ingest(
            records=serializer.validated_data["records"],
            user=request.user,
            atomic=atomic,
            source="api",
        )
        body = {"created": result.created, "duplicates": result.duplicates, "errors": result.errors}
        if atomic and result.errors:
            fields: dict[str, list[str]] = {}
            for error in result.errors:
                key = f"records[{error['index']}].{error['field']}".rstrip(".")
                fields.setdefault(key, []).append(error["message"])
            message = f"共 {len({e['index'] for e in result.errors})} 条记录有误，整批未导入"
            return Response(
                {**error_body("invalid_records", message, fields), **body},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body)


# --- bills --------------------------------------------------------------------

BILL_EXAMPLE = {
    "id": 301,
    "number": "BILL-202510-100231",
    "kind": "bill",
    "customer": 7,
    "company_id": 100231,
    "customer_name": "链家（杭州）房产经纪有限公司",
    "period": "2025-10",
    "status": "partially_paid",
    "status_display": "部分收款",
    "total": "1234.50",
    "amount_paid": "1000.00",
    "balance": "234.50",
    "is_overdue": False,
    "due_date": "2025-12-01",
    "issued_at": "2025-11-01T10:00:00+08:00",
    "reverses": None,
    "reason": "",
    "anomalies": [],
    "generated_at": "2025-11-01T09:00:00+08:00",
}


@extend_schema(
    tags=["账单"],
    summary="账单列表",
    description="数据范围内客户的账单和冲正单。period 取当月第一天，如 2025-10-01。",
    responses={200: BillOutputSerializer(many=True), **error_responses(403)},
    examples=[OpenApiExample("账单", value=BILL_EXAMPLE, response_only=True)],
)
class BillListView(generics.ListAPIView):
    serializer_class = BillOutputSerializer
    filterset_class = BillFilter

    def get_queryset(self):
        return scoped_bills(self.request.user).order_by("-period", "customer_id", "pk")


@extend_schema(
    tags=["账单"],
    summary="账单详情",
    description="含明细行（每行附计算说明）和核销记录。",
    responses={200: BillDetailOutputSerializer, **error_responses(403, 404)},
    examples=[
        OpenApiExample(
            "账单",
            value={
                **BILL_EXAMPLE,
                "lines": [
                    {
                        "position": 1,
                        "series_code": "L",
                        "line_type": "multi",
                        "line_type_display": "多层",
                        "band": "",
                        "quantity": "3.00",
                        "unit_price": "14.00",
                        "amount": "82.00",
                        "explanation": "3 multi-floor shoots, 7 floors: 3×¥14.00 + 4×¥10.00 = ¥82.00",
                        "reason": "",
                    }
                ],
                "allocations": [],
            },
            response_only=True,
        )
    ],
)
class BillDetailView(generics.RetrieveAPIView):
    serializer_class = BillDetailOutputSerializer

    def get_object(self):
        bills = scoped_bills(self.request.user).prefetch_related(
            Prefetch("lines", queryset=BillLine.objects.select_related("series")),
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("bill")),
        )
        return get_object_or_404(bills, pk=self.kwargs["pk"])


class BillGenerateView(APIView):
    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["账单"],
        summary="生成某月账单（后台任务）",
        description=(
            "为某月生成账单草稿，作为后台任务运行并立即返回任务（202）。"
            "用 /api/jobs/{id}/ 轮询进度。重复生成不会产生重复账单。需要运营或管理员角色。"
        ),
        request=BillGenerateInputSerializer,
        responses={202: JobOutputSerializer, **error_responses(400, 403)},
        examples=[
            OpenApiExample("全部客户", value={"period": "2025-10"}, request_only=True),
            OpenApiExample(
                "指定客户", value={"period": "2025-10", "customer_ids": [7, 8]}, request_only=True
            ),
        ],
    )
    def post(self, request):
        serializer = BillGenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_ids = serializer.validated_data.get("customer_ids")
        if customer_ids:
            found = set(
                scoped_customers(request.user)
                .filter(pk__in=customer_ids)
                .values_list("pk", flat=True)
            )
            missing = sorted(set(customer_ids) - found)
            if missing:
                raise ValidationError(
                    {
                        "customer_ids": [
                            f"客户 id {', '.join(map(str, missing[:20]))} 不存在或不在数据范围内"
                        ]
                    }
                )
        job = bills_generate_job_start(
            period=serializer.validated_data["period"], user=request.user, customer_ids=customer_ids
        )
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# --- payments and allocations ---------------------------------------------------

PAYMENT_EXAMPLE = {
    "id": 55,
    "customer": 7,
    "company_id": 100231,
    "customer_name": "链家（杭州）房产经纪有限公司",
    "amount": "1000.00",
    "allocated": "1000.00",
    "unallocated": "0.00",
    "received_on": "2025-11-20",
    "method": "bank",
    "method_display": "银行转账",
    "bank_ref": "CMB20251120001",
    "payer": "链家（杭州）房产经纪有限公司",
    "note": "",
    "created_at": "2025-11-20T15:00:00+08:00",
}
ALLOCATION_EXAMPLE = {
    "id": 90,
    "payment": 55,
    "bill": 301,
    "bill_number": "BILL-202510-100231",
    "amount": "1000.00",
    "created_at": "2025-11-20T15:05:00+08:00",
    "is_active": True,
    "undone_at": None,
    "undo_reason": "",
}


def _payment_detail(request, pk: int) -> Payment:
    payments = scoped_payments(request.user).prefetch_related(
        Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("bill"))
    )
    return get_object_or_404(payments, pk=pk)


@extend_schema(
    tags=["收款"],
    summary="收款列表",
    responses={200: PaymentOutputSerializer(many=True), **error_responses(403)},
    examples=[OpenApiExample("收款", value=PAYMENT_EXAMPLE, response_only=True)],
)
class PaymentListView(generics.ListAPIView):
    serializer_class = PaymentOutputSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return scoped_payments(self.request.user).order_by("-received_on", "-pk")


@extend_schema(
    tags=["收款"],
    summary="收款详情",
    description="含核销记录（已撤销的也列出，is_active=false）。",
    responses={200: PaymentDetailOutputSerializer, **error_responses(403, 404)},
    examples=[
        OpenApiExample(
            "收款",
            value={**PAYMENT_EXAMPLE, "allocations": [ALLOCATION_EXAMPLE]},
            response_only=True,
        )
    ],
)
class PaymentDetailView(generics.RetrieveAPIView):
    serializer_class = PaymentDetailOutputSerializer

    def get_object(self):
        return _payment_detail(self.request, self.kwargs["pk"])


class PaymentCreateView(APIView):
    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["收款"],
        summary="登记收款",
        description=(
            "登记一笔收款（尚未核销）。同一方式下银行流水号不能重复。"
            "带请求头 Idempotency-Key 重试时不会重复登记，返回第一次登记的收款。需要运营或管理员角色。"
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="客户端生成的唯一键（最长 64 字符），用于安全重试",
            )
        ],
        request=PaymentInputSerializer,
        responses={201: PaymentDetailOutputSerializer, **error_responses(400, 403)},
        examples=[
            OpenApiExample(
                "银行转账",
                value={
                    "customer": 7,
                    "amount": "1000.00",
                    "received_on": "2025-11-20",
                    "method": "bank",
                    "bank_ref": "CMB20251120001",
                    "payer": "链家（杭州）房产经纪有限公司",
                },
                request_only=True,
            ),
            OpenApiExample(
                "已登记", value={**PAYMENT_EXAMPLE, "allocations": []}, response_only=True
            ),
        ],
    )
    def post(self, request):
        serializer = PaymentInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 64:
            raise ValidationError({"Idempotency-Key": ["Idempotency-Key 不能超过 64 个字符"]})
        payment = payment_record(
            user=request.user, idempotency_key=key, **serializer.validated_data
        )
        data = PaymentDetailOutputSerializer(_payment_detail(request, payment.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)


class PaymentAllocateView(APIView):
    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["收款"],
        summary="核销到账单",
        description=(
            "把收款的一部分或全部核销到同一客户的已出账账单。核销总额不能超过收款未核销余额，"
            "单张账单不能超过其未收余额。全部成功或全部不生效。需要运营或管理员角色。"
        ),
        request=PaymentAllocateInputSerializer,
        responses={201: AllocationOutputSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "核销两张账单",
                value={
                    "allocations": [
                        {"bill": 301, "amount": "800.00"},
                        {"bill": 302, "amount": "200.00"},
                    ]
                },
                request_only=True,
            ),
            OpenApiExample("核销结果", value=[ALLOCATION_EXAMPLE], response_only=True),
        ],
    )
    def post(self, request, pk: int):
        payment = get_object_or_404(scoped_payments(request.user), pk=pk)
        serializer = PaymentAllocateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["allocations"]
        bills = scoped_bills(request.user).in_bulk([item["bill"] for item in items])
        missing = sorted({item["bill"] for item in items} - set(bills))
        if missing:
            raise ValidationError(
                {"allocations": [f"账单 id {', '.join(map(str, missing))} 不存在或不在数据范围内"]}
            )
        made = payment_allocate(
            user=request.user,
            payment=payment,
            allocations=[(bills[item["bill"]], item["amount"]) for item in items],
        )
        return Response(
            AllocationOutputSerializer(made, many=True).data, status=status.HTTP_201_CREATED
        )


class PaymentAllocateOldestView(APIView):
    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["收款"],
        summary="按账期从早到晚自动核销",
        description="把收款未核销余额依次核销到该客户最早的未结清账单。需要运营或管理员角色。",
        request=None,
        responses={201: AllocationOutputSerializer(many=True), **error_responses(400, 403, 404)},
        examples=[OpenApiExample("核销结果", value=[ALLOCATION_EXAMPLE], response_only=True)],
    )
    def post(self, request, pk: int):
        payment = get_object_or_404(scoped_payments(request.user), pk=pk)
        made = payment_allocate_oldest_first(user=request.user, payment=payment)
        return Response(
            AllocationOutputSerializer(made, many=True).data, status=status.HTTP_201_CREATED
        )


class AllocationUndoView(APIView):
    permission_classes = BILLING_WRITE

    @extend_schema(
        tags=["收款"],
        summary="撤销核销",
        description="撤销一条核销记录；记录保留并标记为已撤销，账单与收款余额随之恢复。需要运营或管理员角色。",
        request=AllocationUndoInputSerializer,
        responses={200: AllocationOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample("撤销", value={"reason": "核销到了错误的账单"}, request_only=True),
            OpenApiExample(
                "已撤销",
                value={
                    **ALLOCATION_EXAMPLE,
                    "is_active": False,
                    "undone_at": "2025-11-21T09:00:00+08:00",
                    "undo_reason": "核销到了错误的账单",
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request, pk: int):
        allocation = get_object_or_404(scoped_allocations(request.user), pk=pk)
        serializer = AllocationUndoInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        allocation_undo(
            user=request.user, allocation=allocation, reason=serializer.validated_data["reason"]
        )
        allocation = get_object_or_404(scoped_allocations(request.user), pk=pk)
        return Response(AllocationOutputSerializer(allocation).data)
