"""Pages of price plans: create and edit a version, with a live priced example."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.roles import can_manage_plans
from billing.models import PricePlan
from billing.plans.forms import PlanExampleForm, PlanForm
from billing.plans.selectors import plan_is_locked, plan_terms, scoped_plans
from billing.plans.services import plan_create, plan_new_version, plan_update
from billing.pricing import AnnualContext, UsageSummary, price_month
from customers.models import DeviceSeries
from customers.selectors import scoped_customers


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _plan_example(form: PlanForm, example: PlanExampleForm) -> dict:
    """Price the example month with the plan as typed so far (nothing is saved)."""
    if not form.is_valid() or not example.is_valid():
        return {"error": "填写完整后显示示例"}
    plan = form.save(commit=False)
    single = example.cleaned_data.get("ex_single") or 0
    multi = example.cleaned_data.get("ex_multi") or 0
    floors = example.cleaned_data.get("ex_floors") or 2
    usage = UsageSummary(single_shots=single, multi_shots=multi, multi_floors=multi * floors)
    try:
        ctx = AnnualContext(month_index=1) if plan.kind == "annual" else None
        breakdown = price_month(plan_terms(plan), usage, ctx)
    except ValueError as exc:
        return {"error": str(exc)}
    return {"single": single, "multi": multi, "floors": floors, "breakdown": breakdown}


def _plan_form_page(request, *, customer, plan=None, mode="create"):
    form = PlanForm(
        request.POST or None,
        instance=plan if mode == "edit" else None,
        initial=_initial(plan, mode),
    )
    example_form = PlanExampleForm(
        request.POST or None, initial={"ex_single": 10, "ex_multi": 2, "ex_floors": 3}
    )
    series_code = request.POST.get("series") or (plan.series.code if plan else "L")
    if request.htmx and request.POST.get("_example"):
        return render(
            request,
            "billing/plan_form.html#example",
            {"example": _plan_example(form, example_form)},
        )
    if request.method == "POST" and form.is_valid():
        try:
            if mode == "create":
                series = get_object_or_404(DeviceSeries, code=series_code)
                saved = plan_create(
                    user=request.user, customer=customer, series=series, data=form.plan_data()
                )
            elif mode == "edit":
                saved = plan_update(
                    user=request.user, plan=PricePlan.objects.get(pk=plan.pk), data=form.plan_data()
                )
            else:
                saved = plan_new_version(
                    user=request.user,
                    plan=plan,
                    valid_from=form.cleaned_data["valid_from"] or timezone.localdate(),
                    data=form.plan_data(),
                )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, f"价格方案第 {saved.version} 版已保存")
            return redirect("billing:customer-usage", customer.pk)
    context = {
        "customer": customer,
        "plan": plan,
        "mode": mode,
        "form": form,
        "example_form": example_form,
        "series": DeviceSeries.objects.filter(is_active=True),
        "series_code": series_code,
        "example": _plan_example(form, example_form) if request.method == "POST" or plan else None,
    }
    return render(request, "billing/plan_form.html", context)


def _initial(plan, mode):
    if plan is None:
        return {"kind": PricePlan.Kind.PER_SHOOT}
    if mode == "edit":
        return None
    return {name: getattr(plan, name) for name in PlanForm.Meta.fields} | {"valid_from": None}


@login_required
def plan_create_view(request, pk: int):
    _require(can_manage_plans(request.user))
    customer = get_object_or_404(scoped_customers(request.user), pk=pk)
    return _plan_form_page(request, customer=customer)


@login_required
def plan_edit(request, plan_pk: int):
    _require(can_manage_plans(request.user))
    plan = get_object_or_404(
        scoped_plans(request.user).select_related("customer", "series"), pk=plan_pk
    )
    mode = (
        "version"
        if plan_is_locked(plan) or request.GET.get("version") or request.POST.get("_version")
        else "edit"
    )
    return _plan_form_page(request, customer=plan.customer, plan=plan, mode=mode)
