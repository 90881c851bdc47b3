from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.tables import RequestConfig
from billing.collections.forms import PeriodForm
from billing.collections.pipeline import pipeline_by_month, pipeline_items

from . import selectors
from .exports import period_finance_xlsx, receivables_xlsx
from .filters import ReceivableFilter
from .forms import MonthForm, ReportFilterForm
from .services import receivables_export_job_start
from .tables import ReceivableTable

PER_PAGE = 50

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today():
    return timezone.localdate()


def report_view(view):
    """Logged in and holding a role; every figure is then scoped by the selectors."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.can_view_reports(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _chart_data(figures: dict) -> dict:
    """Trend series for ECharts; amounts stay decimal strings (ECharts reads them as numbers)."""
    return {
        "months": [r["period"].strftime("%Y-%m") for r in figures["revenue_trend"]],
        "billed": [str(r["billed"]) for r in figures["revenue_trend"]],
        "received": [str(r["received"]) for r in figures["revenue_trend"]],
        "shots": [r["shot_count"] for r in figures["shots_trend"]],
        "grades": [[r["value"], r["customer_count"]] for r in figures["by_grade"]],
        "consumption": [[r["value"], r["customer_count"]] for r in figures["by_consumption"]],
    }


def _cockpit_context(request, today) -> dict:
    refresh = request.GET.get("refresh") == "1"
    figures = selectors.cockpit_cached(request.user, today=today, refresh=refresh)
    period = PeriodForm(request.GET)
    date_from, date_to = period.period()
    return {
        "figures": figures,
        "chart": _chart_data(figures),
        # the company's 24-hour follow-up target, over a chosen period (default: 30 days)
        "measure": selectors.measure_summary_cached(
            request.user, date_from=date_from, date_to=date_to, refresh=refresh
        ),
        "pipeline_months": pipeline_by_month(pipeline_items(request.user, today=today)),
    }


@login_required
def home(request):
    """Managers and admins land on the cockpit; sales on their overdue bills; ops on settlement."""
    user, today = request.user, _today()
    context: dict = {"today": today}
    if roles.has_role(user, roles.Role.ADMIN, roles.Role.MANAGER):
        context.update(kind="cockpit", **_cockpit_context(request, today))
    elif roles.has_role(user, roles.Role.SALES):
        context.update(
            kind="sales",
            overdue_bills=selectors.overdue_bills(user, today=today, limit=20),
            totals=selectors.receivable_totals(user, filters=selectors.NO_FILTERS, today=today),
            churn=selectors.churn_warnings(user, today=today),
        )
    elif roles.has_role(user, roles.Role.OPS):
        period = selectors.settlement_month(today)
        context.update(kind="ops", status=selectors.settlement_status(user, period=period))
        context["missing_page"] = Paginator(context["status"]["missing"], 20).get_page(1)
    else:
        context.update(kind="none")
    context["summary"] = selectors.home_summary(user)
    return render(request, "reports/home.html", context)


@report_view
def index(request):
    return render(request, "reports/index.html")


@report_view
def cockpit(request):
    return render(request, "reports/cockpit.html", _cockpit_context(request, _today()))


@report_view
def scorecard(request):
    """The brief's KPI table, live: each figure per month against the pre-go-live baseline."""
    if not roles.can_view_scorecard(request.user):
        raise PermissionDenied
    form = MonthForm(request.GET or None)
    detail_month = form.cleaned_data.get("month") if form.is_valid() else None
    figures = selectors.scorecard_cached(
        request.user,
        today=_today(),
        detail_month=detail_month,
        refresh=request.GET.get("refresh") == "1",
    )
    # Every warned customer is listed (the back-test's drill-down), a page at a time.
    churn_page = Paginator(figures["churn_detail"], PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "sc": figures, "churn_page": churn_page}
    return render(request, "reports/scorecard.html", context)


class CountedPaginator(Paginator):
    """A paginator told its count (already summed elsewhere) instead of counting the rows."""

    def __init__(self, object_list, per_page, *args, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count = count


@report_view
def receivables(request):
    today = _today()
    receivable_filter = ReceivableFilter(request.GET or None, user=request.user, today=today)
    filters = receivable_filter.report_filters()
    by_month = selectors.receivables_by_month(request.user, filters=filters, today=today)
    totals = selectors.receivable_totals_of(by_month)
    table = ReceivableTable(receivable_filter.qs)
    # The rows are the bills the totals count: the pager takes that count, no second pass.
    paginate = {"per_page": PER_PAGE, "paginator_class": CountedPaginator}
    RequestConfig(request, paginate={**paginate, "count": totals["bill_count"]}).configure(table)
    context = {
        "form": receivable_filter.form,
        "table": table,
        "totals": totals,
        "by_month": by_month,
        "by_group": (
            selectors.receivables_by_group(request.user, filters=filters, today=today)
            if receivable_filter.summary_grouping() == "group"
            else None
        ),
        "buckets": selectors.AGEING_BUCKETS,
        "query": _query_without_page(request),
        "today": today,
    }
    template = "reports/receivables.html#table" if request.htmx else "reports/receivables.html"
    return render(request, template, context)


# Up to this many bills the workbook is built in the request; more go to a background job.
EXPORT_INLINE_LIMIT = 5000


@report_view
def receivables_export(request):
    today = _today()
    receivable_filter = ReceivableFilter(request.GET or None, user=request.user, today=today)
    if receivable_filter.is_bound and not receivable_filter.is_valid():
        # Never export more than was asked for: back to the page, which shows the errors.
        return redirect(f"{reverse('reports:receivables')}?{_query_without_page(request)}")
    filters = receivable_filter.report_filters()
    totals = selectors.receivable_totals(request.user, filters=filters, today=today)
    if totals["bill_count"] > EXPORT_INLINE_LIMIT:
        next_url = f"{reverse('reports:receivables')}?{_query_without_page(request)}"
        job = receivables_export_job_start(
            user=request.user, filters=filters, today=today, next_url=next_url
        )
        return redirect("accounts:job-detail", pk=job.pk)
    content = receivables_xlsx(
        rows=receivable_filter.qs.iterator(chunk_size=2000),
        totals=totals,
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''receivables-{today:%Y%m%d}.xlsx"
    )
    return response


@report_view
def payments(request):
    form = ReportFilterForm(request.GET or None, user=request.user, with_series=False)
    filters = form.report_filters()
    by_customer = selectors.PaymentCustomerRows(request.user, filters, per_page=50)
    by_month = selectors.payments_by_month(request.user, filters=filters)
    page = Paginator(by_customer, 50).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "by_month": by_month,
        "totals": selectors.payment_totals_of(by_month),
        "query": _query_without_page(request),
    }
    return render(request, "reports/payments.html", context)


@report_view
def settlement(request):
    form = MonthForm(request.GET or None)
    today = _today()
    period = (form.is_valid() and form.cleaned_data.get("month")) or selectors.settlement_month(
        today
    )
    status = selectors.settlement_status(request.user, period=period)
    context = {
        "form": form,
        "status": status,
        "missing_page": Paginator(status["missing"], 50).get_page(request.GET.get("page")),
        "query": _query_without_page(request),
    }
    return render(request, "reports/settlement.html", context)


def _page(rows, *, count: int, number, per_page: int = 50):
    """A page whose row count is already known from an aggregate: no second COUNT(*)."""
    paginator = Paginator(rows, per_page)
    paginator.count = count
    return paginator.get_page(number)


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@report_view
def period_finance_export(request):
    """The month's payment summary and settlement status as one workbook (月结财务导出)."""
    if not roles.can_export(request.user):
        raise PermissionDenied
    form = MonthForm({"month": request.GET.get("period", "")})
    month = (form.cleaned_data.get("month") if form.is_valid() else None) or (
        selectors.settlement_month(_today())
    )
    filters = selectors.ReportFilters(month_from=month, month_to=month)
    payments = selectors.with_customer_names(
        selectors.payments_by_customer(request.user, filters=filters)
    )
    settlement = selectors.settlement_status(request.user, period=month)
    content = period_finance_xlsx(
        month_text=f"{month:%Y-%m}", payments=payments, settlement=settlement
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''finance-{month:%Y-%m}.xlsx"
    return response
