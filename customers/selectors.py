"""Reads for customers. `scoped_customers` is the one door every customer read passes through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet

from accounts.roles import Scope, effective_scope, led_team_ids

from .lifecycle import cooperation_key
from .models import CooperationStatusMapping, Customer, CustomerGroup


def scope_filter(user: Any, *, prefix: str = "") -> Q | None:
    """The data-scope condition as a Q over `<prefix>sales_owner`, or None for "everything".

    Returns Q(pk__in=[]) for a user who may see nothing. `prefix` lets other
    apps filter their own rows by their customer (e.g. "customer__").
    """
    scope = effective_scope(user)
    if scope == Scope.ALL:
        return None
    if scope == Scope.OWN:
        return Q(**{f"{prefix}sales_owner_id": user.pk})
    if scope == Scope.TEAM:
        team_ids = set(led_team_ids(user))
        if user.team_id:
            team_ids.add(user.team_id)
        return Q(**{f"{prefix}sales_owner__team_id__in": team_ids}) | Q(
            **{f"{prefix}sales_owner_id": user.pk}
        )
    return Q(pk__in=[])


def scoped_customers(user: Any, *, include_deleted: bool = False) -> QuerySet[Customer]:
    """The customers `user` may see: own, team or all, by their data scope.

    Soft-deleted customers are left out unless `include_deleted`: lists, pickers and detail
    pages hide them, while money reads (receivables, cockpit, statements) pass True, because
    a deleted customer's paid history still counts. Either way the scope is the same.
    """
    qs = Customer.objects.all()
    if not include_deleted:
        qs = qs.filter(is_deleted=False)
    condition = scope_filter(user)
    if condition is not None:
        qs = qs.filter(condition)
    return qs


def customer_scope_q(user: Any, *, include_deleted: bool = False) -> Q | None:
    """The rule of `scoped_customers` as a condition over another table's `customer`: bills,
    payments or usage filtered by it are exactly those of scoped_customers(user,
    include_deleted=...). None means every row (the user sees every customer, deleted too).

    Reports sum a million bills: `customer__in=scoped_customers(user)` made PostgreSQL join
    every row to the customers even when the scope is everything. Here that case needs no
    join with every customer: the soft-deleted ones are left out by an anti-join (NOT EXISTS).
    """
    condition = scope_filter(user, prefix="customer__")
    if include_deleted:
        return condition
    if condition is None:
        deleted = Customer.objects.filter(pk=OuterRef("customer_id"), is_deleted=True)
        return ~Q(Exists(deleted))
    return condition & Q(customer__is_deleted=False)


def owner_scope_q(user: Any) -> Q | None:
    """The rule of `customer_scope_q(user, include_deleted=True)` over a table that keeps the
    customer's sales owner itself (`sales_owner`) instead of the customer: the money totals
    of billing.models (BillTotal, PaymentTotal), whose rows filtered by it sum exactly the
    bills or payments of scoped_customers(user, include_deleted=True). None means every row.
    """
    return scope_filter(user)


def users_in_scope_of(customer: Customer, users: Iterable[Any]) -> list[Any]:
    """The users among `users` whose scope includes `customer`: nobody is told about a
    customer they may not see."""
    seen: set[int] = set()
    allowed = []
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if scoped_customers(user).filter(pk=customer.pk).exists():
            allowed.append(user)
    return allowed


def customers_in_scope_of_users(
    users: Iterable[Any], customer_ids: Iterable[int]
) -> dict[int, set[int]]:
    """For many customers at once (a file of payments): each user's pk -> the ids among
    `customer_ids` in that user's scope; one query per distinct user, the same rule as
    `users_in_scope_of`."""
    ids = set(customer_ids)
    allowed: dict[int, set[int]] = {}
    for user in users:
        if user is None or user.pk in allowed:
            continue
        allowed[user.pk] = set(
            scoped_customers(user).filter(pk__in=ids).values_list("pk", flat=True)
        )
    return allowed


def editable_customers(user: Any) -> QuerySet[Customer]:
    """The customers `user` may change: ops/admin every one in scope, sales their own (a team
    lead also the team's), others none. Same rule as `accounts.roles.can_edit_customer`."""
    from accounts.roles import Role, has_role, led_team_ids

    qs = scoped_customers(user)
    if has_role(user, Role.ADMIN, Role.OPS):
        return qs
    if has_role(user, Role.SALES):
        return qs.filter(Q(sales_owner_id=user.pk) | Q(sales_owner__team_id__in=led_team_ids(user)))
    return qs.none()


def name_order(descending: bool = False):
    """Order by name in pinyin: the stored key (customers/pinyin.py), the same on every PostgreSQL."""
    from django.db.models import F

    expr = F("name_pinyin")
    return expr.desc() if descending else expr.asc()


# The list's columns that show a related row: joined (one value) or prefetched (several).
LIST_JOINED_COLUMNS = ("sales_owner", "account_type", "industry", "erp")
LIST_PREFETCHED_COLUMNS = ("ops_owners", "tags", "regions")
LISTED_SUFFIX = "_listed"


def customer_list_rows(user: Any, ids: list[int], *, columns: Iterable[str]) -> list[Customer]:
    """The list's customers of `ids` (one page, already filtered and sorted), in that order,
    with the related rows of the `columns` shown: a hidden column costs no join or query."""
    shown = set(columns)
    rows = scoped_customers(user).filter(pk__in=ids)
    # select_related() without names would follow every foreign key.
    if joined := [name for name in LIST_JOINED_COLUMNS if name in shown]:
        rows = rows.select_related(*joined)
    # Prefetched into plain lists (`<name>_listed`, read by customers.tables.listed): the
    # table reads them without building a related manager per row and relation (Django
    # makes one on each `customer.tags` access: 100 a page, a tenth of the list's CPU).
    rows = rows.prefetch_related(
        *(
            Prefetch(name, to_attr=f"{name}{LISTED_SUFFIX}")
            for name in LIST_PREFETCHED_COLUMNS
            if name in shown
        )
    )
    by_pk = {customer.pk: customer for customer in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


# A search box answers for its first 100 characters: nobody types more, and a
# 100,000-character LIKE pattern only burns database time.
SEARCH_MAX_CHARS = 100


def search_term(value: Any) -> str:
    """A search box's text made safe for a query: no NUL (PostgreSQL refuses it), capped."""
    return str(value or "").replace("\x00", "").strip()[:SEARCH_MAX_CHARS]


def parse_id(value: Any) -> int | None:
    """A typed id or company id as an int, or None. `isdigit()` accepts "²", which int()
    refuses; isdecimal() does not, and the length keeps it inside bigint."""
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and len(text) < 19 else None


# pg_trgm indexes answer a LIKE '%term%' only for a term of at least three characters.
TRIGRAM = 3


class EqualsAny(Lookup):
    """`<lhs> = ANY(<array>)`: true when the value is one of the array's elements."""

    lookup_name = "equals_any"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# Up to this many ids a customer condition is `pk = ANY(ARRAY(ids))`; past it `pk IN (ids)`.
IDS_ARRAY_MAX = 10_000


def pk_among(ids: QuerySet) -> Q:
    """The customers whose pk is among `ids` (a query of one column of customer ids: tag
    rows, search matches), in the form PostgreSQL plans well for their number.

    PostgreSQL plans `pk IN (ids)` and EXISTS as a hash join probed by a sequential scan
    of every customer: its cost model prices each index probe as a disk read, where the
    customers are in memory. `pk = ANY(ARRAY(ids))` computes the ids once and fetches
    their customers by primary key: at 100,000 customers 1,000 ids count in 5 ms instead
    of 45, 10,000 (a tag) in 10 instead of 20 (EXPLAIN ANALYZE). Past IDS_ARRAY_MAX the
    probes cost more than the scan, and a list sorted by name is better served walking
    the name index and testing each row, so many ids keep `pk IN`: one query that stops
    at IDS_ARRAY_MAX + 1 rows tells which (duplicates may count twice: only a choice of plan).
    """
    if ids.order_by()[IDS_ARRAY_MAX : IDS_ARRAY_MAX + 1]:
        return Q(pk__in=ids)
    return Q(EqualsAny(F("pk"), ArraySubquery(ids)))


def customer_search_q(term: str, *, include_phone: bool = True) -> Q:
    """One search box over name, company id, contacts (name, phone), phone and sales owner.

    The customers matching on their own row together with those of matching contacts
    (`pk_among` a UNION): each arm is answered by its indexes (the trigram indexes of
    migration 0003, the company id's unique index, the sales owner's foreign key; the
    contacts' trigram indexes). With the contact subquery OR-ed into the row's conditions
    no index could be used at all: a company id matching one row was planned as 75,000
    matches and found by walking the whole name index (70-240 ms).
    A term too short for a trigram keeps the single pass (see below).
    """
    from accounts.models import User

    from .models import Contact

    term = search_term(term)
    # Chinese characters and digits have no case: a plain LIKE skips case folding on
    # every row, several times cheaper on a sequential scan. Latin letters: ILIKE, which
    # the same trigram indexes answer (opcms/lookups.py).
    lookup = "contains" if term.upper() == term.lower() else "ilike_contains"
    # A user the phone is hidden from cannot find customers by it either.
    contact_match = Q(**{f"name__{lookup}": term})
    if include_phone:
        contact_match |= Q(phone__contains=term)
    # The few matching salespeople first (a small table): with their ids in the query
    # PostgreSQL knows how many customers each owns, where a subquery was guessed at
    # thousands of rows even when no name matched, and the guess chose a full scan.
    owner_ids = list(
        User.objects.filter(**{f"full_name__{lookup}": term}).values_list("pk", flat=True)
    )
    # The customer row's own columns in one arm: a bitmap OR of their indexes, or one
    # sequential pass where the term is too short for a trigram (two characters).
    # The unmatched owners' trigram index holds only non-empty names: the condition
    # (true of any match) lets the planner use it.
    row_match = Q(**{f"name__{lookup}": term}) | (
        Q(**{f"sales_owner_raw__{lookup}": term}) & ~Q(sales_owner_raw="")
    )
    if owner_ids:
        row_match |= Q(sales_owner_id__in=owner_ids)
    if (number := parse_id(term)) is not None:
        row_match |= Q(company_id=number)
    contacts = Contact.objects.order_by().filter(contact_match).values("customer_id")
    if len(term) < TRIGRAM:
        # Too short for a trigram index: every customer row is read anyway, so test it
        # in that one pass (a UNION would read the table twice: 112 ms against 56).
        return row_match | Q(pk__in=contacts)
    rows = Customer.objects.order_by().filter(row_match).values("pk")
    # UNION ALL: a customer found twice is harmless in either form of pk_among, and
    # the choice of form can stop counting early.
    return pk_among(rows.union(contacts, all=True))


def customer_duplicates(
    user: Any, *, name: str = "", company_id: Any = None, exclude_pk: int | None = None
) -> dict:
    """Warnings for the create wizard: the company id already taken, names already used.

    Only customers in the user's scope are named; a taken company id out of
    scope is reported without revealing whose it is.
    """
    result: dict[str, Any] = {"company_id_taken": None, "same_name": []}
    base = Customer.objects.all()
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    name = search_term(name)
    if (number := parse_id(company_id)) is not None:
        taken = base.filter(company_id=number).first()
        if taken:
            visible = scoped_customers(user).filter(pk=taken.pk).exists()
            result["company_id_taken"] = taken if visible else True
    if name.strip():
        result["same_name"] = list(
            scoped_customers(user).filter(name=name.strip()).exclude(pk=exclude_pk or 0)[:10]
        )
    return result


def grade_thresholds():
    from .models import GradeThresholds

    return GradeThresholds.objects.first() or GradeThresholds()


def grade_suggestion(amount) -> str:
    """The grade the admin thresholds give a last-12-months billed amount (billing passes it in)."""
    from .lifecycle import grade_for_amount

    t = grade_thresholds()
    return grade_for_amount(amount, s_min=t.s_min, a_min=t.a_min, b_min=t.b_min, c_min=t.c_min)


def customer_detail(user: Any, pk: int) -> Customer:
    """One customer in scope, with its detail sections; 404 outside scope."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        scoped_customers(user)
        .select_related("sales_owner", "account_type", "industry", "erp", "cooperation")
        .prefetch_related("ops_owners", "tags"),
        pk=pk,
    )


def customer_related_present(customer: Customer, related: Iterable[str]) -> set[str]:
    """Which of `related` (the customer's reverse FK / one-to-one names) have a row: one query.

    The customer page shows eight row sections and two profiles, and most customers have
    rows in few or none of them: this asks once, by index, which are worth a query. Plain
    SQL on purpose: ten ORM subqueries cost more to compile than the queries they spare.
    `customer` comes from the scoping door already.
    """
    from django.db import connection

    related = list(related)
    checks = []
    for name in related:
        model = Customer._meta.get_field(name).related_model
        column = model._meta.get_field("customer").column
        checks.append(
            f"EXISTS (SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} "  # noqa: S608 - names from the models, the value a parameter
            f"WHERE {connection.ops.quote_name(column)} = %s)"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ARRAY[{', '.join(checks)}]", [customer.pk] * len(checks))
        flags = cursor.fetchone()[0]
    return {name for name, present in zip(related, flags, strict=True) if present}


def renewals_due(user: Any, *, today) -> list:
    """Pending renewals in the user's scope whose reminder window has opened (or that expired).

    Each renewal has its own lead time (`remind_days_before`, at most a year is
    looked ahead), so the window is checked per row in Python.
    """
    from datetime import timedelta

    from .models import Renewal

    candidates = (
        Renewal.objects.filter(
            customer__in=scoped_customers(user),
            status=Renewal.Status.PENDING,
            expires_on__lte=today + timedelta(days=366),
        )
        .select_related("customer")
        .order_by("expires_on")
    )
    return [r for r in candidates if r.needs_reminder(today)]


def attention_due(user: Any, *, today, days_ahead: int = 7) -> list:
    """Special-attention items in scope whose remind date falls within the next `days_ahead` days."""
    from datetime import timedelta

    from .models import AttentionItem

    return list(
        AttentionItem.objects.filter(
            customer__in=scoped_customers(user),
            remind_on__gte=today,
            remind_on__lte=today + timedelta(days=days_ahead),
        )
        .select_related("customer")
        .order_by("remind_on")[:20]
    )


def cooperation_status_for(note: str) -> str | None:
    """The lifecycle status the admin's 合作状态 mapping gives a note, or None if unmapped.

    Same rule as the import: the exact text first, then the text without its
    `@person` mention (`待确认  @李伟光` → `待确认`).
    """
    note = (note or "").strip()
    if not note:
        return None
    mapped = dict(
        CooperationStatusMapping.objects.filter(
            note_text__in={note, cooperation_key(note)}
        ).values_list("note_text", "status")
    )
    return mapped.get(note) or mapped.get(cooperation_key(note))


# --- Archive depth (issue 18) ---------------------------------------------------------


def customer_edit_history(customer: Customer, *, user: Any, limit: int = 30) -> list[dict]:
    """The audit entries of one customer: its own row and every section row of it.

    Section rows carry `customer_id` in the entry's additional data (their
    `get_additional_data`), so deleted rows still show up in the history.
    Changes to fields hidden from `user` are left out, as everywhere else.
    """
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from accounts.tables import action_label, audit_change_rows

    from .fieldpolicy import hidden_model_fields

    own = Q(content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk)
    sections = Q(additional_data__customer_id=customer.pk)
    entries = (
        LogEntry.objects.filter(own | sections)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")[:limit]
    )
    history = []
    for entry in entries:
        model = entry.content_type.model_class()
        # The row's id and its customer (this page's) tell the reader nothing here.
        hidden = {"id", "customer", *(hidden_model_fields(user, model) if model else ())}
        history.append(
            {
                "entry": entry,
                "action": action_label(entry),
                "model_label": model._meta.verbose_name if model else "",
                # Names, not ids: the owner by name, choices by label, hidden fields left out.
                "changes": audit_change_rows(entry, hidden=hidden),
            }
        )
    return history


def customer_key_figures(
    customer: Customer, *, today, issues: Iterable, renewals: Iterable
) -> list[tuple[str, str]]:
    """What a salesperson checks first on a phone: status, grade, open Q&A, next renewal.

    `issues` and `renewals` are all of the customer's rows, which its page has loaded anyway.
    """
    from .models import QualityIssue, Renewal

    closed = {QualityIssue.Status.DONE, QualityIssue.Status.CLOSED}
    open_issues = sum(1 for issue in issues if issue.status not in closed)
    renewal = min(
        (r for r in renewals if r.status == Renewal.Status.PENDING and r.expires_on >= today),
        key=lambda r: r.expires_on,
        default=None,
    )
    return [
        ("生命周期", customer.get_lifecycle_status_display()),
        ("等级", customer.level or "未定级"),
        ("未结问题", str(open_issues)),
        ("下次续约到期", renewal.expires_on.strftime("%Y-%m-%d") if renewal else "—"),
    ]


def recent_searches(user: Any) -> list:
    from .models import RecentSearch

    return list(RecentSearch.objects.filter(owner=user)[:10])


def scoped_groups(user: Any) -> QuerySet[CustomerGroup]:
    """Groups with at least one member the user may see."""
    return CustomerGroup.objects.filter(members__in=scoped_customers(user)).distinct()


def group_members(
    *, user: Any, group: CustomerGroup, include_deleted: bool = False
) -> QuerySet[Customer]:
    """The group's members within the user's scope: a salesperson sees only their own, and
    every group total is summed over these. `include_deleted` for money (statements)."""
    return scoped_customers(user, include_deleted=include_deleted).filter(group=group)
