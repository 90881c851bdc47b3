"""Writes of the what-if: run a large comparison as a job, apply the candidate as new
versions (at once for a few customers, as a job for many)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from accounts.models import Job
from accounts.roles import can_manage_plans, can_run_whatif
from accounts.services import job_attach_file, job_create, job_enqueue
from billing.audit import audit_bulk
from billing.close import selectors as close_selectors
from billing.models import PricePlan
from billing.money import format_money
from billing.plans.services import VersionsResult, plans_new_versions
from billing.whatif import documents
from billing.whatif.forms import WhatIfForm
from billing.whatif.selectors import whatif_compute, whatif_customers
from customers.models import Customer, DeviceSeries


def period_is_closed(day: date) -> bool:
    """Whether `day` lies in a month the month-end close has closed (billing.close)."""
    return close_selectors.period_is_closed(day.replace(day=1))


# Up to this many customers Apply runs while the request waits; more go to a job.
APPLY_INLINE_MAX = 500


def _reason(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def whatif_apply(
    *,
    user: Any,
    customers_qs: QuerySet[Customer],
    series: DeviceSeries,
    data: dict[str, Any],
    valid_from: date,
    progress=None,
) -> VersionsResult:
    """The candidate's terms as each customer's new plan version of `series` from `valid_from`.

    Every rule of a hand-made version holds (plans.services.plans_new_versions): never
    overlapping, never inside a month already billed on the old plan, never inside a
    closed month. A customer a rule refuses is listed with the reason and the others go
    ahead. One transaction (every version or none, whatever stops it) and one audit
    entry for the batch.
    """
    if not can_manage_plans(user):
        raise PermissionDenied("无权维护价格方案")
    if period_is_closed(valid_from):
        raise ValidationError(
            f"{valid_from:%Y-%m} 已月结关账，新价格不能在已关账的月份内生效，请选择之后的日期。"
        )
    data = {**data, "valid_from": valid_from, "valid_to": None}
    with transaction.atomic():
        try:
            result = plans_new_versions(
                user=user,
                customers_qs=customers_qs,
                series=series,
                data=data,
                valid_from=valid_from,
                progress=progress,
            )
        except ValidationError as exc:
            raise ValidationError(_reason(exc)) from exc
        # One audit entry for the batch, not one per plan (STYLE: bulk writes audit themselves).
        audit_bulk(
            user=user,
            model=PricePlan,
            summary=f"价格试算应用：{series.code} 系列新方案 {len(result.created)} 个，"
            f"自 {valid_from:%Y-%m-%d} 生效",
            changes={
                "系列": series.code,
                "生效日期": f"{valid_from:%Y-%m-%d}",
                "新建方案": len(result.created),
                "拒绝": len(result.refused),
                "计价方式": data.get("kind", ""),
            },
        )
    return result


def whatif_apply_start(*, user: Any, query: str, valid_from: date) -> VersionsResult | Job:
    """Apply the what-if described by `query`: at once for a few customers, else as a job
    with progress (returned, for the caller to show)."""
    if not can_manage_plans(user):
        raise PermissionDenied("无权维护价格方案")
    form = _form_from_query(query)
    form.candidate()
    data = form.cleaned_data
    customers = whatif_customers(user=user, query=data["customers"], ids=data["ids"])
    if customers.count() <= APPLY_INLINE_MAX:
        return whatif_apply(
            user=user,
            customers_qs=customers,
            series=data["series"],
            data=form.plan_form.plan_data(),
            valid_from=valid_from,
        )
    if period_is_closed(valid_from):  # said now rather than when the job runs
        raise ValidationError(
            f"{valid_from:%Y-%m} 已月结关账，新价格不能在已关账的月份内生效，请选择之后的日期。"
        )
    from billing.tasks import whatif_apply_task  # tasks import services; avoid the cycle at load

    job = job_create(
        kind="whatif_apply",
        created_by=user,
        title="价格试算应用为新方案版本",
        params={"query": query, "valid_from": valid_from.isoformat()},
    )
    job_enqueue(job=job, task=whatif_apply_task)
    return job


def whatif_apply_job_work(job: Job, progress) -> dict[str, Any]:
    form = _form_from_query(job.params["query"])
    form.candidate()
    data = form.cleaned_data
    customers = whatif_customers(user=job.created_by, query=data["customers"], ids=data["ids"])
    # The total now, before the transaction: progress written inside it shows at commit.
    progress(0, customers.count())
    result = whatif_apply(
        user=job.created_by,
        customers_qs=customers,
        series=data["series"],
        data=form.plan_form.plan_data(),
        valid_from=date.fromisoformat(job.params["valid_from"]),
        progress=progress,
    )
    summary: dict[str, Any] = {"新建方案版本": len(result.created), "未应用": len(result.refused)}
    if result.refused:
        summary["未应用的客户（前 20 位）"] = "；".join(
            f"{company_id}：{reason}" for company_id, reason in result.refused[:20]
        )
    return summary


def _form_from_query(query: str) -> WhatIfForm:
    form = WhatIfForm(QueryDict(query))
    if not form.is_valid():
        raise ValidationError("试算条件无效，请返回重新填写")
    return form


def whatif_job_start(*, user: Any, query: str) -> Job:
    """Queue a large comparison as a job with progress; the result page reads its file."""
    if not can_run_whatif(user):
        raise PermissionDenied("无权进行价格试算")
    from billing.tasks import whatif_task  # tasks import services; avoid the cycle at load

    _form_from_query(query)
    job = job_create(kind="whatif", created_by=user, title="价格试算", params={"query": query})
    job.params["next_url"] = reverse("billing:whatif-job", args=[job.pk])
    Job.objects.filter(pk=job.pk).update(params=job.params)
    job_enqueue(job=job, task=whatif_task)
    return job


def whatif_job_work(job: Job, progress) -> dict[str, Any]:
    form = _form_from_query(job.params["query"])
    _, terms = form.candidate()
    data = form.cleaned_data
    result = whatif_compute(
        customers_qs=whatif_customers(
            user=job.created_by, query=data["customers"], ids=data["ids"]
        ),
        series_id=data["series"].pk,
        candidate=terms,
        first_month=data["month_from"],
        last_month=data["month_to"],
        progress=progress,
    )
    job_attach_file(
        job=job, field="result_file", name="whatif.json", content=documents.whatif_json(result)
    )
    return {
        "客户": len(result.rows),
        "现行方案": format_money(result.current),
        "候选方案": format_money(result.candidate),
        "差额": format_money(result.difference),
    }
