"""Input and output serializers of the customer API."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from customers.fieldpolicy import hidden_model_fields
from customers.models import AdAccount, BusinessProfile, Contact, Customer, Project, WebsiteInfo


class FieldPolicyMixin:
    """Leaves out the fields hidden from the requesting user (the same policy as pages, exports)."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name in hidden_model_fields(request.user, self.Meta.model):
                fields.pop(name, None)
        return fields


# Fields a client may write; the same names as the model (and the service's data keys).
WRITABLE_FIELDS = [
    "company_id",
    "name",
    "account_type",
    "industry",
    "erp",
    "onboarded_raw",
    "onboarded_year",
    "onboarded_half",
    "level",
    "sales_owner",
    "ops_owners",
    "cooperation_note",
    "lifecycle_status",
    "billing_enabled",
    "disabled",
    "remarks",
    "settlement_method",
    "consumption_level",
    "monthly_avg_shots",
    "payment_terms_days",
]


class CustomerInputSerializer(serializers.ModelSerializer):
    """Types, choices and references only; business rules are the service's (same as the form)."""

    sales_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text="销售负责人的用户 id",
    )
    ops_owners = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text="运营负责人的用户 id 列表",
    )

    class Meta:
        model = Customer
        fields = WRITABLE_FIELDS


class CustomerOutputSerializer(serializers.ModelSerializer):
    account_type_name = serializers.CharField(source="account_type.value", default=None)
    industry_name = serializers.CharField(source="industry.value", default=None)
    erp_name = serializers.CharField(source="erp.value", default=None)
    sales_owner_name = serializers.CharField(source="sales_owner_display")
    lifecycle_status_display = serializers.CharField(source="get_lifecycle_status_display")
    ops_owners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            *WRITABLE_FIELDS,
            "account_type_name",
            "industry_name",
            "erp_name",
            "sales_owner_raw",
            "sales_owner_name",
            "ops_owners_raw",
            "lifecycle_status_display",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactOutputSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "position", "phone", "email", "is_primary"]
        read_only_fields = fields


class ContactInputSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    """Types and lengths; the "phone or email" and one-primary rules are section_item_save's."""

    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "is_primary"]


# --- Archive depth (issue 18): projects, ad accounts, profile sections ---


class ProjectSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    """Output and input of a project; the end-after-start rule is the service's."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )

    class Meta:
        model = Project
        fields = ["id", "customer", "name", "kind", "status", "start_on", "end_on", "owner"]
        read_only_fields = ["id", "customer"]


class AdAccountSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    class Meta:
        model = AdAccount
        fields = ["id", "customer", "platform", "account_id", "status", "monthly_spend", "notes"]
        read_only_fields = ["id", "customer"]
        # Uniqueness of (platform, account id) is checked by the service, in Chinese.
        validators: list = []


class BusinessProfileSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    class Meta:
        model = BusinessProfile
        exclude = ["id"]
        read_only_fields = ["customer"]


class WebsiteInfoSerializer(FieldPolicyMixin, serializers.ModelSerializer):
    class Meta:
        model = WebsiteInfo
        exclude = ["id"]
        read_only_fields = ["customer"]
