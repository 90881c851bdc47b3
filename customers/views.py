"""Customer archive pages: list, detail with in-place sections, create wizard, batch actions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.tables import RequestConfig

from . import services
from .exports import filter_params
from .fieldpolicy import hidden_model_fields, visible
from .filters import CustomerFilter, sort_keys, sort_order_by
from .forms import (
    PROFILE_FORMS,
    SECTION_FORMS,
    WIZARD_BUSINESS_FIELDS,
    WIZARD_SITE_FIELDS,
    WIZARD_STEPS,
    BatchForm,
    CooperationForm,
    CustomerBasicForm,
    GradeForm,
    GradeThresholdsForm,
    SavedFilterForm,
    StatusChangeForm,
    TagForm,
)
from .models import (
    BusinessProfile,
    Contact,
    Customer,
    CustomerDraft,
    SavedFilter,
    Tag,
    WebsiteInfo,
    parse_onboarded,
)
from .selectors import (
    attention_due,
    customer_duplicates,
    customer_edit_history,
    customer_key_figures,
    customer_list_rows,
    customer_related_present,
    grade_thresholds,
    parse_id,
    recent_searches,
    renewals_due,
    scoped_customers,
)
from .selectors import (
    customer_detail as select_customer,
)
from .tables import DEFAULT_COLUMNS, CustomerTable, PageByIds

SECTIONS = {
    "contacts": ("联系人", "contacts", ["name", "position", "phone", "email", "is_primary"]),
    "competitors": ("竞品", "competitors", ["company", "url", "notes"]),
    "attention": ("特别关注", "attention_items", ["category", "priority", "text", "remind_on"]),
    "issues": (
        "问题与纠正措施",
        "quality_issues",
        [
            "occurred_on",
            "category",
            "description",
            "root_cause",
            "corrective_action",
            "owner",
            "due_on",
            "status",
        ],
    ),
    "renewals": (
        "续约",
        "renewals",
        ["kind", "amount", "period_months", "renewed_on", "expires_on", "status", "owner"],
    ),
    "followups": ("跟进记录", "follow_ups", ["created_at", "author", "body", "next_follow_up_on"]),
    "projects": (
        "项目",
        "projects",
        ["name", "kind", "status", "start_on", "end_on", "owner"],
    ),
    "adaccounts": (
        "广告账户",
        "ad_accounts",
        ["platform", "account_id", "status", "monthly_spend", "notes"],
    ),
}
# slug → the customer's related name of each row section.
SECTION_RELATED = {slug: related for slug, (_, related, _) in SECTIONS.items()}
# Money columns shown as ¥1,234.50 in the sections.
MONEY_FIELDS = {
    "amount",
    "monthly_spend",
    "overseas_sales",
    "overseas_sales_target",
    "last_year_sales",
    "annual_sales_target",
}
PER_PAGE = 25


def _display(item, name: str) -> str:
    value = getattr(item, f"get_{name}_display", None)
    value = value() if value else getattr(item, name)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "strftime"):
        return (
            timezone.localtime(value) if hasattr(value, "tzinfo") and value.tzinfo else value
        ).strftime("%Y-%m-%d %H:%M" if hasattr(value, "hour") else "%Y-%m-%d")
    if name in MONEY_FIELDS:
        return f"¥{value:,.2f}"
    return str(value)


def _section(
    customer: Customer, slug: str, can_edit: bool, *, user, load: bool = True, **extra
) -> dict:
    """One row section; `load=False` when the caller knows it has no rows (no query)."""
    title, related, fields = SECTIONS[slug]
    model = getattr(customer, related).model
    fields = visible(user, model, fields)  # field-level permissions: hidden columns vanish
    # The people a row shows (owner, author) come with it, not one query a row.
    people = [f for f in fields if model._meta.get_field(f).many_to_one]
    items = list(getattr(customer, related).select_related(*people)) if load else []
    today = timezone.localdate()
    headers = [model._meta.get_field(f).verbose_name for f in fields]
    return {
        "customer": customer,
        "slug": slug,
        "title": title,
        "headers": headers,
        "rows": [
            {
                "item": item,
                # (header, text): a phone shows each row as a card labelled by its headers.
                "cells": list(zip(headers, [_display(item, f) for f in fields], strict=True)),
                "warn": slug == "renewals" and item.needs_reminder(today),
            }
            for item in items
        ],
        "can_edit": can_edit,
        "item_link": slug == "issues",
        **extra,
    }


def _section_form(request, slug: str, item=None):
    """The add/edit form of a section row, without the fields hidden from the user."""
    form = SECTION_FORMS[slug](request.POST or None, instance=item)
    for name in hidden_model_fields(request.user, form._meta.model):
        form.fields.pop(name, None)
    return form


def _editable(request, pk: int) -> Customer:
    customer = select_customer(request.user, pk)  # 404 outside scope
    if not roles.can_edit_customer(request.user, customer):
        raise PermissionDenied("您无权修改该客户")
    return customer


# --- List -----------------------------------------------------------------------------


@login_required
def customer_list(request):
    user = request.user
    results_only = bool(request.htmx and request.htmx.target == "results")
    customer_filter = CustomerFilter(
        request.GET or None,
        queryset=scoped_customers(user),
        request=request,
        form_shown=not results_only,
    )
    if "cols_set" in request.GET:
        request.session["customer_columns"] = request.GET.getlist("cols")
    columns = request.session.get("customer_columns", DEFAULT_COLUMNS)
    optional = [
        c for c in CustomerTable.base_columns if c not in ("selection", "company_id", "name")
    ]
    rows = customer_filter.qs
    if not sort_keys(request.GET.get("sort")):
        rows = rows.order_by(*sort_order_by(["name"]))  # the list's default: by name (pinyin)
    table = CustomerTable(
        PageByIds(rows, rows_for_ids=lambda ids: customer_list_rows(user, ids, columns=columns)),
        search_term=request.GET.get("q", ""),
        exclude=[c for c in optional if c not in columns],
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    _remember_search(request, customer_filter)
    context = {
        "filter": customer_filter,
        "table": table,
        "filtered_count": table.page.paginator.count,
        "query": query.urlencode(),
        "batch_form": BatchForm(with_owners=roles.can_assign_owners(user)),
        "can_batch": roles.can_batch_edit_customers(user),
        "can_assign_owners": roles.can_assign_owners(user),
    }
    if results_only:
        # The search box's keystrokes: the results fragment uses only the keys above.
        return render(request, "customers/customer_list.html#results", context)
    context |= {
        "column_choices": [(c, CustomerTable.base_columns[c].verbose_name) for c in optional],
        "columns": columns,
        "saved_filters": SavedFilter.objects.filter(owner=user),
        "can_create": roles.can_create_customer(user),
        "can_import": roles.can_import(user),
        "import_url": reverse(settings.OPCMS_CUSTOMER_IMPORT_URL),
        "can_whatif": roles.can_run_whatif(user),
        "whatif_url": reverse(settings.OPCMS_CUSTOMER_WHATIF_URL),
        "can_export": roles.can_export(user),
        "renewals_due": renewals_due(user, today=timezone.localdate()),
        "attention_due": attention_due(user, today=timezone.localdate()),
        "can_set_thresholds": roles.can_set_grade_thresholds(user),
        "can_configure": roles.can_configure_archive(user) or roles.can_set_grade_thresholds(user),
        "recent_searches": recent_searches(user),
    }
    return render(request, "customers/customer_list.html", context)


def _remember_search(request, customer_filter) -> None:
    """Keep a search or filter the user ran (not paging, sorting or column changes)."""
    params = filter_params(request.GET)
    for key in ("sort", "cols", "cols_set"):
        params.pop(key, None)
    if not any(v.strip() for _, values in params.lists() for v in values):
        return
    if not customer_filter.is_valid():
        return
    labels = []
    for name, field in customer_filter.form.fields.items():
        value = customer_filter.form.cleaned_data.get(name)
        if value in (None, "", [], False) or name == "sort":
            continue
        if isinstance(value, slice):
            labels.append(f"{field.label}：{value.start or ''}~{value.stop or ''}")
            continue
        choices = {str(k): v for k, v in (getattr(field, "choices", None) or [])}
        values = value if isinstance(value, list) else [value]
        shown = "、".join(str(choices.get(str(v), v)) for v in values)
        labels.append(f"“{value}”" if name == "q" else f"{field.label}：{shown}")
    services.recent_search_record(
        user=request.user, query=params.urlencode(), label="；".join(labels)
    )


@login_required
@require_POST
def customer_batch(request):
    form = BatchForm(request.POST)
    back = f"{reverse('customers:customer-list')}?{request.POST.get('query', '')}"
    if not roles.can_batch_edit_customers(request.user) or not form.is_valid():
        messages.error(request, "批量操作参数无效")
        return redirect(back)
    scoped = scoped_customers(request.user)
    if form.cleaned_data["apply_to"] == "all":
        customers = CustomerFilter(QueryDict(form.cleaned_data["query"]), queryset=scoped).qs
        if customers.count() > services.BATCH_SYNC_LIMIT:
            job = services.customers_batch_job_start(
                user=request.user,
                query=form.cleaned_data["query"],
                action=form.cleaned_data["action"],
                value=form.value_for_action(),
                reason=form.cleaned_data["reason"],
            )
            messages.info(request, "客户较多，批量操作已转为后台任务执行")
            return redirect("accounts:job-detail", pk=job.pk)
    else:
        customers = scoped.filter(pk__in=form.cleaned_data["ids"])
    try:
        count = services.customers_batch_apply(
            user=request.user,
            customers=customers,
            action=form.cleaned_data["action"],
            value=form.value_for_action(),
            reason=form.cleaned_data["reason"],
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"批量操作完成：已更新 {count} 个客户")
    return redirect(back)


@login_required
@require_POST
def saved_filter_create(request):
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        saved = services.saved_filter_save(
            user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
        messages.success(request, f"已保存筛选“{saved.name}”")
        return redirect(f"{reverse('customers:customer-list')}?{saved.query}")
    messages.error(request, "请填写筛选名称")
    return redirect("customers:customer-list")


@login_required
@require_POST
def saved_filter_delete(request, pk: int):
    saved = get_object_or_404(SavedFilter.objects.filter(owner=request.user), pk=pk)
    services.saved_filter_delete(user=request.user, saved=saved)
    messages.success(request, f"已删除筛选“{saved.name}”")
    return redirect("customers:customer-list")


# --- Detail and in-place sections -------------------------------------------------------


@login_required
def customer_detail(request, pk: int):
    customer = select_customer(request.user, pk)
    can_edit = roles.can_edit_customer(request.user, customer)
    # One query tells which sections and profiles have rows; only those are read.
    present = customer_related_present(
        customer, [*SECTION_RELATED.values(), *PROFILE_RELATED.values()]
    )
    sections = [
        _section(customer, slug, can_edit, user=request.user, load=related in present)
        for slug, related in SECTION_RELATED.items()
    ]
    rows = {s["slug"]: [row["item"] for row in s["rows"]] for s in sections}
    context = {
        "customer": customer,
        "can_edit": can_edit,
        "can_delete": roles.can_delete_customer(request.user, customer),
        "sections": sections,
        "history": customer.lifecycle_changes.select_related("changed_by")[:20],
        "status_form": StatusChangeForm(customer=customer),
        "grade_form": GradeForm(initial={"level": customer.level}),
        "tag_form": TagForm(),
        "cooperation": getattr(customer, "cooperation", None),
        "profiles": [
            _profile(
                customer,
                section,
                user=request.user,
                can_edit=can_edit,
                load=PROFILE_RELATED[section] in present,
            )
            for section in services.PROFILE_MODELS
        ],
        "key_figures": customer_key_figures(
            customer,
            today=timezone.localdate(),
            issues=rows["issues"],
            renewals=rows["renewals"],
        ),
        "edit_history": customer_edit_history(customer, user=request.user, limit=30),
        "panels": customer_panels(customer),
    }
    return render(request, "customers/customer_detail.html", context)


def customer_panels(customer: Customer) -> list[dict[str, str]]:
    """Sections higher apps add to the customer page, loaded by htmx from their own URLs.

    The project wires them in settings.OPCMS_CUSTOMER_PANELS (dom id, title, URL name
    taking the customer pk), so customers never names another app's route itself.
    """
    return [
        {"id": dom_id, "title": title, "url": reverse(url_name, args=[customer.pk])}
        for dom_id, title, url_name in settings.OPCMS_CUSTOMER_PANELS
    ]


@login_required
def customer_edit(request, pk: int):
    customer = _editable(request, pk)
    can_assign = roles.can_assign_owners(request.user)
    form = CustomerBasicForm(request.POST or None, instance=customer, can_assign_owners=can_assign)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not can_assign:
            for name in ("sales_owner", "sales_owner_raw", "ops_owners"):
                data.pop(name, None)
        try:
            services.customer_update(user=request.user, customer=customer, data=data)
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            if request.htmx:
                return render(
                    request,
                    "customers/customer_detail.html#basic",
                    {"customer": select_customer(request.user, pk), "can_edit": True},
                )
            return redirect("customers:customer-detail", pk=pk)
    template = (
        "customers/customer_detail.html#basic-form"
        if request.htmx
        else "customers/customer_form.html"
    )
    return render(request, template, {"customer": customer, "form": form, "title": "编辑基本信息"})


@login_required
def customer_basic(request, pk: int):
    """The read-only basic-info block (htmx cancel target)."""
    customer = select_customer(request.user, pk)
    if not request.htmx:
        return redirect("customers:customer-detail", pk=pk)
    can_edit = roles.can_edit_customer(request.user, customer)
    return render(
        request,
        "customers/customer_detail.html#basic",
        {"customer": customer, "can_edit": can_edit},
    )


@login_required
def customer_cooperation(request, pk: int):
    customer = select_customer(request.user, pk)
    can_edit = roles.can_edit_customer(request.user, customer)
    detail = getattr(customer, "cooperation", None)
    editing = request.method == "POST" or request.GET.get("edit")
    if editing and not can_edit:
        raise PermissionDenied("您无权修改该客户")
    form = CooperationForm(request.POST or None, instance=detail) if editing else None
    if request.method == "POST" and form.is_valid():
        try:
            detail = services.cooperation_save(
                user=request.user, customer=customer, data=form.cleaned_data
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            form = None
            if not request.htmx:
                return redirect("customers:customer-detail", pk=pk)
    if not request.htmx:
        if form is None:
            return redirect("customers:customer-detail", pk=pk)
        return render(
            request,
            "customers/customer_form.html",
            {"customer": customer, "form": form, "title": "合作详情"},
        )
    context = {"customer": customer, "cooperation": detail, "form": form, "can_edit": can_edit}
    return render(request, "customers/customer_detail.html#cooperation", context)


PROFILE_TITLES = {"business": "商业概况", "website": "独立站情况及目标"}
# section → the customer's related name of that profile.
PROFILE_RELATED = {
    section: model._meta.get_field("customer").remote_field.get_accessor_name()
    for section, model in services.PROFILE_MODELS.items()
}


def _profile(
    customer: Customer, section: str, *, user, can_edit: bool, form=None, load: bool = True
) -> dict:
    """One profile section (business profile / independent site): label-value pairs or its form.

    `load=False` when the caller knows the customer has none (no query).
    """
    model = services.PROFILE_MODELS[section]
    profile = model.objects.filter(customer=customer).first() if load else None
    names = visible(user, model, list(PROFILE_FORMS[section]._meta.fields))
    pairs = [
        (model._meta.get_field(n).verbose_name, _display(profile, n) if profile else "—")
        for n in names
    ]
    return {
        "customer": customer,
        "section": section,
        "title": PROFILE_TITLES[section],
        "profile": profile,
        "pairs": pairs,
        "form": form,
        "can_edit": can_edit,
    }


@login_required
def customer_profile(request, pk: int, section: str):
    """A profile section in place: GET shows it (or its form with ?edit=1), POST saves."""
    if section not in services.PROFILE_MODELS:
        raise Http404("没有这个栏目")
    customer = select_customer(request.user, pk)
    can_edit = roles.can_edit_customer(request.user, customer)
    editing = request.method == "POST" or request.GET.get("edit")
    if editing and not can_edit:
        raise PermissionDenied("您无权修改该客户")
    form = None
    if editing:
        instance = services.PROFILE_MODELS[section].objects.filter(customer=customer).first()
        form = PROFILE_FORMS[section](request.POST or None, instance=instance)
        for name in hidden_model_fields(request.user, form._meta.model):
            form.fields.pop(name, None)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_save(
                user=request.user, customer=customer, section=section, data=form.cleaned_data
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            form = None
    if not request.htmx:
        if form is None:
            return redirect(f"{reverse('customers:customer-detail', args=[pk])}#profile-{section}")
        title = PROFILE_TITLES[section]
        return render(
            request,
            "customers/customer_form.html",
            {"customer": customer, "form": form, "title": title},
        )
    context = _profile(customer, section, user=request.user, can_edit=can_edit, form=form)
    return render(request, "customers/customer_profile.html#profile", context)


@login_required
@require_POST
def customer_status(request, pk: int):
    customer = _editable(request, pk)
    form = StatusChangeForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            services.customer_change_status(
                user=request.user,
                customer=customer,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "生命周期状态已变更")
    else:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    return redirect("customers:customer-detail", pk=pk)


@login_required
@require_POST
def customer_grade(request, pk: int):
    customer = _editable(request, pk)
    form = GradeForm(request.POST)
    if form.is_valid():
        services.customer_set_grade(
            user=request.user, customer=customer, level=form.cleaned_data["level"]
        )
        messages.success(request, "客户等级已更新")
    return redirect("customers:customer-detail", pk=pk)


@login_required
@require_POST
def customer_delete(request, pk: int):
    customer = select_customer(request.user, pk)
    if not roles.can_delete_customer(request.user, customer):
        raise PermissionDenied("只有管理员可以删除客户")
    try:
        services.customer_soft_delete(user=request.user, customer=customer)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("customers:customer-detail", pk=pk)
    messages.success(request, f"已删除客户 {customer}")
    return redirect("customers:customer-list")


@login_required
@require_POST
def customer_tag_add(request, pk: int):
    customer = _editable(request, pk)
    form = TagForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.customer_tag_add(
                user=request.user, customer=customer, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            error = "；".join(exc.messages)
    else:
        error = "请填写标签"
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("customers:customer-detail", pk=pk)
    context = {"customer": customer, "can_edit": True, "tag_form": TagForm(), "tag_error": error}
    return render(request, "customers/customer_detail.html#tags", context)


@login_required
@require_POST
def customer_tag_remove(request, pk: int, tag_pk: int):
    customer = _editable(request, pk)
    tag = get_object_or_404(Tag, pk=tag_pk)
    services.customer_tag_remove(user=request.user, customer=customer, tag=tag)
    if not request.htmx:
        return redirect("customers:customer-detail", pk=pk)
    return render(
        request,
        "customers/customer_detail.html#tags",
        {"customer": customer, "can_edit": True, "tag_form": TagForm()},
    )


def _section_or_404(slug: str):
    from django.http import Http404

    if slug not in SECTIONS:
        raise Http404("没有这个栏目")
    return SECTIONS[slug]


@login_required
def section_list(request, pk: int, section: str):
    _section_or_404(section)
    customer = select_customer(request.user, pk)
    if not request.htmx:
        return redirect(f"{reverse('customers:customer-detail', args=[pk])}#section-{section}")
    can_edit = roles.can_edit_customer(request.user, customer)
    return render(
        request,
        "customers/customer_section.html#section",
        _section(customer, section, can_edit, user=request.user),
    )


@login_required
def section_item_form(request, pk: int, section: str, item_pk: int | None = None):
    """GET: the add/edit form in place; POST: save, then the refreshed section."""
    _, related, _ = _section_or_404(section)
    customer = _editable(request, pk)
    item = get_object_or_404(getattr(customer, related).all(), pk=item_pk) if item_pk else None
    form = _section_form(request, section, item)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_item_save(
                user=request.user,
                customer=customer,
                section=section,
                data=form.cleaned_data,
                item=item,
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            if not request.htmx:
                messages.success(request, "已保存")
                return redirect(
                    f"{reverse('customers:customer-detail', args=[pk])}#section-{section}"
                )
            return render(
                request,
                "customers/customer_section.html#section",
                _section(customer, section, True, user=request.user),
            )
    context = _section(customer, section, True, user=request.user, form=form, item=item)
    if request.htmx:
        return render(request, "customers/customer_section.html#section", context)
    return render(
        request,
        "customers/customer_form.html",
        {"customer": customer, "form": form, "title": SECTIONS[section][0]},
    )


@login_required
@require_POST
def section_item_delete(request, pk: int, section: str, item_pk: int):
    _, related, _ = _section_or_404(section)
    customer = _editable(request, pk)
    item = get_object_or_404(getattr(customer, related).all(), pk=item_pk)
    services.section_item_delete(user=request.user, customer=customer, section=section, item=item)
    if not request.htmx:
        return redirect(f"{reverse('customers:customer-detail', args=[pk])}#section-{section}")
    return render(
        request,
        "customers/customer_section.html#section",
        _section(customer, section, True, user=request.user),
    )


# --- Create wizard ----------------------------------------------------------------------


def _step_form(step: int, data=None, *, user=None):
    _, _, form_class = WIZARD_STEPS[step - 1]
    prefix = {4: "competitors", 5: "attention"}.get(step)
    form = form_class(data, prefix=prefix) if prefix else form_class(data)
    if step == 2 and user is not None and not roles.can_assign_owners(user):
        # Sales create customers they own; owners are assigned by ops.
        del form.fields["sales_owner"], form.fields["ops_owners"]
    if step in (2, 3) and user is not None:
        for model in (BusinessProfile, WebsiteInfo, Contact):
            for name in hidden_model_fields(user, model):
                form.fields.pop(name, None)
                form.fields.pop(f"contact_{name}", None)
    return form


def _draft_querydict(draft: CustomerDraft | None, step: int) -> QueryDict | None:
    if not draft or str(step) not in draft.data:
        return None
    qd = QueryDict(mutable=True)
    for key, values in draft.data[str(step)].items():
        qd.setlist(key, values)
    return qd


def _post_lists(request) -> dict[str, list[str]]:
    return {k: v for k, v in request.POST.lists() if k not in ("csrfmiddlewaretoken", "step", "go")}


@login_required
def customer_create(request):
    """Five-step wizard; each step validates and is stored in the user's draft."""
    if not roles.can_create_customer(request.user):
        raise PermissionDenied("您无权新建客户")
    draft = CustomerDraft.objects.filter(owner=request.user).first()
    if request.GET.get("discard") and draft:
        services.customer_draft_discard(user=request.user)
        return redirect("customers:customer-create")
    step = max(1, min(5, parse_id(request.POST.get("step") or request.GET.get("step")) or 1))
    if request.method == "POST":
        form = _step_form(step, request.POST, user=request.user)
        try:
            draft = services.customer_draft_save(
                user=request.user, step=step, step_data=_post_lists(request)
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return render(
                request, "customers/customer_create.html", _wizard_context(form, step, draft)
            )
        if request.POST.get("go") == "back":
            return redirect(f"{reverse('customers:customer-create')}?step={step - 1}")
        if form.is_valid():
            if step < 5:
                return redirect(f"{reverse('customers:customer-create')}?step={step + 1}")
            return _wizard_finish(request, draft)
    else:
        form = _step_form(step, _draft_querydict(draft, step), user=request.user)
    context = _wizard_context(form, step, draft)
    context["show_restore"] = (
        draft is not None and request.method == "GET" and "step" not in request.GET
    )
    return render(request, "customers/customer_create.html", context)


def _wizard_context(form, step: int, draft) -> dict:
    return {
        "form": form,
        "step": step,
        "steps": [(n, title) for n, title, _ in WIZARD_STEPS],
        "draft": draft,
        "show_restore": False,
        "is_formset": step in (4, 5),
    }


def _wizard_finish(request, draft: CustomerDraft):
    """Validate every step again and create the customer with its first section rows."""
    cleaned = {}
    for n in range(1, 6):
        form = _step_form(n, _draft_querydict(draft, n) or QueryDict(), user=request.user)
        if not form.is_valid():
            messages.error(
                request, f"第 {n} 步（{WIZARD_STEPS[n - 1][1]}）有未通过校验的内容，请检查"
            )
            return redirect(f"{reverse('customers:customer-create')}?step={n}")
        cleaned[n] = form.cleaned_data
    coop, basic, business = cleaned[1], cleaned[2], dict(cleaned[3])
    # Steps 2 and 3 also carry the business profile and the independent site.
    profile = {k: basic[k] for k in WIZARD_BUSINESS_FIELDS if k in basic}
    website = {k: business.pop(k) for k in WIZARD_SITE_FIELDS if k in business}
    year, half = parse_onboarded(basic["onboarded_raw"])
    data = {
        **{
            k: coop[k]
            for k in (
                "lifecycle_status",
                "cooperation_note",
                "settlement_method",
                "billing_enabled",
            )
        },
        **{
            k: basic[k]
            for k in (
                "company_id",
                "name",
                "account_type",
                "industry",
                "erp",
                "onboarded_raw",
                "level",
            )
        },
        **business,
        "onboarded_year": year,
        "onboarded_half": half,
    }
    if roles.can_assign_owners(request.user):
        data.update(sales_owner=basic["sales_owner"], ops_owners=basic["ops_owners"])
    contacts = []
    if basic["contact_name"]:
        contacts.append(
            {
                "name": basic["contact_name"],
                "position": basic["contact_position"],
                "phone": basic.get("contact_phone", ""),
                "email": basic.get("contact_email", ""),
                "is_primary": True,
            }
        )
    try:
        customer = services.customer_create_with_sections(
            user=request.user,
            data=data,
            cooperation={
                k: coop[k]
                for k in ("mode", "contract_start", "service_start", "special_conditions")
            },
            contacts=contacts,
            competitors=[row for row in cleaned[4] if row.get("company")],
            attention=[row for row in cleaned[5] if row.get("text")],
            business=profile,
            website=website,
            regions=list(basic.get("regions") or []),
        )
    except ValidationError as exc:
        messages.error(request, "保存失败：" + "；".join(exc.messages))
        return redirect(f"{reverse('customers:customer-create')}?step=2")
    messages.success(request, f"已新建客户 {customer}")
    return redirect("customers:customer-detail", pk=customer.pk)


@login_required
@require_POST
def customer_draft_save(request):
    """Autosave (every 30 s from the wizard page): store the current step's raw fields."""
    if not roles.can_create_customer(request.user):
        raise PermissionDenied
    step = max(1, min(5, parse_id(request.POST.get("step")) or 1))
    try:
        draft = services.customer_draft_save(
            user=request.user, step=step, step_data=_post_lists(request)
        )
    except ValidationError as exc:
        return HttpResponse(exc.messages[0], status=413)
    return HttpResponse(f"草稿已自动保存于 {timezone.localtime(draft.updated_at):%H:%M:%S}")


@login_required
def customer_duplicates_check(request):
    """Warnings shown while typing the name / company id in the wizard."""
    result = customer_duplicates(
        request.user, name=request.GET.get("name", ""), company_id=request.GET.get("company_id")
    )
    return render(request, "customers/customer_create.html#duplicates", {"dup": result})


@login_required
def grade_thresholds_edit(request):
    if not roles.can_set_grade_thresholds(request.user):
        raise PermissionDenied("只有管理员可以设置等级阈值")
    form = GradeThresholdsForm(request.POST or None, instance=grade_thresholds())
    if request.method == "POST" and form.is_valid():
        try:
            services.grade_thresholds_update(user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "等级阈值已保存")
            return redirect("customers:grade-thresholds")
    return render(request, "customers/grade_thresholds.html", {"form": form})
