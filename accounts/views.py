from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy

from . import roles, services
from .forms import AuditFilterForm, LoginForm
from .selectors import audit_entries_filtered, jobs_visible_to


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
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(audit_entries_filtered(request.user, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    for entry in page:
        model = entry.content_type.model_class()
        entry.type_label = model._meta.verbose_name if model else entry.content_type.model
    template = "accounts/audit_list.html#table" if request.htmx else "accounts/audit_list.html"
    return render(request, template, {"form": form, "page": page})


@login_required
def job_detail(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    template = "accounts/job_detail.html#progress" if request.htmx else "accounts/job_detail.html"
    return render(request, template, {"job": job})


@login_required
def job_list(request):
    page = Paginator(jobs_visible_to(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/job_list.html", {"page": page})


@login_required
def job_file(request, pk: int, which: str):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    field = {"result": job.result_file, "errors": job.error_file}.get(which)
    if not field:
        raise Http404("文件不存在")
    return FileResponse(
        field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1]
    )
