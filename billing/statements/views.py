"""The statement (对账单) on screen, as .xlsx and as PDF."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header

from billing.payments.selectors import company_id_options
from billing.statements import documents
from billing.statements.forms import GroupStatementForm, StatementForm
from customers.selectors import scoped_customers, scoped_groups


def _statement_from_request(request):
    # A deleted customer's statement still answers (its money stays); a 公司id reused by a
    # live customer after the deletion resolves to the live one first.
    customers = scoped_customers(request.user, include_deleted=True).order_by("is_deleted", "-pk")
    form = StatementForm(request.GET or None, customers=customers)
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


def _group_statement(request, pk: int):
    group = get_object_or_404(scoped_groups(request.user).select_related("head_office"), pk=pk)
    form = GroupStatementForm(request.GET or None)
    if not form.is_valid():
        return group, form, None
    statement = documents.group_statement_build(
        user=request.user,
        group=group,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
    )
    return group, form, statement


@login_required
def group_statement(request, pk: int):
    group, form, statement = _group_statement(request, pk)
    context = {"group": group, "form": form, "statement": statement}
    return render(
        request, "billing/group_statement.html", {**context, "query": request.GET.urlencode()}
    )


def _group_file(request, pk: int, ext: str, build, content_type: str):
    group, form, statement = _group_statement(request, pk)
    if statement is None:
        return render(
            request, "billing/group_statement.html", {"group": group, "form": form}, status=400
        )
    response = HttpResponse(build(statement), content_type=content_type)
    name = f"集团对账单_{group.name}_{statement.date_from:%Y%m}-{statement.date_to:%Y%m}.{ext}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
def group_statement_xlsx(request, pk: int):
    return _group_file(
        request,
        pk,
        "xlsx",
        documents.group_statement_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def group_statement_pdf(request, pk: int):
    return _group_file(request, pk, "pdf", documents.group_statement_pdf, "application/pdf")


@login_required
def group_statement_index(request):
    groups = scoped_groups(request.user).select_related("head_office")
    return render(request, "billing/group_statement_index.html", {"groups": groups})
