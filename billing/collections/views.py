"""Pages of the collections desk (催收工作台): the desk, one customer's follow-ups, the measure."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.roles import can_follow_up_collections
from accounts.tables import RequestConfig
from billing.collections import burndown, pipeline, selectors, services
from billing.collections.filters import DeskFilter
from billing.collections.forms import ContactForm, PeriodForm, StatementSendForm
from billing.collections.tables import DeskTable
from customers.selectors import scoped_customers

PER_PAGE = 50


def _owners(user):
    return User.objects.filter(
        pk__in=scoped_customers(user).exclude(sales_owner=None).values("sales_owner")
    ).order_by("full_name")


@login_required
def desk(request):
    today = timezone.localdate()
    desk_filter = DeskFilter(
        request.GET,
        queryset=selectors.desk_customers(request.user, today=today),
        owners=_owners(request.user),
    )
    customers = desk_filter.qs if desk_filter.is_valid() else desk_filter.queryset.none()
    rows = selectors.desk_rows(customers, today=today)
    can_follow_up = can_follow_up_collections(request.user)
    table = DeskTable(rows, can_follow_up=can_follow_up)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    period = PeriodForm(request.GET)
    date_from, date_to = period.period()
    context = {
        "filter": desk_filter,
        "table": table,
        "measure": selectors.measure_24h(request.user, date_from=date_from, date_to=date_to),
        "period": period,
    }
    template = (
        "billing/collections_desk.html#table" if request.htmx else "billing/collections_desk.html"
    )
    return render(request, template, context)


@login_required
def measure(request):
    period = PeriodForm(request.GET)
    date_from, date_to = period.period()
    result = selectors.measure_24h(request.user, date_from=date_from, date_to=date_to)
    return render(
        request, "billing/collections_measure.html", {"measure": result, "period": period}
    )


def _customer(request, pk):
    return get_object_or_404(scoped_customers(request.user).select_related("sales_owner"), pk=pk)


@login_required
def customer_follow_up(request, pk):
    customer = _customer(request, pk)
    can_follow_up = can_follow_up_collections(request.user)
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        if not can_follow_up:
            raise PermissionDenied("只有销售、运营和管理员可以登记催收跟进")
        if form.is_valid():
            try:
                services.contact_log(user=request.user, customer=customer, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"已记录对 {customer.name} 的跟进")
                return redirect("billing:collections-customer", pk=customer.pk)
    context = {
        "customer": customer,
        "form": form,
        "statement_form": StatementSendForm(),
        "can_follow_up": can_follow_up,
        "credit": selectors.credit_score_for(customer, today=timezone.localdate()),
        **selectors.customer_collection_history(customer),
    }
    return render(request, "billing/collections_customer.html", context)


@login_required
@require_POST
def statement_send(request, pk):
    customer = _customer(request, pk)
    if not can_follow_up_collections(request.user):
        raise PermissionDenied("只有销售、运营和管理员可以发送对账单")
    form = StatementSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("billing:collections-customer", pk=customer.pk)
    try:
        to = services.statement_send(user=request.user, customer=customer, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"对账单已发送至 {to}，并记为一次跟进")
    return redirect("billing:collections-customer", pk=customer.pk)


@login_required
def packages(request):
    today = timezone.localdate()
    rows = burndown.package_burn_downs(request.user, today=today)
    return render(
        request,
        "billing/collections_packages.html",
        {"rows": rows, "today": today, "definition": burndown.DEFINITION},
    )


@login_required
def package_detail(request, pk):
    today = timezone.localdate()
    plan = get_object_or_404(burndown.annual_plans_in_force(request.user, today=today), pk=pk)
    burn = burndown.plan_burn_down(plan, today=today)
    context = {
        "plan": plan,
        "burn": burn,
        "chart": burndown.burn_down_chart(burn),
        "definition": burndown.DEFINITION,
    }
    return render(request, "billing/collections_package.html", context)


@login_required
def renewal_pipeline(request):
    today = timezone.localdate()
    items = pipeline.pipeline_items(request.user, today=today)
    context = {
        "items": items,
        "by_month": pipeline.pipeline_by_month(items),
        "stages": pipeline.Stage.choices,
        "can_move": can_follow_up_collections(request.user),
        "window": pipeline.WINDOW_DAYS,
    }
    return render(request, "billing/collections_pipeline.html", context)


def _stage_move(request, kind: str, pk: int):
    try:
        pipeline.renewal_stage_move(
            user=request.user, kind=kind, pk=pk, stage=request.POST.get("stage", "")
        )
    except ValidationError as exc:
        if "不在你的客户范围内" in " ".join(exc.messages):
            raise Http404("续约项目不存在或不在你的客户范围内") from exc
        if not can_follow_up_collections(request.user):
            raise PermissionDenied(exc.messages[0]) from exc
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已更新续约阶段")
    return redirect("billing:collections-pipeline")


@login_required
@require_POST
def plan_stage_move(request, pk):
    return _stage_move(request, "plan", pk)


@login_required
@require_POST
def renewal_stage_move(request, pk):
    return _stage_move(request, "renewal", pk)
