"""Forms of Q&A: a follow-up action, an attachment, the cross-customer search."""

from __future__ import annotations

from django import forms

from accounts.models import User
from accounts.roles import Role
from customers.forms import DatesMixin
from customers.models import IssueAction, IssueCategory, QualityIssue


class IssueActionForm(DatesMixin, forms.ModelForm):
    class Meta:
        model = IssueAction
        fields = ["description", "owner", "due_on", "done_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.OPS, Role.SALES, Role.ADMIN, Role.MANAGER]
        ).order_by("full_name", "username")
        self.fields["owner"].empty_label = "不指定"


class AttachmentForm(forms.Form):
    file = forms.FileField(label="附件")


class IssueSearchForm(DatesMixin, forms.Form):
    q = forms.CharField(label="关键字", required=False, max_length=100)
    category = forms.MultipleChoiceField(label="类别", required=False)
    status = forms.MultipleChoiceField(
        label="状态", required=False, choices=QualityIssue.Status.choices
    )
    date_from = forms.DateField(label="日期从", required=False)
    date_to = forms.DateField(label="日期至", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = list(IssueCategory.objects.values_list("name", flat=True))
        # Entries may carry categories from before the list existed: offer them too.
        names += [
            n
            for n in QualityIssue.objects.values_list("category", flat=True).distinct()
            if n not in names
        ]
        self.fields["category"].choices = [(n, n) for n in names]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.MultipleChoiceField) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"
