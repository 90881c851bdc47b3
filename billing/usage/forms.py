"""Forms of usage: one record by hand, and the usage sheet upload."""

from __future__ import annotations

from django import forms

from customers.models import DeviceSeries
from opcms.spreadsheets import SpreadsheetFileField


class UsageEntryForm(forms.Form):
    series = forms.ModelChoiceField(
        label="设备系列",
        queryset=DeviceSeries.objects.filter(is_active=True),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    shot_date = forms.DateField(
        label="拍摄日期", widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    floors = forms.IntegerField(
        label="楼层数",
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    shots = forms.IntegerField(
        label="拍摄量",
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    area = forms.DecimalField(
        label="面积（m²）",
        required=False,
        min_value=0,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    source_ref = forms.CharField(
        label="来源单号",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    note = forms.CharField(
        label="备注",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class UsageImportForm(forms.Form):
    file = SpreadsheetFileField(label="用量文件（.xlsx / .csv）")
    kind = forms.ChoiceField(
        label="表格类型",
        choices=[
            ("long", "拍摄明细（每行一次拍摄，带来源单号）"),
            ("wide", "分月汇总（公司id、1月…12月）"),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    series = forms.ModelChoiceField(
        label="设备系列",
        queryset=DeviceSeries.objects.filter(is_active=True),
        to_field_name="code",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    year = forms.IntegerField(
        label="年份（分月汇总必填）",
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "wide" and not data.get("year"):
            self.add_error("year", "导入分月汇总表需要填写年份")
        return data
