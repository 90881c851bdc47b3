"""Customer API: one view per operation over scoped_customers and the customer services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.schema import error_responses
from accounts.roles import can_create_customer, can_edit_customer
from customers.filters import CustomerFilter
from customers.models import BusinessProfile, Contact, WebsiteInfo
from customers.selectors import scoped_customers
from customers.services import (
    customer_create,
    customer_update,
    section_item_delete,
    section_item_save,
)

from .serializers import (
    AdAccountSerializer,
    BusinessProfileSerializer,
    ContactInputSerializer,
    ContactOutputSerializer,
    CustomerInputSerializer,
    CustomerOutputSerializer,
    ProjectSerializer,
    WebsiteInfoSerializer,
)

CUSTOMER_EXAMPLE = {
    "id": 7,
    "company_id": 100231,
    "name": "链家（杭州）房产经纪有限公司",
    "account_type": 1,
    "industry": 4,
    "erp": None,
    "onboarded_raw": "25上半年",
    "onboarded_year": 2025,
    "onboarded_half": 1,
    "level": "A",
    "sales_owner": 12,
    "ops_owners": [5],
    "cooperation_note": "正常使用",
    "lifecycle_status": "active",
    "billing_enabled": "yes",
    "disabled": False,
    "remarks": "",
    "settlement_method": "per_shoot",
    "consumption_level": "C3",
    "monthly_avg_shots": 120,
    "payment_terms_days": 30,
    "account_type_name": "正式",
    "industry_name": "房产经纪",
    "erp_name": None,
    "sales_owner_raw": "",
    "sales_owner_name": "王珂",
    "ops_owners_raw": " @郭富乾",
    "lifecycle_status_display": "活跃",
    "created_at": "2025-10-01T09:00:00+08:00",
    "updated_at": "2025-10-16T14:30:00+08:00",
}


def customer_in_scope(request, pk: int):
    """The caller's customer by id; 404 (never 403) when it is outside their scope."""
    return get_object_or_404(scoped_customers(request.user), pk=pk)


def _customers(request):
    return (
        scoped_customers(request.user)
        .select_related("account_type", "industry", "erp", "sales_owner")
        .prefetch_related("ops_owners")
        .order_by("company_id")
    )


@extend_schema(
    tags=["客户"],
    summary="客户列表",
    description="数据范围内的客户（销售：本人/团队客户；其他角色：全部）。支持与网页相同的筛选条件；q 按名称或公司id搜索。",
    responses={200: CustomerOutputSerializer(many=True), **error_responses(403)},
    examples=[OpenApiExample("客户", value=CUSTOMER_EXAMPLE, response_only=True)],
)
class CustomerListView(generics.ListAPIView):
    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter

    def get_queryset(self):
        return _customers(self.request)


@extend_schema(
    tags=["客户"],
    summary="客户详情",
    responses={200: CustomerOutputSerializer, **error_responses(403, 404)},
    examples=[OpenApiExample("客户", value=CUSTOMER_EXAMPLE, response_only=True)],
)
class CustomerDetailView(generics.RetrieveAPIView):
    serializer_class = CustomerOutputSerializer

    def get_object(self):
        return get_object_or_404(_customers(self.request), pk=self.kwargs["pk"])


class CustomerCreateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="新建客户",
        description="管理员、运营、销售可新建；校验规则与网页表单相同。销售新建的客户默认归属本人。",
        request=CustomerInputSerializer,
        responses={201: CustomerOutputSerializer, **error_responses(400, 403)},
        examples=[
            OpenApiExample(
                "新建",
                value={
                    "company_id": 100231,
                    "name": "链家（杭州）房产经纪有限公司",
                    "level": "A",
                    "settlement_method": "per_shoot",
                    "billing_enabled": "yes",
                },
                request_only=True,
            ),
            OpenApiExample("已创建", value=CUSTOMER_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request):
        if not can_create_customer(request.user):
            raise PermissionDenied()
        serializer = CustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_create(user=request.user, data=serializer.validated_data)
        customer = get_object_or_404(_customers(request), pk=customer.pk)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerUpdateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="修改客户",
        description="只需提交要修改的字段。管理员和运营可改数据范围内的客户，销售只能改本人负责的客户。",
        request=CustomerInputSerializer(partial=True),
        responses={200: CustomerOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "修改等级", value={"level": "S", "remarks": "年度大客户"}, request_only=True
            ),
            OpenApiExample("已修改", value=CUSTOMER_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, pk: int):
        customer = customer_in_scope(request, pk)
        if not can_edit_customer(request.user, customer):
            raise PermissionDenied()
        serializer = CustomerInputSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = customer_update(
            user=request.user, customer=customer, data=serializer.validated_data
        )
        customer = get_object_or_404(_customers(request), pk=customer.pk)
        return Response(CustomerOutputSerializer(customer).data)


CONTACT_EXAMPLE = {
    "id": 3,
    "customer": 7,
    "name": "李伟光",
    "position": "运营经理",
    "phone": "13800138000",
    "email": "li@example.com",
    "is_primary": True,
}


@extend_schema(
    tags=["客户"],
    summary="客户联系人",
    description="一个客户的联系人，主要联系人在前。",
    responses={200: ContactOutputSerializer(many=True), **error_responses(403, 404)},
    examples=[OpenApiExample("联系人", value=CONTACT_EXAMPLE, response_only=True)],
)
class ContactListView(generics.ListAPIView):
    serializer_class = ContactOutputSerializer
    queryset = Contact.objects.none()  # schema generation only; get_queryset scopes

    def get_queryset(self):
        customer = customer_in_scope(self.request, self.kwargs["pk"])
        return Contact.objects.filter(customer=customer).order_by("-is_primary", "pk")


def contact_in_scope(request, pk: int) -> Contact:
    """A contact of a customer in the caller's scope; 404 otherwise."""
    contacts = Contact.objects.filter(customer__in=scoped_customers(request.user))
    return get_object_or_404(contacts.select_related("customer"), pk=pk)


def _require_edit(request, customer) -> None:
    # Seeing a customer is not editing it: sales edit only the customers they own.
    if not can_edit_customer(request.user, customer):
        raise PermissionDenied()


class ContactCreateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="新增联系人",
        description=(
            "电话和邮箱至少填写一项。客户的第一个联系人自动成为主要联系人；"
            "新联系人设为主要联系人时，原主要联系人随之取消。可修改该客户的用户可用。"
        ),
        request=ContactInputSerializer,
        responses={201: ContactOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "新增",
                value={"name": "李伟光", "position": "运营经理", "phone": "13800138000"},
                request_only=True,
            ),
            OpenApiExample("已新增", value=CONTACT_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request, pk: int):
        customer = customer_in_scope(request, pk)
        _require_edit(request, customer)
        serializer = ContactInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        contact = section_item_save(
            user=request.user,
            customer=customer,
            section="contacts",
            data=dict(serializer.validated_data),
        )
        return Response(
            ContactOutputSerializer(contact, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ContactUpdateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="修改联系人",
        description="只需提交要修改的字段。可修改该客户的用户可用。",
        request=ContactInputSerializer(partial=True),
        responses={200: ContactOutputSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample("改电话", value={"phone": "13900139000"}, request_only=True),
            OpenApiExample("已修改", value=CONTACT_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, pk: int):
        contact = contact_in_scope(request, pk)
        _require_edit(request, contact.customer)
        serializer = ContactInputSerializer(
            contact, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        contact = section_item_save(
            user=request.user,
            customer=contact.customer,
            section="contacts",
            data=dict(serializer.validated_data),
            item=contact,
        )
        return Response(ContactOutputSerializer(contact, context={"request": request}).data)


class ContactDeleteView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="删除联系人",
        description="删除主要联系人时，最早添加的其余联系人成为主要联系人。可修改该客户的用户可用。",
        request=None,
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request, pk: int):
        contact = contact_in_scope(request, pk)
        _require_edit(request, contact.customer)
        section_item_delete(
            user=request.user, customer=contact.customer, section="contacts", item=contact
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Archive depth (issue 18): projects, ad accounts, profile sections ---

# section slug → (serializer, Chinese name); the same sections the detail page edits.
ROW_SECTIONS = {
    "projects": (ProjectSerializer, "项目"),
    "adaccounts": (AdAccountSerializer, "广告账户"),
}


def _section_list(request, pk: int, section: str):
    customer = customer_in_scope(request, pk)
    serializer_class, _ = ROW_SECTIONS[section]
    rows = serializer_class.Meta.model.objects.filter(customer=customer).order_by("pk")
    return Response(serializer_class(rows, many=True, context={"request": request}).data)


def _section_create(request, pk: int, section: str):
    customer = customer_in_scope(request, pk)
    _require_edit(request, customer)
    serializer_class, _ = ROW_SECTIONS[section]
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    item = section_item_save(
        user=request.user, customer=customer, section=section, data=dict(serializer.validated_data)
    )
    return Response(
        serializer_class(item, context={"request": request}).data, status=status.HTTP_201_CREATED
    )


class ProjectListView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="客户项目",
        responses={200: ProjectSerializer(many=True), **error_responses(403, 404)},
    )
    def get(self, request, pk: int):
        return _section_list(request, pk, "projects")


class ProjectCreateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="新增项目",
        description="可修改该客户的用户可用；结束日期不能早于开始日期。",
        request=ProjectSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "新增",
                value={
                    "name": "2026 年度 VR 拍摄",
                    "kind": "shooting",
                    "status": "in_progress",
                    "start_on": "2026-01-01",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        return _section_create(request, pk, "projects")


class AdAccountListView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="客户广告账户",
        description="对当前角色隐藏的金额字段（月消耗）不出现在结果中。",
        responses={200: AdAccountSerializer(many=True), **error_responses(403, 404)},
    )
    def get(self, request, pk: int):
        return _section_list(request, pk, "adaccounts")


class AdAccountCreateView(APIView):
    @extend_schema(
        tags=["客户"],
        summary="新增广告账户",
        description="可修改该客户的用户可用；同一平台的账户ID不能重复。",
        request=AdAccountSerializer,
        responses={201: AdAccountSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample(
                "新增",
                value={
                    "platform": "google",
                    "account_id": "123-456-7890",
                    "monthly_spend": "5000.00",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        return _section_create(request, pk, "adaccounts")


class CustomerProfileView(APIView):
    """商业概况 and 独立站情况 of one customer (null when not filled in yet)."""

    @extend_schema(
        tags=["客户"],
        summary="客户商业概况与独立站情况",
        responses={
            200: {
                "type": "object",
                "properties": {
                    "business": {"type": "object", "nullable": True},
                    "website": {"type": "object", "nullable": True},
                },
            },
            **error_responses(403, 404),
        },
    )
    def get(self, request, pk: int):
        customer = customer_in_scope(request, pk)
        context = {"request": request}
        business = BusinessProfile.objects.filter(customer=customer).first()
        website = WebsiteInfo.objects.filter(customer=customer).first()
        return Response(
            {
                "business": BusinessProfileSerializer(business, context=context).data
                if business
                else None,
                "website": WebsiteInfoSerializer(website, context=context).data
                if website
                else None,
            }
        )
