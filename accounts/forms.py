from auditlog.models import LogEntry
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.contenttypes.models import ContentType

from .models import User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入。注意密码区分大小写。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        label="操作人", queryset=User.objects.order_by("username"), required=False
    )
    content_type = forms.ModelChoiceField(
        label="对象类型",
        queryset=ContentType.objects.filter(
            app_label__in=["accounts", "customers", "billing"]
        ).order_by("app_label", "model"),
        required=False,
    )
    action = forms.TypedChoiceField(
        label="操作",
        choices=[("", "全部"), *LogEntry.Action.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    date_from = forms.DateField(
        label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label="对象", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["content_type"].label_from_instance = lambda ct: (
            ct.model_class()._meta.verbose_name if ct.model_class() else ct.model
        )
        self.fields["actor"].label_from_instance = lambda u: u.display_name


class CrontabForm(forms.Form):
    """A schedule's switch and timing (crontab fields, Asia/Shanghai; blank means every)."""

    enabled = forms.BooleanField(label="启用", required=False)
    minute = forms.CharField(label="分", max_length=60, required=False)
    hour = forms.CharField(label="时", max_length=60, required=False)
    day_of_month = forms.CharField(label="日", max_length=60, required=False)
    month_of_year = forms.CharField(label="月", max_length=60, required=False)
    day_of_week = forms.CharField(label="星期", max_length=60, required=False)
