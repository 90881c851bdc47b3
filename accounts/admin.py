from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from . import services
from .models import (
    Job,
    Notification,
    NotificationKind,
    Team,
    TeamChannel,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


class PasswordChangeRevokingForm(AdminPasswordChangeForm):
    """The admin's set-password form, through the service that also ends the user's tokens."""

    def save(self, commit: bool = True) -> User:
        return services.user_set_password(user=self.user, password=self.cleaned_data["password1"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "role", "data_scope", "team", "is_active")
    list_filter = ("role", "data_scope", "team", "is_active")
    search_fields = ("username", "full_name", "email")
    change_password_form = PasswordChangeRevokingForm
    # Staff and superuser flags, groups and permissions follow the role
    # (services.user_set_role); editing them here would bypass it.
    readonly_fields = ("is_staff", "is_superuser", "groups", "user_permissions", "last_login")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("OP_CMS", {"fields": ("full_name", "role", "data_scope", "team", "phone")}),
    )

    def save_model(self, request, obj, form, change):
        was_active = User.objects.filter(pk=obj.pk).values_list("is_active", flat=True).first()
        super().save_model(request, obj, form, change)
        if not change or "role" in form.changed_data:
            services.user_set_role(user=obj, role=obj.role)
        if was_active and not obj.is_active:
            services.user_set_active(user=obj, is_active=False)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead", "created_at")
    search_fields = ("name",)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "kind",
        "title",
        "status",
        "progress_done",
        "progress_total",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Job._meta.fields]


# --- notifications, channels, webhooks (issue 13) ---


class EventsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label="接收地址", max_length=500, assume_scheme="https")
    events = EventsField(label="订阅的事件", choices=WebhookEvent.choices)

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "secret", "events", "enabled")


class TeamChannelForm(forms.ModelForm):
    webhook_url = forms.URLField(label="Webhook 地址", max_length=500, assume_scheme="https")
    kinds = EventsField(
        label="推送的通知类型（不选表示全部）", choices=NotificationKind.choices, required=False
    )

    class Meta:
        model = TeamChannel
        fields = ("team", "provider", "webhook_url", "secret", "kinds", "enabled")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("name", "url", "enabled", "created_at")


@admin.register(TeamChannel)
class TeamChannelAdmin(admin.ModelAdmin):
    form = TeamChannelForm
    list_display = ("team", "provider", "enabled")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "event", "subscription", "channel", "status", "response_code", "attempts")
    list_filter = ("status", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "recipient",
        "kind",
        "email_mode",
        "emailed_at",
        "read_at",
        "created_at",
    )
    list_filter = ("kind", "email_mode")
    readonly_fields = [f.name for f in Notification._meta.fields]
