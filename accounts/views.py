from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy
from django_tables2 import RequestConfig

from . import roles
from .filters import AuditFilter, JobFilter
from .forms import LoginForm
from .selectors import audit_entries_visible_to, jobs_visible_to
from .tables import AuditTable, JobTable


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")


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
