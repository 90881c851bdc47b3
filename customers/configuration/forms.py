"""Forms of the archive's settings pages."""

from __future__ import annotations

from django import forms

from customers.models import (
    CooperationStatusMapping,
    DictionaryItem,
    IssueCategory,
    LifecycleRule,
)


class DictionaryItemForm(forms.ModelForm):
    class Meta:
        model = DictionaryItem
        fields = ["kind", "value", "sort_order", "is_active"]


class MappingForm(forms.ModelForm):
    class Meta:
        model = CooperationStatusMapping
        fields = ["note_text", "status"]


class IssueCategoryForm(forms.ModelForm):
    class Meta:
        model = IssueCategory
        fields = ["name", "sort_order", "is_active"]


class LifecycleRuleForm(forms.ModelForm):
    class Meta:
        model = LifecycleRule
        fields = [
            "name", "from_status", "to_status", "condition", "days", "manual_hold_days",
            "enabled", "sort_order",
        ]  # fmt: skip


SETTING_FORMS: dict[str, type[forms.ModelForm]] = {
    "dictionary": DictionaryItemForm,
    "mapping": MappingForm,
    "categories": IssueCategoryForm,
    "lifecycle-rules": LifecycleRuleForm,
}
