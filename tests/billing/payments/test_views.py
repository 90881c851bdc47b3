"""Payment, allocation, bill lifecycle and statement pages: flows and the permission matrix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Bill, Payment, PaymentAllocation
from billing.payments.services import payment_allocate
from tests.factories import BillFactory, CustomerFactory, PaymentFactory, issued_bill

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(ops_user, sales_user):
    """A customer of sales_user with an issued bill, a draft bill, a payment and an allocation."""
    customer = CustomerFactory(sales_owner=sales_user, name="甲公司")
    bill = issued_bill(user=ops_user, customer=customer, lines=["100.00"])
    draft = BillFactory(customer=customer, period=dt.date(2025, 11, 1), lines=["50.00"])
    payment = PaymentFactory(customer=customer, amount=D("30.00"))
    (allocation,) = payment_allocate(user=ops_user, payment=payment, allocations=[(bill, D("10"))])
    return {
        "customer": customer,
        "bill": bill,
        "draft": draft,
        "payment": payment,
        "allocation": allocation,
    }


def read_urls(w):
    query = f"?customer={w['customer'].company_id}&start=2025-10&end=2025-12"
    return [
        reverse("billing:payment-list"),
        reverse("billing:payment-detail", args=[w["payment"].pk]),
        reverse("billing:bill-detail", args=[w["bill"].pk]),
        reverse("billing:statement") + query,
        reverse("billing:statement-xlsx") + query,
    ]


def write_requests(w):
    return [
        (reverse("billing:payment-create"), {}),
        (
            reverse("billing:payment-allocate", args=[w["payment"].pk]),
            {f"bill_{w['bill'].pk}": "1"},
        ),
        (reverse("billing:payment-allocate-oldest", args=[w["payment"].pk]), {}),
        (reverse("billing:allocation-undo", args=[w["allocation"].pk]), {"reason": "x"}),
        (reverse("billing:bill-issue", args=[w["draft"].pk]), {}),
        (reverse("billing:bill-reverse", args=[w["bill"].pk]), {"reason": "x"}),
        (reverse("billing:bill-add-line", args=[w["draft"].pk]), {"amount": "1", "reason": "x"}),
        (reverse("billing:bill-apply-credit", args=[w["bill"].pk]), {}),
        (reverse("billing:bills-issue-period"), {"period": "2025-11"}),
        (reverse("billing:receipt-import"), {}),
        (reverse("billing:receipt-preview", args=[1]), {}),
    ]


@pytest.mark.parametrize("role", ["admin_user", "manager_user", "ops_user", "sales_user"])
def test_every_role_in_scope_can_read(client, world, role, request):
    client.force_login(request.getfixturevalue(role))
    for url in read_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url


def test_sales_of_another_customer_gets_404_everywhere(client, world, other_sales_user):
    client.force_login(other_sales_user)
    for url in read_urls(world)[1:3]:
        assert client.get(url).status_code == 404, url
    # statements resolve the customer inside the scope: the page says so, downloads answer 404
    response = client.get(read_urls(world)[3])
    assert "不在你的客户范围内" in response.content.decode()
    assert world["customer"].name not in response.content.decode()
    assert client.get(read_urls(world)[4]).status_code == 404
    pdf_url = read_urls(world)[4].replace("/xlsx/", "/pdf/")
    assert client.get(pdf_url).status_code == 404
    assert (
        world["customer"].name not in client.get(reverse("billing:payment-list")).content.decode()
    )


@pytest.mark.parametrize("role", ["manager_user", "sales_user"])
def test_readers_cannot_write(client, world, role, request):
    client.force_login(request.getfixturevalue(role))
    for url, data in write_requests(world):
        assert client.post(url, data).status_code == 403, url
    assert PaymentAllocation.objects.count() == 1
    world["draft"].refresh_from_db()
    assert world["draft"].status == Bill.Status.DRAFT


def test_sales_writes_are_refused_whatever_the_id(client, world, other_sales_user):
    # refused before the scope is consulted, so the answer reveals nothing about the id
    client.force_login(other_sales_user)
    url = reverse("billing:bill-reverse", args=[world["bill"].pk])
    assert client.post(url, {"reason": "x"}).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("billing:payment-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_links_to_payment_list(client, ops_user):
    client.force_login(ops_user)
    html = client.get(reverse("billing:payment-list")).content.decode()
    assert f'href="{reverse("billing:payment-list")}"' in html


# --- flows through the views ------------------------------------------------------------


def test_payment_form_double_submit_records_one_payment(client, ops_user):
    customer = CustomerFactory()
    client.force_login(ops_user)
    data = {
        "customer": customer.company_id,
        "amount": "250.00",
        "received_on": "2025-11-05",
        "method": "bank",
        "bank_ref": "TRX-DBL",
        "payer": "甲",
        "note": "",
        "idempotency_key": "4f1c2d9e0a",
    }
    first = client.post(reverse("billing:payment-create"), data)
    second = client.post(reverse("billing:payment-create"), data)

    payment = Payment.objects.get()
    assert first.status_code == second.status_code == 302
    assert (
        first["Location"]
        == second["Location"]
        == reverse("billing:payment-detail", args=[payment.pk])
    )


def test_payment_form_duplicate_bank_ref_links_to_the_first(client, ops_user):
    first = PaymentFactory(bank_ref="TRX-1")
    client.force_login(ops_user)
    response = client.post(
        reverse("billing:payment-create"),
        {
            "customer": first.customer.company_id,
            "amount": "1",
            "received_on": "2025-11-05",
            "method": "bank",
            "bank_ref": "TRX-1",
            "idempotency_key": "other-key",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "已登记过" in html
    assert reverse("billing:payment-detail", args=[first.pk]) in html
    assert "已登记过" in response.context["form"].errors["bank_ref"][0]
    assert Payment.objects.count() == 1


def test_payment_form_rejects_customer_outside_scope(client, sales_user, ops_user):
    client.force_login(ops_user)
    response = client.post(
        reverse("billing:payment-create"),
        {
            "customer": "999999",
            "amount": "1",
            "received_on": "2025-11-05",
            "method": "bank",
            "idempotency_key": "k",
        },
    )
    assert "不存在或不在你的客户范围内" in response.content.decode()


def test_allocation_screen_allocates_and_shows_errors(client, ops_user):
    customer = CustomerFactory()
    a = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 9, 1), lines=["100"])
    b = issued_bill(user=ops_user, customer=customer, period=dt.date(2025, 10, 1), lines=["100"])
    payment = PaymentFactory(customer=customer, amount=D("150"))
    client.force_login(ops_user)
    url = reverse("billing:payment-allocate", args=[payment.pk])

    too_much = client.post(url, {f"bill_{a.pk}": "100", f"bill_{b.pk}": "100"})
    assert too_much.status_code == 400
    assert "超过收款未核销余额" in too_much.content.decode()

    ok = client.post(url, {f"bill_{a.pk}": "100", f"bill_{b.pk}": "50"})
    assert ok.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (Bill.Status.PAID, Bill.Status.PARTIALLY_PAID)


def test_issue_reverse_and_history_through_the_bill_page(client, ops_user):
    customer = CustomerFactory()
    draft = BillFactory(customer=customer, lines=["80.00"])
    client.force_login(ops_user)

    client.post(
        reverse("billing:bill-add-line", args=[draft.pk]),
        {"amount": "-5", "reason": "优惠", "explanation": ""},
    )
    client.post(reverse("billing:bill-issue", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == Bill.Status.ISSUED and draft.total == D("75.00")

    refused = client.post(
        reverse("billing:bill-reverse", args=[draft.pk]), {"reason": ""}, follow=True
    )
    assert "请填写冲正原因" in refused.content.decode()

    client.post(reverse("billing:bill-reverse", args=[draft.pk]), {"reason": "数量错误"})
    draft.refresh_from_db()
    assert draft.status == Bill.Status.REVERSED
    page = client.get(reverse("billing:bill-detail", args=[draft.pk])).content.decode()
    assert f"CN-202510-{customer.company_id}-1" in page
    assert "数量错误" in page


def test_issue_a_whole_month(client, ops_user):
    drafts = [BillFactory(period=dt.date(2025, 11, 1), lines=["10"]) for _ in range(2)]
    client.force_login(ops_user)
    response = client.post(reverse("billing:bills-issue-period"), {"period": "2025-11"})
    assert response.status_code == 302
    assert all(Bill.objects.get(pk=d.pk).status == Bill.Status.ISSUED for d in drafts)


def test_undo_from_the_payment_page(client, world, ops_user):
    client.force_login(ops_user)
    client.post(
        reverse("billing:allocation-undo", args=[world["allocation"].pk]), {"reason": "错账"}
    )
    world["allocation"].refresh_from_db()
    assert world["allocation"].undo_reason == "错账"


def test_overdue_badge_on_bill_page(client, ops_user):
    bill = issued_bill(user=ops_user, lines=["10"], due_date=dt.date(2025, 1, 31))
    client.force_login(ops_user)
    html = client.get(reverse("billing:bill-detail", args=[bill.pk])).content.decode()
    assert "bill-overdue" in html


def test_apply_credit_button_on_bill_page(client, world, ops_user):
    client.force_login(ops_user)
    html = client.get(reverse("billing:bill-detail", args=[world["bill"].pk])).content.decode()
    assert "用客户余额 ¥20.00 核销" in html
    client.post(reverse("billing:bill-apply-credit", args=[world["bill"].pk]))
    world["bill"].refresh_from_db()
    assert world["bill"].amount_paid == D("30.00")


def test_payment_list_filters_sorts_and_answers_htmx_with_the_table(client, ops_user):
    big = PaymentFactory(amount=D("900.00"), bank_ref="BIG-1")
    small = PaymentFactory(amount=D("5.00"), bank_ref="SMALL-1")
    client.force_login(ops_user)
    url = reverse("billing:payment-list")

    ordered = client.get(url, {"sort": "-amount"}).content.decode()
    assert ordered.index("BIG-1") < ordered.index("SMALL-1")
    found = client.get(url, {"q": "SMALL"}).content.decode()
    assert "SMALL-1" in found and "BIG-1" not in found
    fragment = client.get(
        url, {"q": str(big.customer.company_id)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<nav" not in fragment and "BIG-1" in fragment and small.bank_ref not in fragment
