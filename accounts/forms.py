from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入。注意密码区分大小写。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"


class CrontabForm(forms.Form):
    """A schedule's switch and timing (crontab fields, Asia/Shanghai; blank means every)."""

    enabled = forms.BooleanField(label="启用", required=False)
    minute = forms.CharField(label="分", max_length=60, required=False)
    hour = forms.CharField(label="时", max_length=60, required=False)
    day_of_month = forms.CharField(label="日", max_length=60, required=False)
    month_of_year = forms.CharField(label="月", max_length=60, required=False)
    day_of_week = forms.CharField(label="星期", max_length=60, required=False)
