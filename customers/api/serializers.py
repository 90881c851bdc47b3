"""Input and output serializers of the customer API."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from customers.models import Contact, Customer

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


class ContactOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "position", "phone", "email", "is_primary"]
        read_only_fields = fields


class ContactInputSerializer(serializers.ModelSerializer):
    """Types and lengths; the "phone or email" and one-primary rules are section_item_save's."""

    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "is_primary"]
