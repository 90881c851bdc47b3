"""Pages of head-office groups (集团): the list with its create form, a group and its members."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import can_manage_groups

from . import services
from .selectors import group_members, scoped_customers, scoped_groups


def _company_ids(text: str) -> list[str]:
    return [part for part in text.replace("，", ",").replace("\n", ",").split(",") if part.strip()]


class GroupCreateForm(forms.Form):
    name = forms.CharField(label="集团名称", max_length=100)
    head_office = forms.CharField(label="总部公司id", max_length=20)

    def clean_head_office(self):
        value = self.cleaned_data["head_office"].strip()
        customer = (
            scoped_customers(self.user).filter(company_id=value).first()
            if value.isdigit()
            else None
        )
        if customer is None:
            raise ValidationError(f"找不到公司id为 {value} 的客户")
        return customer


class GroupMembersForm(forms.Form):
    company_ids = forms.CharField(
        label="成员公司id（逗号或换行分隔）",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def clean_company_ids(self):
        ids = [i.strip() for i in _company_ids(self.cleaned_data["company_ids"])]
        bad = [i for i in ids if not i.isdigit()]
        if bad:
            raise ValidationError(f"“{bad[0]}”不是公司id")
        found = list(scoped_customers(self.user).filter(company_id__in=ids))
        missing = sorted(set(ids) - {str(c.company_id) for c in found})
        if missing:
            raise ValidationError(f"找不到公司id为 {'、'.join(missing)} 的客户")
        return found


@login_required
def group_list(request):
    form = GroupCreateForm(request.POST or None)
    form.user = request.user
    if request.method == "POST":
        if not can_manage_groups(request.user):
            raise PermissionDenied("无权维护集团")
        if form.is_valid():
            try:
                group = services.group_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    head_office=form.cleaned_data["head_office"],
                )
                messages.success(request, f"已创建集团“{group.name}”")
                return redirect("customers:group-detail", pk=group.pk)
            except ValidationError as exc:
                form.add_error(None, exc)
    groups = scoped_groups(request.user).select_related("head_office")
    return render(
        request,
        "customers/group_list.html",
        {"groups": groups, "form": form, "can_manage": can_manage_groups(request.user)},
    )


@login_required
def group_detail(request, pk: int):
    group = get_object_or_404(scoped_groups(request.user).select_related("head_office"), pk=pk)
    members = group_members(user=request.user, group=group).order_by("company_id")
    initial = ", ".join(str(m.company_id) for m in members)
    form = GroupMembersForm(initial={"company_ids": initial})
    return render(
        request,
        "customers/group_detail.html",
        {
            "group": group,
            "members": members,
            "form": form,
            "can_manage": can_manage_groups(request.user),
        },
    )


@login_required
@require_POST
def group_members_edit(request, pk: int):
    if not can_manage_groups(request.user):
        raise PermissionDenied("无权维护集团")
    group = get_object_or_404(scoped_groups(request.user), pk=pk)
    form = GroupMembersForm(request.POST)
    form.user = request.user
    if form.is_valid():
        try:
            count = services.group_set_members(
                user=request.user, group=group, customers=form.cleaned_data["company_ids"]
            )
            messages.success(request, f"集团成员已更新，共 {count} 位")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, "；".join(form.errors["company_ids"]))
    return redirect("customers:group-detail", pk=group.pk)
