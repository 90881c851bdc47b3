"""ReceivableFilter: the page and the export are narrowed by the one filter."""

import datetime as dt

import pytest

from reports.filters import ReceivableFilter

TODAY = dt.date(2026, 1, 15)


@pytest.mark.django_db
def test_unbound_filter_lists_every_billed_bill_in_scope(world, manager_user):
    # given no filter / then the rows are every billed bill the user sees
    rows = ReceivableFilter(None, user=manager_user, today=TODAY).qs
    assert rows.count() == 6


@pytest.mark.django_db
def test_level_narrows_rows_and_report_filters_alike(world, manager_user):
    # when filtered by level A
    receivable_filter = ReceivableFilter({"level": "A"}, user=manager_user, today=TODAY)
    # then the rows and the filters handed to totals agree
    assert receivable_filter.report_filters().level == "A"
    assert {row.customer.level for row in receivable_filter.qs} == {"A"}


@pytest.mark.django_db
def test_reversed_month_range_is_an_error_and_narrows_nothing(world, manager_user):
    # when the end month is before the start month
    receivable_filter = ReceivableFilter(
        {"month_from": "2025-12", "month_to": "2025-10"}, user=manager_user, today=TODAY
    )
    # then the form names the field and the report is not narrowed
    assert not receivable_filter.is_valid()
    assert "结束月份不能早于起始月份" in str(receivable_filter.errors["month_to"])
    assert receivable_filter.report_filters().month_from is None


@pytest.mark.django_db
def test_sales_owner_choices_stay_in_scope(world, sales_user, other_sales_user):
    # given a sales user / then only owners of customers they see are offered
    field = ReceivableFilter(None, user=sales_user, today=TODAY).form.fields["sales_owner"]
    assert list(field.queryset) == [sales_user]
