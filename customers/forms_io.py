"""Forms of the customer import and export flows."""

from __future__ import annotations

from django import forms

from opcms.spreadsheets import SpreadsheetFileField

from .exports import EXPORT_FIELDS
from .importers import COLUMNS, IGNORE

SERIES_CHOICES = [
    ("", "按工作表名识别（如（L））"),
    ("X", "X 系列"),
    ("N", "N 系列"),
    ("L", "L 系列"),
]


class ImportUploadForm(forms.Form):
    file = SpreadsheetFileField(label="客户工作簿")
    series = forms.ChoiceField(label="价格所属设备系列", choices=SERIES_CHOICES, required=False)
    valid_from = forms.DateField(
        label="价格生效日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="留空则由价格方案按默认规则生效。",
    )


FIELD_CHOICES = [(IGNORE, "（忽略此列）"), *[(c.field, c.label) for c in COLUMNS]]


class ImportMappingForm(forms.Form):
    """One select per column of the file: which workbook field it holds."""

    def __init__(self, *args, labels: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.labels = labels
        for index, label in enumerate(labels):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=label or f"第 {index + 1} 列",
                choices=FIELD_CHOICES,
                required=False,
                initial=mapping.get(str(index), IGNORE),
            )

    def clean(self):
        cleaned = super().clean()
        chosen = [v for k, v in cleaned.items() if k.startswith("col_") and v]
        missing = [c.label for c in COLUMNS[:2] if c.field not in chosen]
        if missing:
            raise forms.ValidationError(f"必须指定“{'”“'.join(missing)}”所在的列。")
        dupes = sorted({v for v in chosen if chosen.count(v) > 1})
        if dupes:
            labels = dict(FIELD_CHOICES)
            raise forms.ValidationError(
                f"字段“{'”“'.join(labels[d] for d in dupes)}”被指定给了多列，每个字段只能对应一列。"
            )
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {
            k.removeprefix("col_"): v
            for k, v in self.cleaned_data.items()
            if k.startswith("col_") and v
        }


class ExportForm(forms.Form):
    SCOPES = [
        ("filter", "当前筛选结果"),
        ("selection", "已选客户"),
        ("all", "全部客户（我的权限范围内）"),
    ]

    scope = forms.ChoiceField(
        label="导出范围", choices=SCOPES, initial="filter", widget=forms.RadioSelect
    )
    format = forms.ChoiceField(
        label="文件格式",
        choices=[("xlsx", "Excel（.xlsx）"), ("csv", "CSV（UTF-8，Excel 可直接打开）")],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    fields = forms.MultipleChoiceField(
        label="导出字段",
        choices=[(k, label) for k, (label, _) in EXPORT_FIELDS.items()],
        initial=list(EXPORT_FIELDS),
        widget=forms.CheckboxSelectMultiple,
    )
    sections = forms.BooleanField(
        label="包含全部栏目（联系人、合作详情、问题、续约、项目、广告账户等，每个栏目一张工作表，按公司id对应；仅 Excel）",
        required=False,
    )
    ids = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_ids(self) -> list[int]:
        raw = self.cleaned_data.get("ids") or ""
        parts = [p for p in raw.replace(" ", "").split(",") if p]
        if not all(p.isdecimal() for p in parts):
            raise forms.ValidationError("所选客户编号无效。")
        return [int(p) for p in parts]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("sections") and cleaned.get("format") == "csv":
            self.add_error("sections", "CSV 只有一张表：导出全部栏目请选择 Excel（.xlsx）。")
        if cleaned.get("scope") == "selection" and not cleaned.get("ids"):
            self.add_error("scope", "没有选中客户：请在客户列表勾选后再导出，或选择其他范围。")
        return cleaned
