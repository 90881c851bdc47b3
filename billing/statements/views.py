"""The statement (对账单) on screen, as .xlsx and as PDF."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from billing.payments.selectors import company_id_options
from billing.statements import documents
from billing.statements.forms import StatementForm
from customers.selectors import scoped_customers


def _statement_from_request(request):
    form = StatementForm(request.GET or None, customers=scoped_customers(request.user))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    statement = documents.statement_build(
        customer=data["customer"], date_from=data["date_from"], date_to=data["date_to"]
    )
    return form, statement


@login_required
def statement(request):
    form, result = _statement_from_request(request)
    return render(
        request,
        "billing/statement_detail.html",
        {
            "form": form,
            "statement": result,
            "query": request.GET.urlencode(),
            "customer_options": company_id_options(request.user),
        },
    )


def _statement_filename(result, ext: str) -> str:
    return (
        f"对账单_{result.customer.company_id}_{result.date_from:%Y%m}-{result.date_to:%Y%m}.{ext}"
    )


@login_required
def statement_xlsx(request):
    form, result = _statement_from_request(request)
    if result is None:
        if "customer" in form.errors:
            raise Http404("客户不存在或不在你的客户范围内")
        return render(request, "billing/statement_detail.html", {"form": form}, status=400)
    response = HttpResponse(
        documents.statement_xlsx(result),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _statement_filename(result, "xlsx")
    )
    return response


@login_required
def statement_pdf(request):
    form, result = _statement_from_request(request)
    if result is None:
        if "customer" in form.errors:
            raise Http404("客户不存在或不在你的客户范围内")
        return render(request, "billing/statement_detail.html", {"form": form}, status=400)
    response = HttpResponse(documents.statement_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, _statement_filename(result, "pdf")
    )
    return response
