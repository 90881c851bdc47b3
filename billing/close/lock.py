"""The period lock: once a month is closed (月结), nothing dated in it changes.

Two locks. The services call `period_assert_open` first and refuse with a
clerk's message; the PostgreSQL triggers below are the second lock for every
path that bypasses them (Django admin, shell, a raw queryset update). They read
`billing_period` and raise SQLSTATE 23514 (IntegrityError in Django):
- usage: a record counts in COALESCE(billed_in_period, its month); a row may not be
  inserted, changed or deleted while that month (old or new) is closed;
- bills: no bill of a closed month is created, deleted, or changed while a draft
  (payments may still settle issued bills, and credit notes still reverse them);
- bill lines: no line of a bill (not a credit note) of a closed month changes;
- price plans: no insert, update or delete may change which days of a closed month
  a plan covers (a new version taking effect inside it, an end date moved into it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import ValidationError

from opcms.months import month_shift

_CLOSED = "EXISTS (SELECT 1 FROM billing_period p WHERE p.month = {m} AND p.status = 'closed')"


def _closed(expr: str) -> str:
    return _CLOSED.format(m=expr)


POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION billing_usage_period_lock() RETURNS trigger AS $$
DECLARE
  m date;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    m := COALESCE(OLD.billed_in_period, date_trunc('month', OLD.shot_date)::date);
    IF {_closed("m")} THEN
      RAISE EXCEPTION '% 已关账：该月的用量不能修改或删除', to_char(m, 'YYYY-MM')
        USING ERRCODE = '23514';
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    m := COALESCE(NEW.billed_in_period, date_trunc('month', NEW.shot_date)::date);
    IF {_closed("m")} THEN
      RAISE EXCEPTION '% 已关账：不能再录入该月的用量（迟到的用量请补计到下一个未关账月份）',
        to_char(m, 'YYYY-MM') USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_bill_period_lock() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.kind = 'bill' AND {_closed("NEW.period")} THEN
      RAISE EXCEPTION '% 已关账：不能再生成该月的账单', to_char(NEW.period, 'YYYY-MM')
        USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
  END IF;
  IF {_closed("OLD.period")} THEN
    IF TG_OP = 'DELETE' OR OLD.status = 'draft' OR NEW.status = 'draft'
       OR NEW.period IS DISTINCT FROM OLD.period THEN
      RAISE EXCEPTION '% 已关账：该月的账单不能修改', to_char(OLD.period, 'YYYY-MM')
        USING ERRCODE = '23514';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF NEW.period IS DISTINCT FROM OLD.period AND {_closed("NEW.period")} THEN
    RAISE EXCEPTION '% 已关账：不能把账单移入该月', to_char(NEW.period, 'YYYY-MM')
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_billline_period_lock() RETURNS trigger AS $$
DECLARE
  b record;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT period, kind INTO b FROM billing_bill WHERE id = OLD.bill_id;
    IF b.kind = 'bill' AND {_closed("b.period")} THEN
      RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(b.period, 'YYYY-MM')
        USING ERRCODE = '23514';
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    SELECT period, kind INTO b FROM billing_bill WHERE id = NEW.bill_id;
    IF b.kind = 'bill' AND {_closed("b.period")} THEN
      RAISE EXCEPTION '% 已关账：该月账单的明细不能修改', to_char(b.period, 'YYYY-MM')
        USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_priceplan_period_lock() RETURNS trigger AS $$
DECLARE
  old_range daterange := 'empty';
  new_range daterange := 'empty';
  closed_month date;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    old_range := daterange(OLD.valid_from, OLD.valid_to, '[]');
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    new_range := daterange(NEW.valid_from, NEW.valid_to, '[]');
  END IF;
  -- A closed month whose days this plan covers differently after the write.
  SELECT p.month INTO closed_month FROM billing_period p
   WHERE p.status = 'closed'
     AND (old_range * daterange(p.month, (p.month + interval '1 month')::date, '[)'))
         IS DISTINCT FROM
         (new_range * daterange(p.month, (p.month + interval '1 month')::date, '[)'))
   ORDER BY p.month LIMIT 1;
  IF closed_month IS NOT NULL THEN
    RAISE EXCEPTION '% 已关账：价格方案不能在该月内生效、截止或变更',
      to_char(closed_month, 'YYYY-MM') USING ERRCODE = '23514';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS billing_usage_period_lock ON billing_usagerecord;
CREATE TRIGGER billing_usage_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_usagerecord
  FOR EACH ROW EXECUTE FUNCTION billing_usage_period_lock();
DROP TRIGGER IF EXISTS billing_bill_period_lock ON billing_bill;
CREATE TRIGGER billing_bill_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_bill
  FOR EACH ROW EXECUTE FUNCTION billing_bill_period_lock();
DROP TRIGGER IF EXISTS billing_billline_period_lock ON billing_billline;
CREATE TRIGGER billing_billline_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_billline
  FOR EACH ROW EXECUTE FUNCTION billing_billline_period_lock();
DROP TRIGGER IF EXISTS billing_priceplan_period_lock ON billing_priceplan;
CREATE TRIGGER billing_priceplan_period_lock BEFORE INSERT OR UPDATE OR DELETE ON billing_priceplan
  FOR EACH ROW EXECUTE FUNCTION billing_priceplan_period_lock();
"""  # noqa: S608 (table names are constants; no user input)

POSTGRES_UNINSTALL = """
DROP TRIGGER IF EXISTS billing_usage_period_lock ON billing_usagerecord;
DROP TRIGGER IF EXISTS billing_bill_period_lock ON billing_bill;
DROP TRIGGER IF EXISTS billing_billline_period_lock ON billing_billline;
DROP TRIGGER IF EXISTS billing_priceplan_period_lock ON billing_priceplan;
DROP FUNCTION IF EXISTS billing_usage_period_lock();
DROP FUNCTION IF EXISTS billing_bill_period_lock();
DROP FUNCTION IF EXISTS billing_billline_period_lock();
DROP FUNCTION IF EXISTS billing_priceplan_period_lock();
"""


def closed_months(months: Iterable[date] | None = None) -> set[date]:
    """The closed months among `months` (first days), or all closed months."""
    from billing.models import Period  # the migration imports the SQL above: no models at load

    qs = Period.objects.filter(status=Period.Status.CLOSED)
    if months is not None:
        qs = qs.filter(month__in=list(months))
    return set(qs.values_list("month", flat=True))


def period_assert_open(*, months: Iterable[date], what: str) -> None:
    """Refuse with a clerk's message when any of `months` is closed; `what` names the write."""
    closed = sorted(closed_months({m.replace(day=1) for m in months}))
    if closed:
        names = "、".join(f"{m:%Y-%m}" for m in closed)
        raise ValidationError(f"{names} 已关账，不能{what}。如确需更改，请管理员先重开该月。")


def next_open_month(month: date) -> date:
    """The first month after `month` that is not closed (where late usage is billed)."""
    closed = closed_months()
    candidate = month_shift(month, 1)
    while candidate in closed:
        candidate = month_shift(candidate, 1)
    return candidate


Range = tuple[date | None, date | None]


def _overlap(days: Range | None, month: date) -> Range | None:
    """The part of `month` that the inclusive range `days` covers (None: no day)."""
    if days is None:
        return None
    first, last = month, month_shift(month, 1) - timedelta(days=1)
    lo = max(first, days[0]) if days[0] else first
    hi = min(last, days[1]) if days[1] else last
    return (lo, hi) if lo <= hi else None


def plan_assert_open(*, before: Range | None, after: Range | None) -> None:
    """Refuse a plan write that changes which days of a closed month a plan covers.

    `before`/`after` are (valid_from, valid_to) of the plan before and after the
    write (None for a plan created or deleted); the trigger applies the same rule.
    """
    changed = sorted(m for m in closed_months() if _overlap(before, m) != _overlap(after, m))
    if changed:
        names = "、".join(f"{m:%Y-%m}" for m in changed)
        raise ValidationError(
            {
                "valid_from": f"{names} 已关账：价格方案不能在已关账的月份内生效、截止或变更，"
                "请从下一个未关账的月份起生效。"
            }
        )
