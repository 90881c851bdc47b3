from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm

from . import services
from .models import Job, Team, User


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
