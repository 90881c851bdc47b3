"""Reads for reports: every figure on a report page comes from here, scoped to the user."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from axes.models import AccessLog
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, Scope, effective_scope
from accounts.selectors import jobs_visible_to
from billing import money_totals
from billing.bills.selectors import (
    OPEN_STATUSES,
    assessed_after_due_q,
    corrected_q,
    ever_issued_q,
    overdue_q,
    paid_by_due_plus,
)
from billing.data_version import data_version
from billing.models import (
    Bill,
    BillLine,
    BillTotal,
    CustomerBilledTotal,
    CustomerPaymentTotal,
    Payment,
    PaymentAllocation,
    PaymentTotal,
    UsageDayTotal,
    UsageRecord,
)
from customers.models import Customer, LifecycleStatus
from customers.selectors import customer_scope_q, owner_scope_q, scoped_customers
from opcms.months import month_end, month_parse, month_shift, month_start

from . import scorecard as sc
from .scorecard import CHURN_MIN_MONTHLY_AVG, CHURN_NO_USAGE_DAYS, BillMonth

ZERO = Decimal("0.00")
# Overdue has one definition, billing.bills.selectors.overdue_q (open, past due, balance left).
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
DATE = DateField()

# 应收 counts live bills (kind=bill, not reversed) that have been issued: a draft
# can still be regenerated and is owed by nobody yet, so it shows only in the
# settlement status. Reversed bills and their credit notes net to zero and are
# left out of every receivable figure.
BILLED_STATUSES = (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID, Bill.Status.PAID)

# Ageing buckets by days past due: (key, label, first day, last day or None).
AGEING_BUCKETS = (
    ("age_0_30", "0–30天", 0, 30),
    ("age_31_60", "31–60天", 31, 60),
    ("age_61_90", "61–90天", 61, 90),
    ("age_90_plus", "90天以上", 91, None),
)

CHURN_LIST_LIMIT = 20
TOP_CUSTOMERS_LIMIT = 10
TREND_MONTHS = 12


@dataclass(frozen=True)
class ReportFilters:
    """What a report is narrowed to. Months are first days of months, both ends inclusive."""

    sales_owner_id: int | None = None
    level: str = ""
    series: str = ""  # DeviceSeries.code: bills with at least one line of that series
    month_from: date | None = None
    month_to: date | None = None


NO_FILTERS = ReportFilters()

# Report aggregates sum up to a million rows at 100,000 customers: each is cached per scope,
# filters and money data version (billing/data_version.py), so it is recomputed after any
# write that could change it and read from the cache otherwise. The version moves when a
# writer writes, not when it commits: with two writers overlapping, the one committing last
# may leave a figure cached under the version the other moved to. A minute bounds that
# staleness, and repeated reads within it (paging, filtering back and forth) stay cached.
REPORT_CACHE_SECONDS = 60


def cached_figures(name: str, user: Any, parts: tuple, compute: Any) -> Any:
    """compute() cached under the data version; computed afresh when it cannot be cached."""
    version = data_version()
    if version is None:
        return compute()
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()
    key = f"reports:{name}:{version}:{_scope_key(user)}:{digest}"
    figures = cache.get(key)
    if figures is None:
        figures = compute()
        cache.set(key, figures, REPORT_CACHE_SECONDS)
    return figures


def report_customers(
    user: Any, filters: ReportFilters = NO_FILTERS, *, include_deleted: bool = False
) -> QuerySet[Customer]:
    """The user's customers narrowed by the customer-level filters (sales owner, grade).

    Money figures pass include_deleted=True (see money_customers)."""
    customers = scoped_customers(user, include_deleted=include_deleted)
    if filters.sales_owner_id:
        customers = customers.filter(sales_owner_id=filters.sales_owner_id)
    if filters.level:
        customers = customers.filter(level=filters.level)
    return customers


def money_customers(user: Any, filters: ReportFilters = NO_FILTERS) -> QuerySet[Customer]:
    """The customers whose bills and payments a money figure sums: the user's scope with the
    soft-deleted ones kept. Money never disappears: a customer may be deleted once nothing is
    owed or unallocated, but its paid history still counts in receivables, the cockpit and
    cash received, so totals do not change when a customer is deleted."""
    return report_customers(user, filters, include_deleted=True)


def in_scope(
    rows: QuerySet, user: Any, filters: ReportFilters = NO_FILTERS, *, include_deleted: bool = True
) -> QuerySet:
    """Rows of a table with a `customer` (bills, payments, usage) whose customer is one of
    report_customers(user, filters, include_deleted=...): the same scope rule
    (customers.selectors.customer_scope_q), with no join with the customers when the user
    sees them all. Money reads keep deleted customers (the default, see money_customers)."""
    condition = customer_scope_q(user, include_deleted=include_deleted)
    if condition is not None:
        rows = rows.filter(condition)
    if filters.sales_owner_id:
        rows = rows.filter(customer__sales_owner_id=filters.sales_owner_id)
    if filters.level:
        rows = rows.filter(customer__level=filters.level)
    return rows


def billed_bills(user: Any, filters: ReportFilters = NO_FILTERS) -> QuerySet[Bill]:
    """Live, issued bills (应收) of the user's customers (deleted ones too), filtered."""
    bills = in_scope(Bill.objects.all(), user, filters).filter(
        kind=Bill.Kind.BILL,
        status__in=BILLED_STATUSES,
    )
    if filters.month_from:
        bills = bills.filter(period__gte=filters.month_from)
    if filters.month_to:
        bills = bills.filter(period__lte=filters.month_to)
    if filters.series:
        bills = bills.filter(
            Exists(BillLine.objects.filter(bill=OuterRef("pk"), series__code=filters.series))
        )
    return bills


# --- receivables -------------------------------------------------------------

BALANCE = ExpressionWrapper(F("total") - F("amount_paid"), output_field=MONEY_FIELD)


def _bucket_q(today: date, first_day: int, last_day: int | None) -> Q:
    """Overdue bills whose days past due (today − due_date) fall in [first_day, last_day]."""
    condition = overdue_q(today) & Q(due_date__lte=today - timedelta(days=first_day))
    if last_day is not None:
        condition &= Q(due_date__gte=today - timedelta(days=last_day))
    return condition


def _money_sum(expression: Any, condition: Q | None = None) -> Sum:
    return Sum(expression, filter=condition, default=ZERO, output_field=MONEY_FIELD)


def _receivable_row_annotations(today: date) -> dict[str, Any]:
    def amount_if(condition: Q) -> Case:
        return Case(When(condition, then=BALANCE), default=Value(ZERO), output_field=MONEY_FIELD)

    annotations: dict[str, Any] = {
        "billed": F("total"),
        "received": F("amount_paid"),
        "outstanding": BALANCE,
        "overdue": amount_if(overdue_q(today)),
    }
    for key, _label, first_day, last_day in AGEING_BUCKETS:
        annotations[key] = amount_if(_bucket_q(today, first_day, last_day))
    return annotations


def receivable_rows(user: Any, *, filters: ReportFilters, today: date) -> QuerySet[Bill]:
    """One row per customer and month (a live bill is unique per customer and month).

    Each row carries billed (应收), received (实收: the bill's active allocations,
    kept in amount_paid by the reconciliation services), outstanding, overdue and
    the overdue balance split into ageing buckets by days past the due date.
    """
    return (
        billed_bills(user, filters)
        .select_related("customer", "customer__sales_owner")
        .annotate(**_receivable_row_annotations(today))
        .order_by("customer__company_id", "period")
    )


def age_bucket(*, status: str, due_date: date | None, today: date) -> str:
    """The ageing bucket of an open bill's balance by days past due; 'current' if not overdue.

    Same rule as overdue_q: open status and due_date < today (a zero balance adds
    nothing to a bucket's amount and is left out of the overdue count).
    """
    if status not in OPEN_STATUSES or due_date is None or due_date >= today:
        return "current"
    days = (today - due_date).days
    for key, _label, first_day, last_day in AGEING_BUCKETS:
        if days >= first_day and (last_day is None or days <= last_day):
            return key
    return "current"


def _receivable_figures(groups: list[dict], key: str | None, today: date) -> list[dict]:
    """Fold (key, status, due date) sums into one row of figures per key.

    The database sums billed and received per status and due date, a few
    thousand groups at most; the bucket of each group follows from its due date
    here. Outstanding is billed − received; a bucket holds its groups' balances.
    This keeps the pass over the bills to plain sums (no per-row CASE).
    """
    rows: dict[Any, dict] = {}
    for group in groups:
        row = rows.setdefault(
            group[key] if key else None,
            {**({key: group[key]} if key else {}), **_empty_figures()},
        )
        balance = group["billed"] - group["received"]
        row["billed"] += group["billed"]
        row["received"] += group["received"]
        row["outstanding"] += balance
        row["bill_count"] += group["bill_count"]
        bucket = age_bucket(status=group["status"], due_date=group["due_date"], today=today)
        if bucket != "current":
            row[bucket] += balance
            row["overdue"] += balance
            row["overdue_count"] += group["open_count"]
    return list(rows.values())


def _receivable_groups(user: Any, filters: ReportFilters, *by: str) -> list[dict]:
    """The bills summed per `by`, status and due date: from the money totals kept on write
    (billing/money_totals.py), a few thousand rows instead of a million bills, unless a
    device series is asked for (only the bills' lines tell which bills have one)."""
    if filters.series:
        return list(receivable_groups_query(user, filters, *by))
    keys = {TOTALS_KEYS[key]: key for key in by}
    rows = (
        _owner_scoped(BillTotal.objects.all(), user, filters)
        .values(*keys, "status", "due_date")
        .annotate(
            bill_count=Sum("bills"),
            open_count=Sum("open_bills"),
            billed=_money_sum("total"),
            received=_money_sum("amount_paid"),
        )
        .order_by()
    )
    if filters.month_from:
        rows = rows.filter(period__gte=filters.month_from)
    if filters.month_to:
        rows = rows.filter(period__lte=filters.month_to)
    return [{keys.get(name, name): value for name, value in row.items()} for row in rows]


# The customer-level keys of the bills' groups as the money totals name them.
TOTALS_KEYS = {"period": "period", "customer__group__name": "group__name"}


def _owner_scoped(rows: QuerySet, user: Any, filters: ReportFilters) -> QuerySet:
    """Money totals (kept per customer owner and grade) of the user's scope, filtered: the rule
    of in_scope through customers.selectors.owner_scope_q (deleted customers' money counts)."""
    condition = owner_scope_q(user)
    if condition is not None:
        rows = rows.filter(condition)
    if filters.sales_owner_id:
        rows = rows.filter(sales_owner_id=filters.sales_owner_id)
    if filters.level:
        rows = rows.filter(level=filters.level)
    return rows


def receivable_groups_query(user: Any, filters: ReportFilters, *by: str) -> QuerySet:
    """The bills summed per `by`, status and due date (see _receivable_figures)."""
    return (
        billed_bills(user, filters)
        .values(*by, "status", "due_date")
        .annotate(
            # Counted on total (never null), not on the id: the id is not in the covering
            # index (billing_bill_receivables_idx), and counting it sent every read of a
            # salesperson's bills to the table instead of the index.
            bill_count=Count("total"),
            open_count=Count("total", filter=Q(total__gt=F("amount_paid"))),
            billed=_money_sum("total"),
            received=_money_sum("amount_paid"),
        )
        .order_by()
    )


def receivables_by_month(user: Any, *, filters: ReportFilters, today: date) -> list[dict]:
    """The receivables figures summed per bill month (oldest first), cached under the data
    version."""
    return cached_figures(
        "receivables-month",
        user,
        (filters, today),
        lambda: _receivables_by_month(user, filters=filters, today=today),
    )


def _receivables_by_month(user: Any, *, filters: ReportFilters, today: date) -> list[dict]:
    """The receivables figures summed per bill month (oldest first): one grouped query."""
    rows = _receivable_figures(_receivable_groups(user, filters, "period"), "period", today)
    return sorted(rows, key=lambda r: r["period"])


NO_GROUP = "（未归属集团）"


def receivables_by_group(user: Any, *, filters: ReportFilters, today: date) -> list[dict]:
    """The receivables figures per head-office group (集团), over the user's scope only: a
    salesperson's group totals hold only the members they own. Customers in no group
    are summed in one row at the end."""
    key = "customer__group__name"

    def compute() -> list[dict]:
        rows = _receivable_figures(_receivable_groups(user, filters, key), key, today)
        for row in rows:
            row["group"] = row.pop(key) or NO_GROUP
        return sorted(rows, key=lambda r: (r["group"] == NO_GROUP, r["group"]))

    return cached_figures("receivables-group", user, (filters, today), compute)


FIGURE_KEYS = (
    "billed",
    "received",
    "outstanding",
    "overdue",
    "overdue_count",
    "bill_count",
    *[bucket[0] for bucket in AGEING_BUCKETS],
)


def _empty_figures() -> dict[str, Any]:
    return {key: (0 if key.endswith("count") else ZERO) for key in FIGURE_KEYS}


def receivable_totals_of(months: list[dict]) -> dict[str, Any]:
    """The totals row summed from the per-month rows (saves a second pass over the bills)."""
    totals = _empty_figures()
    for month in months:
        for key in FIGURE_KEYS:
            totals[key] += month[key]
    return totals


def receivable_totals(user: Any, *, filters: ReportFilters, today: date) -> dict[str, Any]:
    """The totals row of the receivables report: one grouped query."""
    return receivable_totals_of(receivables_by_month(user, filters=filters, today=today))


# --- payments ------------------------------------------------------------------


def _payments(user: Any, filters: ReportFilters) -> QuerySet[Payment]:
    payments = in_scope(Payment.objects.all(), user, filters)
    if filters.month_from:
        payments = payments.filter(received_on__gte=filters.month_from)
    if filters.month_to:
        payments = payments.filter(received_on__lte=month_end(filters.month_to))
    return payments


PAYMENT_AGGREGATES = {
    # Counted on amount (never null): the id is not in billing_payment_customer_idx.
    "payment_count": Count("amount"),
    "received": Sum("amount", default=ZERO),
    "allocated_amount": Sum("allocated", default=ZERO),
    # Received less allocated per group: two sums PostgreSQL already has (a third sum of
    # amount − allocated cost another numeric addition per payment).
    "unallocated": ExpressionWrapper(
        Sum("amount", default=ZERO) - Sum("allocated", default=ZERO), output_field=MONEY_FIELD
    ),
}


def payments_by_customer(user: Any, *, filters: ReportFilters) -> QuerySet:
    """Money received per customer: count, amount, allocated (核销) and left as credit.

    Over all months, read from each customer's payment total kept on write
    (billing.models.CustomerPaymentTotal, one row per paying customer); over some months,
    grouped by customer id from the payments. `with_customer_names` adds names to the rows.
    """
    if not (filters.month_from or filters.month_to):
        return (
            in_scope(CustomerPaymentTotal.objects.all(), user, filters)
            .values(
                "customer_id",
                payment_count=F("payments"),
                received=F("amount"),
                allocated_amount=F("allocated"),
                unallocated=ExpressionWrapper(
                    F("amount") - F("allocated"), output_field=MONEY_FIELD
                ),
            )
            .order_by("-received", "customer_id")
        )
    return (
        _payments(user, filters)
        .values("customer_id")
        .annotate(**PAYMENT_AGGREGATES)
        .order_by("-received", "customer_id")
    )


def with_customer_names(rows: Any) -> list[dict]:
    """Add customer__company_id and customer__name to grouped rows (one query)."""
    rows = list(rows)
    names = _customer_names([row["customer_id"] for row in rows])
    for row in rows:
        (
            row["customer__company_id"],
            row["customer__name"],
            row["customer__is_deleted"],
        ) = names[row["customer_id"]]
    return rows


class PaymentCustomerRows:
    """The per-customer payment rows as a Paginator sees them: the number of customers and
    each page's rows (names added), cached under the data version. Over all months they are
    the customers' payment totals kept on write; over some months one grouped pass gives a
    page and the number of customers together (COUNT(*) OVER ()), so the first page costs
    one pass over the payments, and none until something is written."""

    def __init__(self, user: Any, filters: ReportFilters, *, per_page: int) -> None:
        self.user, self.filters, self.per_page = user, filters, per_page

    def _window(self, start: int, stop: int) -> tuple[list[dict], int]:
        def compute() -> tuple[list[dict], int]:
            if not (self.filters.month_from or self.filters.month_to):
                # From the customers' payment totals: a page read by the ranking index and
                # a count of rows, both cheaper than one pass numbering every customer.
                rows = payments_by_customer(self.user, filters=self.filters)
                return with_customer_names(rows[start:stop]), rows.count()
            rows = list(
                payments_by_customer(self.user, filters=self.filters).annotate(
                    customer_total=Window(Count("*"))
                )[start:stop]
            )
            if rows:
                count = rows[0]["customer_total"]
            else:
                count = payments_by_customer(self.user, filters=self.filters).count()
            for row in rows:
                del row["customer_total"]
            return with_customer_names(rows), count

        return cached_figures("payments-page", self.user, (self.filters, start, stop), compute)

    def __len__(self) -> int:
        return self._window(0, self.per_page)[1]

    def __getitem__(self, window: slice) -> list[dict]:
        return self._window(window.start, window.stop)[0]


def payments_by_month(user: Any, *, filters: ReportFilters) -> list[dict]:
    """Money received per month of receipt: one grouped query, cached under the data version."""
    return cached_figures(
        "payments-month", user, (filters,), lambda: _payments_by_month(user, filters)
    )


def _payments_by_month(user: Any, filters: ReportFilters) -> list[dict]:
    """Summed from the payment totals kept on write per customer owner, grade and month of
    receipt (billing.models.PaymentTotal): a few thousand rows instead of every payment."""
    rows = _owner_scoped(PaymentTotal.objects.all(), user, filters)
    if filters.month_from:
        rows = rows.filter(month__gte=filters.month_from)
    if filters.month_to:
        rows = rows.filter(month__lte=filters.month_to)
    months = (
        rows.values("month")
        .annotate(
            payment_count=Sum("payments"),
            received=_money_sum("amount"),
            allocated_amount=_money_sum("allocated"),
            unallocated=ExpressionWrapper(
                _money_sum("amount") - _money_sum("allocated"), output_field=MONEY_FIELD
            ),
        )
        .order_by("month")
    )
    return list(months)


def payment_totals(user: Any, *, filters: ReportFilters) -> dict[str, Any]:
    return _payments(user, filters).aggregate(**PAYMENT_AGGREGATES)


def payment_totals_of(months: list[dict]) -> dict[str, Any]:
    """The totals row summed from the per-month rows (saves a pass over the payments)."""
    keys = ("payment_count", "received", "allocated_amount", "unallocated")
    return {
        key: sum((m[key] for m in months), 0 if key == "payment_count" else ZERO) for key in keys
    }


# --- settlement status ---------------------------------------------------------


def settlement_status(user: Any, *, period: date, filters: ReportFilters = NO_FILTERS) -> dict:
    """Bills of one month by kind and status (count, amount, paid), and who has no bill yet.

    "No bill" means billing enabled, not disabled, and no live bill (draft included)
    for the month: the clerk still has to generate one. The bills count deleted customers'
    too (money stays); the missing list does not (nobody bills a deleted customer).
    """
    customers = report_customers(user, filters)
    by_status = list(
        in_scope(Bill.objects.filter(period=period), user, filters)
        .values("kind", "status")
        .annotate(
            bill_count=Count("pk"),
            amount=Sum("total", default=ZERO),
            paid=Sum("amount_paid", default=ZERO),
        )
        .order_by("kind", "status")
    )
    labels = dict(Bill.Status.choices)
    for row in by_status:
        row["label"] = (
            "冲正单" if row["kind"] == Bill.Kind.CREDIT_NOTE else labels.get(row["status"], "")
        )
    missing = (
        customers.filter(billing_enabled=Customer.BillingEnabled.YES)
        .exclude(disabled=True)
        .exclude(
            Exists(
                Bill.objects.filter(
                    customer=OuterRef("pk"), period=period, kind=Bill.Kind.BILL
                ).exclude(status=Bill.Status.REVERSED)
            )
        )
        .select_related("sales_owner")
        .order_by("company_id")
    )
    return {"period": period, "by_status": by_status, "missing": missing}


# --- cockpit -------------------------------------------------------------------


def _monthly_series(rows: dict[date, dict], first: date, months: int, keys: tuple) -> list[dict]:
    """Fill a month-keyed result so every month of the window has a row (zeros if none)."""
    series = []
    for offset in range(months):
        period = month_shift(first, offset)
        row = rows.get(period, {})
        series.append({"period": period, **{k: row.get(k) or 0 for k in keys}})
    return series


def settlement_month(today: date) -> date:
    """The month being settled: bills for a month are generated and issued after it ends."""
    return month_shift(month_start(today), -1)


def shots_trend(user: Any, *, today: date, months: int = TREND_MONTHS) -> list[dict]:
    """Shoots and floors shot per month, the last `months` full months, of the user's
    customers (deleted ones left out): from the usage summed per owner and day kept on write
    (billing/money_totals.py), a few thousand rows instead of a year of records."""
    last = settlement_month(today)
    first = month_shift(last, -(months - 1))
    # Grouped by day in the database and folded into months here.
    days = (
        _owner_scoped(UsageDayTotal.objects.filter(deleted=False), user, NO_FILTERS)
        .filter(day__gte=first, day__lte=month_end(last))
        .values("day")
        .annotate(shot_count=Sum("shots"), floor_count=Sum("floor_shots"))
        .order_by()
    )
    rows: dict[date, dict] = {}
    for day in days:
        row = rows.setdefault(month_start(day["day"]), {"shot_count": 0, "floor_count": 0})
        row["shot_count"] += day["shot_count"]
        row["floor_count"] += day["floor_count"]
    return _monthly_series(rows, first, months, ("shot_count", "floor_count"))


def cash_received(user: Any, *, since: date, until: date) -> Decimal:
    """Money that arrived between two dates (payments by received_on), allocated or not."""
    return (
        in_scope(Payment.objects.all(), user)
        .filter(received_on__gte=since, received_on__lte=until)
        .aggregate(amount=Sum("amount", default=ZERO))["amount"]
    )


def customers_by(user: Any, field: str) -> list[dict]:
    """Customer counts per value of `field` (grade or consumption level); blank = 未评级."""
    rows = scoped_customers(user).values(field).annotate(customer_count=Count("pk"))
    return sorted(
        ({"value": r[field] or "未评级", "customer_count": r["customer_count"]} for r in rows),
        key=lambda r: (r["value"] == "未评级", r["value"]),
    )


def top_window(today: date) -> tuple[date, date]:
    """The months of the cockpit's trends and top customers: the twelve up to the settlement
    month."""
    last = settlement_month(today)
    return month_shift(last, -(TREND_MONTHS - 1)), last


def top_customers(user: Any, *, today: date, limit: int = TOP_CUSTOMERS_LIMIT) -> list[dict]:
    """The customers billed most over the trend window (live, issued bills).

    Read from the customers' billed totals kept on write (billing/money_totals.py) while
    their window is this one (a ranked index: the first rows in scope), otherwise grouped
    from the bills by customer id alone, names fetched afterwards for the few shown.
    """
    first, last = top_window(today)
    if money_totals.billed_window() == (first, last):
        top = (
            in_scope(CustomerBilledTotal.objects.all(), user)
            .order_by("-revenue", "customer_id")
            .values("customer_id", "revenue", "received")[:limit]
        )
    else:
        top = (
            billed_bills(user, ReportFilters(month_from=first, month_to=last))
            .values("customer_id")
            .annotate(revenue=_money_sum("total"), received=_money_sum("amount_paid"))
            .order_by("-revenue", "customer_id")[:limit]
        )
    return with_customer_names(top)


def top_window_keep(today: date) -> bool:
    """Move the customers' billed totals to today's window when the month has turned (the beat
    job keeping the cockpit warm calls this); True when they moved."""
    window = top_window(today)
    return money_totals.billed_window() != window and money_totals.billed_window_set(*window)


def _customer_names(pks: list[int]) -> dict[int, tuple[int, str, bool]]:
    return {
        pk: (company_id, name, is_deleted)
        for pk, company_id, name, is_deleted in Customer.objects.filter(pk__in=pks).values_list(
            "pk", "company_id", "name", "is_deleted"
        )
    }


def churn_warnings(user: Any, *, today: date, limit: int = CHURN_LIST_LIMIT) -> dict[str, Any]:
    """The churn warnings of the user's customers (see _churn_warnings), cached under the data
    version: a year of usage is summed per customer to find them."""
    return cached_figures(
        "churn", user, (today, limit), lambda: _churn_warnings(user, today=today, limit=limit)
    )


_CHURN_CANDIDATES_SQL = """
SELECT g.* FROM ({grouped}) AS g
 WHERE NOT EXISTS (
   SELECT 1 FROM customers_customer c
    WHERE c.id = g.customer_id
      AND (c.is_deleted OR c.disabled OR c.lifecycle_status = %s)
 )
"""


def _churn_warnings(user: Any, *, today: date, limit: int) -> dict[str, Any]:
    """Customers whose usage fell away, in one grouped pass over the last year's usage.

    Two signals: the last full month's shots fell by more than half against the
    customer's own average of the three months before it (last < avg / 2, i.e.
    6 × last < sum of the three months), or no usage at all in the last 60 days
    by a customer who did shoot within the last year (older silence is the
    lifecycle's 'dormant'). Disabled and churned customers are left out: they
    are known already. Both signals need a minimum volume (CHURN_MIN_MONTHLY_AVG):
    a fall from three months averaging at least 10 shots, silence after at least
    30 shots in the year.
    """
    min_shots = CHURN_MIN_MONTHLY_AVG * 3
    last_month = month_shift(month_start(today), -1)
    base_from = month_shift(last_month, -3)
    quiet_since = today - timedelta(days=CHURN_NO_USAGE_DAYS)
    window_from = min(base_from, today - timedelta(days=365))
    grouped = (
        in_scope(UsageRecord.objects.all(), user, include_deleted=True)
        .filter(shot_date__gte=window_from)
        .values("customer_id")
        .annotate(
            last_shots=Coalesce(
                Sum("shots", filter=Q(shot_date__gte=last_month, shot_date__lt=month_start(today))),
                0,
            ),
            base_shots=Coalesce(
                Sum("shots", filter=Q(shot_date__gte=base_from, shot_date__lt=last_month)), 0
            ),
            last_used_on=Max("shot_date"),
            year_shots=Sum("shots"),
        )
        .filter(
            Q(base_shots__gt=F("last_shots") * 6, base_shots__gte=min_shots)
            | Q(last_used_on__lt=quiet_since, year_shots__gte=min_shots)
        )
        .values_list("customer_id", "last_shots", "base_shots", "last_used_on", "year_shots")
    )
    # Deleted, disabled and churned customers are left out after the grouping: an anti-join
    # of the few candidates, not of a year of usage records. One pass: the candidates come
    # back as small tuples, are ranked here, and only the shown ones fetch their names.
    sql, params = grouped.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            _CHURN_CANDIDATES_SQL.format(grouped=sql), (*params, LifecycleStatus.CHURNED)
        )
        candidates = sorted(cursor.fetchall(), key=lambda c: (-c[2], c[0]))
    shown = candidates[:limit]
    names = _customer_names([c[0] for c in shown])
    rows = []
    for customer_id, last_shots, base_shots, last_used_on, year_shots in shown:
        company_id, name, _is_deleted = names[customer_id]
        rows.append(
            {
                "customer_id": customer_id,
                "customer__company_id": company_id,
                "customer__name": name,
                "last_shots": last_shots,
                "base_shots": base_shots,
                "last_used_on": last_used_on,
                "base_avg": (Decimal(base_shots) / 3).quantize(Decimal("0.1")),
                "fell": base_shots > last_shots * 6 and base_shots >= min_shots,
                "quiet": last_used_on < quiet_since and year_shots >= min_shots,
                "quiet_days": (today - last_used_on).days,
            }
        )
    return {"rows": rows, "count": len(candidates), "last_month": last_month}


def cockpit(user: Any, *, today: date) -> dict[str, Any]:
    """Every figure of the management cockpit; a fixed number of queries whatever the size.

    "This month" on the cockpit is the settlement month (last month: its bills are
    issued now) for billed vs received, and the calendar month for cash received.
    Billed, received and overdue come from one pass over the bills (the receivables
    per month); the trend is its last twelve months.
    """
    first, last = top_window(today)
    # The cockpit keeps its own cache (cockpit_cached): its parts are computed afresh here.
    months = _receivables_by_month(user, filters=NO_FILTERS, today=today)
    totals = receivable_totals_of(months)
    trend = _monthly_series(
        {m["period"]: m for m in months if m["period"] >= first},
        first,
        TREND_MONTHS,
        ("billed", "received"),
    )
    return {
        "today": today,
        "month": last,
        "billed": trend[-1]["billed"],
        "received": trend[-1]["received"],
        "cash_received": cash_received(user, since=month_start(today), until=today),
        "overdue": totals["overdue"],
        "overdue_count": totals["overdue_count"],
        "revenue_trend": trend,
        "shots_trend": shots_trend(user, today=today),
        "by_grade": customers_by(user, "level"),
        "by_consumption": customers_by(user, "consumption_level"),
        "top_customers": top_customers(user, today=today),
        "churn": _churn_warnings(user, today=today, limit=CHURN_LIST_LIMIT),
    }


# The cockpit aggregates a year of bills and usage: seconds at 100,000 customers.
# It is computed once per scope and day and kept for a few minutes; the beat job
# reports.cockpit_warm recomputes the all-customers figures every 5 minutes, so
# managers never wait, and the page says when the figures were computed.
COCKPIT_CACHE_SECONDS = 10 * 60


def _scope_key(user: Any) -> str:
    scope = effective_scope(user)
    if scope in (Scope.ALL, Scope.NONE):
        return str(scope)
    return f"{scope}:{user.pk}"


def cockpit_cached(user: Any, *, today: date, refresh: bool = False) -> dict[str, Any]:
    """The cockpit figures for the user's scope, from the cache unless stale or refreshed."""
    key = f"reports:cockpit:{_scope_key(user)}:{today.isoformat()}"
    figures = None if refresh else cache.get(key)
    if figures is None:
        figures = {**cockpit(user, today=today), "computed_at": timezone.now()}
        cache.set(key, figures, COCKPIT_CACHE_SECONDS)
    return figures


def measure_summary_cached(
    user: Any, *, date_from: date, date_to: date, refresh: bool = False
) -> Any:
    """The cockpit's 24-hour measure summary (no cases), cached like the cockpit figures: it
    sums every bill due in the period (seconds at 100,000 customers), and the cached cockpit
    page recomputed it on every request. ?refresh=1 recomputes it with the figures."""
    from billing.collections.selectors import measure_24h

    key = f"reports:measure:{_scope_key(user)}:{date_from.isoformat()}:{date_to.isoformat()}"
    measure = None if refresh else cache.get(key)
    if measure is None:
        measure = measure_24h(user, date_from=date_from, date_to=date_to, with_cases=False)
        cache.set(key, measure, COCKPIT_CACHE_SECONDS)
    return measure


# --- role home pages -----------------------------------------------------------


def overdue_bills(user: Any, *, today: date, limit: int = 50) -> list[Bill]:
    """The user's overdue bills, longest overdue first (a sales user's first screen), cached
    under the data version."""
    return cached_figures(
        "overdue-bills",
        user,
        (today, limit),
        lambda: _overdue_bills(user, today=today, limit=limit),
    )


def _overdue_bills(user: Any, *, today: date, limit: int) -> list[Bill]:
    bills = list(
        in_scope(Bill.objects.filter(kind=Bill.Kind.BILL), user)
        .filter(overdue_q(today))
        .select_related("customer")
        .annotate(balance_due=BALANCE)
        .order_by("due_date", "customer__company_id")[:limit]
    )
    for bill in bills:
        bill.days_overdue = (today - bill.due_date).days
    return bills


def home_summary(user: Any) -> dict[str, Any]:
    customers = scoped_customers(user)
    return {
        "customer_count": customers.count(),
        "recent_jobs": list(jobs_visible_to(user)[:5]),
    }


# --- the KPI scorecard (issue 15) -----------------------------------------------------
# The figures are computed by reports.scorecard (pure); here the data is gathered, scoped.

# Monthly figures: kept half an hour; reports.cockpit_warm recomputes the all-customers
# scorecard once its copy is older than SCORECARD_WARM_AFTER, so managers never wait for the
# ~20 s it takes at 100,000 customers x 12 months.
SCORECARD_CACHE_SECONDS = 30 * 60
SCORECARD_WARM_AFTER = timedelta(minutes=20)


def scorecard_go_live(*, configured: str | None = None) -> tuple[date | None, bool]:
    """The go-live month and whether it was configured (settings.OPCMS_GO_LIVE); else the
    month of the first bill ever issued, or None before any."""
    text = settings.OPCMS_GO_LIVE if configured is None else configured
    if text:
        try:
            return month_parse(text), True
        except ValueError:
            pass  # a bad setting falls back to the default; the page shows which is used
    first = (
        Bill.objects.filter(ever_issued_q())
        .order_by("period")
        .values_list("period", flat=True)
        .first()
    )
    return first, False


def _paid_within_q(days: int, *, today: date) -> Q:
    """An allocation (active) counted as paid within `days` after its bill's due date, on a
    bill judged at that day: the allocation-side twin of paid_by_due_plus."""
    deadline = ExpressionWrapper(F("bill__due_date") + timedelta(days=days), output_field=DATE)
    return Q(
        bill__due_date__lt=today - timedelta(days=days),
        payment__received_on__lte=deadline,
    )


def scorecard_bill_months(user: Any, *, months: list[date], today: date) -> dict[date, Any]:
    """Per bill month: the counts and amounts of reports.scorecard.BillMonth, two queries.

    Bills late at their due date are counted with billing.bills.selectors.paid_by_due_plus,
    the expression the bill list's drill-down filters use. The amounts paid within 30 and
    90 days are summed from the allocations in one grouped join (a per-bill subquery each
    cost seconds at 100,000 customers); allocations never exceed a bill's total, so the
    amount unpaid at 90 days is the billed amount less what was paid by then.
    """
    if not months:
        return {}
    assessed_0 = assessed_after_due_q(0, today=today)
    bills = Bill.objects.filter(
        customer__in=scoped_customers(user), period__gte=months[0], period__lte=months[-1]
    ).filter(ever_issued_q())
    rows = (
        bills.annotate(paid_0=paid_by_due_plus(0))
        .values("period")
        .annotate(
            assessed_count=Count("pk", filter=assessed_0),
            late_count=Count("pk", filter=assessed_0 & Q(total__gt=F("paid_0"))),
            assessed_30_amount=Sum(
                "total", filter=assessed_after_due_q(30, today=today), default=ZERO
            ),
            assessed_90_amount=Sum(
                "total", filter=assessed_after_due_q(90, today=today), default=ZERO
            ),
            issued_count=Count("pk"),
            corrected_count=Count("pk", filter=corrected_q()),
        )
        .order_by("period")
    )
    paid = {
        row["bill__period"]: row
        for row in PaymentAllocation.objects.filter(
            bill__in=bills.filter(status__in=BILLED_STATUSES), undone_at__isnull=True
        )
        .values("bill__period")
        .annotate(
            paid_30=Sum("amount", filter=_paid_within_q(30, today=today), default=ZERO),
            paid_90=Sum("amount", filter=_paid_within_q(90, today=today), default=ZERO),
        )
        .order_by()
    }
    result = {}
    for row in rows:
        sums = paid.get(row["period"], {"paid_30": ZERO, "paid_90": ZERO})
        result[row["period"]] = BillMonth(
            **row,
            collected_30_amount=sums["paid_30"],
            unpaid_90_amount=row["assessed_90_amount"] - sums["paid_90"],
        )
    return result


def scorecard_usage_histories(user: Any, *, first: date, last: date) -> dict[int, dict]:
    """Shots per customer and month between two months (inclusive), for the back-test."""
    rows = (
        UsageRecord.objects.filter(
            customer__in=scoped_customers(user),
            shot_date__gte=first,
            shot_date__lte=month_end(last),
        )
        .annotate(month=TruncMonth("shot_date"))
        .values_list("customer_id", "month")
        .annotate(shot_count=Sum("shots"))
        .order_by()
    )
    histories: dict[int, dict] = {}
    for customer_id, month, shot_count in rows:
        histories.setdefault(customer_id, {})[month] = shot_count
    return histories


def scorecard_activity(*, role: str, first: date, until: date) -> tuple[dict, dict]:
    """The active users of a role: (user id → days with a login or an audit entry,
    user id → the day they joined), between `first` and `until` (local dates)."""
    users = User.objects.filter(is_active=True, role=role, is_superuser=False)
    joined = {pk: timezone.localdate(at) for pk, at in users.values_list("pk", "date_joined")}
    by_name = dict(users.values_list("username", "pk"))
    active: dict[int, set[date]] = {pk: set() for pk in joined}
    logins = (
        AccessLog.objects.filter(
            username__in=list(by_name), attempt_time__date__gte=first, attempt_time__date__lte=until
        )
        .annotate(day=TruncDate("attempt_time"))
        .values_list("username", "day")
        .distinct()
    )
    for username, day in logins:
        active[by_name[username]].add(day)
    entries = (
        LogEntry.objects.filter(
            actor__in=users, timestamp__date__gte=first, timestamp__date__lte=until
        )
        .annotate(day=TruncDate("timestamp"))
        .values_list("actor_id", "day")
        .distinct()
    )
    for actor_id, day in entries:
        active[actor_id].add(day)
    return active, joined


def _adoption_users(active: dict, month: date, role_label: str) -> list[dict]:
    """Per user: the active days in the month (the drill-down beside the audit log link)."""
    users = User.objects.filter(pk__in=list(active)).order_by("username")
    rows = []
    for user in users:
        days = sorted(d for d in active[user.pk] if month_start(d) == month)
        rows.append({"user": user, "role": role_label, "active_days": len(days), "days": days})
    return rows


def scorecard(user: Any, *, today: date, detail_month: date | None = None) -> dict[str, Any]:
    """Every figure of the scorecard, per month of the window, with baselines and targets."""
    go_live, configured = scorecard_go_live()
    last_full = settlement_month(today)
    if go_live is None:
        return {
            "go_live": None,
            "configured": configured,
            "rows": [],
            "months": [],
            "churn_detail": [],
        }
    months = sc.scorecard_months(go_live=go_live, last_full_month=last_full)
    baseline_months = [m for m in months if m < go_live]
    bill_months = scorecard_bill_months(user, months=months, today=today)
    histories = scorecard_usage_histories(
        user, first=month_shift(months[0] if months else go_live, -12), last=last_full
    )
    backtests = {
        m: sc.churn_backtest(histories, as_of=m, last_full_month=last_full) for m in months
    }
    first_day = months[0] if months else go_live
    ops_active, ops_joined = scorecard_activity(role=Role.OPS, first=first_day, until=today)
    sales_active, sales_joined = scorecard_activity(role=Role.SALES, first=first_day, until=today)
    empty = {m: sc.BillMonth(period=m) for m in months}
    bill_months = {**empty, **bill_months}
    values = {
        "overdue_rate": {m: sc.overdue_rate(bill_months[m]) for m in months},
        "collection_rate": {m: sc.collection_rate(bill_months[m]) for m in months},
        "bad_debt_share": {m: sc.bad_debt_share(bill_months[m]) for m in months},
        "bill_accuracy": {m: sc.bill_accuracy(bill_months[m]) for m in months},
        "churn_precision": {m: backtests[m].precision for m in months},
        # Adoption needs the system: before go-live there was nothing to log in to.
        "ops_daily_active": {
            m: sc.daily_active_rate(ops_active, ops_joined, month=m, today=today).rate
            for m in months
            if m >= go_live
        },
        "sales_weekly_active": {
            m: sc.weekly_active_rate(sales_active, sales_joined, month=m, today=today).rate
            for m in months
            if m >= go_live
        },
    }
    rows = [
        sc.figure_row(f, values[f.key], baseline_months=baseline_months, months=months)
        for f in sc.FIGURES
    ]
    detail = detail_month if detail_month in months else (months[-1] if months else None)
    churn_detail = backtests.get(detail)
    names = _customer_names([w.customer_id for w in churn_detail.warnings]) if churn_detail else {}
    return {
        "go_live": go_live,
        "configured": configured,
        "today": today,
        "months": months,
        "baseline_months": baseline_months,
        "rows": rows,
        "bill_months": bill_months,
        "backtests": backtests,
        "detail_month": detail,
        "churn_detail": [
            {"warning": w, "company_id": names[w.customer_id][0], "name": names[w.customer_id][1]}
            for w in (churn_detail.warnings if churn_detail else ())
        ],
        "churn_detail_known": churn_detail.known if churn_detail else False,
        "adoption_detail": (
            _adoption_users(ops_active, detail, Role.OPS.label)
            + _adoption_users(sales_active, detail, Role.SALES.label)
        )
        if detail
        else [],
    }


def scorecard_cached(
    user: Any, *, today: date, detail_month: date | None = None, refresh: bool = False
) -> dict[str, Any]:
    """The scorecard for the user's scope, kept for a few minutes like the cockpit."""
    key = f"reports:scorecard:{_scope_key(user)}:{today.isoformat()}:{detail_month}"
    figures = None if refresh else cache.get(key)
    if figures is None:
        figures = {
            **scorecard(user, today=today, detail_month=detail_month),
            "computed_at": timezone.now(),
        }
        cache.set(key, figures, SCORECARD_CACHE_SECONDS)
    return figures
