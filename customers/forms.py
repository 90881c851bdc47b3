"""Forms of the customer archive: detail sections, the create wizard's steps, list actions."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role

from .lifecycle import allowed_transitions
from .models import (
    AdAccount,
    AttentionItem,
    BusinessProfile,
    Competitor,
    Contact,
    CooperationDetail,
    Customer,
    DictionaryItem,
    FollowUpNote,
    GradeThresholds,
    IssueCategory,
    LifecycleStatus,
    Project,
    QualityIssue,
    Renewal,
    WebsiteInfo,
    parse_onboarded,
    phone_validator,
)
from .services import BatchAction

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _users(*roles: str):
    return User.objects.filter(is_active=True, role__in=roles).order_by("full_name", "username")


class DatesMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = DATE


class CustomerBasicForm(DatesMixin, forms.ModelForm):
    """Edit the workbook columns of a customer (status has its own form: it is a machine)."""

    website = forms.URLField(label="官网", required=False, assume_scheme="https")

    class Meta:
        model = Customer
        fields = [
            "company_id", "name", "account_type", "industry", "erp", "onboarded_raw",
            "sales_owner", "sales_owner_raw", "ops_owners", "cooperation_note", "billing_enabled",
            "disabled", "remarks", "settlement_method", "consumption_level", "monthly_avg_shots",
            "payment_terms_days", "website", "address", "business_scope", "regions",
        ]  # fmt: skip
        widgets = {
            "remarks": forms.Textarea(attrs={"rows": 2}),
            "business_scope": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, can_assign_owners: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sales_owner"].queryset = _users(Role.SALES)
        self.fields["ops_owners"].queryset = _users(Role.OPS, Role.ADMIN)
        self.fields["ops_owners"].widget.attrs["size"] = 4
        for name, kind in (
            ("account_type", DictionaryItem.Kind.ACCOUNT_TYPE),
            ("industry", DictionaryItem.Kind.INDUSTRY),
            ("erp", DictionaryItem.Kind.ERP),
            ("regions", DictionaryItem.Kind.REGION),
        ):
            self.fields[name].queryset = DictionaryItem.objects.filter(kind=kind, is_active=True)
        if not can_assign_owners:
            for name in ("sales_owner", "sales_owner_raw", "ops_owners"):
                self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        raw = data.get("onboarded_raw", "")
        year, half = parse_onboarded(raw)
        if raw and year is None:
            self.add_error("onboarded_raw", "接入时间格式应如 25上半年、26年下半年")
        data["onboarded_year"], data["onboarded_half"] = year, half
        return data


SELECT_SM = forms.Select(attrs={"class": "form-select form-select-sm"})


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(label="变更为", choices=(), widget=SELECT_SM)
    reason = forms.CharField(
        label="原因", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=500
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [
            (s, LifecycleStatus(s).label) for s in allowed_transitions(customer.lifecycle_status)
        ]


class GradeForm(forms.Form):
    level = forms.ChoiceField(
        label="客户等级",
        choices=[("", "未定级"), *Customer.Level.choices],
        required=False,
        widget=SELECT_SM,
    )


class TagForm(forms.Form):
    name = forms.CharField(label="标签", max_length=30)


class CooperationForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = CooperationDetail
        fields = ["mode", "contract_start", "service_start", "special_conditions"]
        widgets = {"special_conditions": forms.Textarea(attrs={"rows": 2})}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "is_primary"]


class CompetitorForm(forms.ModelForm):
    url = forms.URLField(label="网址", required=False, assume_scheme="https")

    class Meta:
        model = Competitor
        fields = ["company", "url", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class AttentionItemForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = AttentionItem
        fields = ["category", "priority", "text", "remind_on"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


class QualityIssueForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = QualityIssue
        fields = [
            "occurred_on", "category", "description", "impact", "root_cause", "immediate_fix",
            "corrective_action", "preventive_action", "owner", "due_on", "completed_on", "status",
            "lessons_learned",
        ]  # fmt: skip
        widgets = {
            f: forms.Textarea(attrs={"rows": 2})
            for f in (
                "description",
                "impact",
                "root_cause",
                "immediate_fix",
                "corrective_action",
                "preventive_action",
                "lessons_learned",
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users(Role.OPS, Role.SALES, Role.ADMIN, Role.MANAGER)
        # The category comes from the admin's list; an entry keeps its old category even
        # after the admin retires it. With no list set up yet the field stays free text.
        names = list(IssueCategory.objects.filter(is_active=True).values_list("name", flat=True))
        if names:
            current = self.instance.category if self.instance.pk else ""
            if current and current not in names:
                names.append(current)
            self.fields["category"] = forms.ChoiceField(
                label="类别", choices=[("", "—"), *[(n, n) for n in names]]
            )


class RenewalForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = Renewal
        fields = [
            "kind",
            "amount",
            "period_months",
            "renewed_on",
            "expires_on",
            "status",
            "owner",
            "remind_days_before",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users(Role.OPS, Role.SALES, Role.ADMIN)


class FollowUpNoteForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = FollowUpNote
        fields = ["body", "next_follow_up_on"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class ProjectForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "kind", "status", "start_on", "end_on", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _users(Role.OPS, Role.SALES, Role.ADMIN, Role.MANAGER)


class AdAccountForm(forms.ModelForm):
    class Meta:
        model = AdAccount
        fields = ["platform", "account_id", "status", "monthly_spend", "notes"]


class BusinessProfileForm(forms.ModelForm):
    class Meta:
        model = BusinessProfile
        fields = [
            "business_model", "overseas_sales", "overseas_sales_ratio", "overseas_sales_target",
            "main_sales_channel", "has_tech_team", "has_operations_team", "has_brand_team",
            "cooperation_transfer",
        ]  # fmt: skip


class WebsiteInfoForm(DatesMixin, forms.ModelForm):
    site_url = forms.URLField(label="独立站网址", required=False, assume_scheme="https")

    class Meta:
        model = WebsiteInfo
        fields = [
            "site_url", "platform", "build_status", "launched_on", "target_markets",
            "main_products", "pricing_strategy", "monthly_traffic_target", "last_year_sales",
            "annual_sales_target",
        ]  # fmt: skip
        widgets = {"main_products": forms.Textarea(attrs={"rows": 2})}


PROFILE_FORMS: dict[str, type[forms.ModelForm]] = {
    "business": BusinessProfileForm,
    "website": WebsiteInfoForm,
}


SECTION_FORMS: dict[str, type[forms.ModelForm]] = {
    "contacts": ContactForm,
    "competitors": CompetitorForm,
    "attention": AttentionItemForm,
    "issues": QualityIssueForm,
    "renewals": RenewalForm,
    "followups": FollowUpNoteForm,
    "projects": ProjectForm,
    "adaccounts": AdAccountForm,
}


class GradeThresholdsForm(forms.ModelForm):
    class Meta:
        model = GradeThresholds
        fields = ["s_min", "a_min", "b_min", "c_min"]


class BatchForm(forms.Form):
    action = forms.ChoiceField(label="批量操作", choices=BatchAction.choices)
    apply_to = forms.ChoiceField(
        label="范围",
        choices=[("selected", "所选客户"), ("all", "全部筛选结果")],
        initial="selected",
    )
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    status = forms.ChoiceField(
        label="状态", choices=[("", "—"), *LifecycleStatus.choices], required=False
    )
    level = forms.ChoiceField(
        label="等级", choices=[("", "—"), *Customer.Level.choices], required=False
    )
    owner = forms.TypedChoiceField(label="负责人", coerce=int, required=False, empty_value=None)
    tag = forms.CharField(label="标签", max_length=30, required=False)
    reason = forms.CharField(label="原因", max_length=500, required=False)
    query = forms.CharField(required=False)

    def __init__(self, *args, with_owners: bool = True, **kwargs):
        """`with_owners=False`: no owner choices (the list page of a user who may not
        assign owners draws no owner dropdown), so no query for them."""
        super().__init__(*args, **kwargs)
        # A plain list: the list page renders this dropdown on every search.
        self.fields["owner"].choices = [("", "—")] + [
            (pk, f"{name or username}（{Role(role).label}）")
            for pk, name, username, role in (
                _users(Role.SALES, Role.OPS, Role.ADMIN).values_list(
                    "pk", "full_name", "username", "role"
                )
                if with_owners
                else ()
            )
        ]
        for name in ("status", "level", "owner"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        # ids are validated against the user's scope by the service, not here.
        self.fields["ids"].choices = [
            (v, v) for v in (self.data.getlist("ids") if hasattr(self.data, "getlist") else [])
        ]

    def value_for_action(self):
        action = self.cleaned_data["action"]
        if action == BatchAction.STATUS:
            return self.cleaned_data["status"]
        if action == BatchAction.GRADE:
            return self.cleaned_data["level"]
        if action in (BatchAction.SALES_OWNER, BatchAction.OPS_OWNER):
            return self.cleaned_data["owner"]
        return self.cleaned_data["tag"]


class SavedFilterForm(forms.Form):
    name = forms.CharField(label="筛选名称", max_length=50)
    query = forms.CharField(required=False)


# --- Create wizard: five steps -----------------------------------------------------


class WizardCooperationForm(DatesMixin, forms.Form):
    """Step 1: cooperation."""

    lifecycle_status = forms.ChoiceField(
        label="生命周期状态",
        choices=[
            (s, LifecycleStatus(s).label)
            for s in (
                LifecycleStatus.POTENTIAL,
                LifecycleStatus.NEGOTIATING,
                LifecycleStatus.CONTRACTED,
                LifecycleStatus.ACTIVE,
            )
        ],
    )
    cooperation_note = forms.CharField(label="合作状态", max_length=200, required=False)
    settlement_method = forms.ChoiceField(
        label="结算方式", choices=[("", "—"), *Customer.SettlementMethod.choices], required=False
    )
    billing_enabled = forms.ChoiceField(
        label="是否结算", choices=[("", "—"), *Customer.BillingEnabled.choices], required=False
    )
    mode = forms.CharField(label="合作方式", max_length=100, required=False)
    contract_start = forms.DateField(label="合作开始时间", required=False)
    service_start = forms.DateField(label="服务开始时间", required=False)
    special_conditions = forms.CharField(
        label="特殊条件", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def clean(self):
        data = super().clean()
        start, service = data.get("contract_start"), data.get("service_start")
        if start and start > timezone.localdate():
            self.add_error("contract_start", "合作开始时间不能晚于今天")
        if start and service and service < start:
            self.add_error("service_start", "服务开始时间不能早于合作开始时间")
        return data


class WizardBasicForm(forms.Form):
    """Step 2: basic info and the primary contact."""

    company_id = forms.IntegerField(label="公司id", min_value=1)
    name = forms.CharField(label="公司名称", max_length=200)
    account_type = forms.ModelChoiceField(
        label="账号类型", queryset=DictionaryItem.objects.none(), required=False
    )
    industry = forms.ModelChoiceField(
        label="行业类型", queryset=DictionaryItem.objects.none(), required=False
    )
    erp = forms.ModelChoiceField(
        label="所属ERP", queryset=DictionaryItem.objects.none(), required=False
    )
    onboarded_raw = forms.CharField(
        label="接入时间", max_length=30, required=False, help_text="如 25上半年"
    )
    level = forms.ChoiceField(
        label="客户等级", choices=[("", "未定级"), *Customer.Level.choices], required=False
    )
    sales_owner = forms.ModelChoiceField(
        label="销售负责人", queryset=User.objects.none(), required=False
    )
    ops_owners = forms.ModelMultipleChoiceField(
        label="运营负责人", queryset=User.objects.none(), required=False
    )
    contact_name = forms.CharField(label="联系人姓名", max_length=50, required=False)
    contact_position = forms.CharField(label="职位", max_length=50, required=False)
    contact_phone = forms.CharField(
        label="电话", max_length=30, required=False, validators=[phone_validator]
    )
    contact_email = forms.EmailField(label="邮箱", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in (
            ("account_type", DictionaryItem.Kind.ACCOUNT_TYPE),
            ("industry", DictionaryItem.Kind.INDUSTRY),
            ("erp", DictionaryItem.Kind.ERP),
        ):
            self.fields[name].queryset = DictionaryItem.objects.filter(kind=kind, is_active=True)
        self.fields["sales_owner"].queryset = _users(Role.SALES)
        self.fields["ops_owners"].queryset = _users(Role.OPS, Role.ADMIN)
        # 企业情况 (specification 5.1, step 2): the business profile's fields.
        self.fields.update(forms.fields_for_model(BusinessProfile, fields=WIZARD_BUSINESS_FIELDS))
        self.fields["regions"] = forms.ModelMultipleChoiceField(
            label="地区",
            queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.REGION, is_active=True),
            required=False,
        )

    def clean_company_id(self):
        value = self.cleaned_data["company_id"]
        if Customer.objects.filter(company_id=value).exists():
            raise forms.ValidationError("公司id 已存在，请检查是否重复录入")
        return value

    def clean(self):
        data = super().clean()
        if data.get("onboarded_raw") and parse_onboarded(data["onboarded_raw"])[0] is None:
            self.add_error("onboarded_raw", "接入时间格式应如 25上半年、26年下半年")
        has_contact = any(
            data.get(f) for f in ("contact_position", "contact_phone", "contact_email")
        )
        if has_contact and not data.get("contact_name"):
            self.add_error("contact_name", "请填写联系人姓名")
        reachable = [f for f in ("contact_phone", "contact_email") if f in self.fields]
        if data.get("contact_name") and reachable and not any(data.get(f) for f in reachable):
            self.add_error(reachable[0], "电话和邮箱至少填写一项")
        return data


WIZARD_BUSINESS_FIELDS = [
    "business_model",
    "overseas_sales",
    "overseas_sales_ratio",
    "has_tech_team",
    "has_operations_team",
    "has_brand_team",
]
WIZARD_SITE_FIELDS = [
    "site_url",
    "platform",
    "build_status",
    "monthly_traffic_target",
    "annual_sales_target",
]


class WizardBusinessForm(DatesMixin, forms.Form):
    """Step 3: business and independent-site information (specification 5.1, 第三步)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site_url"] = forms.URLField(
            label="独立站网址", required=False, assume_scheme="https"
        )
        self.fields.update(forms.fields_for_model(WebsiteInfo, fields=WIZARD_SITE_FIELDS[1:]))

    website = forms.URLField(label="官网", required=False, assume_scheme="https")
    address = forms.CharField(label="地址", max_length=200, required=False)
    business_scope = forms.CharField(
        label="业务介绍", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    consumption_level = forms.ChoiceField(
        label="客户消费等级",
        choices=[("", "—"), *Customer.ConsumptionLevel.choices],
        required=False,
    )
    monthly_avg_shots = forms.IntegerField(label="月均拍摄量", min_value=0, required=False)
    remarks = forms.CharField(
        label="备注", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class WizardCompetitorForm(forms.Form):
    company = forms.CharField(label="竞品公司", max_length=100, required=False)
    url = forms.URLField(label="网址", required=False, assume_scheme="https")
    notes = forms.CharField(label="备注", required=False)

    def clean(self):
        data = super().clean()
        if (data.get("url") or data.get("notes")) and not data.get("company"):
            self.add_error("company", "请填写竞品公司")
        return data


class WizardAttentionForm(DatesMixin, forms.Form):
    category = forms.ChoiceField(
        label="类别", choices=[("", "—"), *AttentionItem.Category.choices], required=False
    )
    priority = forms.ChoiceField(
        label="优先级", choices=AttentionItem._meta.get_field("priority").choices, initial="medium"
    )
    text = forms.CharField(label="内容", required=False)
    remind_on = forms.DateField(label="提醒日期", required=False)

    def clean(self):
        data = super().clean()
        if data.get("text") and not data.get("category"):
            self.add_error("category", "请选择类别")
        if data.get("category") and not data.get("text"):
            self.add_error("text", "请填写内容")
        return data


CompetitorFormSet = forms.formset_factory(WizardCompetitorForm, extra=3, max_num=10)
AttentionFormSet = forms.formset_factory(WizardAttentionForm, extra=3, max_num=10)

WIZARD_STEPS = [
    (1, "合作信息", WizardCooperationForm),
    (2, "基本信息与联系人", WizardBasicForm),
    (3, "业务/独立站信息", WizardBusinessForm),
    (4, "竞品", CompetitorFormSet),
    (5, "特别关注", AttentionFormSet),
]
