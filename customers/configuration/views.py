"""Settings pages of the archive for ops and admin: lists with add, edit and delete in the app."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import roles
from customers.models import HiddenField

from . import services
from .forms import SETTING_FORMS


def _setting(request, kind: str) -> services.Setting:
    if kind not in services.SETTINGS:
        raise Http404("没有这个设置")
    setting = services.SETTINGS[kind]
    if not setting.allowed(request.user):
        raise PermissionDenied("您无权修改该设置")
    return setting


@login_required
def settings_index(request):
    user = request.user
    if not (roles.can_configure_archive(user) or roles.can_set_grade_thresholds(user)):
        raise PermissionDenied
    context = {
        "lists": [(k, s.title) for k, s in services.SETTINGS.items() if s.allowed(user)],
        "can_thresholds": roles.can_set_grade_thresholds(user),
        "can_fields": roles.can_set_field_visibility(user),
    }
    return render(request, "customers/settings_index.html", context)


@login_required
def setting_list(request, kind: str, item_pk: int | None = None):
    """The list of one setting with its add form (or the edit form of `item_pk`)."""
    setting = _setting(request, kind)
    item = get_object_or_404(setting.model, pk=item_pk) if item_pk else None
    form = SETTING_FORMS[kind](request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.setting_item_save(
                user=request.user, kind=kind, data=form.cleaned_data, item=item
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "已保存")
            return redirect("customers:setting-list", kind=kind)
    context = {
        "kind": kind,
        "title": setting.title,
        "items": setting.model.objects.all(),
        "form": form,
        "item": item,
    }
    return render(request, "customers/setting_list.html", context)


@login_required
@require_POST
def setting_delete(request, kind: str, item_pk: int):
    setting = _setting(request, kind)
    item = get_object_or_404(setting.model, pk=item_pk)
    try:
        services.setting_item_delete(user=request.user, kind=kind, item=item)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已删除“{item}”")
    return redirect("customers:setting-list", kind=kind)


@login_required
def field_visibility(request):
    """A role x sensitive-field grid of checkboxes: ticked means hidden from that role."""
    if not roles.can_set_field_visibility(request.user):
        raise PermissionDenied("只有管理员可以设置字段权限")
    role_choices = [(v, label) for v, label in roles.Role.choices if v != roles.Role.ADMIN]
    if request.method == "POST":
        hidden = {
            (role, field)
            for role, _ in role_choices
            for field in HiddenField.Field.values
            if request.POST.get(f"hide-{role}-{field}")
        }
        try:
            services.hidden_fields_set(user=request.user, hidden=hidden)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "字段权限已保存")
        return redirect("customers:field-visibility")
    current = set(HiddenField.objects.values_list("role", "field"))
    rows = [
        (
            label,
            [(role, f, flabel, (role, f) in current) for f, flabel in HiddenField.Field.choices],
        )
        for role, label in role_choices
    ]
    context = {"rows": rows, "fields": HiddenField.Field.choices}
    return render(request, "customers/field_visibility.html", context)
