"""Q&A pages: one entry with its follow-up actions and attachments; search and statistics."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import roles

from . import services
from .forms import AttachmentForm, IssueActionForm, IssueSearchForm
from .selectors import issue_in_scope, issue_stats, issues_search


def _editable_issue(request, pk: int, issue_pk: int):
    issue = issue_in_scope(request.user, customer_pk=pk, issue_pk=issue_pk)  # 404 outside scope
    if not roles.can_edit_customer(request.user, issue.customer):
        raise PermissionDenied("您无权修改该客户")
    return issue


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


@login_required
def issue_detail(request, pk: int, issue_pk: int):
    issue = issue_in_scope(request.user, customer_pk=pk, issue_pk=issue_pk)
    context = {
        "issue": issue,
        "customer": issue.customer,
        "actions": issue.actions.select_related("owner"),
        "attachments": issue.attachments.all(),
        "can_edit": roles.can_edit_customer(request.user, issue.customer),
        "action_form": IssueActionForm(),
        "attachment_form": AttachmentForm(),
    }
    return render(request, "customers/issue_detail.html", context)


@login_required
@require_POST
def issue_action_add(request, pk: int, issue_pk: int):
    issue = _editable_issue(request, pk, issue_pk)
    form = IssueActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            services.issue_action_save(user=request.user, issue=issue, data=form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, "已添加后续行动")
    return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)


@login_required
@require_POST
def issue_action_done(request, pk: int, issue_pk: int, action_pk: int):
    from django.utils import timezone

    issue = _editable_issue(request, pk, issue_pk)
    action = get_object_or_404(issue.actions.all(), pk=action_pk)
    services.issue_action_save(
        user=request.user, issue=issue, action=action, data={"done_on": timezone.localdate()}
    )
    messages.success(request, "后续行动已完成")
    return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)


@login_required
@require_POST
def issue_action_delete(request, pk: int, issue_pk: int, action_pk: int):
    issue = _editable_issue(request, pk, issue_pk)
    action = get_object_or_404(issue.actions.all(), pk=action_pk)
    services.issue_action_delete(user=request.user, action=action)
    messages.success(request, "已删除后续行动")
    return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)


@login_required
@require_POST
def issue_attachment_add(request, pk: int, issue_pk: int):
    issue = _editable_issue(request, pk, issue_pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的附件")
        return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)
    upload = form.cleaned_data["file"]
    try:
        services.issue_attachment_add(
            user=request.user, issue=issue, fileobj=upload, name=upload.name, size=upload.size
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"已上传附件“{upload.name}”")
    return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)


@login_required
def issue_attachment_download(request, pk: int, issue_pk: int, attachment_pk: int):
    issue = issue_in_scope(request.user, customer_pk=pk, issue_pk=issue_pk)
    attachment = get_object_or_404(issue.attachments.all(), pk=attachment_pk)
    # Always a download, never rendered inline: the browser must not run what it fetched.
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
    )


@login_required
@require_POST
def issue_attachment_delete(request, pk: int, issue_pk: int, attachment_pk: int):
    issue = _editable_issue(request, pk, issue_pk)
    attachment = get_object_or_404(issue.attachments.all(), pk=attachment_pk)
    services.issue_attachment_delete(user=request.user, attachment=attachment)
    messages.success(request, "已删除附件")
    return redirect("customers:issue-detail", pk=pk, issue_pk=issue_pk)


@login_required
def issue_search(request):
    """Search every Q&A entry of the customers in scope; statistics of the same result."""
    if not roles.can_search_issues(request.user):
        raise PermissionDenied
    form = IssueSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    results = issues_search(
        request.user,
        text=data.get("q", ""),
        categories=data.get("category"),
        statuses=data.get("status"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    page = Paginator(results, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "stats": issue_stats(results),
        "query": query.urlencode(),
    }
    return render(request, "customers/issue_search.html", context)
