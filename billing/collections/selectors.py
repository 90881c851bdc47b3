"""Reads of the collections desk: overdue customers by risk, the 24-hour measure, credit scores.

Every read starts from `customers.selectors.scoped_customers(user)`: a salesperson
sees their own overdue customers, a team lead the team's, ops and managers all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Min, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import User
from billing.bills.selectors import overdue_q
from billing.collections import facts
from billing.models import (
    ZERO,
    Bill,
    CollectionContact,
    MeasureCase,
    Payment,
    PaymentAllocation,
    PaymentPromise,
)
from customers.models import Customer
from customers.selectors import scope_filter, scoped_customers

# --- the desk ------------------------------------------------------------------


def desk_customers(user: Any, *, today: date) -> QuerySet[Customer]:
    """The user's customers with something overdue today, annotated with what a desk row shows.

    Risk is the overdue amount × the age of the oldest overdue bill in days;
    rows come highest risk first (ties: larger amount, then company id).
    """
    overdue = Bill.objects.filter(overdue_q(today), customer=OuterRef("pk")).order_by()
    amount = overdue.values("customer").annotate(s=Sum(F("total") - F("amount_paid"))).values("s")
    oldest = overdue.values("customer").annotate(d=Min("due_date")).values("d")
    last_contact = (
        CollectionContact.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(m=Max("at"))
        .values("m")
    )
    promise = PaymentPromise.objects.filter(
        customer=OuterRef("pk"), status=PaymentPromise.Status.OPEN
    ).order_by("promised_date", "pk")
    broken = PaymentPromise.objects.filter(
        customer=OuterRef("pk"), status=PaymentPromise.Status.BROKEN
    ).order_by("-broken_at", "-pk")
    return (
        scoped_customers(user)
        .filter(bills__in=Bill.objects.filter(overdue_q(today)))
        .distinct()
        .annotate(
            overdue_amount=Subquery(amount),
            oldest_due=Subquery(oldest),
            last_contact_at=Subquery(last_contact),
            promise_amount=Subquery(promise.values("amount")[:1]),
            promise_date=Subquery(promise.values("promised_date")[:1]),
            broken_promise_date=Subquery(broken.values("promised_date")[:1]),
        )
        .select_related("sales_owner")
    )


@dataclass
class DeskRow:
    customer: Customer
    overdue_amount: Decimal
    oldest_days: int
    last_contact_at: datetime | None
    promise_amount: Decimal | None
    promise_date: date | None
    broken_promise_date: date | None
    credit: CreditScore

    @property
    def risk(self) -> Decimal:
        return self.overdue_amount * self.oldest_days


def desk_rows(customers: QuerySet[Customer], *, today: date) -> list[DeskRow]:
    """Desk rows of annotated customers (`desk_customers`), highest risk first."""
    customers = list(customers)
    scores = credit_scores([c.pk for c in customers], today=today)
    rows = [
        DeskRow(
            customer=c,
            overdue_amount=c.overdue_amount or ZERO,
            oldest_days=(today - c.oldest_due).days if c.oldest_due else 0,
            last_contact_at=c.last_contact_at,
            promise_amount=c.promise_amount,
            promise_date=c.promise_date,
            broken_promise_date=c.broken_promise_date,
            credit=scores[c.pk],
        )
        for c in customers
    ]
    rows.sort(key=lambda r: (-r.risk, -r.overdue_amount, r.customer.company_id))
    return rows


def customer_collection_history(customer: Customer) -> dict[str, Any]:
    return {
        "contacts": list(
            CollectionContact.objects.filter(customer=customer).select_related("by")[:20]
        ),
        "promises": list(PaymentPromise.objects.filter(customer=customer)[:20]),
    }


# --- the 24-hour measure ----------------------------------------------------------

MEASURE_DEFINITION = (
    "新增逾期：账单到期日的次日零点（北京时间）起仍有未收余额的已出账账单，该客户即在这一天成为新增逾期客户"
    "（同一客户同一天多张账单只算一次）。"
    "24 小时内跟进：从该零点起 24 小时内（含正好 24 小时）有一条催收跟进记录（电话、拜访、消息、邮件或发送对账单）。"
    "首次提醒：即同一零点——系统每晚的逾期提醒针对的就是这一时刻，不依赖提醒实际发出的时间。"
    "30 天回款：首次提醒后 30×24 小时内核销到这些逾期账单上的金额（已撤销的核销不计）。"
)

WINDOW = timedelta(hours=24)
COLLECT_DAYS = 30


def overdue_start(due_date: date) -> datetime:
    """The moment a bill becomes overdue: midnight (local time) of the day after its due date."""
    return timezone.make_aware(datetime.combine(due_date + timedelta(days=1), time.min))


@dataclass
class MeasureRow:
    label: str
    newly_overdue: int = 0
    contacted: int = 0
    overdue_amount: Decimal = ZERO
    collected: Decimal = ZERO

    @property
    def share(self) -> float | None:
        return self.contacted / self.newly_overdue if self.newly_overdue else None

    @property
    def collected_share(self) -> float | None:
        return float(self.collected / self.overdue_amount) if self.overdue_amount else None


@dataclass
class Measure:
    date_from: date
    date_to: date
    total: MeasureRow
    by_sales: list[MeasureRow] = field(default_factory=list)
    by_team: list[MeasureRow] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    definition: str = MEASURE_DEFINITION


# The cases of the period: bills of one customer falling due on the same day, summed, with
# the customer's owner. Two sources give the same rows: the cases kept on write
# (billing/collections/facts.py: one narrow table, scoped by the owner it keeps), and the bills
# with their allocations (an index probe per bill), used while the facts' time zone is not the
# current one.
_CASES_FROM_ALLOCATIONS_SQL = """
WITH b AS (
  SELECT b.id, b.customer_id, c.sales_owner_id, b.total,
         ((b.due_date + 1)::timestamp AT TIME ZONE %(zone)s) AS start
    FROM {bill} b JOIN {customer} c ON c.id = b.customer_id
   WHERE b.kind = 'bill' AND b.status IN ('issued', 'partially_paid', 'paid')
     AND b.due_date BETWEEN %(due_from)s AND %(due_to)s
     AND b.customer_id IN ({scope})
), owed AS (
  -- Each bill's allocations by the bill's index: a join with every allocation scanned them
  -- all (a million at 100,000 customers) and grouped the bills again.
  SELECT b.customer_id, b.start, b.sales_owner_id,
         b.total - COALESCE(s.before_start, 0) AS owed, COALESCE(s.collected, 0) AS collected
    FROM b LEFT JOIN LATERAL (
      SELECT SUM(a.amount) FILTER (WHERE a.created_at < b.start) AS before_start,
             SUM(a.amount) FILTER (
               WHERE a.created_at >= b.start AND a.created_at < b.start + %(collect)s
             ) AS collected
        FROM {allocation} a
       WHERE a.bill_id = b.id AND a.undone_at IS NULL
    ) s ON true
)
SELECT customer_id, start, sales_owner_id, SUM(owed) AS owed, SUM(collected) AS collected
  FROM owed WHERE owed > 0
 GROUP BY customer_id, start, sales_owner_id
"""

# Each case with its first contact from its start (the measure page lists them).
_MEASURE_CASES_SQL = """
SELECT cases.customer_id, cases.start, cases.owed, cases.collected,
       (SELECT MIN(k.at) FROM {contact} k
         WHERE k.customer_id = cases.customer_id AND k.at >= cases.start) AS first_contact,
       cases.sales_owner_id, c.company_id
  FROM ({cases}) AS cases JOIN {customer} c ON c.id = cases.customer_id
 ORDER BY cases.start, c.company_id
"""

# The cockpit's summary: the cases summed per sales owner in the database (20 rows, not
# 200,000 cases through Python). A case is contacted when a contact falls within 24 hours of
# its start: the contacts of the period are joined to the cases (a hash join over the few
# contacts, not a lookup per case).
_MEASURE_BY_OWNER_SQL = """
WITH cases AS MATERIALIZED ({cases}),
contacted AS (
  SELECT DISTINCT cases.customer_id, cases.start
    FROM cases JOIN {contact} k ON k.customer_id = cases.customer_id
   WHERE k.at >= %(first_start)s AND k.at <= %(last_start)s + %(window)s
     AND k.at >= cases.start AND k.at <= cases.start + %(window)s
)
SELECT cases.sales_owner_id, COUNT(*), COUNT(contacted.customer_id), SUM(cases.owed),
       SUM(cases.collected)
  FROM cases LEFT JOIN contacted
    ON contacted.customer_id = cases.customer_id AND contacted.start = cases.start
 GROUP BY cases.sales_owner_id
"""


def _named(sql: str, params: Any, prefix: str) -> tuple[str, dict[str, Any]]:
    """A compiled query's SQL with named placeholders, to embed it in a larger one."""
    named = {f"{prefix}{i}": value for i, value in enumerate(params)}
    return sql % tuple(f"%({name})s" for name in named), named


def _measure_cases_sql(user: Any, *, date_from: date, date_to: date) -> tuple[str, dict]:
    """The measure's cases in the user's scope (SQL and named parameters), from the facts when
    they are in the current time zone."""
    zone = timezone.get_current_timezone_name()
    due_from, due_to = date_from - timedelta(days=1), date_to - timedelta(days=1)
    if facts.zone() == zone:
        rows = MeasureCase.objects.filter(
            due_date__range=(due_from, due_to), owed__gt=0, customer_deleted=False
        )
        condition = scope_filter(user)
        if condition is not None:
            rows = rows.filter(condition)
        cases, params = _named(
            *rows.values("customer_id", "start", "sales_owner_id", "owed", "collected")
            .order_by()
            .query.sql_with_params(),
            "case",
        )
    else:
        scope_sql, params = _named(
            *scoped_customers(user).order_by().values("pk").query.sql_with_params(), "scope"
        )
        cases = _CASES_FROM_ALLOCATIONS_SQL.format(
            bill=Bill._meta.db_table,
            allocation=PaymentAllocation._meta.db_table,
            customer=Customer._meta.db_table,
            scope=scope_sql,
        )
    params.update(
        zone=zone,
        due_from=due_from,
        due_to=due_to,
        first_start=overdue_start(due_from),
        last_start=overdue_start(due_to),
        collect=timedelta(days=COLLECT_DAYS),
        window=WINDOW,
    )
    return cases, params


def measure_24h(user: Any, *, date_from: date, date_to: date, with_cases: bool = True) -> Measure:
    """The 24-hour measure over customers that became newly overdue between the two dates.

    A case is (customer, day it became overdue): bills of one customer falling
    due on the same day form one case. The day it became overdue is due_date + 1.
    A bill counts with what was still owed at that moment (allocations made before
    it, undone ones excluded); the collected amount is what was allocated to the
    case's bills in the 30 days from it.

    One query whatever the number of cases (the cockpit shows this over 100,000
    customers): the cases come back summed per (customer, day) with their first
    contact; `with_cases=False` (the cockpit's summary) skips loading their customers.
    """
    cases, params = _measure_cases_sql(user, date_from=date_from, date_to=date_to)
    contact, customer = CollectionContact._meta.db_table, Customer._meta.db_table
    with connection.cursor() as cur:
        if with_cases:
            cur.execute(
                _MEASURE_CASES_SQL.format(cases=cases, contact=contact, customer=customer), params
            )
            rows = cur.fetchall()
            groups: dict[Any, list] = {}
            for _customer_id, start, owed, collected, first_contact, owner_id, _ in rows:
                group = groups.setdefault(owner_id, [owner_id, 0, 0, ZERO, ZERO])
                group[1] += 1
                group[2] += int(first_contact is not None and first_contact - start <= WINDOW)
                group[3] += owed
                group[4] += collected
            grouped = list(groups.values())
        else:
            rows = []
            cur.execute(_MEASURE_BY_OWNER_SQL.format(cases=cases, contact=contact), params)
            grouped = cur.fetchall()
    owners = {
        u.pk: u
        for u in User.objects.filter(pk__in={g[0] for g in grouped if g[0]}).select_related("team")
    }
    total = MeasureRow(label="合计")
    by_sales: dict[Any, MeasureRow] = {}
    by_team: dict[Any, MeasureRow] = {}
    for owner_id, cases, contacted, owed, collected in grouped:
        owner = owners.get(owner_id)
        team = owner.team if owner is not None else None
        for row in (
            total,
            by_sales.setdefault(
                owner.pk if owner else None,
                MeasureRow(label=owner.display_name if owner else "（无销售）"),
            ),
            by_team.setdefault(
                team.pk if team else None, MeasureRow(label=team.name if team else "（无团队）")
            ),
        ):
            row.newly_overdue += cases
            row.contacted += contacted
            row.overdue_amount += owed
            row.collected += collected
    customers = Customer.objects.select_related("sales_owner__team").in_bulk([r[0] for r in rows])
    result_cases = [
        {
            "customer": customers[customer_id],
            "start": start,
            "first_contact": first_contact,
            "contacted": first_contact is not None and first_contact - start <= WINDOW,
            "owed": owed,
            "collected": collected,
        }
        for customer_id, start, owed, collected, first_contact, _owner_id, _ in rows
    ]
    return Measure(
        date_from=date_from,
        date_to=date_to,
        total=total,
        by_sales=sorted(by_sales.values(), key=lambda r: r.label),
        by_team=sorted(by_team.values(), key=lambda r: r.label),
        cases=result_cases,
    )


# --- payment behaviour: the credit score -------------------------------------------

CREDIT_HISTORY_DAYS = 365


@dataclass
class CreditScore:
    score: int
    grade: str
    sentence: str


def _grade(score: int) -> str:
    if score >= 85:
        return "优"
    if score >= 70:
        return "良"
    if score >= 50:
        return "中"
    return "差"


def credit_score_compute(
    *, paid_delays: list[int], overdue_bills: int, overdue_now_days: int, broken_promises: int
) -> CreditScore:
    """The score (0-100) from a payment history; pure, so worked histories test it directly.

    - starts at 100;
    - average days paid after the due date (bills settled in the last year): −1 per day, at most −30;
    - bills that went overdue in the last year: −5 each, at most −25;
    - oldest bill overdue now: −1 per day, at most −30 — money still owed is at least as
      late as money paid that late, so owing 31 days never scores better than paying 31
      days late;
    - broken promises in the last year: −10 each, at most −30.
    """
    late = [max(d, 0) for d in paid_delays]
    avg_late = round(sum(late) / len(late)) if late else 0
    deductions = (
        min(avg_late, 30)
        + min(overdue_bills * 5, 25)
        + min(overdue_now_days, 30)
        + min(broken_promises * 10, 30)
    )
    score = max(0, 100 - deductions)
    parts = []
    if paid_delays:
        parts.append(
            f"近一年结清 {len(paid_delays)} 张账单，平均"
            + (f"逾期 {avg_late} 天付款" if avg_late else "按时付款")
        )
    else:
        parts.append("近一年没有结清的账单")
    if overdue_bills:
        parts.append(f"{overdue_bills} 张账单曾逾期")
    if overdue_now_days:
        parts.append(f"当前最久逾期 {overdue_now_days} 天")
    if broken_promises:
        parts.append(f"违约 {broken_promises} 次付款承诺")
    return CreditScore(score=score, grade=_grade(score), sentence="，".join(parts) + "。")


def credit_scores(customer_ids: list[int], *, today: date) -> dict[int, CreditScore]:
    """Credit scores of many customers in a few queries."""
    since = today - timedelta(days=CREDIT_HISTORY_DAYS)
    delays: dict[int, list[int]] = defaultdict(list)
    overdue_count: dict[int, int] = defaultdict(int)
    overdue_now: dict[int, int] = defaultdict(int)
    bills = Bill.objects.filter(
        customer_id__in=customer_ids,
        kind=Bill.Kind.BILL,
        status__in=(Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID, Bill.Status.PAID),
        due_date__gte=since,
        due_date__isnull=False,
    ).annotate(
        settled_at=Max("allocations__created_at", filter=None),
    )
    for bill in bills:
        cid = bill.customer_id
        if bill.status == Bill.Status.PAID and bill.settled_at is not None:
            delay = (timezone.localdate(bill.settled_at) - bill.due_date).days
            delays[cid].append(delay)
            if delay > 0:
                overdue_count[cid] += 1
        elif bill.due_date < today and bill.balance > 0:
            overdue_count[cid] += 1
            overdue_now[cid] = max(overdue_now[cid], (today - bill.due_date).days)
    broken = dict(
        PaymentPromise.objects.filter(
            customer_id__in=customer_ids,
            status=PaymentPromise.Status.BROKEN,
            promised_date__gte=since,
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    return {
        cid: credit_score_compute(
            paid_delays=delays[cid],
            overdue_bills=overdue_count[cid],
            overdue_now_days=overdue_now[cid],
            broken_promises=broken.get(cid, 0),
        )
        for cid in customer_ids
    }


def credit_score_for(customer: Customer, *, today: date) -> CreditScore:
    return credit_scores([customer.pk], today=today)[customer.pk]


# --- promises the nightly duty checks ------------------------------------------------


def promises_due_unpaid(*, today: date) -> QuerySet[PaymentPromise]:
    """Open promises whose date has passed (yesterday or earlier)."""
    return PaymentPromise.objects.filter(
        status=PaymentPromise.Status.OPEN, promised_date__lt=today
    ).select_related("customer__sales_owner__team__lead")


def promise_paid_amount(promise: PaymentPromise) -> Decimal:
    """Money the customer paid from the day the promise was made up to its date (by receipt
    date, allocated or not: money on the account keeps the promise)."""
    made = timezone.localdate(promise.created_at)
    return (
        Payment.objects.filter(
            customer_id=promise.customer_id,
            received_on__gte=min(made, promise.promised_date),
            received_on__lte=promise.promised_date,
        ).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
