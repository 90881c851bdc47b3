from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import roles, services
from .filters import AuditFilter, JobFilter
from .forms import CrontabForm, LoginForm
from .models import EmailMode, NotificationKind, TeamChannel, WebhookDelivery, WebhookSubscription
from .notifications import notification_mark_read, notification_preferences_save
from .schedules import CRONTAB_FIELDS, periodic_task_update
from .selectors import (
    audit_entries_visible_to,
    jobs_visible_to,
    notification_preferences_table,
    notifications_for,
    periodic_tasks,
    schedule_runs_recent,
    webhook_deliveries_recent,
)
from .tables import AuditTable, JobTable, RequestConfig
from .webhooks import webhook_replay


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_tokens_revoke(user=self.request.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@login_required
def audit_list(request):
    if not roles.can_view_audit(request.user):
        raise PermissionDenied
    audit_filter = AuditFilter(request.GET or None, queryset=audit_entries_visible_to(request.user))
    table = AuditTable(audit_filter.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    template = "accounts/audit_list.html#table" if request.htmx else "accounts/audit_list.html"
    return render(request, template, {"filter": audit_filter, "table": table})


@login_required
def job_detail(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    template = "accounts/job_detail.html#progress" if request.htmx else "accounts/job_detail.html"
    return render(request, template, {"job": job})


@login_required
def job_list(request):
    job_filter = JobFilter(request.GET or None, queryset=jobs_visible_to(request.user))
    table = JobTable(job_filter.qs.select_related("created_by"))
    RequestConfig(request, paginate={"per_page": 30}).configure(table)
    template = "accounts/job_list.html#table" if request.htmx else "accounts/job_list.html"
    return render(request, template, {"filter": job_filter, "table": table})


@login_required
def job_file(request, pk: int, which: str):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    field = {"result": job.result_file, "errors": job.error_file}.get(which)
    if not field:
        raise Http404("文件不存在")
    return FileResponse(
        field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1]
    )


# --- notifications (issue 13) --------------------------------------------------


@login_required
def notification_list(request):
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        marked = notification_mark_read(
            user=request.user, notification_ids=None if request.POST.get("all") else ids
        )
        messages.success(request, f"已标记 {marked} 条为已读")
        return redirect("accounts:notification-list")
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notifications_for(request.user, unread_only=unread_only), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request, "accounts/notification_list.html", {"page": page, "unread_only": unread_only}
    )


@login_required
def notification_open(request, pk: int):
    """Mark one notification read and go to its object (the object's own view checks scope)."""
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    notification_mark_read(user=request.user, notification_ids=[notification.pk])
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)
    return redirect("accounts:notification-list")


@login_required
def notification_preferences(request):
    if request.method == "POST":
        choices = {
            kind: (
                request.POST.get(f"in_app_{kind}") == "on",
                request.POST.get(f"email_{kind}", EmailMode.OFF),
            )
            for kind in NotificationKind.values
        }
        notification_preferences_save(user=request.user, choices=choices)
        messages.success(request, "通知设置已保存")
        return redirect("accounts:notification-preferences")
    rows = notification_preferences_table(request.user)
    return render(
        request,
        "accounts/notification_preferences.html",
        {"rows": rows, "email_modes": EmailMode.choices, "has_email": bool(request.user.email)},
    )


# --- schedules and webhooks (admins) ---------------------------------------------


@login_required
def schedule_list(request):
    if not roles.can_manage_schedules(request.user):
        raise PermissionDenied
    return render(
        request,
        "accounts/schedule_list.html",
        {"tasks": periodic_tasks(), "runs": schedule_runs_recent()},
    )


@login_required
def schedule_edit(request, pk: int):
    if not roles.can_manage_schedules(request.user):
        raise PermissionDenied
    task = get_object_or_404(periodic_tasks(), pk=pk)
    c = task.crontab
    initial: dict = {"enabled": task.enabled}
    if c is not None:
        initial.update({f: getattr(c, f) for f in CRONTAB_FIELDS})
    form = CrontabForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Interval schedules (e.g. the cockpit warm-up) are only switched on or off here.
            crontab = data if task.interval_id is None else None
            periodic_task_update(
                user=request.user, task=task, enabled=data["enabled"], crontab=crontab
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已保存计划任务“{task.name}”")
            return redirect("accounts:schedule-list")
    return render(request, "accounts/schedule_edit.html", {"task": task, "form": form})


@login_required
def webhook_list(request):
    if not roles.can_manage_webhooks(request.user):
        raise PermissionDenied
    return render(
        request,
        "accounts/webhook_list.html",
        {
            "subscriptions": WebhookSubscription.objects.all(),
            "channels": TeamChannel.objects.select_related("team"),
            "deliveries": webhook_deliveries_recent(),
        },
    )


@login_required
@require_POST
def webhook_replay_view(request, pk: int):
    if not roles.can_manage_webhooks(request.user):
        raise PermissionDenied
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    webhook_replay(user=request.user, delivery=delivery)
    messages.success(request, f"已重新发送投递 #{delivery.pk}")
    return redirect("accounts:webhook-list")
